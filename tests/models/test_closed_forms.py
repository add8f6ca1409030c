"""Closed-form decay laws and Pascanu's bound, through the real BPTT recursion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.bptt import LayerWeights, bptt
from models.charlm import RecurrentConfig
from models.trace import trace_recurrent
from tests.models.conftest import TEXT, build


def last_step_only(model, tokens, seed=0):
    """BPTT of a loss that sits on the last step only: returns ||dL/dS_{c,s}|| per step (T, C)."""
    with torch.no_grad():
        run = model.unroll(tokens)
        local = [model.cell.local(r.gi, r.gh, r.states[:-1], r.states[1:]) for r in run.layers]
        weights = [LayerWeights(*model.weights(layer)[:2]) for layer in range(model.config.layers)]
        d_top = torch.zeros(len(tokens), model.config.hidden_size)
        d_top[-1] = torch.randn(model.config.hidden_size, generator=torch.Generator().manual_seed(seed))
        return bptt(local, weights, d_top, per_row=False).grad_state[:, -1].double().numpy()


def zero_weights(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith("readout"):
                p.zero_()


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.0, 1.3])
def test_linear_rnn_gradient_scales_as_rho_to_the_distance(rho):
    T, H = 30, 16
    model, tokens = build(TEXT[:T], arch="rnn", activation="linear", hidden_size=H)
    Q, _ = torch.linalg.qr(torch.randn(H, H, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    zero_weights(model)  # zero inputs: W_ih = 0 and no biases, so only W_hh acts
    with torch.no_grad():
        model.weight_hh_l0.copy_(rho * Q)
    g = last_step_only(model, tokens)[:, 0]
    expected = rho ** np.arange(T - 1, -1, -1) * g[-1]
    np.testing.assert_allclose(g, expected, rtol=1e-5)


@pytest.mark.parametrize("b_f", [-1.0, 0.0, 1.0, 3.0])
def test_zero_weight_lstm_cell_gradient_decays_as_the_forget_gate(b_f):
    T = 25
    model, tokens = build(TEXT[:T], arch="lstm", hidden_size=8, forget_bias=b_f)
    zero_weights(model)
    with torch.no_grad():
        model.bias_ih_l0[8:16] = b_f
    g_c = last_step_only(model, tokens)[:, 1]
    f = 1 / (1 + np.exp(-b_f))
    np.testing.assert_allclose(g_c, f ** np.arange(T - 1, -1, -1) * g_c[-1], rtol=1e-5)


@pytest.mark.parametrize("b_z", [-2.0, 0.0, 2.0])
def test_zero_weight_gru_gradient_decays_as_the_update_gate(b_z):
    T = 25
    model, tokens = build(TEXT[:T], arch="gru", hidden_size=8)
    zero_weights(model)
    with torch.no_grad():
        model.bias_ih_l0[8:16] = b_z
    g = last_step_only(model, tokens)[:, 0]
    z = 1 / (1 + np.exp(-b_z))
    np.testing.assert_allclose(g, z ** np.arange(T - 1, -1, -1) * g[-1], rtol=1e-5)


@pytest.mark.parametrize("sigma", [0.5, 0.9, 0.99])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_one_step_decay_exceeds_pascanus_bound_for_tanh(sigma, seed):
    trace = trace_recurrent(
        TEXT, RecurrentConfig(arch="rnn", activation="tanh", hidden_size=24, seed=seed, spectral_norm=sigma)
    )
    stats = trace.weight_stats
    assert stats.sigma_max[0][0] == pytest.approx(sigma, rel=1e-5)
    assert stats.gamma == 1.0 and stats.decay_bound[0] == pytest.approx(sigma, rel=1e-5)
    bound = stats.decay_bound[0] * (1 + 1e-5)
    assert np.all(trace.jacobian_norm <= bound)
    # the measured decay of each loss term's gradient from one step to the one before it
    G = trace.grad_flow
    for t in range(1, len(TEXT) - 1):
        ratios = G[t, :t] / G[t, 1 : t + 1]
        assert np.all(ratios <= bound), (t, ratios.max())


def test_sigmoid_bound_includes_its_quarter_slope():
    trace = trace_recurrent(TEXT, RecurrentConfig(arch="rnn", activation="sigmoid", hidden_size=16, spectral_norm=3.0))
    assert trace.weight_stats.decay_bound[0] == pytest.approx(0.75, rel=1e-5)
    assert np.all(trace.jacobian_norm <= 0.75 * (1 + 1e-5))
