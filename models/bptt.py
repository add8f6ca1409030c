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
    flow_input: Tensor | None  # (R, T) ||dL_t/dx_s|| w.r.t. the one-hot input of step s (if asked)
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


class _StepViews:
    """One layer's local derivatives, rewritten for the time loop.

    Rows carry each state component's *total* derivative. For the LSTM that is (dL/dh_t, dL/dc_t)
    with dL/dc_t = (carried part) + dL/dh_t * dh_t/dc_t, which is what the flow matrices report. In
    this basis each LSTM gate block is driven by one component only (o by h; i, f, g by c).

    With many rows the step's matmul is regrouped: instead of scaling the rows per gate and
    multiplying (rows x C*G*H) by the stacked W_hh, it multiplies (rows x C*H) by the matrix
    M_t = [sum_g diag(coef[t, c, g]) W_hh[g]]_c: G times fewer flops per row (2 for the LSTM, 3 for
    the GRU). The M_t are built in vectorised chunks of steps, ahead of the time loop that uses them.
    Only the non-zero entries of `direct` are kept (the Elman RNN has none).
    """

    def __init__(self, loc: LocalDerivatives, w: LayerWeights, need_input: bool) -> None:
        C = loc.direct.shape[-2]
        G, self.H = loc.coef_gh.shape[-2:]
        k = loc.dh_dc
        self.k = None if k is None else k.unbind(0)
        coef_gh, coef_gi, direct = loc.coef_gh, loc.coef_gi, loc.direct
        if k is not None:  # d_c = d_c_total - k d_h: move the k terms onto the h component
            coef_gh = torch.stack([coef_gh[:, 0] - k.unsqueeze(1) * coef_gh[:, 1], coef_gh[:, 1]], 1)
            coef_gi = (
                coef_gh
                if loc.coef_gi is loc.coef_gh
                else torch.stack([coef_gi[:, 0] - k.unsqueeze(1) * coef_gi[:, 1], coef_gi[:, 1]], 1)
            )
            direct = torch.stack([direct[:, 0] - k.unsqueeze(1) * direct[:, 1], direct[:, 1]], 1)
        same_gi = coef_gi is coef_gh
        # with gi and gh sharing their adjoint, [W_hh | W_ih] gives the input's adjoint in the same matmul
        W_gh = torch.cat([w.W_hh, w.W_ih], 1) if need_input and same_gi else w.W_hh
        self.gh = _Product(coef_gh, W_gh, G)
        self.gi = _Product(coef_gi, w.W_ih, G) if need_input and not same_gi else None
        self.n_out = W_gh.shape[1]
        # direct[t, c, p]: what component c of the new state passes to component p of the old one
        self.direct = [[(c, direct[:, c, p].unbind(0)) for c in range(C) if direct[:, c, p].any()] for p in range(C)]

    def injection(self, d_top: Tensor) -> tuple[Tensor, ...]:
        """Per step, what adding d_top[t] to dL/dh_t adds to every component (T x (C, H))."""
        if self.k is None:
            return d_top.unsqueeze(1).unbind(0)
        return torch.stack([d_top, torch.stack(self.k) * d_top], 1).unbind(0)

    def add_to_h(self, rows: Tensor, value: Tensor, t: int) -> None:
        """Add to dL/dh_t of rows (R, C, H), keeping the total dL/dc_t (which contains k * dL/dh_t) in step."""
        rows[:, 0] += value
        if self.k is not None:
            rows[:, 1].addcmul_(value, self.k[t])

    def backward(self, src: Tensor, dst: Tensor, t: int) -> Tensor | None:
        """Write into dst (R, C, H) the adjoint of S_{t-1}, from src (R, C, H), the adjoint of S_t;
        return the adjoint of this step's input (None when it is not needed)."""
        H = self.H
        out = self.gh.apply(src, t, dst[:, 0] if self.n_out == H else None)
        if out is None:  # no gate reaches h_{t-1} (all factors zero, e.g. every ReLU off)
            dst[:, 0].zero_()
        elif self.n_out > H:
            dst[:, 0].copy_(out[:, :H])
        d_in = out[:, H:] if out is not None and self.n_out > H else None
        if self.gi is not None:
            d_in = self.gi.apply(src, t, None)
        for p, terms in enumerate(self.direct):
            target = dst[:, p]
            for i, (c, factor) in enumerate(terms):
                if p > 0 and i == 0:
                    torch.mul(src[:, c], factor[t], out=target)
                else:
                    target.addcmul_(src[:, c], factor[t])
            if p > 0 and not terms:
                target.zero_()
            if p == 1 and self.k is not None and t > 0:  # total dL/dc_{t-1} includes k_{t-1} dL/dh_{t-1}
                target.addcmul_(dst[:, 0], self.k[t - 1])
        return d_in


