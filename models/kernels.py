"""TorchScript versions of the hot loops that are many small tensor ops.

Why TorchScript: a Python loop of small ops holds the GIL between ops, so two such loops in two
threads run 2.5x *slower* together than one after the other (measured: 60,000 small ops, 0.20 s
alone, 1.03 s for two threads). A scripted function runs in C++ with the GIL released: two of them
in parallel take 1.1x the time of one, and each op costs about 2.1 us instead of 3.4 us. This is
what lets a trace run its Jacobian norms on a second core while BPTT runs on the first, and lets
two traces share a 2-core server.

The maths is written out in models.jacobian (J v, J^T u and Lanczos); here it is only restated in the
subset of Python TorchScript compiles (no dataclasses, no keyword-only arguments). `torch.jit.script` is deprecated
in favour of torch.compile, which needs a C++ toolchain at run time and recompiles per shape; the
project pins torch, and tests/models check these kernels against autograd.
"""

import functools
import warnings
from typing import NamedTuple

import torch
from torch import Tensor

from models.cell import contract


class Steps(NamedTuple):
    """The local derivatives of a batch of steps, per layer (models.jacobian builds it)."""

    coef_gh: list[Tensor]  # (R, C, G, H)
    coef_gi: list[Tensor]
    same: list[bool]  # coef_gi is coef_gh
    W_hh: list[Tensor]
    W_ih: list[Tensor]
    pairs: list[list[tuple[int, int]]]  # non-zero direct entries (c, p)
    direct: list[list[Tensor]]  # their values (R, H)


def _jvp(v: Tensor, s: Steps) -> Tensor:
    """J_t v_t for every row: v and the result are (R, L, C, H)."""
    R, H = v.size(0), v.size(3)
    out = torch.empty_like(v)
    for layer in range(v.size(1)):
        cg = s.coef_gh[layer]
        G = cg.size(2)
        o = (cg * torch.mm(v[:, layer, 0], s.W_hh[layer].t()).view(R, 1, G, H)).sum(2)
        if layer > 0:
            o += (s.coef_gi[layer] * torch.mm(out[:, layer - 1, 0], s.W_ih[layer].t()).view(R, 1, G, H)).sum(2)
        for i in range(len(s.pairs[layer])):
            c, p = s.pairs[layer][i]
            o[:, c] += s.direct[layer][i] * v[:, layer, p]
        out[:, layer] = o
    return out


def _vjp(u: Tensor, s: Steps) -> Tensor:
    """J_t^T u_t for every row: u and the result are (R, L, C, H)."""
    R, H = u.size(0), u.size(3)
    out = torch.zeros_like(u)
    carry = torch.zeros(R, H, dtype=u.dtype, device=u.device)  # reaches h through the layer above's input
    for layer in range(u.size(1) - 1, -1, -1):
        cg = s.coef_gh[layer]
        G = cg.size(2)
        ul = u[:, layer].clone()
        ul[:, 0] += carry
        d_gh = contract(ul, cg).view(R, G * H)
        out[:, layer, 0] = torch.mm(d_gh, s.W_hh[layer])
        for i in range(len(s.pairs[layer])):
            c, p = s.pairs[layer][i]
            out[:, layer, p] += s.direct[layer][i] * ul[:, c]
        if layer > 0:
            d_gi = d_gh if s.same[layer] else contract(ul, s.coef_gi[layer]).view(R, G * H)
            carry = torch.mm(d_gi, s.W_ih[layer])
    return out


