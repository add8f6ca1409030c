"""`unrolled serve --workers 2` for real (two uvicorn workers on one port, a real redis-server for the rooms):
a training run and an uploaded model live in one owner process (app.lab.forward), so every request about
them answers the same whichever worker the kernel hands it to. Without the forwarding about half of these
requests reach a worker that never heard of the run and get a 404 or 422."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from torch import nn

from .conftest import _free_port, parse_sse
from .test_rooms_redis import Proc, RedisServer, redis_server  # noqa: F401 (a fixture)
from .test_upload import _file, _model

FAST = {"hidden_size": 16, "batch": 16, "lr": 1e-2}
TRIES = 16  # requests per check: all on one worker by chance with probability 2 * 2^-16


@pytest.fixture
def served(redis_server: RedisServer) -> Iterator[tuple[Proc, str]]:  # noqa: F811
    port = _free_port()
    env = {**os.environ, "UNROLLED_REDIS_URL": redis_server.url, "UNROLLED_DEVICE": "cpu", "UNROLLED_WORKERS": "1",
           "UNROLLED_TORCH_THREADS": "1", "UNROLLED_SHUTDOWN_TIMEOUT_S": "0", "UNROLLED_LAB_GRACE_S": "60"}
    env.pop("UNROLLED_LAB_URL", None)
    proc = Proc([sys.executable, "-m", "app", "--port", str(port), "--workers", "2", "--log-level", "info"], env=env)
    try:
        for _ in range(3):  # the lab's owner, then the two workers
            proc.wait_for("Application startup complete", 120)
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


def test_a_run_and_an_upload_answer_on_every_worker(served) -> None:
    proc, url = served
    r = httpx.post(f"{url}/api/runs", json={"task": "parity", "seq_len": 10, "arch": "gru", "steps": 60, **FAST})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    assert all(httpx.get(f"{url}/api/runs/{run_id}").status_code == 200 for _ in range(TRIES))

    with httpx.stream("GET", f"{url}/api/runs/{run_id}/events", timeout=60) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    events = parse_sse(text)
    assert events[-1].get("event") == "done", text[-500:]
    assert any(e["event"] == "metrics" for e in events)

    query = {"arch": "gru", "checkpoint": f"run:{run_id}", "text": "0110100111"}
    traces = [httpx.get(f"{url}/api/trace.json", params=query) for _ in range(TRIES)]
    assert all(t.status_code == 200 for t in traces), [t.text for t in traces if t.status_code != 200][:1]
    assert len({t.content for t in traces}) == 1
    posted = [httpx.post(f"{url}/api/trace", json=query) for _ in range(TRIES)]  # the name in a JSON body
    assert all(p.status_code == 200 for p in posted), [p.text for p in posted if p.status_code != 200][:1]
    bench = [httpx.get(f"{url}/bench", params=query) for _ in range(4)]
    assert all(b.status_code == 200 and f"run:{run_id}" in b.text for b in bench)

    core, readout = _model(nn.GRU)
    r = httpx.post(f"{url}/api/models", params={"arch": "gru"}, content=_file(core, readout),
                   headers={"content-type": "application/octet-stream"}, timeout=30)
    assert r.status_code == 201, r.text
    name = r.json()["checkpoint"]
    uploads = [httpx.get(f"{url}/api/trace.json", params={"arch": "gru", "checkpoint": name, "text": "a bad cafe"})
               for _ in range(TRIES)]
    assert all(u.status_code == 200 for u in uploads), [u.text for u in uploads if u.status_code != 200][:1]

    # the owner is asked for plain bytes; the worker's own stack compresses what it passes on
    r = httpx.get(f"{url}/api/runs/{run_id}/events", headers={"Accept-Encoding": "gzip", "Last-Event-ID": "0"})
    assert r.status_code == 200 and r.headers.get("content-encoding") == "gzip"

    owner = next(re.search(r"http://127\.0\.0\.1:(\d+)", line).group(1) for line in proc.seen  # type: ignore[union-attr]
                 if "Uvicorn running on" in line and f":{url.rsplit(':', 1)[1]} " not in line)
    assert httpx.get(f"http://127.0.0.1:{owner}/api/runs/{run_id}").status_code == 200
    started = time.monotonic()
    proc.stop()
    assert proc.proc.returncode is not None and time.monotonic() - started < 15
    with pytest.raises(httpx.ConnectError):  # the owner stopped with the workers
        httpx.get(f"http://127.0.0.1:{owner}/api/status")


def test_a_worker_whose_lab_owner_is_down_answers_503_in_the_pages_language() -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    with TestClient(create_app(Settings(workers=1, device="cpu", lab_url=closed))) as client:
        for lang, word in (("ko", "프로세스"), ("en", "process")):
            r = client.get(f"/api/runs/abc?lang={lang}")
            assert r.status_code == 503 and r.headers["retry-after"] == "5" and word in r.json()["detail"]
        assert client.get("/api/architectures").status_code == 200  # the rest does not need the owner
