"""POST /api/trace returns the engine's numbers, in the documented shape, self-contained."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.charlm import RecurrentConfig
from models.trace import TraceOptions, trace_recurrent
from tests.app.conftest import strict_json

TEXT = "the cat sat on the mat"


def f32(x) -> np.ndarray:
    """JSON numbers back to the engine's float32 (orjson writes the shortest exact float32 repr)."""
    return np.array(x, dtype=np.float64).astype(np.float32)


@pytest.mark.parametrize(
    "knobs",
    [
        {"arch": "lstm", "hidden_size": 16, "layers": 2, "seed": 3, "truncation": 4, "clip_mode": "norm",
         "clip_threshold": 0.5, "forget_bias": 1.0},
        {"arch": "gru", "hidden_size": 12, "seed": 1, "clip_mode": "value", "clip_threshold": 0.01},
        {"arch": "rnn", "hidden_size": 10, "activation": "relu", "spectral_norm": 0.9, "identity_init": False},
    ],
)
def test_trace_equals_engine_numbers(client, knobs):
    body = strict_json(client.post("/api/trace", json={"text": TEXT, **knobs}).content)
    config_knobs = {k: v for k, v in knobs.items() if k not in ("truncation", "clip_mode", "clip_threshold")}
    options = TraceOptions(knobs.get("truncation"), knobs.get("clip_mode"), knobs.get("clip_threshold"), "cpu")
    # the reference runs in the app's own worker, with its thread count, so equal means bit-equal
    ref = client.app.state.traces.pool.submit(trace_recurrent, TEXT, RecurrentConfig(**config_knobs), options).result()

    T = len(TEXT)
    assert body["vocab"] == list(ref.vocab) and body["tokens"] == ref.tokens.tolist()
    assert [s["t"] for s in body["steps"]] == list(range(T))
    assert "".join(s["token"] for s in body["steps"]) == TEXT
    assert [s["target"] for s in body["steps"]] == [*TEXT[1:], None]
    np.testing.assert_array_equal(f32([s["h"] for s in body["steps"]]), ref.h)
    for gate, values in ref.gates.items():
        np.testing.assert_array_equal(f32([s["gates"][gate] for s in body["steps"]]), values)
    if knobs["arch"] == "lstm":
        np.testing.assert_array_equal(f32([s["c"] for s in body["steps"]]), ref.c)
        np.testing.assert_array_equal(f32(body["backward"]["grad_c"]), ref.grad_c)
    np.testing.assert_array_equal(f32([s["probs"] for s in body["steps"]]), ref.probs)
    assert body["steps"][-1]["loss"] is None
    np.testing.assert_allclose([s["loss"] for s in body["steps"][:-1]], ref.loss, rtol=1e-6)

    bw = body["backward"]
    assert bw["loss"] == pytest.approx(ref.total_loss)
    np.testing.assert_array_equal(f32(bw["grad_h"]), ref.grad_h)
    np.testing.assert_array_equal(f32(bw["grad_h_local"]), ref.grad_h_local)
    np.testing.assert_array_equal(f32(bw["grad_h_future"]), ref.grad_h_future)
    np.testing.assert_array_equal(f32(bw["grad_flow"]), ref.grad_flow)
    np.testing.assert_array_equal(f32(bw["jacobian_norm"]), ref.jacobian_norm)
    assert bw["grad_norm_before_clip"] == pytest.approx(ref.grad_norm_before_clip)
    assert bw["grad_norm_after_clip"] == pytest.approx(ref.grad_norm_after_clip)
    assert bw["cuts"] == ref.cuts and bw["truncation"] == knobs.get("truncation")
    assert bw["clip_mode"] == knobs.get("clip_mode")
    assert set(body["params"]) == set(ref.params)
    for name, value in ref.params.items():
        np.testing.assert_array_equal(f32(body["params"][name]), value)


