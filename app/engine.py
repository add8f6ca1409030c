"""From canonical knobs to the engine's trace: the one place that knows models/ call signatures.

The Transformer engine is optional at import time, so the recurrent bench works on a checkout where
models.transformer is absent; `/api/architectures` says whether it is available.
"""

from __future__ import annotations

import importlib
import re
from concurrent.futures import Executor
from typing import Any

from app.errors import KnobError
from app.schemas import LIMITS, RECURRENT, TraceKnobs
from app.settings import Settings
from models.charlm import RecurrentConfig
from models.trace import TraceOptions, trace_recurrent

KNOB_NAMES = tuple(TraceKnobs.model_fields)


def transformer_module():
    """models.transformer, or None while it is not there (checked per call: it may land later)."""
    try:
        module = importlib.import_module("models.transformer")
    except ImportError:
        return None
    return module if hasattr(module, "trace_transformer") else None


def transformer_checkpoints() -> dict[str, str]:
    """Pretrained Transformer checkpoints: name -> one-line description."""
    try:
        checkpoints = importlib.import_module("models.checkpoints")
    except ImportError:
        return {}
    return {c.name: c.description for c in checkpoints.list_checkpoints() if c.arch == "transformer"}


def check_knobs(knobs: TraceKnobs, settings: Settings) -> None:
    """The checks a single Field cannot make: across knobs, against settings, against the server."""
    if len(knobs.text) > settings.max_text_length:
        raise KnobError("text", f"at most {settings.max_text_length} characters on this server")
    if knobs.arch in RECURRENT:
        if knobs.layers > LIMITS["layers_recurrent"]:
            raise KnobError("layers", f"{knobs.arch} takes 1 to {LIMITS['layers_recurrent']} layers")
        if knobs.hidden_size > settings.max_hidden_size:
            raise KnobError("hidden_size", f"at most {settings.max_hidden_size} on this server")
    else:
        if transformer_module() is None:
            raise KnobError("arch", "the transformer engine is not installed on this server yet")
        if knobs.checkpoint is not None and knobs.checkpoint not in transformer_checkpoints():
            raise KnobError("checkpoint", f"unknown; one of {sorted(transformer_checkpoints())} or null")
        if knobs.checkpoint is None and knobs.d_model % knobs.heads:
            raise KnobError("heads", f"must divide d_model ({knobs.d_model})")
    if knobs.clip_mode is not None and knobs.clip_threshold is None:
        raise KnobError("clip_threshold", "required (> 0) when clip_mode is set")


def _field_of(message: str) -> str:
    """Which knob an engine ValueError is about, read from its message."""
    if "character" in message or "vocabulary" in message:
        return "text"
    named = [k for k in KNOB_NAMES if re.search(rf"\b{k}\b", message)]
    return named[0] if named else "arch"


def run_trace(knobs: dict[str, Any], device: str, helper: Executor | None = None):
    """The engine's trace for canonical knobs; its ValueErrors become KnobErrors naming the field.
    helper: a thread the recurrent engine may hand part of the work to (see trace_recurrent)."""
    options = TraceOptions(
        truncation=knobs.get("truncation"),
        clip_mode=knobs["clip_mode"],
        clip_threshold=knobs["clip_threshold"],
        device=device,
    )
    try:
        if knobs["arch"] in RECURRENT:
            config = RecurrentConfig(
                arch=knobs["arch"],
                hidden_size=knobs["hidden_size"],
                layers=knobs["layers"],
                activation=knobs.get("activation", "tanh"),
                seed=knobs["seed"],
                spectral_norm=knobs["spectral_norm"],
                identity_init=knobs.get("identity_init", False),
                forget_bias=knobs.get("forget_bias"),
            )
            return trace_recurrent(knobs["text"], config, options, helper=helper)
        tf = transformer_module()
        config = None  # a checkpoint brings its own config and vocabulary
        if knobs["checkpoint"] is None:
            config = tf.TransformerConfig(
                vocab_size=len(set(knobs["text"])),
                d_model=knobs["d_model"],
                layers=knobs["layers"],
                heads=knobs["heads"],
                d_ff=knobs["d_ff"],
                positional=knobs["positional"],
                max_len=LIMITS["text"],
                seed=knobs["seed"],
            )
        return tf.trace_transformer(knobs["text"], config, options, checkpoint=knobs["checkpoint"])
    except ValueError as err:
        raise KnobError(_field_of(str(err)), str(err)) from None
