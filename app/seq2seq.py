"""The encoder-decoder with additive attention at work (models.seq2seq): one source string traced decoder
step by decoder step (energies e_ij, weights a_ij, context c_i, state s_i, the prediction and its loss),
and greedy accuracy against input length on held-out strings, with and without attention.

The checkpoints are loaded once per process on the CPU and shared read-only by the pool's threads; the
payloads are pure functions of the knobs, so a small LRU cache answers repeats. Everything that touches
torch runs in the TraceService's pool (app.routes.seq2seq awaits it).
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app.errors import KnobError
from app.lab.memory import RUN_PREFIX, MemoryModels
from models import limits
from models.checkpoints import CHECKPOINTS, Checkpoint, load_checkpoint
from models.seq2seq import (
    ACCURACY_LENGTH_STRIDE,
    ACCURACY_STRINGS,
    MAX_SOURCE_LEN,
    Seq2Seq,
    accuracy_by_length,
    trace_seq2seq,
)
from models.tasks import BOS, EOS, LETTERS, SEQ2SEQ_TASKS, get_task
from models.vocab import Vocab

DEFAULT_CHECKPOINT = "seq2seq-reverse-attention"


def seq2seq_checkpoints() -> dict[str, dict[str, str]]:
    """The encoder-decoder checkpoints: name -> description {"ko": ..., "en": ...}."""
    return {name: info.description for name, info in CHECKPOINTS.items() if info.arch == "seq2seq"}


class Seq2SeqKnobs(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    # the document says what the validators check (schemathesis then sends only names the server takes)
    checkpoint: str = Field(DEFAULT_CHECKPOINT, max_length=64, json_schema_extra={"anyOf": [
                                {"enum": list(seq2seq_checkpoints())}, {"pattern": f"^{RUN_PREFIX}"}]},
                            description="a trained encoder-decoder: "
                            "seq2seq-reverse-attention, seq2seq-reverse-plain or seq2seq-swap-attention, or "
                            "run:<id>, a training run of the lab's reverse task at its current step")
    source: str = Field("attention", min_length=1, max_length=MAX_SOURCE_LEN,
                        json_schema_extra={"pattern": f"^[{LETTERS[0]}-{LETTERS[-1]}]+$"},
                        description="the input string: lower-case letters a-z, at most the checkpoint's max_len")
    teacher_forcing: bool = Field(True, description="feed the decoder the right previous character (true) or "
                                  "its own previous prediction (false)")

    @field_validator("checkpoint")
    @classmethod
    def checkpoint_is_an_encoder_decoder(cls, name: str) -> str:
        if name not in seq2seq_checkpoints() and not name.startswith(RUN_PREFIX):
            raise PydanticCustomError("seq2seq_checkpoint", "one of {expected}",
                                      {"expected": ", ".join(seq2seq_checkpoints())})
        return name

    @field_validator("source")
    @classmethod
    def source_is_letters(cls, source: str) -> str:
        bad = next((ch for ch in source if ch not in LETTERS), None)
        if bad is not None:
            raise PydanticCustomError("seq2seq_alphabet", "only the letters a-z, not {char!r}",
                                      {"char": bad, "allowed": "a-z"})
        return source


class Seq2SeqBody(Seq2SeqKnobs):
    model_config = ConfigDict(extra="forbid")


class Seq2SeqQuery(Seq2SeqKnobs):
    model_config = ConfigDict(extra="ignore")


class AccuracyQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    task: str = Field("reverse", json_schema_extra={"enum": list(SEQ2SEQ_TASKS)},
                      description="reverse or swap_pairs: every checkpoint trained on it is measured")
    count: int = Field(100, ge=ACCURACY_STRINGS[0], le=ACCURACY_STRINGS[1],
                       description="held-out random strings per length")
    seed: int = Field(0, ge=0, le=limits.SEED_MAX, description="seed of the held-out strings")
    checkpoint: str | None = Field(None, max_length=64, json_schema_extra={"pattern": f"^{RUN_PREFIX}"},
                                   description="run:<id>[@<step>], a lab run of the task: its line too, at "
                                   "that step (without a step: its current one)")

    @field_validator("checkpoint")
    @classmethod
    def checkpoint_is_a_run(cls, name: str | None) -> str | None:
        if name is not None and not name.startswith(RUN_PREFIX):
            raise PydanticCustomError("seq2seq_checkpoint", "one of {expected}", {"expected": f"{RUN_PREFIX}<id>"})
        return name

    @field_validator("task")
    @classmethod
    def task_is_known(cls, task: str) -> str:
        if task not in SEQ2SEQ_TASKS:
            raise PydanticCustomError("seq2seq_task", "one of {expected}", {"expected": ", ".join(SEQ2SEQ_TASKS)})
        return task


@lru_cache
def loaded(name: str) -> Checkpoint:
    return load_checkpoint(name, device="cpu")


def _f(a: np.ndarray | None) -> list[Any] | None:
    return None if a is None else np.asarray(a, dtype=np.float64).tolist()


@lru_cache(maxsize=64)
def _trace_payload(checkpoint: str, model: Seq2Seq, vocab_: Vocab, source: str, teacher_forcing: bool
                   ) -> dict[str, Any]:
    """checkpoint: the name the payload reports (a run's weights: `run:<id>@<step>`, frozen, so the name
    keys the cache); model and vocab_: its weights and vocabulary."""
    config = model.config
    if len(source) > config.max_len:
        raise KnobError("source", "seq2seq_source_len", limit=config.max_len)
    tr = trace_seq2seq(source, model=model, vocab=vocab_, teacher_forcing=teacher_forcing, device="cpu")
    arrays = [tr.encoder_states, tr.decoder_states, tr.attention, tr.context, tr.probs, tr.loss]
    if not all(np.isfinite(a).all() for a in arrays + ([] if tr.energies is None else [tr.energies])):
        raise KnobError("source", "seq2seq_nonfinite")  # trained weights never overflow here; JSON stays strict
    vocab = list(tr.vocab)
    task = get_task(config.task)
    aligned = task.alignment(len(source))  # output position -> the source position it copies (EOS: none)
    out_chars = list(tr.target) + [EOS]
    steps = []
    for i in range(len(out_chars)):
        probs = tr.probs[i]
        target_id = int(tr.target_tokens[i])
        steps.append({
            "i": i,
            "input": vocab[int(tr.decoder_inputs[i])],
            "target": out_chars[i],
            "aligned": aligned[i] if i < len(aligned) else None,
            "energies": None if tr.energies is None else _f(tr.energies[i]),
            "weights": _f(tr.attention[i]) if config.attention else None,
            "context": _f(tr.context[i]),
            "context_norm": float(np.linalg.norm(tr.context[i])),
            "state": _f(tr.decoder_states[i]),
            "state_norm": float(np.linalg.norm(tr.decoder_states[i])),
            "probs": _f(probs),
            "chosen": vocab[int(tr.predicted_tokens[i])],
            "p_target": float(probs[target_id]),
            "loss": float(tr.loss[i]),
            "correct": bool(tr.correct[i]),
        })
    hits = None
    if config.attention:
        peaks = tr.attention[: len(source)].argmax(-1)
        hits = float(np.mean([int(p) == a for p, a in zip(peaks, aligned, strict=True)]))
    payload = {
        "checkpoint": checkpoint,
        "task": config.task,
        "attention": config.attention,
        "teacher_forcing": teacher_forcing,
        "source": source,
        "target": tr.target,
        "predicted": tr.predicted,
        "vocab": vocab,
        "bos": BOS,
        "eos": EOS,
        "max_len": config.max_len,
        "hidden_size": config.hidden_size,
        "J": len(source),
        "T": len(out_chars),
        "encoder": {"chars": list(source), "annotations": _f(tr.encoder_states),
                    "norms": _f(np.linalg.norm(tr.encoder_states, axis=-1))},
        "steps": steps,
        "summary": {
            "total_loss": tr.total_loss,
            "mean_loss": tr.total_loss / len(out_chars),
            "correct": int(tr.correct.sum()),
            "exact": tr.predicted == tr.target,
            "alignment_hits": hits,
        },
    }
    return payload


def trace_payload(knobs: Seq2SeqKnobs, memory: MemoryModels | None = None) -> dict[str, Any]:
    """Per decoder step the engine's numbers for `knobs.source`. A `run:<id>@<step>` checkpoint (frozen by
    app.lab.runs.RunManager.freeze) comes from `memory`. Runs in the pool."""
    name = knobs.checkpoint
    if name.startswith(RUN_PREFIX):
        model, vocab = run_model(name, memory)
        return _trace_payload(name, model, vocab, knobs.source, knobs.teacher_forcing)
    ck = loaded(name)
    return _trace_payload(name, ck.model, ck.vocab, knobs.source, knobs.teacher_forcing)


def run_model(name: str, memory: MemoryModels | None) -> tuple[Seq2Seq, Vocab]:
    """A lab run's weights frozen at one step (`run:<id>@<step>`, app.lab.runs.RunManager.freeze)."""
    try:
        entry = (memory or MemoryModels(upload_keep_s=0, upload_megabytes=0)).get(name)
    except KeyError:
        raise KnobError("checkpoint", "memory_gone") from None
    if not isinstance(entry.model, Seq2Seq):
        raise KnobError("checkpoint", "lab_run_arch", arch=entry.arch)
    return entry.model, entry.vocab


