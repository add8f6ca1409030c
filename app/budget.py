"""The cost of a knob set, before any torch work: models.cost's multiply-adds for the shapes the knobs ask for.

A checkpoint brings its own shape and vocabulary (its knobs are dropped from the canonical form), so
its cost is read from the checkpoint file's config, once per process.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from app.errors import KnobError
from models.cost import recurrent_cost, transformer_cost


@lru_cache(maxsize=32)
def _checkpoint_shape(name: str) -> dict[str, Any] | None:
    """The checkpoint's config (layers, widths) and vocabulary size, or None if it cannot be read
    (the engine then reports the missing checkpoint as the 422 it is)."""
    try:
        import torch

        from models.checkpoints import checkpoint_path

        payload = torch.load(checkpoint_path(name), map_location="cpu", weights_only=True)
        return {**payload["config"], "vocab_size": len(payload["vocab"])}
    except Exception:  # noqa: BLE001 - any unreadable checkpoint costs what its knobs say
        return None


def trace_macs(knobs: dict[str, Any]) -> int:
    """Estimated multiply-adds of the trace for canonical knobs (app.schemas.TraceKnobs.canonical)."""
    text = knobs["text"]
    T, V = len(text), len(set(text))
    shape = dict(knobs)
    if knobs.get("checkpoint"):
        fixed = _checkpoint_shape(knobs["checkpoint"])
        if fixed is not None:
            shape |= fixed
            V = fixed["vocab_size"]
    if knobs["arch"] == "transformer":
        return transformer_cost(T, V, shape.get("d_model", 64), shape.get("layers", 1), shape.get("d_ff", 256)).total
    return recurrent_cost(knobs["arch"], T, V, shape.get("hidden_size", 64), shape.get("layers", 1),
                          knobs.get("truncation")).total


def check_cost(macs: int, limit_macs: float | None) -> None:
    """422 (knob_cost) when a trace would cost more than the server's budget; the sentence names both."""
    if limit_macs is not None and macs > limit_macs:
        raise KnobError(None, "cost", estimate=f"{macs / 1e9:.1f}", limit=f"{limit_macs / 1e9:g}")
