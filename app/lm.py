"""The language-model endpoints' knobs and work: text written by a trained character model
(models.sampling), and the AR(tau) count model next to that model's own predictions (models.ngram).

The models are the committed character-model checkpoints (arch rnn, lstm or gru), loaded once per
process on the CPU (writing one character at a time is a chain of tiny operations, which a GPU would
only slow down) and shared read-only by the pool's threads. The AR counts come from the text those
models were trained on (models.corpus, the training split), read with the same vocabulary.

Everything here that touches torch runs in the TraceService's pool (app.routes.lm awaits it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app.errors import KnobError
from app.schemas import RECURRENT, TraceKnobs
from models import limits
from models.checkpoints import CHECKPOINTS, Checkpoint, load_checkpoint
from models.corpus import corpus_split
from models.ngram import CharCounts, ar_steps
from models.sampling import Sampler, SampleStep

DEFAULT_CHECKPOINT = "charlm-lstm"


def lm_checkpoints() -> dict[str, dict[str, str]]:
    """The character-model checkpoints: name -> description {"ko": ..., "en": ...}."""
    return {name: info.description for name, info in CHECKPOINTS.items() if info.arch in RECURRENT}


class _LMKnobs(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    checkpoint: str = Field(DEFAULT_CHECKPOINT, max_length=64, json_schema_extra={"enum": list(lm_checkpoints())},
                            description="a trained character model: charlm-rnn, charlm-lstm or charlm-gru")

    @field_validator("checkpoint")
    @classmethod
    def checkpoint_is_a_character_model(cls, name: str) -> str:
        if name not in lm_checkpoints():
            raise PydanticCustomError("lm_checkpoint", "one of {choices}", {"choices": ", ".join(lm_checkpoints())})
        return name


def _unicode(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("text_surrogate", "text must be valid Unicode (it has a lone surrogate)") from None
    return text


class SampleKnobs(_LMKnobs):
    """What a trained model writes is a pure function of these."""

    prompt: str = Field("", max_length=limits.MAX_TEXT,
                        description="text the model reads first (not part of the output); empty: it starts a paragraph")
    length: int = Field(200, ge=limits.SAMPLE_LENGTH[0], le=limits.SAMPLE_LENGTH[1], description="characters to write")
    temperature: float = Field(1.0, ge=limits.TEMPERATURE[0], le=limits.TEMPERATURE[1],
                               description="divides the logits before the softmax; 0 = greedy (always the argmax)")
    top_k: int | None = Field(None, ge=1, description="draw only from the k most likely characters; null = from all")
    seed: int = Field(0, ge=0, le=limits.SEED_MAX, description="seed of the random draws")

    _prompt_is_unicode = field_validator("prompt")(_unicode)

    @field_validator("top_k", mode="before")
    @classmethod
    def blank_means_null(cls, value: Any) -> Any:
        return None if value == "" else value


class SampleQuery(SampleKnobs):
    model_config = ConfigDict(extra="ignore")


class SampleBody(SampleKnobs):
    model_config = ConfigDict(extra="forbid")


class ARQuery(_LMKnobs):
    model_config = ConfigDict(extra="ignore")

    text: str = Field(TraceKnobs.model_fields["text"].default, min_length=2, max_length=limits.MAX_TEXT,
                      description="the text to predict, character by character")
    tau: int = Field(3, ge=limits.AR_TAU[0], le=limits.AR_TAU[1],
                     description="how many preceding characters the count model looks at (0 = unigram)")

    _text_is_unicode = field_validator("text")(_unicode)


@lru_cache
def loaded(name: str) -> Checkpoint:
    return load_checkpoint(name)


@lru_cache
def corpus_counts(name: str) -> CharCounts:
    """AR counts of the training text, in checkpoint `name`'s vocabulary."""
    vocab = loaded(name).vocab
    return CharCounts(vocab.encode_known(corpus_split().train)[0], len(vocab))