def test_truncation_and_clipping_show_in_the_backward_pass(client):
    full = client.post("/api/trace", json={"text": TEXT, "arch": "lstm", "hidden_size": 8}).json()["backward"]
    cut = client.post("/api/trace", json={"text": TEXT, "arch": "lstm", "hidden_size": 8, "truncation": 5,
                                          "clip_mode": "norm", "clip_threshold": 0.1}).json()["backward"]
    assert full["cuts"] == [] and full["truncated_vs_full"] is None
    assert cut["cuts"] == list(range(5, len(TEXT), 5))
    assert 0 < cut["truncated_vs_full"]["cosine"] < 1
    # no gradient crosses a cut: loss 7 reaches step 5 but not step 4
    assert cut["grad_flow"][7][5] > 0 and cut["grad_flow"][7][4] == 0
    assert cut["grad_norm_before_clip"] > 0.1
    assert cut["grad_norm_after_clip"] == pytest.approx(0.1, rel=1e-4)


def test_pascanu_bound_lies_above_the_gradient_of_an_elman_rnn(client):
    body = client.post("/api/trace", json={"text": TEXT, "arch": "rnn", "hidden_size": 32, "spectral_norm": 0.8}).json()
    pascanu = body["backward"]["pascanu"]
    assert pascanu["gamma"] == 1.0 and pascanu["decay_bound"][0] == pytest.approx(0.8, rel=1e-3)
    grad = np.array(body["backward"]["grad_h"])[:, pascanu["bound_layer"]]
    bound = np.array(pascanu["bound"])
    assert np.all(grad <= bound * (1 + 1e-5))
    # and it is not vacuous: at the last step the bound is the gradient itself
    assert bound[-1] == pytest.approx(grad[-1], rel=1e-5)


def test_params_rebuild_torch_lstm_and_reproduce_h(client):
    """The README's snippet: plain PyTorch, nothing from this project, only the response."""
    knobs = {"arch": "lstm", "text": "hello world", "hidden_size": 32, "layers": 2}
    trace = client.post("/api/trace", json=knobs).json()

    # --- README snippet ---
    params, V = trace["params"], len(trace["vocab"])
    H = len(params["weight_hh_l0"][0])
    L = sum(name.startswith("weight_hh_l") for name in params)
    lstm = torch.nn.LSTM(input_size=V, hidden_size=H, num_layers=L)
    lstm.load_state_dict({k: torch.tensor(v) for k, v in params.items() if not k.startswith("readout.")})
    x = torch.nn.functional.one_hot(torch.tensor(trace["tokens"]), V).float()  # tokens enter one-hot
    with torch.no_grad():
        out, _ = lstm(x)  # (T, H): the top layer's h_t
    h = torch.tensor([step["h"][-1] for step in trace["steps"]])
    assert torch.allclose(out, h, atol=1e-5)
    # --- end ---

    readout = torch.nn.Linear(H, V)
    readout.weight.data = torch.tensor(params["readout.weight"])
    readout.bias.data = torch.tensor(params["readout.bias"])
    probs = torch.softmax(readout(out), -1).detach()
    assert torch.allclose(probs, torch.tensor([s["probs"] for s in trace["steps"]]), atol=1e-5)


def test_server_timing_reports_what_the_computation_cost(client):
    response = client.post("/api/trace", json={"arch": "gru", "text": TEXT, "hidden_size": 8})
    timings = dict(part.strip().split(";dur=") for part in response.headers["server-timing"].split(","))
    assert set(timings) == {"engine", "payload", "serialize"} and float(timings["engine"]) > 0


