#!/usr/bin/env bash
# Set up (idempotent) and run every test: lint, type check, the JS unit tests (node), then the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
.venv/bin/ruff check .
.venv/bin/mypy  # app/ and models/ ([tool.mypy] in pyproject.toml); seconds once .mypy_cache is warm
node --test tests/js/
.venv/bin/python -m pytest "$@"
