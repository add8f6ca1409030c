"""Fixtures: an app per test (its own pool and cache), a TestClient, and a real uvicorn on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


def strict_json(raw: bytes | str):
    """Parse as a browser would: NaN/Infinity are not JSON and must never appear."""

    def reject(name: str):
        raise ValueError(f"{name} is not valid JSON")

    return json.loads(raw, parse_constant=reject)


def parse_sse(text: str) -> list[dict]:
    """The events of a text/event-stream body: {event, id, data (parsed)} each."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = fields.get(name, "") + value if name == "data" else value
        if fields:
            fields["data"] = strict_json(fields["data"]) if "data" in fields else None
            events.append(fields)
    return events


@pytest.fixture
def settings() -> Settings:
    return Settings(workers=2, cache_size=16, device="cpu")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, app, port: int) -> None:
        self.app, self.url = app, f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def traces(self):
        return self.app.state.traces

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    """uvicorn serving a fresh app on 127.0.0.1 and a free port, in this process (so tests can read
    the compute layer's counters)."""
    with LiveServer(create_app(settings), _free_port()) as server:
        yield server
