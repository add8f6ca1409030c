"""`unrolled serve --host H --port P`: the console script (declared in pyproject.toml)."""

from __future__ import annotations

import argparse

import uvicorn

from app.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="unrolled", description="Unrolled: step through RNNs and attention.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the web app")
    serve.add_argument("--host", default=settings.host, help=f"interface to bind (default {settings.host})")
    serve.add_argument("--port", type=int, default=settings.port, help=f"port (default {settings.port})")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument("--lan", action="store_true", help="listen on every interface (0.0.0.0) and print the "
                       "address students open")
    serve.add_argument("--workers", type=int, default=1, help="worker processes on one port (default 1); more "
                       "than one needs UNROLLED_REDIS_URL so that classroom rooms are shared")
    return parser


def student_url(port: int) -> str:
    """What students type (or scan): /join on this machine's LAN address."""
    from app.routes.rooms import lan_address

    return f"http://{lan_address()}:{port}/join"


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        # The trace cache and in-flight de-duplication live in each process; classroom rooms are shared
        # across processes only through Redis (UNROLLED_REDIS_URL).
        host = "0.0.0.0" if args.lan else args.host
        if args.workers > 1 and not get_settings().redis_url:
            raise SystemExit("unrolled: --workers above 1 needs UNROLLED_REDIS_URL (rooms must be shared)")
        if args.lan:
            print(f"Students open: {student_url(args.port)}", flush=True)
        uvicorn.run("app.main:create_app", factory=True, host=host, port=args.port, log_level=args.log_level,
                    workers=args.workers)
