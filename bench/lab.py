"""The training lab's figures.

lab_overhead    time per optimiser step of the lab's loop (models.training, with the metrics and
                gradient-against-distance snapshots the API asks for) over a plain PyTorch loop of the same
                model, task and batch (torch.nn.LSTM + Linear, Adam, clip_grad_norm_), in this process
memory_race_s   wall time until the memory race's LSTM reaches held-out MSE 0.01 while the preset's other
                three runs train beside it, on the lab's run manager with its default two workers
"""

from __future__ import annotations

import json
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from app.lab.presets import preset_runs
from app.lab.runs import RunManager
from app.lab.schemas import LabKnobs, canonical, train_config
from models.training.loop import TrainRun
from models.training.tasks import get_task

STEPS = 300


def _lab_seconds(knobs: dict) -> float:
    """The first STEPS steps of the preset's run as the API configures it (metrics every 10 steps, a
    snapshot every steps / 20)."""
    run = TrainRun(train_config(LabKnobs(**knobs), 1e9))
    events = run.events()
    next(events)  # step 0's metrics and snapshot happen before any training: not per-step cost
    next(events)
    start = time.perf_counter()
    for kind, _ in events:
        if kind == "step" and run.step == STEPS:
            break
    return (time.perf_counter() - start) / STEPS


def _plain_seconds(knobs: dict) -> float:
    task = get_task("adding")
    core = nn.LSTM(2, knobs["hidden_size"], batch_first=True)
    readout = nn.Linear(knobs["hidden_size"], 1)
    params = [*core.parameters(), *readout.parameters()]
    opt = torch.optim.Adam(params, lr=knobs["lr"])
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(STEPS):
        batch = task.sample(knobs["batch"], knobs["seq_len"], gen)
        loss = F.mse_loss(readout(core(batch.x)[0])[:, -1, 0], batch.y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, knobs["clip_threshold"])
        opt.step()
        float(loss.detach())  # the lab reads every step's loss too
    return (time.perf_counter() - start) / STEPS


def lab_overhead() -> float:
    torch.set_num_threads(1)
    lstm = next(k for k in preset_runs("memory_race") if k["arch"] == "lstm")
    lab, plain = [], []
    for _ in range(3):  # interleaved, best of three: the machine's load moves both alike
        plain.append(_plain_seconds(lstm))
        lab.append(_lab_seconds(lstm))
    return min(lab) / min(plain)


def memory_race_s() -> float:
    manager = RunManager(workers=2, max_active=8, max_runs=8, client_runs=8, grace_s=600, keep_s=600,
                         torch_threads=1)
    try:
        runs = [manager.start(canonical(LabKnobs(**k)), train_config(LabKnobs(**k), 1e9), "bench")
                for k in preset_runs("memory_race")]
        for run in runs:
            manager.watch(run, +1)
        lstm = next(r for r in runs if r.knobs["arch"] == "lstm")
        start = time.perf_counter()
        seen = 0
        while time.perf_counter() - start < 120:
            for kind, data in lstm.events[seen:]:
                seen += 1
                if kind == "metrics" and json.loads(data)["held_out"] < 0.01:
                    return time.perf_counter() - start
                if kind in ("done", "diverged", "stopped"):
                    return float("nan")
            time.sleep(0.01)
        return float("nan")
    finally:
        manager.close()


def run() -> dict[str, float]:
    return {"lab_overhead": lab_overhead(), "memory_race_s": memory_race_s()}


if __name__ == "__main__":
    json.dump({k: round(v, 3) for k, v in run().items()}, sys.stdout)