# ---- sampling ----


@dataclass
class SampleJob:
    knobs: SampleKnobs
    sampler: Sampler
    vocab: list[str]

    def meta(self) -> dict[str, Any]:
        return {"knobs": self.knobs.model_dump(), "vocab": self.vocab, "prompt": self.knobs.prompt,
                "unknown": self.sampler.unknown, "length": self.knobs.length}


def new_sample_job(knobs: SampleKnobs) -> SampleJob:
    """Load the model (once per process) and read the prompt. Runs in the pool."""
    ckpt = loaded(knobs.checkpoint)
    V = len(ckpt.vocab)
    if knobs.top_k is not None and knobs.top_k > V:
        raise KnobError("top_k", "top_k_vocab", limit=V)
    sampler = Sampler(ckpt.model, ckpt.vocab, knobs.prompt, knobs.temperature, knobs.top_k, knobs.seed)
    return SampleJob(knobs, sampler, list(ckpt.vocab.chars))


def step_event(step: SampleStep) -> dict[str, Any]:
    return {"t": step.t, "char": step.char, "probs": step.probs}


def write_all(job: SampleJob) -> dict[str, Any]:
    """Every remaining step of the job, as POST /api/sample answers it. Runs in the pool."""
    steps = [job.sampler.step() for _ in range(job.knobs.length - job.sampler.t)]
    return {**job.meta(), "text": "".join(s.char for s in steps), "steps": [step_event(s) for s in steps]}


# ---- AR(tau) next to the trained model ----


def _mean_loss(p_targets: list[float]) -> float | None:
    """Mean -log p over the predicted characters; None when one of them had p = 0 (infinite loss)."""
    if not p_targets:
        return None
    logs = [-math.log(p) if p > 0 else math.inf for p in p_targets]
    mean = sum(logs) / len(logs)
    return mean if math.isfinite(mean) else None


def ar_payload(knobs: ARQuery) -> dict[str, Any]:
    """Per step t the AR(tau) prediction of character t+1 and the checkpoint's own (the same numbers as
    its trace's `probs`). Runs in the pool."""
    ckpt = loaded(knobs.checkpoint)
    ids, unknown = ckpt.vocab.encode_known(knobs.text)
    ar = ar_steps(corpus_counts(knobs.checkpoint), ids, knobs.tau)
    with torch.no_grad():
        rnn = torch.softmax(ckpt.model.unroll(torch.tensor(ids)).logits, -1).numpy()  # (T, V)
    chars, steps = [ckpt.vocab.chars[i] for i in ids], []  # as the trace names them: U+FFFD where unknown
    for s in ar:
        k = len(s.context)
        steps.append({
            "t": s.t,
            "char": chars[s.t],
            "context": "".join(chars[s.t + 1 - k : s.t + 1]),
            "count": s.count,
            "tau_used": s.tau_used,
            "count_used": int(s.counts.sum()),
            "probs": s.probs.astype(np.float32),
            "target": None if s.target is None else chars[s.t + 1],
            "p_target": s.p_target,
            "rnn": {"probs": rnn[s.t], "p_target": None if s.target is None else float(rnn[s.t, s.target])},
        })
    predicted = steps[:-1]
    return {
        "checkpoint": knobs.checkpoint,
        "tau": knobs.tau,
        "text": knobs.text,
        "vocab": list(ckpt.vocab.chars),
        "unknown": unknown,
        "corpus_characters": len(corpus_counts(knobs.checkpoint).w),
        "steps": steps,
        "summary": {
            "ar_loss": _mean_loss([s["p_target"] for s in predicted]),
            "ar_zero": sum(s["p_target"] == 0 for s in predicted),  # targets the counts never saw after c'
            "rnn_loss": _mean_loss([s["rnn"]["p_target"] for s in predicted]),
            "backed_off": sum(s["tau_used"] < len(s["context"]) for s in steps),
        },
    }