def test_openapi_documents_the_trace_shape_and_every_route(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/architectures", "/api/trace", "/api/trace.json", "/api/trace.csv", "/api/trace/stream"} <= set(
        spec["paths"])
    assert "TraceResponse" in spec["components"]["schemas"] and "Step" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_knobs_that_do_not_apply_share_one_computation(client):
    a = client.post("/api/trace", json={"arch": "lstm", "text": TEXT, "activation": "relu", "d_model": 32})
    b = client.post("/api/trace", json={"arch": "lstm", "text": TEXT})
    assert a.content == b.content
    assert a.json()["knobs"] == {"arch": "lstm", "text": TEXT, "seed": 0, "layers": 1, "truncation": None,
                                 "clip_mode": None, "clip_threshold": None, "hidden_size": 64,
                                 "spectral_norm": None, "forget_bias": None, "checkpoint": None}
    stats = client.get("/api/status").json()
    assert stats["computations"] == 1 and stats["cache_hits"] == 1


def test_architectures_lists_every_knob_with_type_default_and_limits(client):
    archs = {a["arch"]: a for a in client.get("/api/architectures").json()["architectures"]}
    assert set(archs) == {"rnn", "lstm", "gru", "sgru", "transformer"}
    lstm = archs["lstm"]["knobs"]
    assert lstm["hidden_size"] == {"type": "integer", "nullable": False, "default": 64, "min": 1, "max": 256,
                                   "description": "units per layer", "widget": "number"}
    assert lstm["layers"]["max"] == 3 and lstm["text"]["max_length"] == 256
    assert lstm["clip_mode"]["choices"] == ["norm", "value"] and lstm["clip_mode"]["nullable"]
    assert "activation" not in lstm and "forget_bias" in lstm
    assert archs["rnn"]["knobs"]["activation"]["choices"] == ["tanh", "relu", "sigmoid", "linear"]
    tf = archs["transformer"]["knobs"]
    assert tf["layers"]["max"] == 4 and tf["heads"]["max"] == 8 and tf["d_model"]["max"] == 256
    assert "hidden_size" not in tf and tf["positional"]["choices"] == ["sinusoidal", "learned"]


def test_csv_export_carries_the_per_step_norms(client):
    query = {"arch": "lstm", "text": TEXT, "hidden_size": 8, "truncation": 5}
    rows = client.get("/api/trace.csv", params=query)
    assert rows.headers["content-type"].startswith("text/csv")
    assert "attachment" in rows.headers["content-disposition"]
    lines = [line.split(",") for line in rows.text.strip().split("\n")]
    header, body = lines[0], lines[1:]
    assert header[:4] == ["t", "token", "target", "loss"] and "grad_c_l0" in header
    trace = client.post("/api/trace", json=query).json()
    assert len(body) == len(TEXT)
    for name in ("grad_h", "grad_h_local", "grad_h_future"):
        col = header.index(f"{name}_l0")
        np.testing.assert_allclose([float(r[col]) for r in body], np.array(trace["backward"][name])[:, 0], rtol=1e-6)
    assert [int(r[header.index("cut")]) for r in body] == [int(t in (5, 10, 15, 20)) for t in range(len(TEXT))]


def test_json_export_is_the_same_trace_as_a_download(client):
    query = {"arch": "gru", "text": TEXT, "hidden_size": 8}
    download = client.get("/api/trace.json", params={**query, "phase": "backward", "lang": "ko"})
    assert download.headers["content-disposition"] == 'attachment; filename="unrolled-gru-seed0.json"'
    assert download.content == client.post("/api/trace", json=query).content


def test_trace_json_without_params_and_params_alone_split_the_whole_trace(client):
    knobs = {"arch": "gru", "text": TEXT, "hidden_size": 8}
    whole = client.get("/api/trace.json", params=knobs).json()
    light = client.get("/api/trace.json", params={**knobs, "params": "false"})
    weights = client.get("/api/trace/params", params=knobs)
    assert "params" not in light.json() and light.json() == {k: v for k, v in whole.items() if k != "params"}
    assert weights.json() == whole["params"]
    assert len(light.content) < len(client.get("/api/trace.json", params=knobs).content)
    assert client.get("/api/status").json()["computations"] == 1  # one trace behind all three answers
