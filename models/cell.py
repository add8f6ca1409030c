"""What every recurrent cell provides, so one BPTT routine serves RNN, LSTM and GRU.

A cell maps (gi, gh, state_prev) to state_new, where
    gi = W_ih x_t + b_ih        (input projection, all gates stacked in torch.nn order)
    gh = W_hh h_{t-1} + b_hh    (recurrent projection, same layout)
Every gate acts unit by unit, so a step's local derivatives are diagonal and fit in three
tensors (see `LocalDerivatives`). The chain rule through time then needs only these and the two
weight matrices:
    d gi   = sum_c d state_c * coef_gi[c]
    d gh   = sum_c d state_c * coef_gh[c]
    d prev = sum_c d state_c * direct[c]  +  (d gh) W_hh   (the last term reaches h_{t-1} only)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor


@dataclass(frozen=True)
class LocalDerivatives:
    """Per-unit partial derivatives of one step (leading dims are free, e.g. time).

    coef_gi[..., c, g, j] = d state_c[j] / d gi_g[j]
    coef_gh[..., c, g, j] = d state_c[j] / d gh_g[j]
    direct[..., c, p, j]  = d state_c[j] / d state_prev_p[j] with gi and gh held fixed
    """

    coef_gi: Tensor  # (..., C, G, H)
    coef_gh: Tensor  # (..., C, G, H)
    direct: Tensor  # (..., C, C, H)
    # LSTM only: d h_t / d c_t at the same step. The adjoint carried for c_t covers only its future
    # uses; the total dL/dc_t adds dL/dh_t * dh_dc, because h_t itself is made from c_t.
    dh_dc: Tensor | None = None  # (..., H)

    def carried(self, d_total: Tensor) -> Tensor:
        """The adjoint step_backward carries, from the total derivatives (..., C, H): for the LSTM
        the part of dL/dc_t that does not pass through h_t."""
        if self.dh_dc is None:
            return d_total
        return torch.stack([d_total[..., 0, :], d_total[..., 1, :] - d_total[..., 0, :] * self.dh_dc], -2)


class Cell(Protocol):
    kind: str
    gates: tuple[str, ...]  # in torch.nn's stacking order
    states: tuple[str, ...]  # ("h",) or ("h", "c"); h is always first

    def step(self, gi: Tensor, gh: Tensor, prev: tuple[Tensor, ...]) -> tuple[tuple[Tensor, ...], dict[str, Tensor]]:
        """One time step: new state and the named gate activations."""
        ...

    def local(self, gi: Tensor, gh: Tensor, prev: Tensor, new: Tensor) -> LocalDerivatives:
        """Local derivatives, vectorised: prev and new are (..., C, H) stacked states."""
        ...

    def replay(self, gi: Tensor, gh: Tensor, h: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Every step's new state (T, C, H) and gates, given the h sequence (T, H) a fused kernel made:
        what `step` computes, vectorised over time wherever the cell allows it."""
        ...


def split_gates(x: Tensor, n: int) -> tuple[Tensor, ...]:
    return x.chunk(n, dim=-1)


def step_backward(loc: LocalDerivatives, d_new: Tensor, W_hh: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Carry adjoints through one step of one layer.

    d_new: (..., C, H) adjoint of the new state. Returns (d_prev (..., C, H), d_gi, d_gh (..., G*H)).
    """
    d_gh = contract(d_new, loc.coef_gh).flatten(-2)
    d_gi = d_gh if loc.coef_gi is loc.coef_gh else contract(d_new, loc.coef_gi).flatten(-2)
    d_prev = contract(d_new, loc.direct)
    d_prev[..., 0, :] += d_gh @ W_hh
    return d_prev, d_gi, d_gh


def contract(d: Tensor, coef: Tensor) -> Tensor:
    """sum_c d[..., c, None, :] * coef[..., c, :, :]: (..., G, H). C is 1 or 2, and a loop of addcmul
    beats both einsum and a broadcast product summed over C (by 30%). TorchScript compiles it too
    (models.kernels calls it)."""
    out = d[..., 0, None, :] * coef[..., 0, :, :]
    for c in range(1, d.size(-2)):
        out.addcmul_(d[..., c, None, :], coef[..., c, :, :])
    return out


def stacked(state: tuple[Tensor, ...]) -> Tensor:
    return torch.stack(state, dim=-2)
