"""Training runs: a bounded set of worker threads time-sliced over the live runs, and each run's event log.

Live runs take turns: a worker takes the next run, trains it for a slice (`SLICE_S`), and puts it back
at the end of the line, so four runs started together advance together on two cores. At most
`max_active` runs are live; later ones wait in line (`queued` events tell them their position).

Every run keeps its events (metrics, snapshots, state changes) with ids from 0, so any number of
pages can follow it and a reconnecting EventSource resumes after its Last-Event-ID. A run nobody has
watched for `grace_s` is stopped (a closed tab does not train for ever); finished runs stay readable
(events, checkpoint) for `keep_s`, and the oldest finished run gives way when the table is full.

Waiting on the event loop: a page's stream registers an asyncio.Event that the worker thread sets
through loop.call_soon_threadsafe, so nothing polls and no thread waits for a page.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any
from urllib.parse import urlencode

import torch

from app.errors import KnobError
from app.fair import Refused
from app.lab.memory import RUN_PREFIX, MemoryModel, MemoryModels
from app.serialize import dumps
from models.limits import MAX_TEXT
from models.training.loop import TrainConfig, TrainRun
from models.training.model import engine_model
from models.training.tasks import Task, example, held_out
from models.vocab import Vocab

log = logging.getLogger("unrolled.lab")
SLICE_S = 0.05  # a run trains this long before the next one gets the worker
FINAL = ("done", "diverged", "stopped")


@dataclass(eq=False)  # a run is itself: `run in line` compares identities, not its event log
class Run:
    id: str
    knobs: dict[str, Any]
    client: str
    config: TrainConfig
    trainer: TrainRun | None = None  # built by the worker that first takes the run (torch work)
    status: str = "queued"  # queued | running | paused | done | diverged | stopped
    events: list[tuple[str, bytes]] = field(default_factory=list)  # (kind, JSON data); the id is the index
    created: float = field(default_factory=time.monotonic)
    finished: float | None = None
    watchers: int = 0
    unwatched_since: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)  # the weights between training steps
    _steps: Iterator[tuple[str, dict]] | None = None
    _waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.status not in FINAL

    @property
    def step(self) -> int:
        return 0 if self.trainer is None else self.trainer.step

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        self.events.append((kind, dumps(data)))
        waiters, self._waiters = self._waiters, []
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    async def wait_after(self, last_id: int, timeout: float) -> None:
        """Return when there is an event after last_id, or after timeout seconds."""
        if len(self.events) - 1 > last_id:
            return
        event = asyncio.Event()
        self._waiters.append((asyncio.get_running_loop(), event))
        if len(self.events) - 1 > last_id:  # published between the check and the registration
            return
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass

    def summary(self) -> dict[str, Any]:
        last = self.trainer.last if self.trainer is not None else {}
        return {"id": self.id, "status": self.status, "step": self.step, "steps": self.config.steps,
                "knobs": self.knobs, "metrics": last or None, "events": len(self.events), "bench_url": self.bench_url}

    @cached_property
    def bench_url(self) -> str | None:
        """The bench on this run's current weights and one held-out sequence of its task (a real-valued
        task: its example 0, which the bench's example knob changes); None where the bench cannot show it."""
        task = self.config.task_spec
        if self.config.model.arch == "seq2seq":  # the bench's encoder-decoder mode, on a held-out string
            x = held_out(task, 1, self.config.length, self.config.model.seed).x[0]
            return "/bench?" + urlencode({"mode": "seq2seq", "checkpoint": f"{RUN_PREFIX}{self.id}",
                                          "source": task.text(x)})
        arch = self.config.model.engine_arch
        if task.vocab is None:
            return "/bench?" + urlencode({"arch": arch, "checkpoint": f"{RUN_PREFIX}{self.id}", "example": 0})
        x = held_out(task, 1, min(self.config.length, 96), self.config.model.seed).x[0]
        text = task.text(x[: MAX_TEXT])
        query = {"arch": arch, "checkpoint": f"{RUN_PREFIX}{self.id}", "text": text}
        return "/bench?" + urlencode(query)


