"""Attention, the shared maths: scaled dot products, additive scores, sinusoidal positions, cost.

Scaled dot-product attention, one head (Vaswani et al. 2017, "Attention Is All You Need"), with
queries q_t, keys k_s and values v_s of width d_head:

    S[t, s] = q_t . k_s / sqrt(d_head)               scores; causal mask: S[t, s] = -inf for s > t
    A[t, s] = exp(S[t, s]) / sum_s' exp(S[t, s'])    weights: each row sums to 1, masked entries are 0
    o_t     = sum_s A[t, s] v_s                      the head's output at position t

Additive attention (Bahdanau, Cho and Bengio 2015, "Neural Machine Translation by Jointly Learning
to Align and Translate"), decoder state s_{i-1}, encoder states h_j:

    e_ij = v^T tanh(W s_{i-1} + U h_j)               energies
    a_ij = exp(e_ij) / sum_j' exp(e_ij')             alignment weights
    c_i  = sum_j a_ij h_j                            context for output step i

Sinusoidal positional encoding, d wide (Vaswani et al. 2017, section 3.5):

    PE(pos, 2i)   = sin(pos / 10000^(2i/d))
    PE(pos, 2i+1) = cos(pos / 10000^(2i/d))

Cost: every layer of self-attention compares every position with every earlier one, so its work and
the memory of its weights grow as T^2, where a recurrent layer does one fixed-size step per position
(T) but must take the steps one after another.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def sinusoidal_encoding(T: int, d: int, device: torch.device | str | None = None) -> Tensor:
    """PE for positions 0..T-1, shape (T, d)."""
    pos = torch.arange(T, dtype=torch.float64, device=device)[:, None]  # (T, 1)
    two_i = torch.arange(0, d, 2, dtype=torch.float64, device=device)  # 2i = 0, 2, 4, ...
    angle = pos / 10000.0 ** (two_i / d)  # (T, ceil(d/2))
    PE = torch.zeros(T, d, dtype=torch.float64, device=device)
    PE[:, 0::2] = torch.sin(angle)
    PE[:, 1::2] = torch.cos(angle[:, : d // 2])
    return PE.float()


def causal_mask(T: int, device: torch.device | str | None = None) -> Tensor:
    """(T, T) bool, True where attention is forbidden: key position s after query position t."""
    return torch.ones(T, T, dtype=torch.bool, device=device).triu(1)


def scaled_dot_product(q: Tensor, k: Tensor, v: Tensor, causal: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    """q, k, v: (..., T, d_head). Returns scores S (masked entries -inf), weights A and output o."""
    T, d_head = q.shape[-2:]
    S = q @ k.transpose(-2, -1) / math.sqrt(d_head)  # (..., T, T)
    if causal:
        S = S.masked_fill(causal_mask(T, q.device), float("-inf"))
    A = torch.softmax(S, dim=-1)  # exp(-inf) = 0: masked weights are exactly zero
    o = A @ v  # (..., T, d_head)
    return S, A, o


def additive_attention(
    s_prev: Tensor, h: Tensor, W: Tensor, U: Tensor, v: Tensor, Uh: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Bahdanau attention for one output step.

    s_prev: (..., H_dec) decoder state s_{i-1}; h: (..., J, H_enc) encoder states;
    W: (A, H_dec), U: (A, H_enc), v: (A,). Uh = h U^T may be passed in, since it does not depend on i.
    Returns energies e (..., J), weights a (..., J) and context c (..., H_enc).
    """
    if Uh is None:
        Uh = h @ U.t()  # (..., J, A)
    Ws = s_prev @ W.t()  # (..., A)
    e = torch.tanh(Ws[..., None, :] + Uh) @ v  # (..., J)
    a = torch.softmax(e, dim=-1)
    c = (a[..., None, :] @ h).squeeze(-2)  # (..., H_enc)
    return e, a, c


def attention_layer_cost(T: int, d_model: int, heads: int, d_ff: int) -> dict[str, int]:
    """Multiply-adds and memory (in floats) of one causal Transformer block on T positions.

    Counted as computed (the masked half of S is computed and thrown away, as every dense kernel does):
      projections  q, k, v, out: 4 T d^2;   scores S: T^2 d;   weighted sum A v: T^2 d;
      feed-forward: 2 T d d_ff.
    Memory kept for the backward pass: S and A (2 heads T^2), q, k, v, o (4 T d), FFN hidden (T d_ff).
    """
    d = d_model
    return {
        "macs": 4 * T * d * d + 2 * T * T * d + 2 * T * d * d_ff,
        "attention_macs": 2 * T * T * d,
        "memory": 2 * heads * T * T + 4 * T * d + T * d_ff,
        "sequential_steps": 1,
    }


def recurrent_layer_cost(T: int, d_model: int) -> dict[str, int]:
    """The same for a GRU layer as wide as the Transformer (input and hidden size d).

    Per step: three gates, each W_i x (d^2) and W_h h (d^2): 6 d^2, so 6 T d^2 in all.
    Memory kept for the backward pass: h, r, z, n per step (4 T d). The T steps run one after another.
    """
    d = d_model
    return {"macs": 6 * T * d * d, "memory": 4 * T * d, "sequential_steps": T}
