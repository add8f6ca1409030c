"""Elman RNN cell, as torch.nn.RNN computes it.

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
    h_t = phi(a_t)            phi in {tanh, relu, sigmoid, linear}

gamma is the bound on |phi'| used by Pascanu, Mikolov & Bengio (2013): the one-step Jacobian
diag(phi'(a_t)) W_hh has norm at most gamma * sigma_max(W_hh).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from models.cell import LocalDerivatives


@dataclass(frozen=True)
class Activation:
    phi: Callable[[Tensor], Tensor]
    dphi: Callable[[Tensor, Tensor], Tensor]  # (a, phi(a)) -> phi'(a)
    gamma: float  # sup |phi'|


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation(torch.tanh, lambda a, h: 1 - h * h, 1.0),
    "relu": Activation(torch.relu, lambda a, h: (a > 0).to(a.dtype), 1.0),
    "sigmoid": Activation(torch.sigmoid, lambda a, h: h * (1 - h), 0.25),
    "linear": Activation(lambda a: a, lambda a, h: torch.ones_like(a), 1.0),
}


class ElmanCell:
    kind = "rnn"
    gates: tuple[str, ...] = ()
    states = ("h",)

    def __init__(self, activation: str = "tanh") -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, not {activation!r}")
        self.activation = activation
        self.act = ACTIVATIONS[activation]

    def step(self, gi: Tensor, gh: Tensor, prev: tuple[Tensor, ...]):
        h = self.act.phi(gi + gh)
        return (h,), {}

    def replay(self, gi: Tensor, gh: Tensor, h: Tensor):
        return h.unsqueeze(-2), {}

    def local(self, gi: Tensor, gh: Tensor, prev: Tensor, new: Tensor) -> LocalDerivatives:
        a = gi + gh
        d = self.act.dphi(a, new[..., 0, :])  # (..., H)
        coef = d[..., None, None, :]  # (..., C=1, G=1, H)
        return LocalDerivatives(coef, coef, torch.zeros_like(coef))
