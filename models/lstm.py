"""LSTM cell, as torch.nn.LSTM computes it (gate order i, f, g, o).

    i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o),   a = W_ih x + b_ih + W_hh h + b_hh
    c_t = f * c_{t-1} + i * g          the cell state: an additive path through time
    h_t = o * tanh(c_t)

Along the cell path d c_t / d c_{t-1} = f, so with frozen gates the gradient on c decays as f^(t-s):
this is why a forget bias near 1 keeps gradients alive (Gers et al. 2000; Jozefowicz et al. 2015).
"""

from __future__ import annotations

import torch
from torch import Tensor

from models.cell import LocalDerivatives, split_gates


class LSTMCell:
    kind = "lstm"
    gates = ("i", "f", "g", "o")
    states = ("h", "c")

    def step(self, gi: Tensor, gh: Tensor, prev: tuple[Tensor, ...]):
        _, c_prev = prev
        a_i, a_f, a_g, a_o = split_gates(gi + gh, 4)
        i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
        c = f * c_prev + i * g
        h = o * torch.tanh(c)
        return (h, c), {"i": i, "f": f, "g": g, "o": o}

    def replay(self, gi: Tensor, gh: Tensor, h: Tensor):
        a_i, a_f, a_g, a_o = split_gates(gi + gh, 4)
        i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
        c, ig = torch.empty_like(h), i * g
        c_prev = h.new_zeros(h.shape[1:])
        for t in range(len(h)):  # the cell state is the one recurrence left: c_t = f_t * c_{t-1} + i_t * g_t
            c_prev = torch.addcmul(ig[t], f[t], c_prev, out=c[t])
        return torch.stack([h, c], -2), {"i": i, "f": f, "g": g, "o": o}

    def local(self, gi: Tensor, gh: Tensor, prev: Tensor, new: Tensor) -> LocalDerivatives:
        a_i, a_f, a_g, a_o = split_gates(gi + gh, 4)
        i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
        c_prev, c = prev[..., 1, :], new[..., 1, :]
        tc = torch.tanh(c)
        k = o * (1 - tc * tc)  # d h / d c (through tanh)
        dc = torch.stack([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g), torch.zeros_like(o)], -2)
        dh_o = torch.zeros_like(dc)
        dh_o[..., 3, :] = tc * o * (1 - o)
        dh = k.unsqueeze(-2) * dc + dh_o
        coef = torch.stack([dh, dc], -3)  # (..., C=2, G=4, H)
        zero = torch.zeros_like(f)
        direct = torch.stack([torch.stack([zero, k * f], -2), torch.stack([zero, f], -2)], -3)
        return LocalDerivatives(coef, coef, direct, dh_dc=k)
