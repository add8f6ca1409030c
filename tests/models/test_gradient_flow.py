"""Per-step gradient norms and the T x T gradient-flow matrix equal T separate autograd passes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.charlm import RecurrentConfig
from models.trace import TraceOptions, trace_recurrent
from tests.models.conftest import TEXT, autograd_unroll, build, torch_reference


def _norms(loss, tensors) -> list[float]:
    grads = torch.autograd.grad(loss, tensors, retain_graph=True, allow_unused=True)
    return [0.0 if g is None else g.norm().item() for g in grads]


def autograd_flow(knobs: dict, text: str, truncation: int | None = None):
    """G[t][s] = ||dL_t/dh_s|| (top layer), ||dL/dh_s|| per layer and ||dL/dc_s||, one pass per L_t."""
    model, tokens = build(text, **knobs)
    states, losses = autograd_unroll(model, tokens, truncation)
    T, L = len(tokens), model.config.layers
    is_lstm = knobs["arch"] == "lstm"
    flow, flow_c = np.zeros((T, T)), np.zeros((T, T))
    for t in range(T - 1):
        flow[t, : t + 1] = _norms(losses[t], [states[s][-1][0] for s in range(t + 1)])
        if is_lstm:
            flow_c[t, : t + 1] = _norms(losses[t], [states[s][-1][1] for s in range(t + 1)])
    total = losses.sum()
    grad_h = np.array([_norms(total, [states[s][layer][0] for layer in range(L)]) for s in range(T)])
    grad_c = (
        np.array([_norms(total, [states[s][layer][1] for layer in range(L)]) for s in range(T)]) if is_lstm else None
    )
    return flow, flow_c, grad_h, grad_c


@pytest.mark.parametrize(
    "knobs",
    [
        dict(arch="rnn", activation="tanh", hidden_size=9, layers=1, seed=1),
        dict(arch="rnn", activation="sigmoid", hidden_size=7, layers=2, seed=2),
        dict(arch="lstm", hidden_size=8, layers=2, seed=3),
        dict(arch="gru", hidden_size=6, layers=3, seed=4),
        dict(arch="sgru", hidden_size=6, layers=2, seed=5),
    ],
    ids=["rnn-tanh", "rnn-sigmoid-2", "lstm-2", "gru-3", "sgru-2"],
)
def test_flow_matrix_and_step_norms_equal_separate_backward_passes(knobs):
    text = TEXT[:18]
    trace = trace_recurrent(text, RecurrentConfig(**knobs))
    flow, flow_c, grad_h, grad_c = autograd_flow(knobs, text)
    np.testing.assert_allclose(trace.grad_flow, flow, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(trace.grad_h, grad_h, rtol=1e-4, atol=1e-7)
    assert np.all(np.triu(trace.grad_flow, 1) == 0), "L_t cannot depend on a later state"
    assert np.all(trace.grad_flow[-1] == 0), "there is no loss at the last step"
    if knobs["arch"] == "lstm":
        np.testing.assert_allclose(trace.grad_flow_c, flow_c, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(trace.grad_c, grad_c, rtol=1e-4, atol=1e-7)


def test_input_flow_equals_gradient_on_the_one_hot_input():
    knobs = dict(arch="gru", hidden_size=8, layers=2, seed=9)
    text = TEXT[:12]
    trace = trace_recurrent(text, RecurrentConfig(**knobs), TraceOptions(input_flow=True))
    assert trace_recurrent(text, RecurrentConfig(**knobs)).grad_flow_input is None
    model, tokens = build(text, **knobs)
    x = torch.nn.functional.one_hot(tokens, model.config.vocab_size).float().requires_grad_()
    module, readout, _, _ = torch_reference(model, tokens)
    out, _ = module(x[:, None])
    logits = readout(out[:, 0])
    losses = torch.nn.functional.cross_entropy(logits[:-1], tokens[1:], reduction="none")
    for t in range(len(text) - 1):
        (g,) = torch.autograd.grad(losses[t], x, retain_graph=True)
        np.testing.assert_allclose(trace.grad_flow_input[t], g.norm(dim=1).numpy(), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_truncated_gradients_equal_a_detach_loop_and_never_cross_a_cut(arch, k):
    knobs = dict(arch=arch, hidden_size=8, layers=2, seed=7)
    text = TEXT[:17]
    trace = trace_recurrent(text, RecurrentConfig(**knobs), TraceOptions(truncation=k))
    assert trace.cuts == list(range(k, len(text), k))
    flow, _, grad_h, _ = autograd_flow(knobs, text, truncation=k)
    np.testing.assert_allclose(trace.grad_flow, flow, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(trace.grad_h, grad_h, rtol=1e-4, atol=1e-7)
    for cut in trace.cuts:
        assert np.all(trace.grad_flow[cut:, :cut] == 0), f"gradient crossed the cut at {cut}"

    model, tokens = build(text, **knobs)
    module, readout, _, losses = torch_reference(model, tokens, truncation=k)
    losses.sum().backward()
    for name, p in [*module.named_parameters(), *(("readout." + n, p) for n, p in readout.named_parameters())]:
        np.testing.assert_allclose(trace.grads[name], p.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)

    full = trace_recurrent(text, RecurrentConfig(**knobs))
    a = np.concatenate([g.ravel() for g in trace.grads.values()])
    b = np.concatenate([g.ravel() for g in full.grads.values()])
    assert trace.truncated_vs_full["cosine"] == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b), abs=1e-5)
    assert trace.truncated_vs_full["norm_ratio"] == pytest.approx(np.linalg.norm(a) / np.linalg.norm(b), rel=1e-5)


@pytest.mark.parametrize("k", [17, 18, 500])
def test_truncation_at_least_the_length_is_full_bptt(k):
    knobs = dict(arch="lstm", hidden_size=8, seed=2)
    full = trace_recurrent(TEXT[:17], RecurrentConfig(**knobs))
    cut = trace_recurrent(TEXT[:17], RecurrentConfig(**knobs), TraceOptions(truncation=k))
    assert cut.cuts == [] and cut.truncated_vs_full is None
    np.testing.assert_array_equal(cut.grad_flow, full.grad_flow)
    for name in full.grads:
        np.testing.assert_array_equal(cut.grads[name], full.grads[name])


def test_a_dead_relu_network_has_zero_gradients_not_an_error():
    # seed and size where every ReLU unit of the upper layers is off for this text
    trace = trace_recurrent(
        "ab", RecurrentConfig(arch="rnn", activation="relu", hidden_size=2, layers=3, seed=2**31 - 1)
    )
    assert np.isfinite(trace.grad_flow).all() and np.isfinite(trace.grad_norm_before_clip)


def test_step_matrices_built_in_chunks_give_the_same_flow(monkeypatch):
    """The regrouped per-step matrices are built a few steps at a time; chunk edges must not show."""
    import models.bptt

    knobs = dict(arch="lstm", hidden_size=12, layers=2, seed=2)
    whole = trace_recurrent(TEXT, RecurrentConfig(**knobs))
    monkeypatch.setattr(models.bptt, "_MATRIX_BYTES", 3 * 2 * 12 * 24 * 4)  # 3 steps per chunk
    chunked = trace_recurrent(TEXT, RecurrentConfig(**knobs))
    np.testing.assert_allclose(chunked.grad_flow, whole.grad_flow, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(chunked.grad_h, whole.grad_h, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("text, hidden_size, layers", [("ab", 1, 1), ("abc", 1, 3), ("abcab", 2, 2)])
def test_smallest_shapes_equal_separate_backward_passes(arch, text, hidden_size, layers):
    """Two characters, one unit, three layers: the scripted sweep's edge cases."""
    knobs = dict(arch=arch, hidden_size=hidden_size, layers=layers, seed=6)
    trace = trace_recurrent(text, RecurrentConfig(**knobs))
    flow, flow_c, grad_h, grad_c = autograd_flow(knobs, text)
    np.testing.assert_allclose(trace.grad_flow, flow, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(trace.grad_h, grad_h, rtol=1e-4, atol=1e-7)
    if arch == "lstm":
        np.testing.assert_allclose(trace.grad_c, grad_c, rtol=1e-4, atol=1e-7)