def _numbers(task: Task, T: int, seed: int, index: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A real-valued task's example `index` for the bench: its inputs (T, input_size) and answer."""
    batch = example(task, T, seed, index)
    return batch.x[0], batch.y[:1]


class RunManager:
    def __init__(self, *, workers: int, max_active: int, max_runs: int, client_runs: int, grace_s: float,
                 keep_s: float, torch_threads: int, memory: MemoryModels | None = None) -> None:
        self.max_active, self.max_runs, self.client_runs = max_active, max_runs, client_runs
        self.grace_s, self.keep_s, self.torch_threads = grace_s, keep_s, torch_threads
        self.runs: dict[str, Run] = {}
        self.memory = memory or MemoryModels(upload_keep_s=0, upload_megabytes=0)  # where frozen weights go
        self._ready: deque[Run] = deque()  # live, not paused, waiting for a worker
        self._waiting: deque[Run] = deque()  # beyond max_active: not started yet
        self._cond = threading.Condition()  # workers wait on it for runs (nobody else: notify() wakes one)
        self._closing = False
        self._closed = threading.Event()  # the reaper waits on this
        self._threads = [threading.Thread(target=self._work, name=f"lab-{i}", daemon=True) for i in range(workers)]
        self._threads.append(threading.Thread(target=self._reap, name="lab-reaper", daemon=True))
        for thread in self._threads:
            thread.start()

    # --- requests (event loop) ---

    def start(self, knobs: dict[str, Any], config: TrainConfig, client: str) -> Run:
        with self._cond:
            self._evict()
            mine = sum(1 for r in self.runs.values() if r.client == client and r.live)
            if mine >= self.client_runs:
                raise Refused(429, "lab_runs", 10)
            if len(self.runs) >= self.max_runs:
                raise Refused(503, "lab_full", 30)
            run = Run(secrets.token_urlsafe(9), knobs, client, config)
            self.runs[run.id] = run
            if self._active() < self.max_active:
                self._activate(run)
            else:
                self._waiting.append(run)
                run.publish("queued", {"position": len(self._waiting)})
            return run

    def get(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    def pause(self, run: Run) -> None:
        """A running run stops after the step in progress (a run still in line cannot pause). Blocks for
        that step: call it off the event loop."""
        with self._cond:
            if run.status != "running":
                return
            if run in self._ready:
                self._ready.remove(run)
            run.status = "paused"
        with run.lock:  # a worker inside a slice stops at the next step boundary and lets go
            if run.status == "paused":
                run.publish("paused", {"step": run.step})

    def resume(self, run: Run) -> None:
        with self._cond:
            if run.status == "paused":
                run.status = "running"
                run.publish("resumed", {"step": run.step})
                self._ready.append(run)
                self._cond.notify()

    def stop(self, run: Run, reason: str = "asked") -> None:
        """Blocks for the step in progress (to let go of the optimiser): call it off the event loop."""
        with self._cond:
            self._finish(run, "stopped", {"step": run.step, "reason": reason})
        self._release(run)

    @staticmethod
    def _release(run: Run) -> None:
        """A finished run keeps its weights (checkpoint, bench), not its optimiser's state. Never called
        holding self._cond: a worker inside a slice holds run.lock and may want self._cond."""
        with run.lock:
            if run.trainer is not None and not run.live:
                run.trainer.release()

    def watch(self, run: Run, delta: int) -> None:
        with self._cond:
            run.watchers += delta
            if run.watchers == 0:
                run.unwatched_since = time.monotonic()

    def weights(self, run: Run) -> tuple[int, dict[str, torch.Tensor]] | None:
        """The step and a copy of the run's weights after it (between two training steps), torch.nn's names."""
        with run.lock:
            return None if run.trainer is None else (run.trainer.step, run.trainer.export())

    def freeze(self, name: str, arch: str) -> str:
        """For the bench: `run:<id>` (the current weights) or `run:<id>@<step>` (weights frozen before) as
        the name of weights frozen at one step, which the engine finds with `frozen_model`. arch: what
        the bench asks for, which must be the run's (rnn for an IRNN)."""
        run_id, _, step = name.removeprefix(RUN_PREFIX).partition("@")
        run = self.runs.get(run_id)
        if run is None:
            raise KnobError("checkpoint", "lab_run_unknown", id=run_id[:20])
        task = run.config.task_spec
        run_arch = run.config.model.engine_arch  # seq2seq: what the bench's seq2seq mode asks for
        if arch != run_arch:
            raise KnobError("checkpoint", "lab_run_arch", arch=run_arch)
        if step:
            if not self.memory.has(name):
                raise KnobError("checkpoint", "memory_gone")
            return name
        got = self.weights(run)
        if got is None:
            raise KnobError("checkpoint", "lab_run_not_started")
        at, weights = got
        frozen = f"{RUN_PREFIX}{run.id}@{at}"
        if not self.memory.has(frozen):
            config = run.config.model.engine_config(task.input_size, task.output_size)
            numbers = (None if task.vocab is not None  # a real-valued task: the engine traces its examples
                       else partial(_numbers, task, run.config.length, run.config.model.seed))
            self.memory.put_frozen(frozen, MemoryModel(engine_model(weights, config), Vocab(task.vocab or ()),
                                                       task.targets if task.vocab is not None else None, run_arch,
                                                       numbers=numbers))
        return frozen

    def status(self) -> dict[str, Any]:
        runs = list(self.runs.values())
        return {"runs": len(runs), "live": sum(r.live for r in runs), "waiting": len(self._waiting),
                "max_active": self.max_active}

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._closed.set()
            for run in list(self.runs.values()):
                self._finish(run, "stopped", {"step": run.step, "reason": "shutdown"})
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    # --- under self._cond ---

    def _active(self) -> int:
        return sum(1 for r in self.runs.values() if r.live and r not in self._waiting)

    def _activate(self, run: Run) -> None:
        run.status = "running"
        run.publish("started", {"step": 0})
        self._ready.append(run)
        self._cond.notify()

    def _finish(self, run: Run, kind: str, data: dict[str, Any]) -> None:
        if not run.live:
            return
        if run in self._ready:
            self._ready.remove(run)
        if run in self._waiting:
            self._waiting.remove(run)
        run.status, run.finished = kind, time.monotonic()
        run.publish(kind, data)
        self._promote()

    def _promote(self) -> None:
        while self._waiting and self._active() < self.max_active:
            self._activate(self._waiting.popleft())
        for position, run in enumerate(self._waiting, 1):
            run.publish("queued", {"position": position})

    def _evict(self) -> None:
        now = time.monotonic()
        done = sorted((r for r in self.runs.values() if not r.live), key=lambda r: r.finished or 0)
        for run in done:
            if now - (run.finished or now) > self.keep_s or len(self.runs) >= self.max_runs:
                del self.runs[run.id]

    # --- worker threads ---

    def _work(self) -> None:
        torch.set_num_threads(self.torch_threads)  # process-wide; the trace workers set the same number
        while True:
            with self._cond:
                while not self._ready and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                run = self._ready.popleft()
            try:
                self._train_slice(run)
            except Exception:  # a bug in one run must not take the worker with it
                log.exception("training run %s failed", run.id)
                with self._cond:
                    self._finish(run, "stopped", {"step": run.step, "reason": "error"})
                self._release(run)
            with self._cond:
                if run.live and run.status == "running" and run not in self._ready:
                    self._ready.append(run)
                    self._cond.notify()

    def _train_slice(self, run: Run) -> None:
        deadline = time.monotonic() + SLICE_S
        with run.lock:
            if run.trainer is None:
                run.trainer = TrainRun(run.config)
                run._steps = run.trainer.events()
            assert run._steps is not None
            while run.status == "running" and time.monotonic() < deadline:
                try:
                    kind, data = next(run._steps)
                except StopIteration:
                    return
                if kind in FINAL:  # free what only training needs before the final event says it is over
                    run.trainer.release()
                    with self._cond:
                        self._finish(run, kind, data)
                    return
                if kind != "step":
                    run.publish(kind, data)

    def _reap(self) -> None:
        """Stop live runs nobody has watched for grace_s (checked once a second)."""
        while not self._closed.wait(1.0):
            stopped = []
            with self._cond:
                now = time.monotonic()
                for run in list(self.runs.values()):
                    if run.live and run.watchers == 0 and now - run.unwatched_since > self.grace_s:
                        self._finish(run, "stopped", {"step": run.step, "reason": "unwatched"})
                        stopped.append(run)
            for run in stopped:
                self._release(run)
