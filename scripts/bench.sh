#!/usr/bin/env bash
# Set up (idempotent) and run the benchmarks; the last line printed is one JSON object of ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m bench.run "$@"
