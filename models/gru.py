"""GRU cell, as torch.nn.GRU computes it (gate order r, z, n).

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))     reset gate applied after the matmul
    h_t = (1 - z) * n + z * h_{t-1}

The last line is the GRU's leak: d h_t / d h_{t-1} contains diag(z), so with frozen gates the
gradient decays as z^(t-s). (Some textbooks put r inside the matmul; torch.nn.GRU does not.)
"""

from __future__ import annotations

import torch
from torch import Tensor

from models.cell import LocalDerivatives, split_gates


class GRUCell:
    kind = "gru"
    gates = ("r", "z", "n")
    states = ("h",)

    def step(self, gi: Tensor, gh: Tensor, prev: tuple[Tensor, ...]):
        (h_prev,) = prev
        gi_r, gi_z, gi_n = split_gates(gi, 3)
        gh_r, gh_z, gh_n = split_gates(gh, 3)
        r = torch.sigmoid(gi_r + gh_r)
        z = torch.sigmoid(gi_z + gh_z)
        n = torch.tanh(gi_n + r * gh_n)
        h = (1 - z) * n + z * h_prev
        return (h,), {"r": r, "z": z, "n": n}

    def replay(self, gi: Tensor, gh: Tensor, h: Tensor):
        gi_r, gi_z, gi_n = split_gates(gi, 3)
        gh_r, gh_z, gh_n = split_gates(gh, 3)
        r = torch.sigmoid(gi_r + gh_r)
        z = torch.sigmoid(gi_z + gh_z)
        n = torch.tanh(gi_n + r * gh_n)
        return h.unsqueeze(-2), {"r": r, "z": z, "n": n}

    def local(self, gi: Tensor, gh: Tensor, prev: Tensor, new: Tensor) -> LocalDerivatives:
        gi_r, gi_z, gi_n = split_gates(gi, 3)
        gh_r, gh_z, gh_n = split_gates(gh, 3)
        r = torch.sigmoid(gi_r + gh_r)
        z = torch.sigmoid(gi_z + gh_z)
        n = torch.tanh(gi_n + r * gh_n)
        h_prev = prev[..., 0, :]
        d_npre = (1 - z) * (1 - n * n)  # d h / d (pre-activation of n)
        d_r = d_npre * gh_n * r * (1 - r)
        d_z = (h_prev - n) * z * (1 - z)
        coef_gi = torch.stack([d_r, d_z, d_npre], -2).unsqueeze(-3)  # (..., C=1, G=3, H)
        coef_gh = torch.stack([d_r, d_z, d_npre * r], -2).unsqueeze(-3)
        direct = z[..., None, None, :]
        return LocalDerivatives(coef_gi, coef_gh, direct)