@lru_cache(maxsize=16)
def _accuracy_payload(task: str, count: int, seed: int) -> dict[str, Any]:
    names = [n for n in seq2seq_checkpoints() if loaded(n).model.config.task == task]
    max_len = min(loaded(n).model.config.max_len for n in names)
    lengths = list(range(ACCURACY_LENGTH_STRIDE, max_len + 1, ACCURACY_LENGTH_STRIDE))
    models = []
    for name in names:
        model = loaded(name).model
        acc = accuracy_by_length(model, lengths, count, seed=seed)
        models.append({"checkpoint": name, "attention": model.config.attention,
                       "sequence": [acc[n]["sequence"] for n in lengths],
                       "character": [acc[n]["character"] for n in lengths]})
    return {"task": task, "count": count, "seed": seed, "lengths": lengths, "models": models}


@lru_cache(maxsize=16)
def _run_accuracy(name: str, model: Seq2Seq, lengths: tuple[int, ...], count: int, seed: int) -> dict[str, Any]:
    """A frozen run's line (its name holds the step, so the weights behind it never change); null past the
    longest input it was built for."""
    within = [n for n in lengths if n <= model.config.max_len]
    acc = accuracy_by_length(model, within, count, seed=seed)
    return {"checkpoint": name, "attention": model.config.attention, "run": True,
            "sequence": [acc[n]["sequence"] if n in acc else None for n in lengths],
            "character": [acc[n]["character"] if n in acc else None for n in lengths]}


