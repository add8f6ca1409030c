"""Pretrained demo checkpoints: the registry, saving, and loading with no network.

Every checkpoint is produced by `scripts/pretrain.py` from a fixed seed (the recipes live in
models.pretrain) and committed under checkpoints/. Loading reads the file with
torch.load(weights_only=True): plain tensors, numbers and strings, never pickled code, never a download.

A checkpoint file is a dict: format, name, arch, config (the config dataclass as a dict), vocab (its
characters as one string), state_dict, meta (seed, steps, final loss, loss history, command).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from models.seq2seq import Seq2Seq, Seq2SeqConfig
from models.transformer import CausalTransformer, TransformerConfig
from models.vocab import Vocab

FORMAT = 1
CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
ARCHS = {"transformer": (TransformerConfig, CausalTransformer), "seq2seq": (Seq2SeqConfig, Seq2Seq)}


@dataclass(frozen=True)
class CheckpointInfo:
    name: str
    arch: str  # transformer | seq2seq
    description: str  # one line, for a menu


CHECKPOINTS: dict[str, CheckpointInfo] = {
    info.name: info
    for info in (
        CheckpointInfo(
            "transformer-induction",
            "transformer",
            "2-layer, 4-head Transformer trained on repeated random text: a look-back (induction) head "
            "attends to the character after the previous occurrence of the current one",
        ),
        CheckpointInfo(
            "seq2seq-reverse-attention",
            "seq2seq",
            "GRU encoder-decoder with additive attention trained to reverse strings: anti-diagonal alignment",
        ),
        CheckpointInfo(
            "seq2seq-reverse-plain",
            "seq2seq",
            "the same encoder-decoder without attention (context = last encoder state): fails as inputs grow",
        ),
        CheckpointInfo(
            "seq2seq-swap-attention",
            "seq2seq",
            "GRU encoder-decoder with additive attention trained to swap neighbouring characters: zig-zag alignment",
        ),
    )
}


def list_checkpoints() -> list[CheckpointInfo]:
    return list(CHECKPOINTS.values())


@dataclass(frozen=True)
class Checkpoint:
    info: CheckpointInfo
    config: TransformerConfig | Seq2SeqConfig
    vocab: Vocab
    model: nn.Module  # in eval mode
    meta: dict


def checkpoint_path(name: str) -> Path:
    return CHECKPOINT_DIR / f"{name}.pt"


def save_checkpoint(path: Path, info: CheckpointInfo, model: nn.Module, vocab: Vocab, meta: dict) -> None:
    payload = {
        "format": FORMAT,
        "name": info.name,
        "arch": info.arch,
        "description": info.description,
        "config": asdict(model.config),
        "vocab": "".join(vocab.chars),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "meta": meta,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)


def load_checkpoint(name: str | Path, device: torch.device | str = "cpu") -> Checkpoint:
    """Load a registered checkpoint by name, or a checkpoint file by path, offline."""
    if isinstance(name, str) and name in CHECKPOINTS:
        path = checkpoint_path(name)
    elif Path(name).suffix == ".pt" and Path(name).is_file():
        path = Path(name)
    else:
        raise ValueError(f"unknown checkpoint {str(name)!r}; available: {', '.join(CHECKPOINTS)}")
    if not path.is_file():
        raise ValueError(f"checkpoint file {path} is missing: run scripts/pretrain.py {name}")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format") != FORMAT:
        raise ValueError(f"checkpoint {path} has format {payload.get('format')!r}, expected {FORMAT}")
    config_cls, model_cls = ARCHS[payload["arch"]]
    config = config_cls(**payload["config"])
    model = model_cls(config)
    model.load_state_dict(payload["state_dict"])
    model.eval().to(device)
    info = CHECKPOINTS.get(payload["name"], CheckpointInfo(payload["name"], payload["arch"], payload["description"]))
    return Checkpoint(info, config, Vocab(tuple(payload["vocab"])), model, payload["meta"])
