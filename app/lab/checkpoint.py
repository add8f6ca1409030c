"""A run's weights as a safetensors file: torch.nn's parameter names (weight_ih_l0, ...) and the readout
as readout.weight / readout.bias, so `torch.nn.LSTM(...).load_state_dict` takes the recurrent part as
it is. Metadata (strings, as safetensors allows): the format, the run's knobs and step, the engine's
config and, for token tasks, the vocabulary (one JSON list of the characters ids stand for).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import torch
from safetensors.torch import save

from models.training.loop import TrainConfig

FORMAT = "unrolled-lab/1"


def describe(config: TrainConfig) -> dict[str, Any]:
    task = config.task_spec
    return {
        "task": task.name,
        "seq_len": config.length,
        "steps_per_sequence": task.steps(config.length),
        "input": "one-hot ids" if task.vocab is not None else f"{task.input_size} real numbers per step",
        "readout": "the top layer's last hidden state" if task.regression else "every step",
        "loss": "mse" if task.regression else "cross_entropy",
        "baseline": task.baseline(config.length),
    }


def checkpoint_bytes(weights: dict[str, torch.Tensor], config: TrainConfig, knobs: dict[str, Any], step: int,
                     engine_config: Any) -> bytes:
    task = config.task_spec
    metadata = {
        "format": FORMAT,
        "knobs": json.dumps(knobs),
        "step": str(step),
        "task": json.dumps(describe(config)),
        "config": json.dumps(asdict(engine_config)),
        "vocab": json.dumps(list(task.vocab) if task.vocab is not None else None, ensure_ascii=False),
    }
    return save({k: v.contiguous() for k, v in weights.items()}, metadata=metadata)
