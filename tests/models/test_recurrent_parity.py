"""The gate-by-gate cells and the explicit BPTT equal torch.nn.RNN/LSTM/GRU and autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.charlm import RecurrentConfig
from models.trace import trace_recurrent
from tests.models.conftest import TEXT, build, torch_reference

CASES = [
    dict(arch="rnn", activation="tanh"),
    dict(arch="rnn", activation="relu"),
    dict(arch="lstm"),
    dict(arch="gru"),
]


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize(
    "knobs", CASES, ids=lambda k: k.get("activation", k["arch"]) if k["arch"] == "rnn" else k["arch"]
)
def test_states_and_parameter_gradients_equal_torch_modules(knobs, layers):
    text = TEXT[:24]
    cfg = dict(hidden_size=12, layers=layers, seed=5, **knobs)
    trace = trace_recurrent(text, RecurrentConfig(**cfg))
    model, tokens = build(text, **cfg)
    module, readout, states, losses = torch_reference(model, tokens)

    h_ref = torch.stack([h[:, 0] for h, _ in states]).detach().numpy()  # (T, L, H)
    np.testing.assert_allclose(trace.h, h_ref, atol=1e-5, rtol=0)
    if knobs["arch"] == "lstm":
        c_ref = torch.stack([c[:, 0] for _, c in states]).detach().numpy()
        np.testing.assert_allclose(trace.c, c_ref, atol=1e-5, rtol=0)
    np.testing.assert_allclose(trace.loss, losses.detach().numpy(), atol=1e-5)

    losses.sum().backward()
    torch_grads = {name: p.grad for name, p in module.named_parameters()}
    torch_grads |= {f"readout.{name}": p.grad for name, p in readout.named_parameters()}
    assert set(torch_grads) == set(trace.grads)
    for name, grad in torch_grads.items():
        np.testing.assert_allclose(trace.grads[name], grad.numpy(), atol=1e-5, rtol=1e-4, err_msg=name)
    for name, value in module.state_dict().items():
        np.testing.assert_array_equal(trace.params[name], value.numpy())


def test_gates_are_the_named_activations():
    trace = trace_recurrent(TEXT[:16], RecurrentConfig(arch="lstm", hidden_size=8))
    assert set(trace.gates) == {"i", "f", "g", "o"}
    i, f, g = trace.gates["i"][:, 0], trace.gates["f"][:, 0], trace.gates["g"][:, 0]
    c = trace.c[:, 0]
    c_prev = np.vstack([np.zeros((1, 8)), c[:-1]])
    np.testing.assert_allclose(c, f * c_prev + i * g, atol=1e-6)
    np.testing.assert_allclose(trace.h[:, 0], trace.gates["o"][:, 0] * np.tanh(c), atol=1e-6)
    gru = trace_recurrent(TEXT[:16], RecurrentConfig(arch="gru", hidden_size=8))
    assert set(gru.gates) == {"r", "z", "n"}
    for values in (*trace.gates.values(), *gru.gates.values()):
        assert values.shape == (16, 1, 8)


def test_probabilities_are_the_softmax_of_the_readout():
    trace = trace_recurrent(TEXT, RecurrentConfig(arch="gru", hidden_size=10))
    np.testing.assert_allclose(trace.probs.sum(1), 1, atol=1e-5)
    nll = -np.log(trace.probs[np.arange(len(TEXT) - 1), trace.tokens[1:]])
    np.testing.assert_allclose(trace.loss, nll, rtol=1e-4)
    assert trace.total_loss == pytest.approx(float(trace.loss.sum()), rel=1e-5)


@pytest.mark.parametrize(
    "knobs",
    [*CASES, dict(arch="rnn", activation="sigmoid"), dict(arch="lstm", layers=3), dict(arch="gru", layers=2)],
    ids=["rnn-tanh", "rnn-relu", "lstm", "gru", "rnn-sigmoid", "lstm-3", "gru-2"],
)
def test_fused_replay_equals_the_gate_by_gate_loop(knobs):
    """The trace takes h from torch.nn's fused kernel and replays gates from it; the loop is the reference."""
    model, tokens = build(TEXT[:40], hidden_size=10, seed=3, **knobs)
    with torch.no_grad():
        loop, fused = model.unroll(tokens, fused=False), model.unroll(tokens, fused=True)
    assert (model.torch_layer(0) is None) == (knobs.get("activation") == "sigmoid")
    for a, b in zip(loop.layers, fused.layers, strict=True):
        for name in ("gi", "gh", "states"):
            torch.testing.assert_close(getattr(b, name), getattr(a, name), atol=2e-6, rtol=0)
        assert set(a.gates) == set(b.gates)
        for g in a.gates:
            torch.testing.assert_close(b.gates[g], a.gates[g], atol=2e-6, rtol=0)
    torch.testing.assert_close(fused.logits, loop.logits, atol=2e-6, rtol=0)
