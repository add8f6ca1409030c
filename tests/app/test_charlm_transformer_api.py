"""The character Transformer through the API: /api/architectures lists it among the Transformer's checkpoints
in ko and en, and POST /api/trace runs the file's weights (lesson 12's figure 'reach' reads this trace)."""

from __future__ import annotations

import numpy as np

from models.transformer import trace_transformer
from tests.app.conftest import strict_json

SENTENCE = "비가 오는 날에는 우산을 챙기고, 맑은 날에는 모자를 쓰고 학교에 갑니다."


def test_architectures_list_the_character_transformer_for_the_transformer_only(client):
    archs = {a["arch"]: a for a in client.get("/api/architectures").json()["architectures"]}
    spec = archs["transformer"]["knobs"]["checkpoint"]
    assert {"transformer-induction", "charlm-transformer"} <= set(spec["choices"])
    description = spec["descriptions"]["charlm-transformer"]
    assert set(description) == {"ko", "en"} and description["ko"].rstrip().endswith("다.")
    for arch in ("rnn", "lstm", "gru"):
        assert "charlm-transformer" not in archs[arch]["knobs"]["checkpoint"]["choices"]


def test_the_trace_api_runs_the_character_transformer_checkpoint(client):
    knobs = {"arch": "transformer", "text": SENTENCE, "checkpoint": "charlm-transformer", "d_model": 16}
    body = strict_json(client.post("/api/trace", json=knobs).content)
    ref = trace_transformer(SENTENCE, checkpoint="charlm-transformer")
    assert body["knobs"]["checkpoint"] == "charlm-transformer" and "d_model" not in body["knobs"]
    np.testing.assert_allclose(np.array(body["backward"]["grad_flow"]), ref.grad_flow, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose([s["loss"] for s in body["steps"][:-1]], ref.loss, rtol=1e-5)
    response = client.post("/api/trace", json={"arch": "rnn", "text": "hello", "checkpoint": "charlm-transformer"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "checkpoint"]
