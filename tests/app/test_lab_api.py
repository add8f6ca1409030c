"""The training lab's API on a real uvicorn: events in order and resumable, pause/resume/stop, the grace
period, divergence, the checkpoint against torch.nn, the bench on a run's weights, and bad input."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load
from torch import nn

from app.main import create_app
from app.settings import Settings
from models.training.tasks import get_task, held_out
from tests.app.conftest import LiveServer, _free_port, parse_sse, strict_json

FAST = {"hidden_size": 16, "batch": 16, "lr": 1e-2}


@pytest.fixture
def lab() -> Iterator[LiveServer]:
    settings = Settings(workers=2, cache_size=8, device="cpu", lab_grace_s=60, lab_client_runs=3)
    with LiveServer(create_app(settings), _free_port()) as server:
        yield server


def _start(url: str, **knobs) -> str:
    r = httpx.post(f"{url}/api/runs", json=knobs)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _events(url: str, run_id: str, last_id: int | None = None, until: str | None = None) -> list[dict]:
    """Read the run's stream (to its final event, or to the first `until` event)."""
    headers = {} if last_id is None else {"Last-Event-ID": str(last_id)}
    text = ""
    with httpx.stream("GET", f"{url}/api/runs/{run_id}/events", headers=headers, timeout=60) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for chunk in r.iter_text():
            text += chunk
            if until and f"event: {until}" in text and text.endswith("\n\n"):
                break
    return parse_sse(text)


def _status(url: str, run_id: str) -> dict:
    return httpx.get(f"{url}/api/runs/{run_id}").json()


