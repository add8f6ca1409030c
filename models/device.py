"""One place that decides where tensors live: CUDA when present (unless told otherwise), else CPU."""

from __future__ import annotations

import torch


def pick_device(preference: str = "auto") -> torch.device:
    """`auto` takes CUDA when available; `cpu` or `cuda` force one (cuda fails loudly if absent)."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but CUDA is not available")
    if preference not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', not {preference!r}")
    return torch.device(preference)
