"""One training run as a generator of events: the lab's loop, with no web code.

    run = TrainRun(TrainConfig(task="adding", length=50, model=ModelSpec(arch="lstm")))
    for kind, data in run.events():   # ("metrics", {...}), ("snapshot", {...}), then ("done" | "diverged", {...})
        ...

Each optimiser step is what a plain PyTorch loop does: forward (in chunks under truncation), the
task's loss, backward, clipping with torch.nn.utils' semantics, the optimiser's step. Every
`metrics_every` steps a `metrics` event reports the mean training loss since the last one, the
held-out loss (and accuracy where the task has one), the gradient norm before and after clipping and
the share of steps clipped; every `snapshot_every` steps a `snapshot` event gives the gradient against
distance (models.training.snapshot). A non-finite loss or gradient ends the run as `diverged`.

Reproducible: the model starts from the engine's seeded initialisation, and the batches come from a
generator seeded by the same seed, so equal configs give equal loss curves bit for bit on one machine
(with the same number of torch threads).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.training.model import ModelSpec, build_model
from models.training.snapshot import gradient_by_distance
from models.training.tasks import NO_LOSS, Batch, Task, get_task, held_out

OPTIMIZERS = ("sgd", "momentum", "adam")
HELD_OUT_COUNT = 128
SNAPSHOT_COUNT = 8  # held-out sequences the gradient-against-distance curve averages over


@dataclass(frozen=True)
class TrainConfig:
    task: str = "adding"
    length: int = 50  # the task's T (models.training.tasks)
    model: ModelSpec = field(default_factory=ModelSpec)
    optimizer: str = "adam"  # sgd | momentum (SGD, 0.9) | adam
    lr: float = 1e-3
    batch: int = 64
    truncation: int | None = None
    clip_mode: str | None = "norm"  # norm | value | None
    clip_threshold: float | None = 1.0
    steps: int = 1000
    metrics_every: int = 10
    snapshot_every: int = 100

    def __post_init__(self) -> None:
        task = get_task(self.task)
        lo, hi = task.length
        if not lo <= self.length <= hi:
            raise ValueError(f"length must be between {lo} and {hi} for the {self.task} task")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}")
        if self.clip_mode not in (None, "norm", "value"):
            raise ValueError("clip_mode must be norm, value or None")
        if self.clip_mode and not (self.clip_threshold and self.clip_threshold > 0):
            raise ValueError("clip_threshold must be a positive number when clip_mode is set")
        if self.truncation is not None and self.truncation < 1:
            raise ValueError("truncation must be at least 1")
        if self.model.arch == "transformer" and (task.vocab is None or self.truncation is not None):
            raise ValueError("the transformer trains on the token tasks, without truncation")
        if (self.model.arch == "seq2seq") != (self.task == "reverse") or (self.task == "reverse" and self.truncation):
            raise ValueError("the reverse task is the encoder-decoder's (arch seq2seq), without truncation")
        if min(self.steps, self.batch, self.metrics_every, self.snapshot_every) < 1 or not self.lr > 0:
            raise ValueError("steps, batch, metrics_every, snapshot_every and lr must be positive")

    @property
    def task_spec(self) -> Task:
        return get_task(self.task)


def task_loss(task: Task, outputs: Tensor, batch: Batch) -> Tensor:
    """Mean loss per loss term: the last step's squared error (adding), else cross-entropy per step."""
    if task.regression:
        return F.mse_loss(outputs[:, -1, 0], batch.y)
    return F.cross_entropy(outputs.flatten(0, 1), batch.y.flatten(), ignore_index=NO_LOSS)


def task_accuracy(task: Task, outputs: Tensor, batch: Batch) -> float | None:
    """Share of loss-bearing steps answered right (copy: the 10 recalled symbols only)."""
    if task.regression:
        return None
    pred, y = outputs.argmax(-1), batch.y
    if task.name == "copy":
        pred, y = pred[:, -10:], y[:, -10:]
    mask = y != NO_LOSS
    return float((pred[mask] == y[mask]).double().mean())


def make_optimizer(config: TrainConfig, params) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr)
    return torch.optim.SGD(params, lr=config.lr, momentum=0.9 if config.optimizer == "momentum" else 0.0)


def clip(params: list[nn.Parameter], mode: str | None, threshold: float | None) -> tuple[float, float]:
    """Clip in place as torch.nn.utils does; the total gradient norm before and after."""
    if mode is not None and threshold is None:
        raise ValueError("clip_threshold must be set when clipping")
    if mode == "norm":
        assert threshold is not None
        before = float(nn.utils.clip_grad_norm_(params, threshold))
        return before, before * min(1.0, threshold / (before + 1e-6)) if math.isfinite(before) else before
    before = float(nn.utils.get_total_norm([p.grad for p in params if p.grad is not None]))
    if mode == "value":
        assert threshold is not None
        nn.utils.clip_grad_value_(params, threshold)
        return before, float(nn.utils.get_total_norm([p.grad for p in params if p.grad is not None]))
    return before, before