def _wait_status(url: str, run_id: str, wanted: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while (status := _status(url, run_id))["status"] != wanted:
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    return status


def test_events_arrive_in_order_and_resume_after_last_event_id(lab):
    run_id = _start(lab.url, task="parity", seq_len=8, arch="gru", steps=40, **FAST)
    events = _events(lab.url, run_id)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[1:3] == ["metrics", "snapshot"] and kinds[-1] == "done"
    assert [int(e["id"]) for e in events] == list(range(len(events)))
    steps = [e["data"]["step"] for e in events if e["event"] == "metrics"]
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 40
    snapshot = next(e["data"] for e in events if e["event"] == "snapshot")
    assert snapshot["distance"] == list(range(8)) and len(snapshot["final"]) == 8
    assert events[-1]["data"]["step"] == 40
    trainer = lab.app.state.lab.get(run_id).trainer  # a finished run keeps its weights, not Adam's moments
    assert trainer.optimizer.state == {} and all(p.grad is None for p in trainer.params)
    # a reconnect after event 3 gets exactly the rest
    rest = _events(lab.url, run_id, last_id=3)
    assert [e["id"] for e in rest] == [e["id"] for e in events[4:]]
    # and after the final event, 204 tells EventSource to stop
    r = httpx.get(f"{lab.url}/api/runs/{run_id}/events", headers={"Last-Event-ID": events[-1]["id"]})
    assert r.status_code == 204


def test_pause_resume_and_stop(lab):
    run_id = _start(lab.url, task="adding", seq_len=20, arch="lstm", steps=20000, **FAST)
    with httpx.stream("GET", f"{lab.url}/api/runs/{run_id}/events", timeout=60) as stream:
        lines = stream.iter_lines()

        def next_event(kind: str) -> dict:
            current: dict = {}
            for line in lines:
                if line.startswith("event: "):
                    current = {"event": line[7:]}
                elif line.startswith("data: "):
                    current["data"] = strict_json(line[6:])
                elif not line and current.get("event") == kind:
                    return current["data"]
            raise AssertionError(f"no {kind} event")

        assert next_event("metrics")["step"] == 0
        assert next_event("metrics")["step"] > 0
        assert httpx.post(f"{lab.url}/api/runs/{run_id}/pause").json()["status"] == "paused"
        paused_at = next_event("paused")["step"]
        assert _status(lab.url, run_id)["step"] == paused_at  # nothing trains while paused
        assert httpx.post(f"{lab.url}/api/runs/{run_id}/resume").json()["status"] == "running"
        assert next_event("resumed")["step"] == paused_at
        assert next_event("metrics")["step"] > paused_at
        assert httpx.post(f"{lab.url}/api/runs/{run_id}/stop").json()["status"] == "stopped"
        stopped = next_event("stopped")
    assert stopped["reason"] == "asked"
    assert lab.app.state.lab.get(run_id).trainer.optimizer.state == {}
    log = _events(lab.url, run_id)  # the whole log: no metrics between paused and resumed
    kinds = [e["event"] for e in log]
    assert "metrics" not in kinds[kinds.index("paused") : kinds.index("resumed")]


def test_a_run_nobody_follows_stops_after_the_grace_period():
    settings = Settings(workers=1, device="cpu", lab_grace_s=0.5)
    with LiveServer(create_app(settings), _free_port()) as server:
        run_id = _start(server.url, task="adding", seq_len=20, arch="gru", steps=20000, **FAST)
        status = _wait_status(server.url, run_id, "stopped", timeout=20)
        assert status["step"] < 20000
        assert _events(server.url, run_id)[-1]["data"]["reason"] == "unwatched"


def test_a_divergent_run_ends_as_diverged_with_valid_json(lab):
    run_id = _start(lab.url, task="adding", seq_len=100, arch="rnn", activation="relu", spectral_norm=10.0,
                    optimizer="sgd", lr=10.0, clip_mode=None, steps=500, hidden_size=32, batch=16)
    events = _events(lab.url, run_id)  # parse_sse parses strictly: NaN or Infinity would raise
    assert events[-1]["event"] == "diverged"
    assert events[-1]["data"]["step"] < 500
    assert _status(lab.url, run_id)["status"] == "diverged"


def test_checkpoint_loads_into_torch_nn_and_gives_the_reported_loss(lab):
    run_id = _start(lab.url, task="adding", seq_len=12, arch="lstm", steps=60, seed=4, **FAST)
    final = [e for e in _events(lab.url, run_id) if e["event"] == "metrics"][-1]["data"]
    r = httpx.get(f"{lab.url}/api/runs/{run_id}/checkpoint")
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    weights = load(r.content)
    lstm, readout = nn.LSTM(2, 16, batch_first=True), nn.Linear(16, 1)
    lstm.load_state_dict({k: v for k, v in weights.items() if not k.startswith("readout.")})
    readout.load_state_dict({"weight": weights["readout.weight"], "bias": weights["readout.bias"]})
    batch = held_out(get_task("adding"), 128, 12, seed=4)
    with torch.no_grad():
        prediction = readout(lstm(batch.x)[0][:, -1])[:, 0]  # the top layer's last hidden state
    assert float(F.mse_loss(prediction, batch.y)) == pytest.approx(final["held_out"], rel=1e-5)
    with open_metadata(r.content) as meta:
        assert meta["format"] == "unrolled-lab/1" and meta["step"] == "60"


class open_metadata:
    """safetensors' metadata as a dict (the header is JSON after an 8-byte length)."""

    def __init__(self, raw: bytes) -> None:
        n = int.from_bytes(raw[:8], "little")
        self.meta = strict_json(raw[8 : 8 + n])["__metadata__"]

    def __enter__(self) -> dict:
        return self.meta

    def __exit__(self, *exc) -> None:
        return None


def test_the_bench_traces_a_runs_weights_with_the_tasks_own_targets(lab):
    run_id = _start(lab.url, task="parity", seq_len=10, arch="gru", steps=30, **FAST)
    _events(lab.url, run_id)
    summary = _status(lab.url, run_id)
    assert summary["bench_url"].startswith("/bench?arch=gru&checkpoint=run%3A")
    page = httpx.get(lab.url + summary["bench_url"])
    assert page.status_code == 200
    text = "0110100111"
    r = httpx.get(f"{lab.url}/api/trace.json", params={"arch": "gru", "checkpoint": f"run:{run_id}", "text": text})
    assert r.status_code == 200, r.text
    trace = r.json()
    assert trace["knobs"]["checkpoint"] == f"run:{run_id}@30"
    weights = load(httpx.get(f"{lab.url}/api/runs/{run_id}/checkpoint").content)
    gru, readout = nn.GRU(2, 16), nn.Linear(16, 2)
    gru.load_state_dict({k: v for k, v in weights.items() if not k.startswith("readout.")})
    readout.load_state_dict({"weight": weights["readout.weight"], "bias": weights["readout.bias"]})
    ids = torch.tensor([int(c) for c in text])
    with torch.no_grad():
        logits = readout(gru(F.one_hot(ids, 2).float())[0])
    parity = ids.cumsum(0) % 2
    expected = F.cross_entropy(logits, parity, reduction="none").numpy()
    np.testing.assert_allclose([s["loss"] for s in trace["steps"]], expected, rtol=1e-4, atol=1e-6)
    assert [s["target"] for s in trace["steps"]] == [str(int(p)) for p in parity]
    # the adding task's inputs are numbers: no bench, and a clear 422 if asked
    adding = _start(lab.url, task="adding", seq_len=10, arch="gru", steps=10, **FAST)
    _events(lab.url, adding)
    assert _status(lab.url, adding)["bench_url"] is None
    r = httpx.get(f"{lab.url}/api/trace.json", params={"arch": "gru", "checkpoint": f"run:{adding}", "text": "ab"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "knob_lab_run_bench"
    r = httpx.get(f"{lab.url}/api/trace.json", params={"arch": "lstm", "checkpoint": f"run:{run_id}", "text": "01"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "knob_lab_run_arch"


def test_bad_knobs_are_422_naming_the_field_in_the_pages_language(lab):
    def detail(body: dict, lang: str = "en") -> dict:
        r = httpx.post(f"{lab.url}/api/runs?lang={lang}", json=body)
        assert r.status_code == 422, r.text
        return r.json()["detail"][0]

    d = detail({"task": "copy", "seq_len": 150})
    assert d["loc"] == ["body", "seq_len"] and d["type"] == "knob_lab_seq_len" and "1" in d["msg"] and "100" in d["msg"]
    d = detail({"task": "copy", "seq_len": 150}, lang="ko")
    assert "과제" in d["msg"]
    assert detail({"arch": "gru", "forget_bias": 1.0})["type"] == "knob_lab_applies_to"
    assert detail({"lr": 0})["loc"] == ["body", "lr"]
    assert detail({"bogus": 1})["type"] == "extra_forbidden"
    d = detail({"task": "adding", "seq_len": 200, "arch": "lstm", "hidden_size": 256, "batch": 256, "steps": 20000})
    assert d["type"] == "knob_lab_cost" and d["loc"] == ["body"]
    r = httpx.post(f"{lab.url}/api/runs", content=b'{"lr": NaN}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and strict_json(r.content)
    assert httpx.get(f"{lab.url}/api/runs/nope").status_code == 404
    assert httpx.post(f"{lab.url}/api/runs/nope/pause").status_code == 404


def test_one_client_gets_429_past_its_live_runs(lab):
    ids = [_start(lab.url, task="adding", seq_len=10, arch="gru", steps=20000, **FAST) for _ in range(3)]
    r = httpx.post(f"{lab.url}/api/runs", json={"task": "adding", "steps": 10})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    httpx.post(f"{lab.url}/api/runs/{ids[0]}/stop")
    assert httpx.post(f"{lab.url}/api/runs", json={"task": "adding", "steps": 10, **FAST}).status_code == 201


def test_a_transformer_run_opens_in_the_bench_with_the_tasks_targets(lab):
    run_id = _start(lab.url, task="copy", seq_len=3, arch="transformer", hidden_size=16, heads=2, layers=1,
                    steps=20, batch=16)
    events = _events(lab.url, run_id)
    assert events[-1]["event"] == "done"
    summary = _status(lab.url, run_id)
    assert "arch=transformer" in summary["bench_url"] and "heads" in summary["knobs"]
    text = "abc" + "_" * 9 + ":" + "_" * 10  # 3 symbols, the delimiter at step 12, then the recall
    r = httpx.get(f"{lab.url}/api/trace.json", params={"arch": "transformer", "checkpoint": f"run:{run_id}",
                                                       "text": text, "params": "false"})
    assert r.status_code == 200, r.text
    trace = r.json()
    targets = [s["target"] for s in trace["steps"]]
    assert targets[:13] == ["_"] * 13 and targets[13:16] == ["a", "b", "c"]  # recall after the delimiter
    from models.transformer import CausalTransformer, TransformerConfig

    weights = load(httpx.get(f"{lab.url}/api/runs/{run_id}/checkpoint").content)
    with open_metadata(httpx.get(f"{lab.url}/api/runs/{run_id}/checkpoint").content) as meta:
        config = TransformerConfig(**strict_json(meta["config"]))
    net = CausalTransformer(config)
    net.load_state_dict(weights)
    vocab = get_task("copy").vocab
    ids = torch.tensor([vocab.index(c) for c in text])
    y = torch.tensor([vocab.index(c) for c in targets])
    with torch.no_grad():
        expected = F.cross_entropy(net.eval()(ids), y, reduction="none").numpy()
    np.testing.assert_allclose([s["loss"] for s in trace["steps"]], expected, rtol=1e-4, atol=1e-6)


def test_the_transformer_knobs_are_checked(lab):
    def refused(body: dict) -> tuple[list, str]:
        r = httpx.post(f"{lab.url}/api/runs", json=body)
        assert r.status_code == 422, r.text
        return r.json()["detail"][0]["loc"], r.json()["detail"][0]["type"]

    assert refused({"task": "adding", "arch": "transformer"}) == (["body", "arch"], "knob_lab_transformer_tokens")
    assert refused({"task": "copy", "seq_len": 5, "arch": "transformer", "truncation": 4}) == (
        ["body", "truncation"], "knob_lab_applies_to")
    assert refused({"task": "copy", "seq_len": 5, "arch": "transformer", "hidden_size": 30, "heads": 4}) == (
        ["body", "heads"], "knob_heads_divide")
    assert refused({"task": "copy", "seq_len": 5, "arch": "gru", "forget_bias": 1.0}) == (
        ["body", "forget_bias"], "knob_lab_applies_to")
    assert refused({"task": "copy", "seq_len": 5, "arch": "lstm", "layers": 4}) == (["body", "layers"],
                                                                                    "knob_layers_range")


def test_the_encoder_decoder_learns_reversal_in_the_lab_and_stays_out_of_the_bench(lab):
    run_id = _start(lab.url, task="reverse", seq_len=4, arch="seq2seq", hidden_size=16, steps=20, batch=16, lr=3e-3,
                    attention=False)
    events = _events(lab.url, run_id)
    assert events[-1]["event"] == "done"
    snapshot = [e["data"] for e in events if e["event"] == "snapshot"][-1]
    assert len(snapshot["distance"]) == 4 + 5  # J + I time steps between reading and writing
    summary = _status(lab.url, run_id)
    assert summary["bench_url"] is None and summary["knobs"]["attention"] is False
    r = httpx.post(f"{lab.url}/api/runs", json={"task": "reverse", "seq_len": 4, "arch": "gru"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "knob_lab_seq2seq_task"
    r = httpx.post(f"{lab.url}/api/runs", json={"task": "copy", "seq_len": 5, "arch": "seq2seq"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "knob_lab_seq2seq_task"
