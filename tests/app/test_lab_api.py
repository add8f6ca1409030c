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
from models.training.tasks import example, get_task, held_out
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


def _paused_after(url: str, run_id: str, step: int, timeout: float = 30) -> dict:
    """Pause the run once it has taken `step` steps; its summary then."""
    deadline = time.monotonic() + timeout
    while _status(url, run_id)["step"] < step:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert httpx.post(f"{url}/api/runs/{run_id}/pause").json()["status"] == "paused"
    return _status(url, run_id)


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


def test_the_encoder_decoder_learns_reversal_in_the_lab_and_opens_in_the_seq2seq_bench(lab):
    run_id = _start(lab.url, task="reverse", seq_len=4, arch="seq2seq", hidden_size=16, steps=20, batch=16, lr=3e-3,
                    attention=False)
    events = _events(lab.url, run_id)
    assert events[-1]["event"] == "done"
    snapshot = [e["data"] for e in events if e["event"] == "snapshot"][-1]
    assert len(snapshot["distance"]) == 4 + 5  # J + I time steps between reading and writing
    summary = _status(lab.url, run_id)
    assert summary["bench_url"].startswith(f"/bench?mode=seq2seq&checkpoint=run%3A{run_id}&source=")
    assert summary["knobs"]["attention"] is False
    r = httpx.get(f"{lab.url}/api/trace.json", params={"arch": "gru", "checkpoint": f"run:{run_id}", "text": "ab"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "knob_lab_run_arch"
    r = httpx.post(f"{lab.url}/api/runs", json={"task": "reverse", "seq_len": 4, "arch": "gru"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "knob_lab_seq2seq_task"
    r = httpx.post(f"{lab.url}/api/runs", json={"task": "copy", "seq_len": 5, "arch": "seq2seq"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "knob_lab_seq2seq_task"


def _torch_adding(weights: dict, arch: str, x: torch.Tensor, y: torch.Tensor):
    """torch.nn's module rebuilt from a checkpoint, stepped one step at a time so that autograd gives the
    whole dL/dh_t (through every later step), L = (y_hat_{T-1} - y)^2 read from the last hidden state."""
    H = weights["weight_hh_l0"].shape[1]
    core = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[arch](2, H)
    core.load_state_dict({k: v for k, v in weights.items() if not k.startswith("readout.")})
    readout = nn.Linear(H, 1)
    readout.load_state_dict({"weight": weights["readout.weight"], "bias": weights["readout.bias"]})
    state, hs, predictions = None, [], []
    for t in range(len(x)):
        h, state = core(x[t : t + 1], state)  # h: (1, H), the one tensor the readout and the next step read
        state = (h, state[1]) if arch == "lstm" else h
        h.retain_grad()
        hs.append(h)
        predictions.append(readout(h[0]))
    loss = ((predictions[-1] - y) ** 2).sum()
    loss.backward()
    return (torch.stack([h[0] for h in hs]).detach(), torch.cat(predictions).detach(), float(loss.detach()),
            torch.stack([h.grad[0].norm() for h in hs]))


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn"])
def test_a_paused_adding_run_opens_in_the_bench_and_equals_torch_nn(lab, arch):
    T = 12
    run_id = _start(lab.url, task="adding", seq_len=T, arch=arch, steps=20000, seed=3, **FAST)
    summary = _paused_after(lab.url, run_id, 5)
    assert summary["bench_url"] == f"/bench?arch={arch}&checkpoint=run%3A{run_id}&example=0"
    assert httpx.get(lab.url + summary["bench_url"]).status_code == 200
    r = httpx.get(f"{lab.url}/api/trace.json", params={"arch": arch, "checkpoint": f"run:{run_id}", "example": 5})
    assert r.status_code == 200, r.text
    trace = r.json()
    assert trace["knobs"]["checkpoint"] == f"run:{run_id}@{summary['step']}" and trace["knobs"]["example"] == 5
    assert trace["input_kind"] == "numbers" and trace["last_loss"] == T - 1
    batch = example(get_task("adding"), T, 3, 5)  # the run's own example 5: seeded, the same every time
    x, y = batch.x[0], batch.y[:1]
    np.testing.assert_array_equal(np.array(trace["inputs"], np.float32), x.numpy())
    assert [s["input"] for s in trace["steps"]] == trace["inputs"] and trace["answer"] == pytest.approx(y.tolist())
    weights = load(httpx.get(f"{lab.url}/api/runs/{run_id}/checkpoint").content)
    h, prediction, loss, grad_h = _torch_adding(weights, arch, x, y)
    np.testing.assert_allclose([s["h"][0] for s in trace["steps"]], h.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose([s["prediction"][0] for s in trace["steps"]], prediction.numpy(), rtol=1e-4, atol=1e-5)
    assert [s["loss"] for s in trace["steps"][:-1]] == [None] * (T - 1)  # one loss term, at the last step
    assert trace["steps"][-1]["loss"] == pytest.approx(loss, rel=1e-4, abs=1e-7)
    assert trace["steps"][-1]["target"] == pytest.approx(y.tolist()) and trace["backward"]["loss"] == pytest.approx(
        loss, rel=1e-4, abs=1e-7)
    np.testing.assert_allclose([g[0] for g in trace["backward"]["grad_h"]], grad_h.numpy(), rtol=1e-3, atol=1e-7)
    flow = np.array(trace["backward"]["grad_flow"])  # only the final loss's row is not zero
    np.testing.assert_allclose(flow[-1], grad_h.numpy(), rtol=1e-3, atol=1e-7)
    assert not flow[:-1].any()
    # another example is another sequence; the stream's meta says what the steps read
    other = httpx.get(f"{lab.url}/api/trace.json", params={"arch": arch, "checkpoint": f"run:{run_id}", "example": 6})
    assert other.json()["inputs"] != trace["inputs"]
    csv = httpx.get(f"{lab.url}/api/trace.csv", params={"arch": arch, "checkpoint": f"run:{run_id}", "example": 5})
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == T + 1
    with httpx.stream("GET", f"{lab.url}/api/trace/stream", params={"arch": arch, "checkpoint": f"run:{run_id}",
                                                                     "example": 5}, timeout=60) as stream:
        text = ""
        for chunk in stream.iter_text():
            text += chunk
            if "event: meta" in text and text.endswith("\n\n"):
                break
    meta = next(e["data"] for e in parse_sse(text) if e["event"] == "meta")
    assert meta["input_kind"] == "numbers" and meta["inputs"] == trace["inputs"] and meta["last_loss"] == T - 1
    bad = httpx.get(f"{lab.url}/api/trace.json", params={"arch": arch, "checkpoint": f"run:{run_id}", "example": -1})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "example"


@pytest.mark.parametrize("attention", [True, False])
def test_a_paused_reverse_run_traces_in_the_seq2seq_bench_as_its_checkpoint_rebuilt(lab, attention):
    from models.seq2seq import Seq2Seq, Seq2SeqConfig, encode_pair, trace_seq2seq
    from models.vocab import Vocab

    run_id = _start(lab.url, task="reverse", seq_len=6, arch="seq2seq", hidden_size=16, steps=20000, batch=16,
                    lr=3e-3, attention=attention, seed=2)
    summary = _paused_after(lab.url, run_id, 5)
    page = httpx.get(lab.url + summary["bench_url"])
    assert page.status_code == 200 and f'value="run:{run_id}" selected' in page.text
    source = "reverse"
    r = httpx.post(f"{lab.url}/api/seq2seq/trace", json={"checkpoint": f"run:{run_id}", "source": source,
                                                          "teacher_forcing": True})
    assert r.status_code == 200, r.text
    body = strict_json(r.content)
    assert body["checkpoint"] == f"run:{run_id}@{summary['step']}" and body["attention"] is attention
    assert body["target"] == source[::-1] and body["T"] == len(source) + 1
    raw = httpx.get(f"{lab.url}/api/runs/{run_id}/checkpoint").content
    with open_metadata(raw) as meta:
        config = Seq2SeqConfig(**strict_json(meta["config"].encode()))
        vocab = Vocab(tuple(strict_json(meta["vocab"].encode())))
        assert meta["step"] == str(summary["step"])
    assert body["vocab"] == list(vocab.chars)
    model = Seq2Seq(config)
    model.load_state_dict(load(raw))
    model.eval()
    src, dec_in, out = encode_pair(vocab, source, source[::-1])
    with torch.no_grad():  # the module's own forward, teacher forced: one logit row per output step
        probs = torch.softmax(model(src[None], dec_in[None])[0], -1)
    np.testing.assert_allclose([s["probs"] for s in body["steps"]], probs.numpy(), rtol=1e-5, atol=1e-7)
    tr = trace_seq2seq(source, model=model, vocab=vocab, teacher_forcing=True, device="cpu")
    for i, step in enumerate(body["steps"]):
        np.testing.assert_allclose(step["context"], tr.context[i], rtol=1e-6, atol=1e-7)
        assert step["loss"] == pytest.approx(float(tr.loss[i]), rel=1e-6)
        if attention:
            np.testing.assert_allclose(step["weights"], tr.attention[i], rtol=1e-6, atol=1e-8)
        else:
            assert step["weights"] is None
    r = httpx.get(f"{lab.url}/api/seq2seq/trace", params={"checkpoint": "run:nope", "source": "ab"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "knob_lab_run_unknown"

    # accuracy against length: the run's own line after the checkpoints', measured on the same strings
    from models.seq2seq import accuracy_by_length

    query = {"task": "reverse", "count": 20, "checkpoint": f"run:{run_id}"}
    acc = strict_json(httpx.get(f"{lab.url}/api/seq2seq/accuracy", params=query).content)
    *pretrained, line = acc["models"]
    assert pretrained and not any(m.get("run") for m in pretrained)
    assert line["run"] is True and line["checkpoint"] == body["checkpoint"] and line["attention"] is attention
    expected = accuracy_by_length(model, [n for n in acc["lengths"] if n <= config.max_len], 20, seed=0)
    for measure in ("sequence", "character"):
        assert line[measure] == [expected[n][measure] if n in expected else None for n in acc["lengths"]]
    assert [m["checkpoint"] for m in pretrained] == [m["checkpoint"] for m in strict_json(httpx.get(
        f"{lab.url}/api/seq2seq/accuracy", params={"task": "reverse", "count": 20}).content)["models"]]
    for bad, error in (({"task": "swap_pairs"}, "knob_seq2seq_run_task"),
                       ({"checkpoint": "seq2seq-reverse-plain"}, "seq2seq_checkpoint"),
                       ({"checkpoint": "run:nope"}, "knob_lab_run_unknown")):
        r = httpx.get(f"{lab.url}/api/seq2seq/accuracy", params={**query, **bad})
        assert r.status_code == 422 and r.json()["detail"][0]["type"] == error, r.text
    httpx.post(f"{lab.url}/api/runs/{run_id}/stop")


def test_only_the_address_that_started_a_run_may_pause_resume_or_stop_it(lab):
    """In a classroom room students know the teacher's run ids; they may follow the runs, not stop them.
    (uvicorn takes the client's address from X-Forwarded-For when the request comes from loopback.)"""
    run_id = _start(lab.url, task="parity", seq_len=10, arch="gru", steps=5000, **FAST)
    student = {"X-Forwarded-For": "10.0.0.23"}
    for action in ("pause", "resume", "stop"):
        for lang, word in (("ko", "기기"), ("en", "device")):
            r = httpx.post(f"{lab.url}/api/runs/{run_id}/{action}?lang={lang}", headers=student)
            assert r.status_code == 403 and word in r.json()["detail"], r.text
    assert httpx.get(f"{lab.url}/api/runs/{run_id}", headers=student).status_code == 200  # following is open
    assert _status(lab.url, run_id)["status"] in ("queued", "running")
    assert httpx.post(f"{lab.url}/api/runs/{run_id}/stop").status_code == 200
    assert _wait_status(lab.url, run_id, "stopped")["status"] == "stopped"
