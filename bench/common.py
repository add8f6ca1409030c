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


def sample_text(length: int) -> str:
    """Plain English text of the requested length, made in code."""
    base = (
        "the cat sat on the mat and the dog ran after the ball. a bird sang in the tree while "
        "the sun went down over the quiet hills, and the children walked home slowly. "
    )
    return (base * (length // len(base) + 1))[:length]
