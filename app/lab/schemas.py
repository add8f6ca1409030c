"""The knobs of one training run (POST /api/runs), their limits, and the checks across knobs.

Limits come from models.limits and from each task (models.training.tasks: what T means and how far
it may go); the estimated work of a run (models.cost's multiply-adds per step, times the steps) is
capped by the server's `lab_max_gmacs`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.errors import KnobError
from models import limits
from models.cost import recurrent_cost, transformer_cost
from models.training.loop import TrainConfig
from models.training.model import LAB_ARCHS, RECURRENT_LAB, ModelSpec
from models.training.tasks import TASKS, get_task

LabArch = Literal["rnn", "irnn", "lstm", "gru", "transformer", "seq2seq"]
assert set(LabArch.__args__) == set(LAB_ARCHS)  # type: ignore[attr-defined]
TaskName = Literal["adding", "copy", "parity", "charlm", "reverse"]
assert set(TaskName.__args__) == set(TASKS)  # type: ignore[attr-defined]
METRIC_EVENTS = 200  # at most about this many metrics events per run, whatever its length
MIN_METRICS_EVERY = 10  # each costs a held-out evaluation (about one training step): at most 10% more work
SNAPSHOTS = 20  # and this many gradient-against-distance snapshots


def only(*archs: str) -> dict[str, Any]:
    """A knob that means something for these architectures only (the page greys it out elsewhere; a
    nullable one must be null elsewhere, the others are ignored)."""
    return {"json_schema_extra": {"archs": list(archs)}}


class LabKnobs(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False, extra="forbid")

    task: TaskName = Field("adding", description="what the model learns (models.training.tasks)")
    seq_len: int = Field(50, ge=1, le=max(t.length[1] for t in TASKS.values()),
                         description="the task's T (its own range: adding 2-200, copy 1-100, parity 2-200, "
                         "charlm 8-256, reverse 2-32)")
    arch: LabArch = Field("lstm", description="rnn (Elman), irnn (ReLU, W_hh = I), lstm, gru, transformer (the "
                          "token tasks; d_model = hidden_size, d_ff = 4 d_model), seq2seq (the GRU encoder-decoder, "
                          "for the reverse task)")
    activation: Literal["tanh", "relu"] = Field("tanh", description="Elman RNN nonlinearity", **only("rnn"))
    hidden_size: int = Field(64, ge=limits.LAB_HIDDEN[0], le=limits.LAB_HIDDEN[1],
                             description="units per layer (the transformer's d_model)")
    layers: int = Field(1, ge=1, le=max(limits.LAYERS.values()), description="1-3 recurrent, 1-4 transformer")
    heads: int = Field(4, ge=limits.HEADS[0], le=limits.HEADS[1], description="transformer: attention heads, "
                       "dividing hidden_size", **only("transformer"))
    attention: bool = Field(True, description="seq2seq: additive attention; false reads one context vector, the "
                            "encoder's last states", **only("seq2seq"))
    optimizer: Literal["sgd", "momentum", "adam"] = "adam"
    lr: float = Field(1e-2, ge=limits.LAB_LR[0], le=limits.LAB_LR[1], description="learning rate")
    batch: int = Field(64, ge=limits.LAB_BATCH[0], le=limits.LAB_BATCH[1])
    truncation: int | None = Field(None, ge=1, le=limits.MAX_TEXT, description="detach every k steps; null = full",
                                   **only(*RECURRENT_LAB))
    clip_mode: Literal["norm", "value"] | None = "norm"
    clip_threshold: float | None = Field(1.0, gt=0, le=limits.CLIP_THRESHOLD_MAX)
    spectral_norm: float | None = Field(None, ge=limits.SPECTRAL_NORM[0], le=limits.SPECTRAL_NORM[1],
                                        **only(*RECURRENT_LAB))
    forget_bias: float | None = Field(None, ge=limits.FORGET_BIAS[0], le=limits.FORGET_BIAS[1], **only("lstm"))
    seed: int = Field(0, ge=0, le=limits.SEED_MAX)
    steps: int = Field(1000, ge=limits.LAB_STEPS[0], le=limits.LAB_STEPS[1], description="optimiser steps")


# knob -> the architectures it applies to (from the fields; the lab page reads the same from the schema)
APPLIES: dict[str, tuple[str, ...]] = {
    name: tuple(field.json_schema_extra["archs"])  # type: ignore[arg-type]
    for name, field in LabKnobs.model_fields.items()
    if isinstance(field.json_schema_extra, dict) and "archs" in field.json_schema_extra
}


def run_macs(knobs: LabKnobs) -> int:
    """Estimated multiply-adds of the whole run: a forward and a backward (about twice the forward)
    of every sequence of every step."""
    task = get_task(knobs.task)
    T = task.steps(knobs.seq_len)
    if knobs.arch == "seq2seq":  # two encoder directions, then T + 1 decoder steps that each read all T states
        H, E, V = knobs.hidden_size, 16, task.input_size
        per_sequence = 2 * T * 3 * H * (E + H) + (T + 1) * (3 * H * (E + 3 * H) + 3 * T * H * H + 3 * H * V)
    elif knobs.arch == "transformer":
        d = knobs.hidden_size
        per_sequence = transformer_cost(T, task.input_size, d, knobs.layers, min(4 * d, limits.D_FF[1])).forward
    else:
        arch = "rnn" if knobs.arch == "irnn" else knobs.arch
        per_sequence = recurrent_cost(arch, T, task.input_size, knobs.hidden_size, knobs.layers, None).forward
    return 3 * per_sequence * knobs.batch * knobs.steps


def train_config(knobs: LabKnobs, max_gmacs: float) -> TrainConfig:
    """The run's TrainConfig, after the checks a single field cannot make (KnobError names the field)."""
    task = get_task(knobs.task)
    lo, hi = task.length
    if not lo <= knobs.seq_len <= hi:
        raise KnobError("seq_len", "lab_seq_len", task=knobs.task, low=lo, limit=hi)
    arch = "rnn" if knobs.arch == "irnn" else knobs.arch
    if arch in limits.LAYERS and knobs.layers > limits.LAYERS[arch]:
        raise KnobError("layers", "layers_range", arch=knobs.arch, limit=limits.LAYERS[arch])
    for name, archs in APPLIES.items():
        if knobs.arch not in archs and getattr(knobs, name) is not None and LabKnobs.model_fields[name].default is None:
            raise KnobError(name, "lab_applies_to", archs=", ".join(archs))
    if (knobs.arch == "seq2seq") != (knobs.task == "reverse"):
        raise KnobError("arch", "lab_seq2seq_task")
    if knobs.arch == "seq2seq" and knobs.layers != 1:
        raise KnobError("layers", "layers_range", arch="seq2seq", limit=1)
    if knobs.arch == "transformer":
        if task.vocab is None:
            raise KnobError("arch", "lab_transformer_tokens", task=knobs.task)
        if knobs.hidden_size % knobs.heads:
            raise KnobError("heads", "heads_divide", d_model=knobs.hidden_size)
    if knobs.clip_mode is not None and knobs.clip_threshold is None:
        raise KnobError("clip_threshold", "clip_threshold_required")
    macs = run_macs(knobs)
    if macs > max_gmacs * 1e9:
        raise KnobError(None, "lab_cost", estimate=f"{macs / 1e9:.0f}", limit=f"{max_gmacs:g}")
    every = max(MIN_METRICS_EVERY, knobs.steps // METRIC_EVENTS)
    return TrainConfig(
        task=knobs.task,
        length=knobs.seq_len,
        model=ModelSpec(arch=knobs.arch, hidden_size=knobs.hidden_size, layers=knobs.layers,
                        activation=knobs.activation, spectral_norm=knobs.spectral_norm,
                        forget_bias=knobs.forget_bias, seed=knobs.seed, heads=knobs.heads,
                        attention=knobs.attention),
        optimizer=knobs.optimizer,
        lr=knobs.lr,
        batch=knobs.batch,
        truncation=knobs.truncation,
        clip_mode=knobs.clip_mode,
        clip_threshold=knobs.clip_threshold if knobs.clip_mode else None,
        steps=knobs.steps,
        metrics_every=every,
        snapshot_every=max(every, knobs.steps // SNAPSHOTS),
    )


def canonical(knobs: LabKnobs) -> dict[str, Any]:
    """The knobs as the run reports them (what does not apply is left out)."""
    data = knobs.model_dump()
    for name, archs in APPLIES.items():
        if knobs.arch not in archs and LabKnobs.model_fields[name].default is not None:
            data.pop(name)  # activation, heads: ignored where they do not apply
    if knobs.clip_mode is None:
        data["clip_threshold"] = None
    return data
