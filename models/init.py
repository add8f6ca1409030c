"""Initialisation knobs for the recurrent models.

- default: every recurrent weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)), exactly torch.nn.RNN/LSTM/GRU's
  rule, drawn from a generator seeded by `seed` so a trace is a pure function of its knobs;
- `spectral_norm`: rescale W_hh so its largest singular value is the requested value. For LSTM and
  GRU each gate's H x H block is rescaled on its own, because each block is one recurrent map;
- `identity_init` (IRNN, Le, Jaitly & Hinton 2015): W_hh = I and zero biases for a ReLU RNN;
- `forget_bias`: the LSTM forget gate's bias, put in b_ih with b_hh's forget part set to 0 so the
  effective bias is exactly the value.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def uniform(shape: tuple[int, ...], bound: float, gen: torch.Generator) -> Tensor:
    return (torch.rand(shape, generator=gen) * 2 - 1) * bound


def rescale_blocks(W_hh: Tensor, n_blocks: int, target: float) -> Tensor:
    """Scale each H x H gate block of W_hh (G*H, H) so its largest singular value equals target."""
    blocks = []
    for block in W_hh.chunk(n_blocks, dim=0):
        sigma = torch.linalg.matrix_norm(block.double(), ord=2).item()
        blocks.append(block * (target / sigma) if sigma > 0 else block)
    return torch.cat(blocks, 0)


def init_recurrent(
    *,
    n_gates: int,
    vocab_size: int,
    hidden_size: int,
    layers: int,
    seed: int,
    spectral_norm: float | None = None,
    identity_init: bool = False,
    forget_bias: float | None = None,
    output_size: int | None = None,
) -> dict[str, Tensor]:
    """All parameters under torch.nn's names (weight_ih_l0, ...), plus readout.weight/bias.
    vocab_size is layer 0's input width; the readout has output_size rows (default: vocab_size)."""
    gen = torch.Generator().manual_seed(seed)
    H, G = hidden_size, max(n_gates, 1)
    bound = 1 / math.sqrt(H)
    params: dict[str, Tensor] = {}
    for layer in range(layers):
        in_size = vocab_size if layer == 0 else H  # layer 0 reads one-hot characters
        W_ih = uniform((G * H, in_size), bound, gen)
        W_hh = uniform((G * H, H), bound, gen)
        b_ih = uniform((G * H,), bound, gen)
        b_hh = uniform((G * H,), bound, gen)
        if identity_init:
            W_hh = torch.eye(H).repeat(G, 1)
            b_ih.zero_()
            b_hh.zero_()
        if spectral_norm is not None:
            W_hh = rescale_blocks(W_hh, G, spectral_norm)
        if forget_bias is not None:
            b_ih[H : 2 * H] = forget_bias
            b_hh[H : 2 * H] = 0.0
        params[f"weight_ih_l{layer}"] = W_ih
        params[f"weight_hh_l{layer}"] = W_hh
        params[f"bias_ih_l{layer}"] = b_ih
        params[f"bias_hh_l{layer}"] = b_hh
    # torch.nn.Linear's default init reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for both tensors
    out = vocab_size if output_size is None else output_size
    params["readout.weight"] = uniform((out, H), bound, gen)
    params["readout.bias"] = uniform((out,), bound, gen)
    return params