def accuracy_payload(knobs: AccuracyQuery, memory: MemoryModels | None = None) -> dict[str, Any]:
    """Greedy accuracy against input length of every checkpoint trained on `knobs.task`: whole strings and
    characters right, on `count` random strings per length (2, 4, ..., max_len); with a frozen run
    (`knobs.checkpoint`, from `memory`), its line after theirs, on the same strings. Runs in the pool."""
    payload = _accuracy_payload(knobs.task, knobs.count, knobs.seed)
    if knobs.checkpoint is None:
        return payload
    model, _ = run_model(knobs.checkpoint, memory)
    if model.config.task != knobs.task:
        raise KnobError("checkpoint", "seq2seq_run_task", task=model.config.task)
    line = _run_accuracy(knobs.checkpoint, model, tuple(payload["lengths"]), knobs.count, knobs.seed)
    return {**payload, "models": [*payload["models"], line]}


CSV_COLUMNS = ("i", "input", "target", "chosen", "p_target", "loss", "correct", "context_norm", "state_norm",
               "aligned", "attended", "max_weight")


def trace_csv(payload: dict[str, Any]) -> str:
    """One row per decoder step of a trace payload: what it read and chose, p(target), the loss, the norms of
    c_i and s_i, the source position it copies (aligned) and the one it weighs most (attended, with
    attention)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in payload["steps"]:
        w = s["weights"]
        peak = None if w is None else int(np.argmax(w))
        writer.writerow([s["i"], s["input"], s["target"], s["chosen"], repr(s["p_target"]), repr(s["loss"]),
                         int(s["correct"]), repr(s["context_norm"]), repr(s["state_norm"]),
                         "" if s["aligned"] is None else s["aligned"], "" if peak is None else peak,
                         "" if w is None else repr(float(w[peak]))])
    return out.getvalue()
