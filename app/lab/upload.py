"""Bring your own model: a torch.nn.RNN, LSTM or GRU character model, uploaded as safetensors, stepped
through in the bench like any checkpoint.

The file holds the module's state_dict under torch.nn's names (weight_ih_l0, weight_hh_l0, bias_ih_l0,
bias_hh_l0, ... per layer) and the readout as readout.weight / readout.bias; its metadata (or the
query) gives the vocabulary as a JSON list of characters, one per input id. Inputs are one-hot over
that vocabulary and the readout predicts the next character over it, as in models.charlm. Shapes are
checked against the declared architecture before anything is built; safetensors holds tensors only,
so nothing in the file can run (a pickle is refused as not being safetensors).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load

from app.errors import KnobError
from app.lab.memory import UPLOAD_PREFIX, MemoryModel, MemoryModels
from models import limits
from models.charlm import RecurrentConfig
from models.training.model import engine_model
from models.vocab import Vocab

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
VOCAB = (2, 4096)  # characters in an uploaded vocabulary


def _vocab(metadata: dict[str, str], given: str | None) -> tuple[str, ...]:
    raw = given if given is not None else metadata.get("vocab")
    if raw is None:
        raise KnobError("vocab", "upload_vocab_missing")
    try:
        chars = json.loads(raw)
    except ValueError:
        raise KnobError("vocab", "upload_vocab_format") from None
    if not isinstance(chars, list) or not all(isinstance(c, str) and len(c) == 1 for c in chars):
        raise KnobError("vocab", "upload_vocab_format")
    if len(set(chars)) != len(chars) or not VOCAB[0] <= len(chars) <= VOCAB[1]:
        raise KnobError("vocab", "upload_vocab_size", low=VOCAB[0], limit=VOCAB[1])
    return tuple(chars)


def _expect(name: str, tensors: dict[str, torch.Tensor], shape: tuple[int, ...]) -> None:
    if name not in tensors:
        raise KnobError("file", "upload_missing", name=name)
    if tuple(tensors[name].shape) != shape:
        raise KnobError("file", "upload_shape", name=name, got=list(tensors[name].shape), expected=list(shape))


def parse_upload(raw: bytes, arch: str, activation: str, vocab: str | None) -> tuple[str, MemoryModel]:
    """The model's name (upload:<sha256 prefix>) and the model, or a KnobError naming what is wrong."""
    try:
        tensors = load(raw)
        header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])
    except (SafetensorError, ValueError, OverflowError, UnicodeDecodeError):
        raise KnobError("file", "upload_format") from None
    metadata = header.get("__metadata__") or {}
    chars = _vocab(metadata, vocab)
    layer_names = sorted({m.group(1) for k in tensors if (m := re.fullmatch(r"weight_hh_l(\d+)", k))}, key=int)
    layers = len(layer_names)
    if not 1 <= layers <= limits.LAYERS[arch] or layer_names != [str(i) for i in range(layers)]:
        raise KnobError("file", "upload_layers", arch=arch, limit=limits.LAYERS[arch])
    G, H, V = GATES[arch], tensors["weight_hh_l0"].shape[-1], len(chars)
    if not 1 <= H <= limits.MAX_HIDDEN:
        raise KnobError("file", "upload_hidden", limit=limits.MAX_HIDDEN)
    for layer in range(layers):
        _expect(f"weight_ih_l{layer}", tensors, (G * H, V if layer == 0 else H))
        _expect(f"weight_hh_l{layer}", tensors, (G * H, H))
        _expect(f"bias_ih_l{layer}", tensors, (G * H,))
        _expect(f"bias_hh_l{layer}", tensors, (G * H,))
    _expect("readout.weight", tensors, (V, H))
    _expect("readout.bias", tensors, (V,))
    expected = {f"{w}_l{layer}" for layer in range(layers) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    extra = sorted(set(tensors) - expected - {"readout.weight", "readout.bias"})
    if extra:
        raise KnobError("file", "upload_extra", name=extra[0][:60])
    weights = {k: v.to(torch.float32) for k, v in tensors.items()}
    if not all(bool(torch.isfinite(v).all()) for v in weights.values()):
        raise KnobError("file", "upload_not_finite")
    config = RecurrentConfig(arch=arch, vocab_size=V, hidden_size=H, layers=layers,
                             activation=activation if arch == "rnn" else "tanh")
    name = UPLOAD_PREFIX + hashlib.sha256(raw).hexdigest()[:24]
    nbytes = sum(v.numel() * 4 for v in weights.values())
    facts = {"arch": arch, "layers": layers, "hidden": H, "vocab": V}
    describe = {"en": "your uploaded {arch}: {layers} layer(s), {hidden} units, {vocab} characters".format(**facts),
                "ko": "올린 {arch} 모델: {layers}층, 은닉 유닛 {hidden}개, 글자 {vocab}개".format(**facts)}
    return name, MemoryModel(engine_model(weights, config), Vocab(chars), None, arch, nbytes, describe)


def check_upload(memory: MemoryModels, name: str, arch: str) -> None:
    """An upload named in the knobs: still held, and opened as the architecture it was uploaded as."""
    try:
        held = memory.get(name)
    except KeyError:
        raise KnobError("checkpoint", "memory_gone") from None
    if held.arch != arch:
        raise KnobError("checkpoint", "lab_run_arch", arch=held.arch)


def summary(name: str, held: MemoryModel) -> dict[str, Any]:
    cfg = held.model.config
    return {"checkpoint": name, "arch": held.arch, "layers": cfg.layers, "hidden_size": cfg.hidden_size,
            "vocab": list(held.vocab.chars), "bytes": held.nbytes}