def _lanczos(
    v: Tensor,
    v_before: Tensor,
    b_before: Tensor,
    iterations: int,
    s: Steps,
    shape: list[int],
    tiny: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """`iterations` three-term Lanczos steps on J_t^T J_t for every row of v (R, n).

    shape is (L, C, H); tiny the dtype's smallest normal number. Returns the new (v, v_before,
    b_before) to continue from, and this run's alpha and beta (R, iterations).
    """
    R = v.size(0)
    alphas: list[Tensor] = []
    betas: list[Tensor] = []
    for _ in range(iterations):
        w = _vjp(_jvp(v.view(R, shape[0], shape[1], shape[2]), s), s).view(R, -1)
        w -= b_before.unsqueeze(1) * v_before
        a = (w * v).sum(1)
        w -= a.unsqueeze(1) * v
        b = torch.linalg.vector_norm(w, dim=1)
        # an exhausted Krylov space (beta = 0) continues with v = 0, adding zero eigenvalues
        v_before, v, b_before = v, w / b.clamp_min(tiny).unsqueeze(1), b
        alphas.append(a)
        betas.append(b)
    return v, v_before, b_before, torch.stack(alphas, 1), torch.stack(betas, 1)


def _regrouped(coef: Tensor, W: Tensor, active: list[list[int]], lo: int, hi: int, M: Tensor) -> Tensor:
    """M[t, c] = sum_g diag(coef[t, c, g]) W[g] for steps lo..hi-1: (hi - lo, C, H, N), written into M
    when it has that shape (a fresh multi-megabyte buffer per chunk costs page faults on every touch)."""
    C, G, H = coef.size(1), coef.size(2), coef.size(3)
    blocks = W.view(G, H, W.size(1))
    if M.dim() != 4 or M.size(0) != hi - lo:
        M = torch.empty(hi - lo, C, H, W.size(1), dtype=coef.dtype, device=coef.device)
    for c in range(C):
        if len(active[c]) == 0:
            M[:, c].zero_()
        for i, g in enumerate(active[c]):
            if i == 0:
                torch.mul(coef[lo:hi, c, g].unsqueeze(-1), blocks[g], out=M[:, c])
            else:
                M[:, c].addcmul_(coef[lo:hi, c, g].unsqueeze(-1), blocks[g])
    return M


def _product(
    rows: Tensor,
    coef: Tensor,
    W: Tensor,
    active: list[list[int]],
    t: int,
    matrices: list[Tensor],
    starts: list[int],
    slot: int,
    chunk: int,
    few_rows: int,
) -> Tensor:
    """sum_c rows_c @ (sum_g diag(coef[t, c, g]) W[g]) for rows (R, C, H) and W (G*H, N): (R, N).

    Few rows scale themselves per gate and meet W in one matmul. Many rows use the regrouped
    matrix of step t, (C*H, N): G times fewer flops per row. Those are built `chunk` steps at a
    time (the loop runs backwards in t) and kept in matrices[slot], starting at step starts[slot].
    """
    R, C, H = rows.size(0), rows.size(1), rows.size(2)
    if R >= few_rows:
        if t < starts[slot]:
            lo = max(0, t + 1 - chunk)
            matrices[slot] = _regrouped(coef, W, active, lo, t + 1, matrices[slot])
            starts[slot] = lo
        return torch.mm(rows.reshape(R, C * H), matrices[slot][t - starts[slot]].reshape(C * H, W.size(1)))
    scaled = rows[:, 0].unsqueeze(1) * coef[t, 0]
    for c in range(1, C):
        scaled.addcmul_(rows[:, c].unsqueeze(1), coef[t, c])
    return torch.mm(scaled.reshape(R, coef.size(2) * H), W)


class SweepLayer(NamedTuple):
    """One layer's local derivatives, as the BPTT sweep needs them (models.bptt prepares them)."""

    coef_gh: Tensor  # (T, C, G, H), in the total-derivative basis
    coef_gi: Tensor
    W_gh: Tensor  # (G*H, N): N = H, or H + inputs when the input's adjoint rides along
    W_gi: Tensor  # (G*H, inputs) for a separate input product (has_gi), else empty
    has_gi: bool
    active_gh: list[list[int]]  # per component, the gate blocks that ever drive it
    active_gi: list[list[int]]
    pairs: list[tuple[int, int]]  # non-zero direct entries (c, p)
    direct: list[Tensor]  # their values (T, H)
    k: Tensor  # LSTM: dh_t/dc_t (T, H) when has_k, else empty
    has_k: bool
    chunk_gh: int  # steps per regrouped-matrix build
    chunk_gi: int


def _bptt_sweep(
    inject: Tensor, layers: list[SweepLayer], per_row: bool, cuts: list[int], input_flow: bool, few_rows: int
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """The backward time loop of models.bptt.bptt, which documents it.

    Returns the summed adjoint (T, L, C, H), and with per_row the norms ||dL_t/dS_s|| as [s][t][c],
    ||dL_t/dx_s|| as [s][t] (float64) and the summed adjoint's two BPTT terms (T, L, C, H): row s at
    step s (dL_s/dS_s, the step's own loss) and the sum of rows u > s (the future); else empty tensors.
    """
    T, C, H = inject.size(0), inject.size(1), inject.size(2)
    L = len(layers)
    R = T if per_row else 1
    dt, dev = inject.dtype, inject.device
    f64 = torch.float64
    buffers: list[Tensor] = []  # two per layer: read the adjoint of S_s from one, write S_{s-1} into the other
    for _ in range(2 * L):
        buffers.append(torch.zeros(R, C, H, dtype=dt, device=dev))
    current: list[int] = [0] * L
    matrices: list[Tensor] = [torch.empty(0, dtype=dt, device=dev)] * (2 * L)
    starts: list[int] = [T] * (2 * L)
    total = torch.zeros(T, L, C, H, dtype=dt, device=dev)
    flow_state = torch.zeros(T, R, C, dtype=f64, device=dev) if per_row else torch.empty(0, dtype=f64)
    flow_input = torch.zeros(T, R, dtype=f64, device=dev) if per_row and input_flow else torch.empty(0, dtype=f64)
    own = torch.zeros(T, L, C, H, dtype=dt, device=dev) if per_row else torch.empty(0, dtype=dt)
    future = torch.zeros(T, L, C, H, dtype=dt, device=dev) if per_row else torch.empty(0, dtype=dt)
    for s in range(T - 1, -1, -1):
        lo = s if per_row else 0  # rows t < s are still zero: L_t does not depend on S_s
        for layer in range(L - 1, -1, -1):
            src = buffers[2 * layer + current[layer]][lo:]
            dst = buffers[2 * layer + 1 - current[layer]][lo:]
            if layer == L - 1:
                src[0] += inject[s]  # L_s's own term (row s, or the single summed row)
                if per_row:
                    flow_state[s, lo:] = torch.linalg.vector_norm(src, 2.0, [-1], False, dtype=f64)
            if per_row:  # the future summed apart: total - own would lose a future far below the own term
                own[s, layer] = src[0]
                future[s, layer] = src[1:].sum(0)
            else:
                total[s, layer] = src[0]
            x = layers[layer]
            out = _product(src, x.coef_gh, x.W_gh, x.active_gh, s, matrices, starts, 2 * layer, x.chunk_gh, few_rows)
            dst[:, 0] = out[:, :H]
            d_in = out[:, H:]
            if x.has_gi:
                d_in = _product(
                    src, x.coef_gi, x.W_gi, x.active_gi, s, matrices, starts, 2 * layer + 1, x.chunk_gi, few_rows
                )
            for p in range(C):  # direct terms; then the LSTM's total dL/dc_{s-1} adds k_{s-1} dL/dh_{s-1}
                target = dst[:, p]
                if p > 0:
                    target.zero_()
                for i in range(len(x.pairs)):
                    c, q = x.pairs[i]
                    if q == p:
                        target.addcmul_(src[:, c], x.direct[i][s])
                if p == 1 and x.has_k and s > 0:
                    target.addcmul_(dst[:, 0], x.k[s - 1])
            if layer > 0:  # this layer's input is the layer below's h at the same step
                below = buffers[2 * (layer - 1) + current[layer - 1]][lo:]
                below[:, 0] += d_in
                if layers[layer - 1].has_k:
                    below[:, 1].addcmul_(d_in, layers[layer - 1].k[s])
            elif per_row and input_flow:
                flow_input[s, lo:] = torch.linalg.vector_norm(d_in, 2.0, [-1], False, dtype=f64)
            current[layer] = 1 - current[layer]
        if s in cuts:
            for layer in range(L):
                buffers[2 * layer + current[layer]].zero_()
    if per_row:
        torch.add(own, future, out=total)
    return total, flow_state, flow_input, own, future


def _script(fn):
    """fn compiled by TorchScript, run without the graph executor's optimisation passes: they only
    profile and re-specialise per shape here (no fusion on CPU), which cost 50-120 ms on the first calls
    of every new size and gained nothing after (measured: LSTM T=200 trace 105 ms either way)."""
    with warnings.catch_warnings():  # deprecated, and still the only GIL-free loop without a compiler
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            scripted = torch.jit.script(fn)
        except Exception as err:  # a torch without TorchScript: the same code as plain Python, slower
            warnings.warn(f"TorchScript unavailable ({err}); {fn.__name__} runs as Python", stacklevel=2)
            return fn

    @functools.wraps(fn)
    def call(*args):
        with torch.jit.optimized_execution(False):  # a thread-local switch
            return scripted(*args)

    return call


lanczos = _script(_lanczos)
bptt_sweep = _script(_bptt_sweep)
