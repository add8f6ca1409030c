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

import warnings

import torch
from torch import Tensor


def _jvp(
    v: Tensor,
    coef_gh: list[Tensor],
    coef_gi: list[Tensor],
    W_hh: list[Tensor],
    W_ih: list[Tensor],
    pairs: list[list[tuple[int, int]]],
    direct: list[list[Tensor]],
) -> Tensor:
    """J_t v_t for every row: v and the result are (R, L, C, H)."""
    R, H = v.size(0), v.size(3)
    out = torch.empty_like(v)
    for layer in range(v.size(1)):
        cg = coef_gh[layer]
        G = cg.size(2)
        o = (cg * torch.mm(v[:, layer, 0], W_hh[layer].t()).view(R, 1, G, H)).sum(2)
        if layer > 0:
            o += (coef_gi[layer] * torch.mm(out[:, layer - 1, 0], W_ih[layer].t()).view(R, 1, G, H)).sum(2)
        for i in range(len(pairs[layer])):
            c, p = pairs[layer][i]
            o[:, c] += direct[layer][i] * v[:, layer, p]
        out[:, layer] = o
    return out


def _vjp(
    u: Tensor,
    coef_gh: list[Tensor],
    coef_gi: list[Tensor],
    same: list[bool],
    W_hh: list[Tensor],
    W_ih: list[Tensor],
    pairs: list[list[tuple[int, int]]],
    direct: list[list[Tensor]],
) -> Tensor:
    """J_t^T u_t for every row: u and the result are (R, L, C, H)."""
    R, H = u.size(0), u.size(3)
    out = torch.zeros_like(u)
    carry = torch.zeros(R, H, dtype=u.dtype, device=u.device)  # reaches h through the layer above's input
    for layer in range(u.size(1) - 1, -1, -1):
        cg = coef_gh[layer]
        G = cg.size(2)
        ul = u[:, layer].clone()
        ul[:, 0] += carry
        d_gh = (ul.unsqueeze(2) * cg).sum(1).view(R, G * H)
        out[:, layer, 0] = torch.mm(d_gh, W_hh[layer])
        for i in range(len(pairs[layer])):
            c, p = pairs[layer][i]
            out[:, layer, p] += direct[layer][i] * ul[:, c]
        if layer > 0:
            d_gi = d_gh if same[layer] else (ul.unsqueeze(2) * coef_gi[layer]).sum(1).view(R, G * H)
            carry = torch.mm(d_gi, W_ih[layer])
    return out


def _lanczos(
    v: Tensor,
    v_before: Tensor,
    b_before: Tensor,
    iterations: int,
    coef_gh: list[Tensor],
    coef_gi: list[Tensor],
    same: list[bool],
    W_hh: list[Tensor],
    W_ih: list[Tensor],
    pairs: list[list[tuple[int, int]]],
    direct: list[list[Tensor]],
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
        Jv = _jvp(v.view(R, shape[0], shape[1], shape[2]), coef_gh, coef_gi, W_hh, W_ih, pairs, direct)
        w = _vjp(Jv, coef_gh, coef_gi, same, W_hh, W_ih, pairs, direct).view(R, -1)
        w -= b_before.unsqueeze(1) * v_before
        a = (w * v).sum(1)
        w -= a.unsqueeze(1) * v
        b = torch.linalg.vector_norm(w, dim=1)
        # an exhausted Krylov space (beta = 0) continues with v = 0, adding zero eigenvalues
        v_before, v, b_before = v, w / b.clamp_min(tiny).unsqueeze(1), b
        alphas.append(a)
        betas.append(b)
    return v, v_before, b_before, torch.stack(alphas, 1), torch.stack(betas, 1)


def _script(fn):
    with warnings.catch_warnings():  # deprecated, and still the only GIL-free loop without a compiler
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(fn)


jvp = _script(_jvp)
vjp = _script(_vjp)
lanczos = _script(_lanczos)
