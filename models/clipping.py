"""Gradient clipping with torch.nn.utils semantics, on a dict of gradients (no module needed).

- by norm (clip_grad_norm_): one total 2-norm over all parameters; every gradient is multiplied by
  min(1, threshold / (total + 1e-6)), the epsilon exactly as torch adds it;
- by value (clip_grad_value_): every entry clamped to [-threshold, threshold].
"""

from __future__ import annotations

import torch
from torch import Tensor

CLIP_MODES = ("norm", "value")


def total_norm(grads: dict[str, Tensor]) -> Tensor:
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads.values()]))


def clip_gradients(grads: dict[str, Tensor], mode: str | None, threshold: float | None) -> dict[str, Tensor]:
    if mode is None:
        return dict(grads)
    if threshold is None or not threshold > 0:
        raise ValueError("clip_threshold must be a positive number when clipping")
    if mode == "norm":
        coef = torch.clamp(threshold / (total_norm(grads) + 1e-6), max=1.0)
        return {name: g * coef for name, g in grads.items()}
    if mode == "value":
        return {name: g.clamp(-threshold, threshold) for name, g in grads.items()}
    raise ValueError(f"clip_mode must be one of {CLIP_MODES} or None, not {mode!r}")
