"""The Transformer through the same API: its numbers, attention rows, and its own knob checks."""

from __future__ import annotations

import numpy as np
import pytest

import models.transformer as transformer
from tests.app.conftest import parse_sse, strict_json

TEXT = "attention is all you need"
KNOBS = {"arch": "transformer", "text": TEXT, "layers": 2, "heads": 2, "d_model": 16, "d_ff": 32, "seed": 5,
         "positional": "learned", "clip_mode": "norm", "clip_threshold": 0.5}


def test_transformer_trace_equals_engine_numbers(client):
    body = strict_json(client.post("/api/trace", json=KNOBS).content)
    config = transformer.TransformerConfig(vocab_size=len(set(TEXT)), d_model=16, layers=2, heads=2, d_ff=32,
                                           positional="learned", max_len=256, seed=5)
    from models.trace import TraceOptions

    options = TraceOptions(clip_mode="norm", clip_threshold=0.5)
    ref = client.app.state.traces.pool.submit(transformer.trace_transformer, TEXT, config, options).result()
    T = len(TEXT)
    assert body["vocab"] == list(ref.vocab) and body["tokens"] == ref.tokens.tolist()
    attention = np.array([s["attention"] for s in body["steps"]], dtype=np.float32)  # (T, layers, heads, T)
    np.testing.assert_array_equal(attention, ref.attention.transpose(2, 0, 1, 3))
    np.testing.assert_array_equal(np.array([s["q"] for s in body["steps"]], np.float32), ref.q.transpose(2, 0, 1, 3))
    np.testing.assert_array_equal(np.array([s["positional"] for s in body["steps"]], np.float32), ref.positional)
    np.testing.assert_array_equal(np.array(body["backward"]["grad_flow"], np.float32), ref.grad_flow)
    np.testing.assert_array_equal(np.array(body["backward"]["grad_h"], np.float32)[:, 0], ref.grad_x)
    assert body["backward"]["grad_norm_after_clip"] == pytest.approx(0.5, rel=1e-4)
    # causal rows that sum to one; masked scores travel as null (they are -inf)
    assert np.allclose(attention.sum(-1), 1, atol=1e-5)
    assert np.all(np.triu(attention[:, 0, 0], 1) == 0)
    assert body["steps"][0]["scores"][0][0][1:] == [None] * (T - 1)
    assert body["steps"][0]["overflow"] is False
    assert "embedding.weight" in body["params"] and "readout.weight" in body["params"]
    assert body["extra"]["cost"]["T"] == T


def test_transformer_ignores_truncation_and_streams_attention(client):
    with_k = client.post("/api/trace", json={**KNOBS, "truncation": 3}).json()
    assert "truncation" not in with_k["knobs"] and with_k["backward"]["truncation"] is None
    events = parse_sse(client.get("/api/trace/stream", params=KNOBS).text)
    forward = [e["data"] for e in events if e["event"] == "forward"]
    assert len(forward) == len(TEXT) and len(forward[3]["attention"]) == 2  # layers
    backward = [e["data"] for e in events if e["event"] == "backward"]
    assert all(b["grad_h_local"] is None and b["grad_h_future"] is None for b in backward)  # recurrent only
    assert client.get("/api/status").json()["computations"] == 1


@pytest.mark.parametrize(
    ("knobs", "field", "message"),
    [
        ({"d_model": 24, "heads": 5}, "heads", "must divide d_model"),
        ({"checkpoint": "no-such-model"}, "checkpoint", "unknown"),
    ],
)
def test_transformer_knob_errors_name_the_field(client, knobs, field, message):
    response = client.post("/api/trace", json={**KNOBS, **knobs})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field] and message in error["msg"]


def test_a_checkpoint_fixes_the_model_so_shape_knobs_leave_the_cache_key():
    from app.schemas import KnobBody

    a = KnobBody(arch="transformer", text="abc", checkpoint="transformer-induction", d_model=24, heads=5, seed=9)
    b = KnobBody(arch="transformer", text="abc", checkpoint="transformer-induction")
    assert a.canonical() == b.canonical() == {"arch": "transformer", "text": "abc", "clip_mode": None,
                                              "clip_threshold": None, "checkpoint": "transformer-induction"}


def test_characters_outside_a_checkpoints_vocabulary_are_a_422_on_text(client):
    from models.checkpoints import checkpoint_path

    assert checkpoint_path("transformer-induction").exists(), "the committed checkpoint is missing"
    knobs = {"arch": "transformer", "text": "abc\u00e9", "checkpoint": "transformer-induction"}
    response = client.post("/api/trace", json=knobs)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "text"] and "vocabulary" in error["msg"]


def test_the_streams_meta_carries_the_cost_curves_of_layer_cost(client):
    """The cost panel's numbers: models.transformer.layer_cost over the lengths, and at the text's length."""
    events = parse_sse(client.get("/api/trace/stream", params=KNOBS).text)
    meta = next(e["data"] for e in events if e["event"] == "meta")
    cost = meta["cost"]
    config = transformer.TransformerConfig(vocab_size=len(set(TEXT)), d_model=16, layers=2, heads=2, d_ff=32)
    at_T = transformer.layer_cost(len(TEXT), config)
    assert cost["T"] == len(TEXT) and cost["attention_macs"] == int(at_T["attention_macs"])
    curves = transformer.layer_cost(np.asarray(cost["lengths"]), config)
    for name in ("attention_macs", "recurrent_macs", "attention_memory"):
        assert cost["curves"][name] == curves[name].tolist()
    assert cost == client.post("/api/trace", json=KNOBS).json()["extra"]["cost"]  # the stream and the body agree
    rnn_meta = parse_sse(client.get("/api/trace/stream", params={"arch": "rnn", "text": TEXT}).text)[0]["data"]
    assert "cost" not in rnn_meta
