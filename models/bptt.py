"""Backpropagation through time, written out as the recursion the BPTT lesson teaches.

For the total loss L = sum_t L_t the adjoint of a state is
    dL/dS_s = dL_s/dS_s (own output, top layer only) + (dS_{s+1}/dS_s)^T dL/dS_{s+1} (the future)
and the same recursion, run for each loss term separately, gives dL_t/dS_s for every t >= s.

All loss terms run at once as rows of one batch ("rows"): at step s the active rows are t = s..T-1,
so the whole T x T gradient-flow matrix costs one sweep with batched matmuls instead of T separate
backward passes. Truncated BPTT with length k (detach the carried state every k steps, as PyTorch
users do) zeroes every row's adjoint where it would cross from step s to s-1 with s % k == 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from models.cell import LocalDerivatives, step_backward


@dataclass(frozen=True)
class LayerWeights:
    W_ih: Tensor  # (G*H, in)
    W_hh: Tensor  # (G*H, H)


@dataclass(frozen=True)
class BPTTResult:
    grad_state: Tensor  # (T, L, C) ||dL/dS^l_{c,s}|| (total derivative) of the summed rows; h is c=0
    flow_state: Tensor | None  # (R, T, C) ||dL_t/dS^{top}_{c,s}|| per row t (per_row mode only)
    flow_input: Tensor | None  # (R, T) ||dL_t/dx_s|| w.r.t. the one-hot input of step s
    d_gi: Tensor  # (T, L, G*H) summed over rows: dL/d(W_ih x + b_ih)
    d_gh: Tensor  # (T, L, G*H) summed over rows: dL/d(W_hh h + b_hh)
    cuts: list[int]  # steps s whose incoming state was detached (gradient stops between s-1 and s)


def _norm(x: Tensor) -> Tensor:
    """2-norm over the last axis, summed in float64: squares of vanishing gradients (< 1e-19)
    would otherwise fall below float32's normal range and lose their digits (or flush to 0)."""
    return torch.linalg.vector_norm(x, dim=-1, dtype=torch.float64).to(x.dtype)


def truncation_cuts(T: int, truncation: int | None) -> list[int]:
    if not truncation or truncation >= T:
        return []
    return list(range(truncation, T, truncation))


def bptt(
    local: list[LocalDerivatives],
    weights: list[LayerWeights],
    d_top: Tensor,
    *,
    per_row: bool,
    truncation: int | None = None,
) -> BPTTResult:
    """Run the adjoint recursion backwards from step T-1 to 0.

    local: one LocalDerivatives per layer with a leading time axis (T, ...).
    d_top: (T, H) gradient each step's own loss puts on the top layer's h (W_out^T (p_t - y_t)).
    per_row: True keeps one row per loss term (gives the gradient-flow matrices); False carries one
    row for the summed loss (enough for parameter gradients).
    """
    T, H = d_top.shape
    L = len(weights)
    C = local[0].direct.shape[-2]
    R = T if per_row else 1
    cut = set(truncation_cuts(T, truncation))
    dev, dt = d_top.device, d_top.dtype

    d = torch.zeros(R, L, C, H, device=dev, dtype=dt)  # adjoint of S_s, per row
    total = torch.zeros(T, L, C, H, device=dev, dtype=dt)  # adjoint of S_s for the summed loss
    flow_state = torch.zeros(R, T, C, device=dev, dtype=dt) if per_row else None
    flow_input = torch.zeros(R, T, device=dev, dtype=dt) if per_row else None

    for s in range(T - 1, -1, -1):
        lo = s if per_row else 0
        rows = d[lo:]  # rows t < s are still zero: L_t does not depend on S_s
        rows[0, L - 1, 0] += d_top[s]  # L_s's own term (row s, or the single summed row)
        for layer in range(L - 1, -1, -1):
            d_new = rows[:, layer]
            loc = local[layer].at(s)
            if layer == L - 1 and per_row:
                flow_state[lo:, s] = _norm(loc.total(d_new))
            total[s, layer] = d_new.sum(0)
            d_prev, gi_rows, _ = step_backward(loc, d_new, weights[layer].W_hh)
            if layer > 0:  # this layer's input is the layer below's h at the same step
                rows[:, layer - 1, 0] += gi_rows @ weights[layer].W_ih
            elif per_row:
                flow_input[lo:, s] = _norm(gi_rows @ weights[0].W_ih)
            rows[:, layer] = d_prev
        if s in cut:
            d.zero_()
    # gi and gh enter each step linearly, so their adjoints for the summed loss follow from the
    # summed state adjoint in one vectorised step over all t
    d_gi, d_gh = [], []
    for layer in range(L):
        _, gi_adj, gh_adj = step_backward(local[layer], total[:, layer], weights[layer].W_hh)
        d_gi.append(gi_adj)
        d_gh.append(gh_adj)
    return BPTTResult(
        grad_state=_norm(torch.stack([local[layer].total(total[:, layer]) for layer in range(L)], 1)),
        flow_state=flow_state,
        flow_input=flow_input,
        d_gi=torch.stack(d_gi, 1),
        d_gh=torch.stack(d_gh, 1),
        cuts=sorted(cut),
    )
