"""Run every benchmark; the last line printed is one JSON object with all the figures.

python -m bench.run            (or: bash scripts/bench.sh)
"""

from __future__ import annotations

import importlib
import json
import sys

import torch

SUITES = ("bench.recurrent", "bench.attention", "bench.api", "bench.hardening", "bench.lab", "bench.pages",
          "bench.rooms")


def main() -> int:
    torch.set_num_threads(2)
    results: dict = {}
    for name in SUITES:
        suite = importlib.import_module(name)
        figures = suite.run()
        for key, value in figures.items():
            sys.stdout.write(f"{name:16s} {key:32s} {value:.4g}\n")
        results.update(figures)
    sys.stdout.write(json.dumps({k: float(f"{v:.4g}") for k, v in results.items()}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
