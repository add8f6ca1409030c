"""From canonical knobs to the engine's trace: the one place that knows models/ call signatures.

The Transformer engine is optional at import time, so the recurrent bench works on a checkout where
models.transformer is absent; `/api/architectures` says whether it is available.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from app.errors import KnobError
from app.lab.memory import MemoryModel, is_memory_name
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


def checkpoints_for(arch: str) -> dict:
    """The pretrained checkpoints a trace of `arch` can load: name -> description."""
    try:
        checkpoints = importlib.import_module("models.checkpoints")
    except ImportError:
        return {}
    return {c.name: c.description for c in checkpoints.list_checkpoints() if c.arch == arch}


def check_knobs(knobs: TraceKnobs, settings: Settings) -> None:
    """The checks a single Field cannot make: across knobs, against settings, against the server.
    Each error has a code; app.errors writes its sentence in the request's language."""
    if len(knobs.text) > settings.max_text_length:
        raise KnobError("text", "text_server_max", limit=settings.max_text_length)
    if knobs.arch in RECURRENT and knobs.hidden_size > settings.max_hidden_size:
        raise KnobError("hidden_size", "hidden_server_max", limit=settings.max_hidden_size)
    if knobs.arch == "transformer" and transformer_module() is None:
        raise KnobError("arch", "transformer_missing")
    in_memory = is_memory_name(knobs.checkpoint)  # checked where it is resolved (app.deps)
    if knobs.checkpoint is not None and not in_memory and knobs.checkpoint not in checkpoints_for(knobs.arch):
        choices = ", ".join(checkpoints_for(knobs.arch)) or "-"
        raise KnobError("checkpoint", "checkpoint_unknown", arch=knobs.arch, choices=choices)
    if knobs.arch == "transformer" and knobs.checkpoint is None and knobs.d_model % knobs.heads:
        raise KnobError("heads", "heads_divide", d_model=knobs.d_model)
    if knobs.clip_mode is not None and knobs.clip_threshold is None:
        raise KnobError("clip_threshold", "clip_threshold_required")


def _nothing_in_memory(name: str) -> MemoryModel:
    raise KeyError(name)


def _engine_error(message: str) -> KnobError:
    """An engine ValueError as a KnobError naming its field (read from the message)."""
    unknown = re.search(r"character ('.+?'|\S+) is not in", message)
    if unknown:
        return KnobError("text", "text_vocab", char=unknown.group(1))
    named = [k for k in KNOB_NAMES if re.search(rf"\b{k}\b", message)]
    return KnobError(named[0] if named else "arch", "engine", detail=message)


def run_trace(knobs: dict[str, Any], device: str, helper: Executor | None = None,
              memory: Callable[[str], MemoryModel] | None = None):
    """The engine's trace for canonical knobs; its ValueErrors become KnobErrors naming the field.
    helper: a thread the recurrent engine may hand part of the work to (see trace_recurrent).
    memory: where the models held in memory are found (app.lab.memory.MemoryModels.get): training runs'
    frozen weights and uploaded models."""
    options = TraceOptions(
        truncation=knobs.get("truncation"),
        clip_mode=knobs["clip_mode"],
        clip_threshold=knobs["clip_threshold"],
        device=device,
    )
    try:
        checkpoint = knobs.get("checkpoint")
        if checkpoint is not None and is_memory_name(checkpoint):
            try:
                held = (memory or _nothing_in_memory)(checkpoint)
            except KeyError:
                raise KnobError("checkpoint", "memory_gone") from None
            if held.arch == "transformer":
                tf = transformer_module()
                return tf.trace_transformer(knobs["text"], None, options, in_memory=(held.model, held.vocab),
                                            targets=held.targets)
            numbers = None if held.numbers is None else held.numbers(knobs.get("example", 0))  # its own input
            return trace_recurrent(knobs["text"], None, options, helper=helper, in_memory=(held.model, held.vocab),
                                   targets=held.targets, numbers=numbers)
        if knobs["arch"] in RECURRENT:  # a checkpoint brings its own config and vocabulary
            config = None if checkpoint else RecurrentConfig(
                arch=knobs["arch"],
                hidden_size=knobs["hidden_size"],
                layers=knobs["layers"],
                activation=knobs.get("activation", "tanh"),
                seed=knobs["seed"],
                spectral_norm=knobs["spectral_norm"],
                identity_init=knobs.get("identity_init", False),
                forget_bias=knobs.get("forget_bias"),
            )
            return trace_recurrent(knobs["text"], config, options, helper=helper, checkpoint=checkpoint)
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
        raise _engine_error(str(err)) from None
