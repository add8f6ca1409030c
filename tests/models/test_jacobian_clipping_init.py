"""Jacobian norms against explicit autograd Jacobians; clipping against torch.nn.utils; init knobs;
exploding settings that overflow without raising."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.charlm import CharRNN, RecurrentConfig
from models.clipping import clip_gradients
from models.device import pick_device
from models.trace import TraceOptions, trace_recurrent
from models.vocab import Vocab
from tests.models.conftest import TEXT, build


def explicit_step_jacobians(model: CharRNN, tokens: torch.Tensor) -> torch.Tensor:
    """dS_t/dS_{t-1} by torch.autograd.functional.jacobian, one step at a time, stack state flat."""
    cfg = model.config
    L, C, H = cfg.layers, len(model.cell.states), cfg.hidden_size
    x_all = torch.nn.functional.one_hot(tokens, cfg.vocab_size).float()
    with torch.no_grad():
        run = model.unroll(tokens)
    prev_states = torch.stack([r.states[:-1] for r in run.layers], 1)  # (T, L, C, H)

    def step(flat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        S = flat.reshape(L, C, H)
        out = []
        for layer in range(L):
            W_ih, W_hh, b_ih, b_hh = model.weights(layer)
            new, _ = model.cell.step(W_ih @ x + b_ih, W_hh @ S[layer, 0] + b_hh, tuple(S[layer]))
            out.append(torch.stack(new))
            x = new[0]
        return torch.stack(out).reshape(-1)

    return torch.stack(
        [
            torch.autograd.functional.jacobian(lambda s, x=x_all[t]: step(s, x), prev_states[t].reshape(-1))
            for t in range(len(tokens))
        ]
    )


@pytest.mark.parametrize(
    "knobs",
    [
        dict(arch="rnn", activation="tanh", layers=1),
        dict(arch="rnn", activation="relu", layers=2, spectral_norm=1.5),
        dict(arch="lstm", layers=1),
        dict(arch="lstm", layers=3, forget_bias=1.0),
        dict(arch="gru", layers=2),
    ],
    ids=["rnn", "irnn-2", "lstm", "lstm-3", "gru-2"],
)
def test_jacobian_norm_is_the_largest_singular_value_of_the_step_jacobian(knobs):
    text = TEXT[:14]
    trace = trace_recurrent(text, RecurrentConfig(hidden_size=10, seed=3, **knobs))
    model, tokens = build(text, hidden_size=10, seed=3, **knobs)
    J = explicit_step_jacobians(model, tokens)
    expected = torch.linalg.matrix_norm(J.double(), ord=2).numpy()
    np.testing.assert_allclose(trace.jacobian_norm, expected, rtol=1e-4, atol=1e-7)


def _grads(seed: int, scale: float) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    shapes = {"weight_ih_l0": (12, 5), "weight_hh_l0": (12, 3), "bias_ih_l0": (12,), "readout.bias": (5,)}
    return {name: torch.randn(shape, generator=gen) * scale for name, shape in shapes.items()}


@pytest.mark.parametrize("threshold", [0.01, 0.5, 3.0, 1e6])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 50.0])
def test_clip_by_norm_equals_clip_grad_norm(threshold, scale):
    grads = _grads(0, scale)
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads.values()]
    for p, g in zip(params, grads.values(), strict=True):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(params, threshold)
    ours = clip_gradients(grads, "norm", threshold)
    for p, g in zip(params, ours.values(), strict=True):
        torch.testing.assert_close(g, p.grad, rtol=0, atol=0)


@pytest.mark.parametrize("threshold", [1e-3, 0.2, 10.0])
def test_clip_by_value_equals_clip_grad_value(threshold):
    grads = _grads(1, 1.0)
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads.values()]
    for p, g in zip(params, grads.values(), strict=True):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(params, threshold)
    for p, g in zip(params, clip_gradients(grads, "value", threshold).values(), strict=True):
        torch.testing.assert_close(g, p.grad, rtol=0, atol=0)


def test_trace_reports_norms_before_and_after_clipping():
    cfg = RecurrentConfig(arch="rnn", hidden_size=16, spectral_norm=1.5)
    free = trace_recurrent(TEXT, cfg)
    clipped = trace_recurrent(TEXT, cfg, TraceOptions(clip_mode="norm", clip_threshold=1.0))
    assert free.grad_norm_before_clip == free.grad_norm_after_clip > 1.0
    assert clipped.grad_norm_before_clip == pytest.approx(free.grad_norm_before_clip)
    assert clipped.grad_norm_after_clip == pytest.approx(1.0, rel=1e-5)
    for name, (before, after) in clipped.param_grad_norm.items():
        assert after == pytest.approx(before / free.grad_norm_before_clip, rel=1e-4), name
    by_value = trace_recurrent(TEXT, cfg, TraceOptions(clip_mode="value", clip_threshold=0.05))
    assert max(np.abs(g).max() for g in by_value.clipped_grads.values()) <= 0.05
    assert by_value.grad_norm_after_clip < by_value.grad_norm_before_clip


def test_exploding_irnn_overflows_into_flags_not_exceptions():
    text = (TEXT * 6)[:200]
    trace = trace_recurrent(
        text, RecurrentConfig(arch="rnn", activation="relu", identity_init=True, spectral_norm=3.0, hidden_size=16)
    )
    over = trace.forward_overflow
    first = int(np.argmax(over))
    assert over.any() and not over[:first].any() and over[first:].all()
    assert np.isfinite(trace.h[:first]).all() and not np.isfinite(trace.h[first]).all()
    assert trace.backward_overflow.any()
    assert trace.overflow.sum() >= over.sum()


def test_exploding_random_relu_rnn_never_raises():
    trace = trace_recurrent(
        (TEXT * 6)[:200], RecurrentConfig(arch="rnn", activation="relu", spectral_norm=3.0, hidden_size=32, seed=1)
    )
    assert trace.h.shape == (200, 1, 32)
    finite_grad = np.isfinite(trace.grad_norm_before_clip)
    assert finite_grad != trace.backward_overflow.any()


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_spectral_norm_sets_every_gate_blocks_largest_singular_value(arch):
    trace = trace_recurrent(TEXT, RecurrentConfig(arch=arch, hidden_size=20, layers=2, spectral_norm=1.7))
    G = {"rnn": 1, "lstm": 4, "gru": 3}[arch]
    for layer in range(2):
        W_hh = torch.tensor(trace.params[f"weight_hh_l{layer}"]).double()
        for block in W_hh.chunk(G, 0):
            assert torch.linalg.matrix_norm(block, ord=2).item() == pytest.approx(1.7, rel=1e-5)


def test_identity_init_and_forget_bias_and_seed():
    irnn = trace_recurrent(TEXT, RecurrentConfig(arch="rnn", activation="relu", identity_init=True, hidden_size=6))
    np.testing.assert_array_equal(irnn.params["weight_hh_l0"], np.eye(6))
    assert not irnn.params["bias_hh_l0"].any() and not irnn.params["bias_ih_l0"].any()
    lstm = trace_recurrent(TEXT, RecurrentConfig(arch="lstm", forget_bias=2.5, hidden_size=6))
    effective = lstm.params["bias_ih_l0"][6:12] + lstm.params["bias_hh_l0"][6:12]
    np.testing.assert_allclose(effective, 2.5)
    a, b, c = (trace_recurrent(TEXT, RecurrentConfig(arch="gru", seed=s)) for s in (4, 4, 5))
    np.testing.assert_array_equal(a.params["weight_hh_l0"], b.params["weight_hh_l0"])
    assert not np.array_equal(a.params["weight_hh_l0"], c.params["weight_hh_l0"])
    H = 64
    assert np.abs(a.params["weight_hh_l0"]).max() <= 1 / np.sqrt(H)


@pytest.mark.parametrize(
    "knobs, message",
    [
        (dict(arch="elman"), "arch"),
        (dict(layers=4), "layers"),
        (dict(arch="lstm", identity_init=True), "identity_init"),
        (dict(arch="gru", forget_bias=1.0), "forget_bias"),
        (dict(arch="rnn", activation="softplus"), "activation"),
    ],
)
def test_bad_knobs_raise_value_errors_naming_them(knobs, message):
    with pytest.raises(ValueError, match=message):
        RecurrentConfig(**knobs)


def test_bad_options_and_text_raise_value_errors():
    with pytest.raises(ValueError, match="truncation"):
        TraceOptions(truncation=0)
    with pytest.raises(ValueError, match="clip_threshold"):
        TraceOptions(clip_mode="norm")
    with pytest.raises(ValueError, match="at least 2"):
        trace_recurrent("a", RecurrentConfig())
    with pytest.raises(ValueError, match="not in the vocabulary"):
        Vocab.from_text("abc").encode("abd")


def test_device_choice_defaults_to_cpu_without_cuda():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device("auto").type == expected
    assert pick_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            pick_device("cuda")


@pytest.mark.parametrize(
    "knobs", [dict(arch="lstm", layers=2), dict(arch="gru"), dict(arch="rnn", spectral_norm=1.5)], ids=str
)
def test_lanczos_that_stops_early_still_finds_sigma_max(knobs):
    """State spaces larger than the first convergence check (n = 48-192): steps leave the batch as
    their residual bound allows, and each must still be the top singular value, not a lower one."""
    text = (TEXT * 2)[:40]
    trace = trace_recurrent(text, RecurrentConfig(hidden_size=48, seed=11, **knobs))
    model, tokens = build(text, hidden_size=48, seed=11, **knobs)
    expected = torch.linalg.matrix_norm(explicit_step_jacobians(model, tokens).double(), ord=2).numpy()
    np.testing.assert_allclose(trace.jacobian_norm, expected, rtol=1e-5)


def test_a_helper_thread_gives_the_same_trace():
    """trace_recurrent may hand the Jacobian norms and weight statistics to another thread."""
    from concurrent.futures import ThreadPoolExecutor

    cfg = RecurrentConfig(arch="lstm", hidden_size=32, layers=2, seed=4)
    alone = trace_recurrent(TEXT, cfg)
    with ThreadPoolExecutor(1) as helper:
        shared = trace_recurrent(TEXT, cfg, helper=helper)
    np.testing.assert_allclose(shared.jacobian_norm, alone.jacobian_norm, rtol=1e-6)
    assert shared.weight_stats == alone.weight_stats
    np.testing.assert_array_equal(shared.grad_flow, alone.grad_flow)


def test_kernels_as_plain_python_give_the_same_numbers(monkeypatch):
    """Without TorchScript the kernels run as the Python they are written in; the numbers must not move."""
    from models import kernels

    cfg = RecurrentConfig(arch="gru", hidden_size=12, layers=2, seed=8)
    scripted = trace_recurrent(TEXT, cfg, TraceOptions(truncation=5, input_flow=True))
    for name in ("lanczos", "bptt_sweep"):
        monkeypatch.setattr(kernels, name, getattr(kernels, f"_{name}"))
    plain = trace_recurrent(TEXT, cfg, TraceOptions(truncation=5, input_flow=True))
    for field in ("grad_flow", "grad_h", "grad_h_local", "grad_h_future", "grad_flow_input", "jacobian_norm"):
        np.testing.assert_allclose(getattr(plain, field), getattr(scripted, field), rtol=1e-5, atol=1e-9)
    for name, grad in scripted.grads.items():
        np.testing.assert_allclose(plain.grads[name], grad, rtol=1e-5, atol=1e-8)
