"""Backpropagation through time, written out as the recursion the BPTT lesson teaches.

For the total loss L = sum_t L_t the adjoint of a state is
    dL/dS_s = dL_s/dS_s (own output, top layer only) + (dS_{s+1}/dS_s)^T dL/dS_{s+1} (the future)
and the same recursion, run for each loss term separately, gives dL_t/dS_s for every t >= s.
Per layer l the two terms of the recursion are then
    own^l_s    = dL_s/dS^l_s             (row s at step s; only L_s is differentiated, through every
                                          path, which within step s runs through the layers above)
    future^l_s = sum_{u>s} dL_u/dS^l_s   (rows u > s at step s: carried back from later losses)
with own + future = dL/dS^l_s. There is no L_{T-1} (models.charlm), so own_{T-1} = 0. Truncation
leaves own alone (it stays inside step s) and stops the future at the cuts.

All loss terms run at once as rows of one batch ("rows"): at step s the active rows are t = s..T-1,
so the whole T x T gradient-flow matrix costs one sweep with batched matmuls instead of T separate
backward passes. Truncated BPTT with length k (detach the carried state every k steps, as PyTorch
users do) zeroes every row's adjoint where it would cross from step s to s-1 with s % k == 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from models import kernels
from models.cell import LocalDerivatives, step_backward


@dataclass(frozen=True)
class LayerWeights:
    W_ih: Tensor  # (G*H, in)
    W_hh: Tensor  # (G*H, H)


@dataclass(frozen=True)
class BPTTResult:
    grad_state: Tensor  # (T, L, C) ||dL/dS^l_{c,s}|| (total derivative) of the summed rows; h is c=0
    flow_state: Tensor | None  # (R, T, C) ||dL_t/dS^{top}_{c,s}|| per row t (per_row mode only)
    flow_input: Tensor | None  # (R, T) ||dL_t/dx_s|| w.r.t. the one-hot input of step s (if asked)
    grad_own: Tensor | None  # (T, L, C) ||dL_s/dS^l_{c,s}||: the step's own loss term (per_row mode only)
    grad_future: Tensor | None  # (T, L, C) ||sum_{u>s} dL_u/dS^l_{c,s}||: the losses after s (per_row only)
    d_gi: Tensor  # (T, L, G*H) summed over rows: dL/d(W_ih x + b_ih)
    d_gh: Tensor  # (T, L, G*H) summed over rows: dL/d(W_hh h + b_hh)
    cuts: list[int]  # steps s whose incoming state was detached (gradient stops between s-1 and s)


def _norm(x: Tensor) -> Tensor:
    """2-norm over the last axis, summed in float64: squares of vanishing gradients (< 1e-19)
    would otherwise fall below float32's normal range and lose their digits (or flush to 0).
    The result stays float64; storing it into a float32 tensor converts it in the same copy."""
    return torch.linalg.vector_norm(x, dim=-1, dtype=torch.float64)


def truncation_cuts(T: int, truncation: int | None) -> list[int]:
    if not truncation or truncation >= T:
        return []
    return list(range(truncation, T, truncation))


_MATRIX_BYTES = 2 * 2**20  # the per-step matrices are built this many bytes at a time (fits in cache)
_FEW_ROWS = 8  # below this many rows, scaling the rows beats building the step's regrouped matrix


def _sweep_layer(loc: LocalDerivatives, w: LayerWeights, need_input: bool) -> kernels.SweepLayer:
    """One layer's local derivatives, rewritten for the time loop (models.kernels.bptt_sweep).

    Rows carry each state component's *total* derivative. For the LSTM that is (dL/dh_t, dL/dc_t)
    with dL/dc_t = (carried part) + dL/dh_t * dh_t/dc_t, which is what the flow matrices report. In
    this basis each LSTM gate block is driven by one component only (o by h; i, f, g by c).

    With many rows the step's matmul is regrouped: instead of scaling the rows per gate and
    multiplying (rows x G*H) by W_hh, it multiplies (rows x C*H) by the matrix
    M_t = [sum_g diag(coef[t, c, g]) W_hh[g]]_c: G/C times fewer flops per row. Only the non-zero
    entries of `direct` are kept (the Elman RNN has none).
    """
    C = loc.direct.shape[-2]
    k = loc.dh_dc
    coef_gh, coef_gi, direct = loc.coef_gh, loc.coef_gi, loc.direct
    if k is not None:  # d_c = d_c_total - k d_h: move the k terms onto the h component
        coef_gh = torch.stack([coef_gh[:, 0] - k.unsqueeze(1) * coef_gh[:, 1], coef_gh[:, 1]], 1)
        coef_gi = (
            coef_gh
            if loc.coef_gi is loc.coef_gh
            else torch.stack([coef_gi[:, 0] - k.unsqueeze(1) * coef_gi[:, 1], coef_gi[:, 1]], 1)
        )
        direct = torch.stack([direct[:, 0] - k.unsqueeze(1) * direct[:, 1], direct[:, 1]], 1)
    same_gi = loc.coef_gi is loc.coef_gh
    has_gi = need_input and not same_gi
    # with gi and gh sharing their adjoint, [W_hh | W_ih] gives the input's adjoint in the same matmul
    W_gh = torch.cat([w.W_hh, w.W_ih], 1) if need_input and same_gi else w.W_hh
    W_gi = w.W_ih if has_gi else w.W_ih.new_empty(0, 0)
    pairs = [(c, p) for c in range(C) for p in range(C) if direct[:, c, p].any()]
    return kernels.SweepLayer(
        coef_gh=coef_gh,
        coef_gi=coef_gi,
        W_gh=W_gh,
        W_gi=W_gi,
        has_gi=has_gi,
        active_gh=_active(coef_gh),
        active_gi=_active(coef_gi) if has_gi else [],
        pairs=pairs,
        direct=[direct[:, c, p] for c, p in pairs],
        k=k if k is not None else coef_gh.new_empty(0),
        has_k=k is not None,
        chunk_gh=_chunk(coef_gh, W_gh),
        chunk_gi=_chunk(coef_gh, W_gi) if has_gi else 1,
    )


def _active(coef: Tensor) -> list[list[int]]:
    """Per component, the gate blocks that ever drive it."""
    return [[g for g in range(coef.shape[2]) if coef[:, c, g].any()] for c in range(coef.shape[1])]


def _chunk(coef: Tensor, W: Tensor) -> int:
    """Steps per build of the regrouped matrices: _MATRIX_BYTES of them."""
    T, C, _, H = coef.shape
    return max(1, min(T, _MATRIX_BYTES // max(1, C * H * W.shape[1] * W.element_size())))


def _injection(layer: kernels.SweepLayer, d_top: Tensor) -> Tensor:
    """Per step, what adding d_top[t] to dL/dh_t adds to every component (T, C, H)."""
    if not layer.has_k:
        return d_top.unsqueeze(1)
    return torch.stack([d_top, layer.k * d_top], 1)


def bptt(
    local: list[LocalDerivatives],
    weights: list[LayerWeights],
    d_top: Tensor,
    *,
    per_row: bool,
    truncation: int | None = None,
    input_flow: bool = True,
) -> BPTTResult:
    """Run the adjoint recursion backwards from step T-1 to 0.

    local: one LocalDerivatives per layer with a leading time axis (T, ...).
    d_top: (T, H) gradient each step's own loss puts on the top layer's h (W_out^T (p_t - y_t)).
    per_row: True keeps one row per loss term (gives the gradient-flow matrices); False carries one
    row for the summed loss (enough for parameter gradients).
    input_flow: with per_row, also the matrix ||dL_t/dx_s|| for the one-hot input (one more
    matmul per step with W_ih).
    """
    T, L, dt = len(d_top), len(weights), d_top.dtype
    cut = truncation_cuts(T, truncation)

    layers = [
        _sweep_layer(loc, w, need_input=layer > 0 or (per_row and input_flow))
        for layer, (loc, w) in enumerate(zip(local, weights, strict=True))
    ]
    total, flow_state, flow_input, own, future = kernels.bptt_sweep(
        _injection(layers[-1], d_top), layers, per_row, cut, per_row and input_flow, _FEW_ROWS
    )
    # gi and gh enter each step linearly, so their adjoints for the summed loss follow from the
    # summed state adjoint in one vectorised step over all t (in the carried basis step_backward uses)
    d_gi, d_gh = [], []
    for layer in range(L):
        _, gi_adj, gh_adj = step_backward(local[layer], local[layer].carried(total[:, layer]), weights[layer].W_hh)
        d_gi.append(gi_adj)
        d_gh.append(gh_adj)
    return BPTTResult(
        grad_state=_norm(total).to(dt),
        flow_state=flow_state.transpose(0, 1).to(dt) if per_row else None,
        flow_input=flow_input.t().to(dt) if per_row and input_flow else None,
        grad_own=_norm(own).to(dt) if per_row else None,
        grad_future=_norm(future).to(dt) if per_row else None,
        d_gi=torch.stack(d_gi, 1),
        d_gh=torch.stack(d_gh, 1),
        cuts=cut,
    )
