"""Spectral norms of the one-step Jacobians dS_t/dS_{t-1}, for every step at once.

The state S_t stacks every layer's h (and the LSTM's c). dS_t/dS_{t-1} is what the backward pass
multiplies by at each step, so its largest singular value says how much a gradient can grow or
shrink in one step (Pascanu et al. 2013).

No Jacobian is ever formed. All steps share W_hh and W_ih and differ only in per-unit factors
(models.cell.LocalDerivatives), so products with J_t and J_t^T for all t at once are two matmuls
with the weights and some elementwise work:
    J v    : tangent forward   dS_c = sum_g coef_gh[c, g] (W_hh v_h)[g] + sum_g coef_gi[c, g] (W_ih dx)[g] + direct v
    J^T u  : one BPTT step for every t (the same contraction models.cell.step_backward makes)
A batched Lanczos iteration on J^T J then gives sigma_max: its Ritz value rises to sigma_max from
below and settles within a few dozen products.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from models import kernels
from models.bptt import LayerWeights
from models.cell import LocalDerivatives

FIRST_CHECK, CHECK_EVERY = 24, 4  # Lanczos iterations before the first convergence check, and between checks


class _Batch:
    """The local derivatives of the steps (rows) still iterating, as the scripted kernels take them.

    direct is kept as its non-zero (c, p) entries only (the LSTM has two of four, the RNN none)."""

    def __init__(self, local: list[LocalDerivatives], weights: list[LayerWeights]) -> None:
        C = local[0].direct.shape[-2]
        pairs = [[(c, p) for c in range(C) for p in range(C) if loc.direct[:, c, p].any()] for loc in local]
        self.steps = kernels.Steps(
            coef_gh=[loc.coef_gh for loc in local],
            coef_gi=[loc.coef_gi for loc in local],
            same=[loc.coef_gi is loc.coef_gh for loc in local],
            W_hh=[w.W_hh for w in weights],
            W_ih=[w.W_ih for w in weights],
            pairs=pairs,
            direct=[[loc.direct[:, c, p] for c, p in ps] for loc, ps in zip(local, pairs, strict=True)],
        )

    def keep(self, rows: Tensor) -> None:
        s = self.steps
        coef_gh = [x[rows] for x in s.coef_gh]
        self.steps = s._replace(
            coef_gh=coef_gh,
            coef_gi=[gh if same else x[rows] for x, gh, same in zip(s.coef_gi, coef_gh, s.same, strict=True)],
            direct=[[x[rows] for x in layer] for layer in s.direct],
        )

    def lanczos(self, v: Tensor, v_before: Tensor, b_before: Tensor, iterations: int, shape: list[int]):
        """`iterations` Lanczos steps for every row (models.kernels.lanczos)."""
        return kernels.lanczos(v, v_before, b_before, iterations, self.steps, shape, torch.finfo(v.dtype).tiny)


def top_ritz(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest Ritz value of each row's j x j Lanczos matrix and its residual bound (float64).

    For the Ritz pair (theta, y) of the tridiagonal matrix, ||M x - theta x|| = beta_j |y_j|, and an
    eigenvalue of M lies within that distance of theta. y_j^2 = q_{j-1}(theta) / q_j'(theta), with
    q_k the characteristic polynomial of the leading k x k block (Parlett, The Symmetric Eigenvalue
    Problem, 7.9): one pass of the three-term recurrence, rescaled as it goes, instead of eigenvectors
    (eigh costs 2.5x eigvalsh on a batch of small matrices).
    """
    R, j = alpha.shape
    M = np.zeros((R, j, j))
    idx = np.arange(j)
    M[:, idx, idx] = alpha
    M[:, idx[1:], idx[:-1]] = beta[:, :-1]
    theta = np.linalg.eigvalsh(M, UPLO="L")[:, -1]
    with np.errstate(all="ignore"):  # a non-finite row gets an infinite bound below
        q_before, dq = _characteristic(alpha, beta, theta)
        y_last = np.sqrt(np.abs(q_before / dq))
    return theta, np.where(np.isfinite(y_last), beta[:, -1] * y_last, np.inf)