class TrainRun:
    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        task = self.task = config.task_spec
        self.model = build_model(config.model, task.input_size, task.output_size, tokens=task.vocab is not None)
        self.params = list(self.model.parameters())
        self.optimizer = make_optimizer(config, self.params)
        self.data = torch.Generator().manual_seed(config.model.seed)
        self.held_out = held_out(task, HELD_OUT_COUNT, config.length, config.model.seed)
        self.step = 0  # optimiser steps taken
        self.seconds = 0.0  # time spent in training steps (not in metrics or snapshots)
        self.last: dict = {}  # the latest metrics event
        self._window: list[tuple[float, float, float, bool]] = []  # (loss, before, after, clipped) per step

    @property
    def baseline(self) -> float:
        return self.task.baseline(self.config.length)

    def train_step(self) -> tuple[float, float, float, bool]:
        """One optimiser step: (loss, grad norm before clipping, after, whether clipping changed it)."""
        cfg = self.config
        batch = self.task.sample(cfg.batch, cfg.length, self.data)
        self.model.train()
        loss = task_loss(self.task, self.outputs(batch, cfg.truncation), batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        before, after = clip(self.params, cfg.clip_mode, cfg.clip_threshold)
        value = float(loss.detach())
        if math.isfinite(value) and math.isfinite(before) and math.isfinite(after):
            self.optimizer.step()
        self.step += 1
        changed = cfg.clip_mode == "norm" and before > (cfg.clip_threshold or 0.0)
        if cfg.clip_mode == "value":
            changed = after < before
        return value, before, after, changed

    def outputs(self, batch: Batch, truncation: int | None = None) -> Tensor:
        """The readout at every step; the encoder-decoder is teacher forced on the batch's decoder inputs."""
        if batch.inputs is not None:
            return self.model(batch.x, truncation, inputs=batch.inputs)
        return self.model(batch.x, truncation)

    def evaluate(self) -> tuple[float, float | None]:
        self.model.eval()
        with torch.no_grad():
            out = self.outputs(self.held_out)
            return float(task_loss(self.task, out, self.held_out)), task_accuracy(self.task, out, self.held_out)

    def metrics(self) -> dict:
        losses, before, after, clipped = zip(*self._window, strict=True) if self._window else ((), (), (), ())
        self._window = []
        held, accuracy = self.evaluate()
        n = max(len(losses), 1)
        self.last = {
            "step": self.step,
            "loss": sum(losses) / n if losses else held,
            "held_out": held,
            "accuracy": accuracy,
            "grad_norm_before": before[-1] if before else None,
            "grad_norm_after": after[-1] if after else None,
            "grad_norm_mean": sum(before) / n if before else None,
            "clipped_share": sum(clipped) / n if clipped else 0.0,
            "baseline": self.baseline,
            "train_seconds": self.seconds,
        }
        return self.last

    def snapshot(self) -> dict:
        held = self.held_out
        sample = Batch(*(None if t is None else t[:SNAPSHOT_COUNT] for t in (held.x, held.y, held.inputs)))
        curve = gradient_by_distance(self.model, self.task, sample, self.config.truncation)
        return {"step": self.step, **curve}

    def events(self) -> Iterator[tuple[str, dict]]:
        """Metrics and a snapshot at step 0, then as the run goes; the last event is done or diverged.
        A `step` event (no data) follows every optimiser step, so a caller can pause between any two."""
        cfg = self.config
        yield "metrics", self.metrics()
        yield "snapshot", self.snapshot()
        while self.step < cfg.steps:
            start = time.perf_counter()
            record = self.train_step()
            self.seconds += time.perf_counter() - start
            self._window.append(record)
            yield "step", {}
            if not all(math.isfinite(v) for v in record[:3]):
                yield "metrics", self.metrics()
                yield "diverged", {"step": self.step, "loss": record[0], "grad_norm_before": record[1]}
                return
            if self.step % cfg.metrics_every == 0 or self.step == cfg.steps:
                yield "metrics", self.metrics()
            if self.step % cfg.snapshot_every == 0 or self.step == cfg.steps:
                yield "snapshot", self.snapshot()
        yield "done", {"step": self.step, **{k: self.last[k] for k in ("loss", "held_out", "accuracy")}}

    def export(self) -> dict[str, Tensor]:
        return self.model.export()

    def release(self) -> None:
        """After the last step: drop what only training needs (the optimiser's moments, the gradients,
        the held-out batch), keeping the weights and the last metrics. Adam's state is twice the weights."""
        self.optimizer.state.clear()
        for p in self.params:
            p.grad = None
        self.held_out = Batch(*(None if t is None else t[:SNAPSHOT_COUNT] for t in
                                (self.held_out.x, self.held_out.y, self.held_out.inputs)))
