"""Rooms on Redis: a real redis-server (Debian's package, scripts/setup.sh installs it) on a free
loopback port and two app processes (uvicorn on 127.0.0.1) sharing it. A teacher on one process and a
student on the other follow each other; Redis stops mid-class and comes back: the student's stream says
`reconnecting`, then `reconnected` and the snapshot, and nothing the teacher published is lost.

Every wait is on an event (a line a process prints, an SSE event) under a deadline, never a sleep.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from app.rooms.model import watch_token

from .conftest import _free_port
from .test_rooms_api import follow, open_room, teacher

ROOT = Path(__file__).resolve().parents[2]
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"  # missing: bash scripts/setup.sh --browser


class Proc:
    """A child process whose output is read on a thread, so a test can wait for a line."""

    def __init__(self, args: list[str], env: dict | None = None) -> None:
        self.args, self.lines = args, queue.Queue()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                     cwd=ROOT)
        threading.Thread(target=self._read, daemon=True).start()
        self.seen: list[str] = []

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{self.args[0]}: no {text!r} in {timeout} s: {self.seen[-20:]}") from None
            if line is None:
                raise AssertionError(f"{self.args[0]} exited: {self.seen[-20:]}")
            self.seen.append(line)
            if text in line:
                return

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.port, self.directory = _free_port(), directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: Proc | None = None

    def start(self) -> None:
        # appendonly + fsync always: a restart keeps every room (what a class's Redis should do too)
        self.proc = Proc([REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                          "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"])
        self.proc.wait_for("Ready to accept connections", 20)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def start_app(redis_url: str) -> tuple[Proc, str]:
    port = _free_port()
    env = {**os.environ, "UNROLLED_REDIS_URL": redis_url, "UNROLLED_DEVICE": "cpu", "UNROLLED_WORKERS": "1",
           "UNROLLED_TORCH_THREADS": "1", "UNROLLED_ROOM_KEEPALIVE_S": "2", "UNROLLED_SHUTDOWN_TIMEOUT_S": "0"}
    proc = Proc([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
                 "--port", str(port), "--log-level", "info"], env=env)
    proc.wait_for("Application startup complete", 90)
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture
def two_apps(redis_server: RedisServer) -> Iterator[tuple[str, str]]:
    procs = []
    try:
        for _ in range(2):
            procs.append(start_app(redis_server.url))
        yield procs[0][1], procs[1][1]
    finally:
        for proc, _ in procs:
            proc.stop()


def test_teacher_and_student_on_two_processes_share_a_room(two_apps, redis_server: RedisServer) -> None:
    a, b = two_apps
    redis_url = redis_server.url
    with httpx.Client(base_url=a, timeout=10) as on_a, httpx.Client(base_url=b, timeout=10) as on_b:
        code, key = open_room(on_a)
        on_a.post(f"/api/rooms/{code}/state", json={"page": "lesson", "step": 1}, headers=teacher(key))
        device = on_b.post(f"/api/rooms/{code}/join", json={"nickname": "b"}).json()["device"]
        with follow(a, code, watch=watch_token(key, code)) as teacher_stream, follow(b, code, device=device) as student:
            assert student.next() == {"event": "state", "id": "1", "data": {"page": "lesson", "step": 1}}
            assert teacher_stream.next_of("presence")["data"]["connected"] >= 0
            on_a.post(f"/api/rooms/{code}/state", json={"page": "lesson", "step": 2}, headers=teacher(key))
            assert student.next() == {"event": "state", "id": "2", "data": {"page": "lesson", "step": 2}}
            on_b.post(f"/api/rooms/{code}/answers", json={"question": "q1", "answer": 7, "device": device})
            assert teacher_stream.next_of("answers")["data"] == {"question": "q1", "distribution": {"7": 1}}
            on_a.post(f"/api/rooms/{code}/reveal", json={"question": "q1"}, headers=teacher(key))
            assert student.next_of("reveal")["data"] == {"question": "q1", "distribution": {"7": 1}}
        # a wrong key on the other process is refused too: the key lives in Redis
        assert on_b.post(f"/api/rooms/{code}/state", json={}, headers=teacher("nope")).status_code == 403

        # every key of the room expires after room_expiry_s without use (renewed by each change)
        r = redis.Redis.from_url(redis_url)
        ttls = [r.ttl(key) for key in r.scan_iter(f"unrolled:room:{code}*")]
        r.close()
        assert len(ttls) >= 3 and all(0 < ttl <= 4 * 3600 for ttl in ttls)


def test_redis_restart_mid_class_reconnects_and_keeps_the_state(two_apps, redis_server: RedisServer) -> None:
    a, b = two_apps
    with httpx.Client(base_url=a, timeout=20) as on_a, httpx.Client(base_url=b, timeout=20) as on_b:
        code, key = open_room(on_a)
        device = on_b.post(f"/api/rooms/{code}/join", json={}).json()["device"]
        with follow(b, code, device=device) as student:
            student.next()
            on_a.post(f"/api/rooms/{code}/state", json={"step": 5}, headers=teacher(key))
            assert student.next()["data"] == {"step": 5}
            redis_server.stop()
            assert student.next_of("reconnecting")["event"] == "reconnecting"
            refused = on_a.post(f"/api/rooms/{code}/state", json={"step": 6}, headers=teacher(key))
            assert refused.status_code == 503 and "Retry-After" in refused.headers
            redis_server.start()
            back = {e["event"]: e for e in (student.next(), student.next())}  # the snapshot, then the note
            assert set(back) == {"state", "reconnected"}
            assert back["state"]["data"] == {"step": 5} and back["state"]["id"] == "1"  # nothing was lost
            on_a.post(f"/api/rooms/{code}/state", json={"step": 6}, headers=teacher(key)).raise_for_status()
            assert student.next_of("state") == {"event": "state", "id": "2", "data": {"step": 6}}
        view = on_b.get(f"/api/rooms/{code}/teacher", headers=teacher(key)).json()
        assert view["joined"] == 1
