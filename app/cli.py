"""`unrolled serve --host H --port P`: the console script (declared in pyproject.toml)."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
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


@contextlib.contextmanager
def lab_owner(log_level: str, ready_s: float = 120.0) -> Iterator[str]:
    """One process on loopback that owns the training runs and uploads (app.lab.forward); the workers
    forward to it. Yields its URL once it answers; stops it when the workers have stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "UNROLLED_LAB_URL"}
    owner = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                              "--host", "127.0.0.1", "--port", str(port), "--log-level", log_level], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if owner.poll() is not None:
                raise SystemExit(f"unrolled: the training lab's process exited with {owner.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/status", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"unrolled: the training lab's process did not answer within {ready_s:g} s")
            time.sleep(0.2)
        yield url
    finally:
        owner.terminate()
        try:
            owner.wait(timeout=15)
        except subprocess.TimeoutExpired:
            owner.kill()


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        # The trace cache and in-flight de-duplication live in each process; classroom rooms are shared
        # across processes only through Redis (UNROLLED_REDIS_URL); training runs and uploads live in one
        # owner process that the workers forward to (app.lab.forward).
        host = "0.0.0.0" if args.lan else args.host
        if args.workers > 1 and not get_settings().redis_url:
            raise SystemExit("unrolled: --workers above 1 needs UNROLLED_REDIS_URL (rooms must be shared)")
        if args.lan:
            print(f"Students open: {student_url(args.port)}", flush=True)
        with contextlib.ExitStack() as stack:
            if args.workers > 1 and not get_settings().lab_url:  # training runs live in one process's memory
                os.environ["UNROLLED_LAB_URL"] = stack.enter_context(lab_owner(args.log_level))
            uvicorn.run("app.main:create_app", factory=True, host=host, port=args.port, log_level=args.log_level,
                        workers=args.workers)