def _characteristic(alpha: np.ndarray, beta: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """q_{j-1}(x) and q_j'(x), both divided by the same running scale (only their ratio is used)."""
    R, j = alpha.shape
    q2, q1 = np.ones(R), x - alpha[:, 0]  # q_{k-2}, q_{k-1} and their derivatives
    d2, d1 = np.zeros(R), np.ones(R)
    for k in range(1, j):
        gap, b2 = x - alpha[:, k], beta[:, k - 1] ** 2
        q, d = gap * q1 - b2 * q2, q1 + gap * d1 - b2 * d2
        scale = np.maximum(np.abs(q1), 1e-300)
        q2, q1, d2, d1 = q1 / scale, q / scale, d1 / scale, d / scale
    return q2, d1


def jacobian_norms(
    local: list[LocalDerivatives], weights: list[LayerWeights], max_steps: int = 96, rtol: float = 3e-5
) -> Tensor:
    """||dS_t/dS_{t-1}||_2 for every t, shape (T,); NaN where a step's factors are not finite.

    Plain three-term Lanczos on J_t^T J_t for all steps at once: losing orthogonality only duplicates
    converged Ritz values, it does not spoil the largest one. From FIRST_CHECK iterations on, every
    CHECK_EVERY, a step whose residual bound is below rtol times its estimate of sigma_max^2 is done
    and leaves the batch; the rest go on until max_steps, or until the Krylov space is the whole
    state space (then the result is exact). A residual bound cannot tell sigma_max^2 from a smaller
    eigenvalue the Krylov space found first, so rtol is tight: with 3e-3 some LSTM steps stopped
    early with a 3e-3 error; with 3e-5 the largest relative error against a full SVD was 1e-7 over
    nine configurations (RNN, LSTM, GRU, 1-3 layers, H = 64-128, T = 200), at 24-35 products per step.
    """
    T, C, _, H = local[0].direct.shape
    L = len(weights)
    n = L * C * H
    finite = torch.stack(
        [torch.isfinite(x.flatten(1)).all(1) for loc in local for x in (loc.coef_gi, loc.coef_gh, loc.direct)]
    ).all(0)
    clean = local
    if not finite.all():  # zero the factors of overflowed steps; their norm is reported as NaN
        clean = []
        for loc in local:
            coef_gh, direct = (torch.where(finite.view(-1, 1, 1, 1), x, 0.0) for x in (loc.coef_gh, loc.direct))
            same = loc.coef_gi is loc.coef_gh
            coef_gi = coef_gh if same else torch.where(finite.view(-1, 1, 1, 1), loc.coef_gi, 0.0)
            clean.append(LocalDerivatives(coef_gi, coef_gh, direct))
    batch = _Batch(clean, weights)
    k = min(max_steps, n)
    dev, dt = local[0].direct.device, local[0].direct.dtype
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(T, n, generator=gen).to(device=dev, dtype=dt)
    v = v / v.norm(dim=1, keepdim=True)
    v_before, b_before = torch.zeros_like(v), torch.zeros(T, device=dev, dtype=dt)
    alpha, beta = torch.zeros(T, k, dtype=torch.float64), torch.zeros(T, k, dtype=torch.float64)
    rows = np.arange(T)  # the steps still iterating, as indices into 0..T-1
    sigma2 = np.zeros(T)
    j = 0  # Lanczos steps taken
    while j < k:
        run = min(k, max(FIRST_CHECK, j + CHECK_EVERY)) - j  # iterations until the next check
        v, v_before, b_before, a, b = batch.lanczos(v, v_before, b_before, run, [L, C, H])
        alpha[rows, j : j + run], beta[rows, j : j + run] = a.double().cpu(), b.double().cpu()
        j += run
        top, residual = top_ritz(alpha[rows, :j].numpy(), beta[rows, :j].numpy())
        sigma2[rows] = top
        going = ~(residual <= rtol * np.abs(top))
        if j >= n or not going.any():
            break
        if not going.all():
            keep = torch.from_numpy(np.flatnonzero(going)).to(dev)
            rows = rows[going]
            v, v_before, b_before = v[keep], v_before[keep], b_before[keep]
            batch.keep(keep)
    sigma = torch.from_numpy(np.sqrt(np.maximum(sigma2, 0))).to(device=dev, dtype=dt)
    return torch.where(finite, sigma, torch.nan)
