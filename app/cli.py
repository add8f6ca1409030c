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
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        # One process: the cache and in-flight de-duplication live in it (scale out behind a balancer).
        uvicorn.run("app.main:create_app", factory=True, host=args.host, port=args.port, log_level=args.log_level)
