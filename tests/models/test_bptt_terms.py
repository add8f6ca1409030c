"""The two terms of BPTT, dL/dh^l_t = dL_t/dh^l_t + sum_{u>t} dL_u/dh^l_t, equal autograd on each part."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.charlm import RecurrentConfig
from models.trace import TraceOptions, trace_recurrent
from tests.models.conftest import TEXT, autograd_unroll, build


def _grads(loss, tensors) -> list[torch.Tensor]:
    grads = torch.autograd.grad(loss, tensors, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for x, g in zip(tensors, grads, strict=True)]


def autograd_terms(knobs: dict, text: str, truncation: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """[t][layer] vectors dL_t/dh^l_t (L_t alone) and sum_{u>t} dL_u/dh^l_t, each by its own backward pass
    through the gate-by-gate graph (with the truncation's detaches); both are 0 where there is no loss."""
    model, tokens = build(text, **knobs)
    states, losses = autograd_unroll(model, tokens, truncation)
    T, L, H = len(tokens), model.config.layers, model.config.hidden_size
    own, future = np.zeros((T, L, H)), np.zeros((T, L, H))
    for t in range(T - 1):  # L_t exists for t = 0 .. T-2
        h_t = [states[t][layer][0] for layer in range(L)]
        own[t] = torch.stack(_grads(losses[t], h_t)).numpy()
        if t + 1 < T - 1:
            future[t] = torch.stack(_grads(losses[t + 1 :].sum(), h_t)).numpy()
    return own, future


CASES = [
    (dict(arch="rnn", activation="tanh", hidden_size=9, layers=1, seed=1), None),
    (dict(arch="rnn", activation="relu", hidden_size=7, layers=2, seed=2), None),
    (dict(arch="lstm", hidden_size=8, layers=1, seed=3), None),
    (dict(arch="lstm", hidden_size=6, layers=2, seed=4), None),
    (dict(arch="gru", hidden_size=6, layers=1, seed=5), None),
    (dict(arch="gru", hidden_size=5, layers=3, seed=6), None),
    (dict(arch="rnn", activation="tanh", hidden_size=7, layers=2, seed=7), 3),
    (dict(arch="lstm", hidden_size=6, layers=2, seed=8), 3),
    (dict(arch="gru", hidden_size=6, layers=2, seed=9), 3),
    (dict(arch="sgru", hidden_size=6, layers=2, seed=10), 3),
]


@pytest.mark.parametrize(
    "knobs, k",
    CASES,
    ids=["rnn-tanh", "rnn-relu-2", "lstm", "lstm-2", "gru", "gru-3", "rnn-2-k3", "lstm-2-k3", "gru-2-k3", "sgru-2-k3"],
)
def test_own_loss_and_future_terms_equal_separate_backward_passes(knobs, k):
    text = TEXT[:16]
    trace = trace_recurrent(text, RecurrentConfig(**knobs), TraceOptions(truncation=k))
    own, future = autograd_terms(knobs, text, truncation=k)
    T, L = len(text), knobs["layers"]
    assert trace.grad_h_local.shape == trace.grad_h_future.shape == trace.grad_h.shape == (T, L)
    np.testing.assert_allclose(trace.grad_h_local, np.linalg.norm(own, axis=-1), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(trace.grad_h_future, np.linalg.norm(future, axis=-1), rtol=1e-4, atol=1e-7)
    # as vectors the two terms add up to the whole gradient the trace reports
    np.testing.assert_allclose(trace.grad_h, np.linalg.norm(own + future, axis=-1), rtol=1e-4, atol=1e-7)
    assert np.all(trace.grad_h_local[-1] == 0) and np.all(trace.grad_h_future[-1] == 0), "no L_{T-1}"
    assert np.all(trace.grad_h_future[-2] == 0), "L_{T-2} is the last loss: nothing comes after step T-2"
    # on the top layer the own term is the gradient-flow matrix's diagonal, ||dL_t/dh_t||
    np.testing.assert_array_equal(trace.grad_h_local[:, -1], np.diagonal(trace.grad_flow))
    for cut in trace.cuts:  # nothing from the future crosses a cut; the own term stays inside the step
        assert np.all(trace.grad_h_future[cut - 1] == 0), f"future gradient crossed the cut at {cut}"
        assert np.all(trace.grad_h_local[cut - 1] > 0)


def test_a_vanishing_future_keeps_its_digits_beside_the_own_term():
    """A small W_hh makes the future term orders of magnitude below the own one: it is summed on its own,
    not recovered as total - own (which would cancel to rounding noise)."""
    knobs = dict(arch="rnn", activation="tanh", hidden_size=8, layers=1, seed=3, spectral_norm=1e-5)
    text = TEXT[:12]
    trace = trace_recurrent(text, RecurrentConfig(**knobs))
    _, future = autograd_terms(knobs, text)
    expected = np.linalg.norm(future, axis=-1)
    ratio = trace.grad_h_future[:-2] / trace.grad_h_local[:-2]
    assert ratio.max() < 1e-4
    np.testing.assert_allclose(trace.grad_h_future, expected, rtol=1e-4, atol=1e-30)
