"""Pretrained demo checkpoints: the registry, saving, and loading with no network.

Every checkpoint is produced by `scripts/pretrain.py` from a fixed seed (the recipes live in
models.pretrain) and committed under checkpoints/. Loading reads the file with
torch.load(weights_only=True): plain tensors, numbers and strings, never pickled code, never a download.

A checkpoint file is a dict: format, name, arch, description ({"ko", "en"}), config (the config
dataclass as a dict), vocab (its characters as one string), state_dict, meta (seed, steps, final loss,
loss history, command). The character language models store their weights as float16 (half the
bytes; their vocabulary of some 760 characters makes the one-hot input and the readout large) and
load them into float32 parameters: the loss in meta is the loss of those rounded weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from models.charlm import CharRNN, RecurrentConfig
from models.seq2seq import Seq2Seq, Seq2SeqConfig
from models.transformer import CausalTransformer, TransformerConfig
from models.vocab import Vocab

FORMAT = 1
CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
ARCHS = {
    "transformer": (TransformerConfig, CausalTransformer),
    "seq2seq": (Seq2SeqConfig, Seq2Seq),
    **{arch: (RecurrentConfig, CharRNN) for arch in ("rnn", "lstm", "gru", "sgru")},
}


@dataclass(frozen=True)
class CheckpointInfo:
    name: str
    arch: str  # transformer | seq2seq | rnn | lstm | gru | sgru
    description: dict[str, str]  # {"ko": ..., "en": ...}, one or two sentences for a menu


CHECKPOINTS: dict[str, CheckpointInfo] = {
    info.name: info
    for info in (
        CheckpointInfo(
            "transformer-induction",
            "transformer",
            {
                "en": "2-layer, 4-head Transformer trained on repeated random text: a look-back (induction) head "
                "attends to the character after the previous occurrence of the current one",
                "ko": "반복되는 무작위 글자열로 학습한 2층, 헤드 4개짜리 Transformer입니다. 되돌아보기(induction) "
                "헤드가 지금 글자가 앞에서 나왔던 자리의 바로 다음 글자에 주목합니다.",
            },
        ),
        CheckpointInfo(
            "seq2seq-reverse-attention",
            "seq2seq",
            {
                "en": "GRU encoder-decoder with additive attention trained to reverse strings: anti-diagonal alignment",
                "ko": "덧셈 어텐션을 쓰는 GRU 인코더-디코더로, 글자열을 거꾸로 뒤집도록 학습했습니다. 정렬이 "
                "반대 대각선을 따라 나타납니다.",
            },
        ),
        CheckpointInfo(
            "seq2seq-reverse-plain",
            "seq2seq",
            {
                "en": "the same encoder-decoder without attention (context = last encoder state): fails as inputs grow",
                "ko": "같은 인코더-디코더에서 어텐션을 뺀 모델입니다. 문맥이 인코더의 마지막 상태 하나뿐이라서 "
                "입력이 길어질수록 많이 틀립니다.",
            },
        ),
        CheckpointInfo(
            "seq2seq-swap-attention",
            "seq2seq",
            {
                "en": "GRU encoder-decoder with additive attention trained to swap neighbouring characters: "
                "zig-zag alignment",
                "ko": "덧셈 어텐션을 쓰는 GRU 인코더-디코더로, 이웃한 두 글자의 자리를 맞바꾸도록 학습했습니다. "
                "정렬이 지그재그로 나타납니다.",
            },
        ),
        CheckpointInfo(
            "charlm-rnn",
            "rnn",
            {
                "en": "Elman RNN (tanh, 128 units, 1 layer) trained to predict the next character of everyday "
                "Korean and English prose; what it read long ago fades quickly",
                "ko": "한국어와 영어 일상 글로 다음 글자를 예측하도록 학습한 엘만 RNN입니다(tanh, 은닉 유닛 128개, "
                "1층). 오래전에 읽은 글자는 기억에서 빨리 흐려집니다.",
            },
        ),
        CheckpointInfo(
            "charlm-lstm",
            "lstm",
            {
                "en": "LSTM (128 units, 1 layer) trained on the same Korean and English prose: its gates decide "
                "what the cell state keeps",
                "ko": "같은 한국어·영어 글로 학습한 LSTM입니다(은닉 유닛 128개, 1층). 입력·망각·출력 게이트가 "
                "셀 상태에 무엇을 남길지 정합니다.",
            },
        ),
        CheckpointInfo(
            "charlm-gru",
            "gru",
            {
                "en": "GRU (128 units, 1 layer) trained on the same Korean and English prose: reset and update "
                "gates mix the old state with the new",
                "ko": "같은 한국어·영어 글로 학습한 GRU입니다(은닉 유닛 128개, 1층). 리셋 게이트와 업데이트 "
                "게이트가 이전 상태와 새 후보를 섞습니다.",
            },
        ),
        CheckpointInfo(
            "charlm-transformer",
            "transformer",
            {
                "en": "causal Transformer (2 layers, 4 heads, d_model 96) trained on the same Korean and English "
                "prose as the RNN, LSTM and GRU: every earlier character is one attention step away",
                "ko": "RNN, LSTM, GRU와 같은 한국어·영어 글로 학습한 인과 Transformer입니다(2층, 헤드 4개, "
                "d_model 96). 앞의 모든 글자가 어텐션 한 번 거리에 있습니다.",
            },
        ),
    )
}


def list_checkpoints() -> list[CheckpointInfo]:
    return list(CHECKPOINTS.values())


@dataclass(frozen=True)
class Checkpoint:
    info: CheckpointInfo
    config: TransformerConfig | Seq2SeqConfig | RecurrentConfig
    vocab: Vocab
    model: nn.Module  # in eval mode
    meta: dict


def checkpoint_path(name: str) -> Path:
    return CHECKPOINT_DIR / f"{name}.pt"


def save_checkpoint(
    path: Path, info: CheckpointInfo, model: nn.Module, vocab: Vocab, meta: dict, dtype: torch.dtype | None = None
) -> None:
    """dtype: store floating-point weights in this type (None: as they are)."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    payload = {
        "format": FORMAT,
        "name": info.name,
        "arch": info.arch,
        "description": info.description,
        "config": asdict(model.config),
        "vocab": "".join(vocab.chars),
        "state_dict": state,
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
    model.load_state_dict(payload["state_dict"])  # copies into the model's float32 parameters
    model.eval().to(device)
    description = payload["description"]
    if isinstance(description, str):  # files written before descriptions had two languages
        description = {"en": description, "ko": description}
    info = CHECKPOINTS.get(payload["name"], CheckpointInfo(payload["name"], payload["arch"], description))
    return Checkpoint(info, config, Vocab(tuple(payload["vocab"])), model, payload["meta"])
