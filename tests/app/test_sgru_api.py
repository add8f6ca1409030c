"""The simplified GRU (arch=sgru) through the API and the bench: the same machinery as rnn/lstm/gru."""

from __future__ import annotations

import numpy as np
import pytest

from models.charlm import RecurrentConfig
from models.trace import TraceOptions, trace_recurrent
from tests.app.conftest import strict_json

TEXT = "the cat sat on the mat"


def f32(x) -> np.ndarray:
    return np.array(x, dtype=np.float64).astype(np.float32)


def test_trace_of_the_simplified_gru_is_the_engine_s_numbers(client):
    knobs = {"arch": "sgru", "hidden_size": 12, "layers": 2, "seed": 4, "truncation": 6, "clip_mode": "norm",
             "clip_threshold": 0.5}
    response = client.post("/api/trace", json={"text": TEXT, **knobs})
    assert response.status_code == 200
    body = strict_json(response.content)
    options = TraceOptions(6, "norm", 0.5, "cpu")
    config = RecurrentConfig(arch="sgru", hidden_size=12, layers=2, seed=4)
    ref = client.app.state.traces.pool.submit(trace_recurrent, TEXT, config, options).result()
    assert [list(s["gates"]) for s in body["steps"]] == [["u", "n"]] * len(TEXT)
    assert all("c" not in s or s["c"] is None for s in body["steps"]), "no separate cell state"
    np.testing.assert_array_equal(f32([s["h"] for s in body["steps"]]), ref.h)
    for gate in ("u", "n"):
        np.testing.assert_array_equal(f32([s["gates"][gate] for s in body["steps"]]), ref.gates[gate])
    bw = body["backward"]
    np.testing.assert_array_equal(f32(bw["grad_h"]), ref.grad_h)
    np.testing.assert_array_equal(f32(bw["grad_flow"]), ref.grad_flow)
    np.testing.assert_array_equal(f32(bw["jacobian_norm"]), ref.jacobian_norm)
    assert bw["cuts"] == [6, 12, 18]
    assert bw["grad_norm_after_clip"] == pytest.approx(min(0.5, ref.grad_norm_before_clip))
    assert set(body["params"]) == {f"{w}_l{layer}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                                   for layer in range(2)} | {"readout.weight", "readout.bias"}
    assert np.array(body["params"]["weight_hh_l0"]).shape == (2 * 12, 12)  # [u; n] stacked like torch's GRU


def test_architectures_and_knobs_for_the_simplified_gru(client):
    archs = {a["arch"]: a for a in client.get("/api/architectures").json()["architectures"]}
    knobs = archs["sgru"]["knobs"]
    assert archs["sgru"]["available"] and knobs["layers"]["max"] == 3
    assert "forget_bias" not in knobs and "activation" not in knobs and "truncation" in knobs
    assert "checkpoint" not in knobs  # no trained simplified GRU is committed
    bad = client.post("/api/trace", json={"arch": "sgru", "text": TEXT, "layers": 4})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "layers"
