"""The trace API with a trained character model: the checkpoint fixes the model, unknown characters are
marked, a checkpoint of another architecture is a 422, and /api/architectures lists them in ko and en."""

from __future__ import annotations

import numpy as np

from models.checkpoints import load_checkpoint
from models.trace import trace_recurrent
from tests.app.conftest import parse_sse, strict_json


def test_a_character_model_checkpoint_is_traced_through_the_api(client):
    text = "비가 와요 ☂ rain"
    knobs = {"arch": "lstm", "text": text, "checkpoint": "charlm-lstm", "hidden_size": 8, "seed": 3, "layers": 2,
             "forget_bias": 2.0, "spectral_norm": 0.5}
    body = strict_json(client.post("/api/trace", json=knobs).content)
    # the checkpoint fixes shape, seed and initialisation: those knobs leave the canonical form
    assert body["knobs"] == {"arch": "lstm", "text": text, "truncation": None, "clip_mode": None,
                             "clip_threshold": None, "checkpoint": "charlm-lstm"}
    assert body["unknown"] == [6] and body["steps"][6]["token"] == "\ufffd"
    ckpt = load_checkpoint("charlm-lstm")
    assert body["vocab"] == list(ckpt.vocab.chars)
    assert np.shape(body["params"]["weight_ih_l0"]) == (4 * 128, len(ckpt.vocab))
    ref = client.app.state.traces.pool.submit(trace_recurrent, text, None, None, checkpoint="charlm-lstm").result()
    np.testing.assert_array_equal(np.array([s["probs"] for s in body["steps"]], np.float32), ref.probs)
    meta = parse_sse(client.get("/api/trace/stream", params=knobs).text)[0]
    assert meta["event"] == "meta" and meta["data"]["unknown"] == [6]
    assert client.get("/api/status").json()["computations"] == 1  # the stream found the POST's trace


def test_a_checkpoint_of_another_architecture_is_a_422_on_checkpoint(client):
    for arch, name in (("rnn", "charlm-lstm"), ("gru", "transformer-induction"), ("transformer", "charlm-gru")):
        response = client.post("/api/trace", json={"arch": arch, "text": "hello", "checkpoint": name})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "checkpoint"]


def test_architectures_list_each_archs_checkpoints_with_ko_and_en_descriptions(client):
    archs = {a["arch"]: a for a in client.get("/api/architectures").json()["architectures"]}
    for arch in ("rnn", "lstm", "gru"):
        spec = archs[arch]["knobs"]["checkpoint"]
        assert spec["choices"] == [None, f"charlm-{arch}"]
        description = spec["descriptions"][f"charlm-{arch}"]
        assert set(description) == {"ko", "en"} and description["ko"].rstrip().endswith("다.")
    assert "transformer-induction" in archs["transformer"]["knobs"]["checkpoint"]["descriptions"]
