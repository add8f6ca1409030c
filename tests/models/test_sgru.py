"""The simplified GRU (one update gate) against its formula written out here, and its BPTT against autograd.

The reference below does not use models.sgru: it concatenates [c_{t-1}, x_t] and multiplies by
W = [W_hh | W_ih] as the textbook writes it, in float64, with every state a node of one autograd graph."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models.charlm import CharRNN, RecurrentConfig, load_into_torch
from models.cost import recurrent_cost
from models.trace import TraceOptions, trace_recurrent
from models.vocab import Vocab

torch.set_num_threads(1)
TEXT = "the cat sat on the mat, the cat"


def _model(text: str, **knobs) -> tuple[CharRNN, torch.Tensor]:
    vocab = Vocab.from_text(text)
    return CharRNN(RecurrentConfig(arch="sgru", vocab_size=len(vocab), **knobs)), torch.tensor(vocab.encode(text))


def reference(model: CharRNN, tokens: torch.Tensor, truncation: int | None = None):
    """c~ = tanh(W_c [c, x] + b_c), u = sigmoid(W_u [c, x] + b_u), c = u c~ + (1 - u) c, in float64.

    Returns the parameters (leaf tensors), states[t][layer], gates[t][layer] = (u, c~), the per-step losses."""
    cfg, H = model.config, model.config.hidden_size
    p = {k: v.detach().double().clone().requires_grad_(True) for k, v in model.state_dict().items()}
    x_all = torch.eye(cfg.vocab_size, dtype=torch.float64)[tokens]
    prev = [torch.zeros(H, dtype=torch.float64) for _ in range(cfg.layers)]
    states, gates, logits = [], [], []
    for t in range(len(tokens)):
        if truncation and t > 0 and t % truncation == 0:
            prev = [c.detach() for c in prev]
        x, row, row_gates = x_all[t], [], []
        for layer in range(cfg.layers):
            W = torch.cat([p[f"weight_hh_l{layer}"], p[f"weight_ih_l{layer}"]], 1)  # W [c_{t-1}, x_t]
            b = p[f"bias_ih_l{layer}"] + p[f"bias_hh_l{layer}"]
            W_u, W_c, b_u, b_c = W[:H], W[H:], b[:H], b[H:]
            cx = torch.cat([prev[layer], x])
            cand = torch.tanh(W_c @ cx + b_c)
            u = torch.sigmoid(W_u @ cx + b_u)
            c = u * cand + (1 - u) * prev[layer]
            row.append(c)
            row_gates.append((u, cand))
            x = c
        prev = row
        states.append(row)
        gates.append(row_gates)
        logits.append(p["readout.weight"] @ x + p["readout.bias"])
    losses = F.cross_entropy(torch.stack(logits)[:-1], tokens[1:], reduction="none")
    return p, states, gates, losses


def _norms(loss, tensors) -> list[float]:
    grads = torch.autograd.grad(loss, tensors, retain_graph=True, allow_unused=True)
    return [0.0 if g is None else float(g.norm()) for g in grads]


CASES = [dict(hidden_size=7, layers=1, seed=3), dict(hidden_size=5, layers=2, seed=8),
         dict(hidden_size=4, layers=3, seed=1)]


@pytest.mark.parametrize("knobs", CASES, ids=["1-layer", "2-layers", "3-layers"])
def test_forward_states_gates_and_loss_equal_the_formula(knobs):
    model, tokens = _model(TEXT, **knobs)
    trace = trace_recurrent(TEXT, RecurrentConfig(arch="sgru", **knobs))
    _, states, gates, losses = reference(model, tokens)
    h = np.array([[c.detach().numpy() for c in row] for row in states])
    np.testing.assert_allclose(trace.h, h, rtol=1e-5, atol=1e-6)
    assert trace.c is None and trace.grad_c is None, "one state: no separate cell state"
    assert list(trace.gates) == ["u", "n"]
    u = np.array([[g[0].detach().numpy() for g in row] for row in gates])
    cand = np.array([[g[1].detach().numpy() for g in row] for row in gates])
    np.testing.assert_allclose(trace.gates["u"], u, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trace.gates["n"], cand, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trace.loss, losses.detach().numpy(), rtol=1e-5, atol=1e-6)
    # torch.nn-style parameter names, stacked [u; n]
    H, L = knobs["hidden_size"], knobs["layers"]
    for layer in range(L):
        assert trace.params[f"weight_hh_l{layer}"].shape == (2 * H, H)
        assert trace.params[f"bias_ih_l{layer}"].shape == (2 * H,)


@pytest.mark.parametrize("knobs", CASES, ids=["1-layer", "2-layers", "3-layers"])
def test_bptt_equals_autograd_on_the_formula(knobs):
    """grad_h, its two BPTT terms, the T x T flow matrix and every parameter gradient."""
    text = TEXT[:20]
    model, tokens = _model(text, **knobs)
    trace = trace_recurrent(text, RecurrentConfig(arch="sgru", **knobs))
    p, states, _, losses = reference(model, tokens)
    T, L = len(tokens), knobs["layers"]
    flow = np.zeros((T, T))
    for t in range(T - 1):
        flow[t, : t + 1] = _norms(losses[t], [states[s][-1] for s in range(t + 1)])
    np.testing.assert_allclose(trace.grad_flow, flow, rtol=1e-4, atol=1e-8)
    total = losses.sum()
    grad_h = np.array([_norms(total, states[s]) for s in range(T)])
    np.testing.assert_allclose(trace.grad_h, grad_h, rtol=1e-4, atol=1e-8)
    own = np.zeros((T, L))
    for s in range(T - 1):
        own[s] = _norms(losses[s], states[s])
    future = np.array([_norms(losses[s + 1 :].sum(), states[s]) if s < T - 1 else [0.0] * L for s in range(T)])
    np.testing.assert_allclose(trace.grad_h_local, own, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(trace.grad_h_future, future, rtol=1e-4, atol=1e-8)
    names = list(p)
    grads = torch.autograd.grad(total, [p[k] for k in names])
    for name, g in zip(names, grads, strict=True):
        np.testing.assert_allclose(trace.grads[name], g.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


def test_truncation_and_clipping_use_the_same_machinery():
    knobs = dict(hidden_size=6, layers=1, seed=2)
    model, tokens = _model(TEXT, **knobs)
    options = TraceOptions(truncation=5, clip_mode="norm", clip_threshold=0.1)
    trace = trace_recurrent(TEXT, RecurrentConfig(arch="sgru", **knobs), options)
    p, states, _, losses = reference(model, tokens, truncation=5)
    names = list(p)
    grads = dict(zip(names, torch.autograd.grad(losses.sum(), [p[k] for k in names]), strict=True))
    for name in names:
        np.testing.assert_allclose(trace.grads[name], grads[name].numpy(), rtol=1e-4, atol=1e-6, err_msg=name)
    assert trace.cuts == list(range(5, len(TEXT), 5))
    assert all(trace.grad_flow[t, s] == 0 for t in range(len(TEXT)) for s in range(t + 1) if s // 5 < t // 5)
    norm = float(torch.cat([g.reshape(-1) for g in grads.values()]).norm())
    assert trace.grad_norm_before_clip == pytest.approx(norm, rel=1e-4)
    assert trace.grad_norm_after_clip == pytest.approx(min(norm, 0.1), rel=1e-4)
    assert trace.truncated_vs_full is not None and -1 <= trace.truncated_vs_full["cosine"] <= 1


def test_one_step_jacobian_norm_equals_the_formula_s_jacobian():
    """||dS_t/dS_{t-1}||_2 of the stacked two-layer state, from torch.autograd.functional.jacobian."""
    knobs = dict(hidden_size=5, layers=2, seed=4)
    text = TEXT[:12]
    model, tokens = _model(text, **knobs)
    trace = trace_recurrent(text, RecurrentConfig(arch="sgru", **knobs))
    p, states, _, _ = reference(model, tokens)
    p = {k: v.detach() for k, v in p.items()}
    H, x_all = 5, torch.eye(model.config.vocab_size, dtype=torch.float64)[tokens]

    def step(prev_flat, x):
        out, x_in = [], x
        for layer in range(2):
            prev = prev_flat[layer * H : (layer + 1) * H]
            W = torch.cat([p[f"weight_hh_l{layer}"], p[f"weight_ih_l{layer}"]], 1)
            b = p[f"bias_ih_l{layer}"] + p[f"bias_hh_l{layer}"]
            cx = torch.cat([prev, x_in])
            u, cand = torch.sigmoid(W[:H] @ cx + b[:H]), torch.tanh(W[H:] @ cx + b[H:])
            x_in = u * cand + (1 - u) * prev
            out.append(x_in)
        return torch.cat(out)

    for t in range(len(tokens)):
        prev = torch.zeros(2 * H, dtype=torch.float64) if t == 0 else torch.cat([c.detach() for c in states[t - 1]])
        J = torch.autograd.functional.jacobian(lambda s, t=t: step(s, x_all[t]), prev)
        assert trace.jacobian_norm[t] == pytest.approx(float(torch.linalg.matrix_norm(J, ord=2)), rel=1e-4)


def test_no_torch_module_and_a_cost():
    model, _ = _model(TEXT, hidden_size=4)
    assert model.torch_layer(0) is None, "torch.nn has no simplified GRU: the engine runs its own loop"
    with pytest.raises(ValueError, match="simplified GRU"):
        load_into_torch(model)
    gru, sgru = (recurrent_cost(a, T=20, V=10, hidden_size=8, layers=1) for a in ("gru", "sgru"))
    assert sgru.forward < gru.forward and sgru.jacobian < gru.jacobian  # two gate blocks, not three
    with pytest.raises(ValueError, match="forget_bias"):
        RecurrentConfig(arch="sgru", forget_bias=1.0)
