"""The simplified GRU: one gate, the update gate (Cho et al. 2014's GRU with the reset gate removed,
as Andrew Ng's sequence-models course first writes it). Gate order u, n; the candidate is n.

    u   = sigmoid(W_iu x_t + b_iu + W_hu c_{t-1} + b_hu)      the update gate, Gamma_u
    n   = tanh(W_in x_t + b_in + W_hn c_{t-1} + b_hn)         the candidate, c~_t
    c_t = u * n + (1 - u) * c_{t-1}

The state is the output: there is no separate cell state and no output gate, so the engine calls it h
like every other state. W [c_{t-1}, x_t] + b of the formula is split into torch.nn's two matrices and
two biases (weight_ih_l0 / weight_hh_l0 / bias_ih_l0 / bias_hh_l0, stacked [u; n]), so the params
export is the same as for torch.nn.GRU's [r; z; n]; torch.nn has no such cell, so the engine always
runs its own time loop for it.

Note the sign: u here is the share of the *new* candidate, where torch.nn.GRU's z is the share of the
*old* state. With gi and gh frozen, d c_t / d c_{t-1} contains diag(1 - u): the leak.
"""

from __future__ import annotations

import torch
from torch import Tensor

from models.cell import LocalDerivatives, split_gates


class SimpleGRUCell:
    kind = "sgru"
    gates = ("u", "n")
    states = ("h",)

    @staticmethod
    def _gates(gi: Tensor, gh: Tensor) -> tuple[Tensor, Tensor]:
        a_u, a_n = split_gates(gi + gh, 2)
        return torch.sigmoid(a_u), torch.tanh(a_n)

    def step(self, gi: Tensor, gh: Tensor, prev: tuple[Tensor, ...]):
        (h_prev,) = prev
        u, n = self._gates(gi, gh)
        h = u * n + (1 - u) * h_prev
        return (h,), {"u": u, "n": n}

    def replay(self, gi: Tensor, gh: Tensor, h: Tensor):
        u, n = self._gates(gi, gh)
        return h.unsqueeze(-2), {"u": u, "n": n}

    def local(self, gi: Tensor, gh: Tensor, prev: Tensor, new: Tensor) -> LocalDerivatives:
        u, n = self._gates(gi, gh)
        h_prev = prev[..., 0, :]
        d_u = (n - h_prev) * u * (1 - u)  # d c_t / d (pre-activation of u)
        d_n = u * (1 - n * n)  # d c_t / d (pre-activation of n)
        coef = torch.stack([d_u, d_n], -2).unsqueeze(-3)  # (..., C=1, G=2, H); gi and gh enter as a sum
        direct = (1 - u)[..., None, None, :]
        return LocalDerivatives(coef, coef, direct)
