"""Timing helpers shared by the benchmarks: warm up, then the median of several runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], repeats: int = 7, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def alternating_medians(fns: list[Callable[[], object]], rounds: int = 9, warmup: int = 2) -> list[float]:
    """Median seconds of each function, run in turn round after round, so that the machine's slow and
    fast moments fall on every side of a ratio alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, ts in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - start)
    return [statistics.median(ts) for ts in times]


def sample_text(length: int) -> str:
    """Plain English text of the requested length, made in code."""
    base = (
        "the cat sat on the mat and the dog ran after the ball. a bird sang in the tree while "
        "the sun went down over the quiet hills, and the children walked home slowly. "
    )
    return (base * (length // len(base) + 1))[:length]
