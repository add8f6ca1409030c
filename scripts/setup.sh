#!/usr/bin/env bash
# Set up everything the app and its tests need on a fresh Debian machine with Python 3.11:
# a virtual environment, the CPU build of torch, the project, local copies of the front-end assets.
# With --browser it also installs Debian's chromium (and a CJK font, so Korean text renders in
# screenshots) for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# torch first and pinned: this release is the CPU build; an unpinned torch pulls a multi-GB CUDA one
.venv/bin/pip install --quiet --disable-pip-version-check "torch==2.13.0"
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]"

if [ -f package-lock.json ]; then
    npm ci --silent --no-audit --no-fund
fi

if [ "${1:-}" = "--browser" ] && { [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; }; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
