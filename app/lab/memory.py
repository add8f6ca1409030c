"""Models that live in the server's memory, by name, for the bench and the trace API:

    run:<id>@<step>   a training run's weights frozen at one step (app.lab.runs.RunManager.freeze);
                      the least recently used of FROZEN_KEPT give way
    upload:<hash>     a torch.nn RNN/LSTM/GRU a learner uploaded (app.lab.upload), by the SHA-256 of its
                      file; kept `upload_keep_s` after its last use, within a total byte cap

The engine (app.engine.run_trace) finds both through `get`; a name that has gone is a 422.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from torch import Tensor, nn

from models.vocab import Vocab

RUN_PREFIX = "run:"
UPLOAD_PREFIX = "upload:"
PREFIXES = (RUN_PREFIX, UPLOAD_PREFIX)
FROZEN_KEPT = 16


@dataclass(frozen=True)
class MemoryModel:
    """Weights in the trace engine's model, with what it needs to trace a text."""

    model: nn.Module  # models.charlm.CharRNN or models.transformer.CausalTransformer, in eval mode
    vocab: Vocab
    targets: Callable[[list[int]], list[int]] | None  # a training task's targets; None: the next character
    arch: str  # the engine's architecture: rnn | lstm | gru | transformer
    nbytes: int = 0
    describe: dict[str, str] = field(default_factory=dict)  # {"ko", "en"}: a line for the checkpoint menu
    # A real-valued task (the adding task): example index -> its inputs (T, input_size) and answer
    # (output_size,), which the engine traces in place of a text; None: the model reads characters.
    numbers: Callable[[int], tuple[Tensor, Tensor]] | None = None


def is_memory_name(name: str | None) -> bool:
    return name is not None and name.startswith(PREFIXES)


class MemoryModels:
    def __init__(self, *, upload_keep_s: float, upload_megabytes: float) -> None:
        self.upload_keep_s, self.upload_bytes = upload_keep_s, int(upload_megabytes * 2**20)
        self._frozen: OrderedDict[str, MemoryModel] = OrderedDict()
        self._uploads: OrderedDict[str, tuple[MemoryModel, float]] = OrderedDict()  # name -> (model, last use)
        self._lock = threading.Lock()

    def get(self, name: str) -> MemoryModel:
        """KeyError when the name is unknown or has been given up."""
        with self._lock:
            if name.startswith(UPLOAD_PREFIX):
                self._expire()
                entry, _ = self._uploads[name]
                self._uploads[name] = (entry, time.monotonic())
                self._uploads.move_to_end(name)
                return entry
            entry = self._frozen[name]
            self._frozen.move_to_end(name)
            return entry

    def has(self, name: str) -> bool:
        try:
            self.get(name)
        except KeyError:
            return False
        return True

    def put_frozen(self, name: str, entry: MemoryModel) -> None:
        with self._lock:
            self._frozen[name] = entry
            self._frozen.move_to_end(name)
            while len(self._frozen) > FROZEN_KEPT:
                self._frozen.popitem(last=False)

    def put_upload(self, name: str, entry: MemoryModel) -> bool:
        """False when it cannot fit even with every other upload given up."""
        with self._lock:
            self._expire()
            if entry.nbytes > self.upload_bytes:
                return False
            self._uploads.pop(name, None)
            while self._uploads and sum(e.nbytes for e, _ in self._uploads.values()) + entry.nbytes > self.upload_bytes:
                self._uploads.popitem(last=False)  # the least recently used first
            self._uploads[name] = (entry, time.monotonic())
            return True

    def _expire(self) -> None:
        now = time.monotonic()
        for name in [n for n, (_, used) in self._uploads.items() if now - used > self.upload_keep_s]:
            del self._uploads[name]

    def status(self) -> dict[str, int]:
        with self._lock:
            return {"frozen_runs": len(self._frozen), "uploads": len(self._uploads),
                    "upload_bytes": sum(e.nbytes for e, _ in self._uploads.values())}