class _Product:
    """rows (R, C, H) -> sum_c rows_c @ (sum_g diag(coef[t, c, g]) W[g]): (R, N), for one step t.

    coef is (T, C, G, H), W is (G*H, N). Few rows scale themselves per gate and meet W in one
    matmul; many rows use the regrouped M_t (C*H, N), built for a chunk of steps at a time.
    """

    def __init__(self, coef: Tensor, W: Tensor, G: int) -> None:
        T, C, _, H = coef.shape
        self.coef, self.W, self.G = coef, W, G
        self.active = [[g for g in range(G) if coef[:, c, g].any()] for c in range(C)]
        self.none = not any(self.active)
        self.W_blocks = W.view(G, H, -1)
        self.chunk = max(1, min(T, _MATRIX_BYTES // (C * H * W.shape[1] * W.element_size())))
        self.M: Tensor | None = None
        self.M_from = T  # self.M holds steps [M_from, M_from + len(M))

    def _matrix(self, t: int) -> Tensor:
        if t < self.M_from:  # the time loop runs backwards: build the chunk that ends at t
            lo = max(0, t + 1 - self.chunk)
            coef = self.coef[lo : t + 1]
            C, H = coef.shape[1], coef.shape[3]
            M = self.M if self.M is not None and self.M.shape[0] == t + 1 - lo else None
            M = torch.empty(t + 1 - lo, C, H, self.W.shape[1], dtype=coef.dtype, device=coef.device) if M is None else M
            for c, gates in enumerate(self.active):
                if not gates:
                    M[:, c].zero_()
                    continue
                torch.mul(coef[:, c, gates[0], :, None], self.W_blocks[gates[0]], out=M[:, c])
                for g in gates[1:]:
                    M[:, c].addcmul_(coef[:, c, g, :, None], self.W_blocks[g])
            self.M, self.M_from = M, lo
        return self.M[t - self.M_from].flatten(0, 1)

    def apply(self, rows: Tensor, t: int, out: Tensor | None) -> Tensor | None:
        if self.none:
            return None
        R, C, H = rows.shape
        if R >= _FEW_ROWS:
            return torch.mm(rows.view(R, C * H), self._matrix(t), out=out)
        scaled = rows[:, 0, None, :] * self.coef[t, 0]
        for c in range(1, C):
            scaled.addcmul_(rows[:, c, None, :], self.coef[t, c])
        return torch.mm(scaled.view(R, self.G * H), self.W, out=out)


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
    T, H = d_top.shape
    L = len(weights)
    C = local[0].direct.shape[-2]
    R = T if per_row else 1
    cut = set(truncation_cuts(T, truncation))
    dev, dt = d_top.device, d_top.dtype

    views = [
        _StepViews(loc, w, need_input=layer > 0 or (per_row and input_flow))
        for layer, (loc, w) in enumerate(zip(local, weights, strict=True))
    ]
    # adjoint of S^l_s, one row per loss term; two buffers per layer, read one and write the other
    buffers = [[torch.zeros(R, C, H, device=dev, dtype=dt) for _ in range(2)] for _ in range(L)]
    total = torch.zeros(T, L, C, H, device=dev, dtype=dt)  # adjoint of S_s for the summed loss
    total_at = total.unbind(0)
    inject_at = views[-1].injection(d_top)
    flow_state = torch.zeros(T, R, C, device=dev, dtype=torch.float64) if per_row else None  # [s][t][c]
    flow_input = torch.zeros(T, R, device=dev, dtype=torch.float64) if per_row and input_flow else None

    for s in range(T - 1, -1, -1):
        lo = s if per_row else 0  # rows t < s are still zero: L_t does not depend on S_s
        for layer in range(L - 1, -1, -1):
            src, dst = buffers[layer][0][lo:], buffers[layer][1][lo:]
            view = views[layer]
            if layer == L - 1:
                src[0] += inject_at[s]  # L_s's own term (row s, or the single summed row)
                if per_row:
                    torch.linalg.vector_norm(src, dim=-1, dtype=torch.float64, out=flow_state[s, lo:])
            torch.sum(src, 0, out=total_at[s][layer])
            d_in = view.backward(src, dst, s)
            if layer > 0:  # this layer's input is the layer below's h at the same step
                views[layer - 1].add_to_h(buffers[layer - 1][0][lo:], d_in, s)
            elif flow_input is not None:
                torch.linalg.vector_norm(d_in, dim=-1, dtype=torch.float64, out=flow_input[s, lo:])
            buffers[layer].reverse()
        if s in cut:
            for pair in buffers:
                pair[0].zero_()
    # gi and gh enter each step linearly, so their adjoints for the summed loss follow from the
    # summed state adjoint in one vectorised step over all t (in the carried basis step_backward uses)
    d_gi, d_gh = [], []
    for layer in range(L):
        _, gi_adj, gh_adj = step_backward(local[layer], local[layer].carried(total[:, layer]), weights[layer].W_hh)
        d_gi.append(gi_adj)
        d_gh.append(gh_adj)
    return BPTTResult(
        grad_state=_norm(total).to(dt),
        flow_state=None if flow_state is None else flow_state.transpose(0, 1).to(dt),
        flow_input=None if flow_input is None else flow_input.t().to(dt),
        d_gi=torch.stack(d_gi, 1),
        d_gh=torch.stack(d_gh, 1),
        cuts=sorted(cut),
    )
