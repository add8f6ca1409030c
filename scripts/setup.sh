#!/usr/bin/env bash
# Set up everything the app and its tests need on a fresh Debian machine with Python 3.11:
# a virtual environment, the CPU build of torch, the project, local copies of the front-end assets.
# With --browser it also installs Debian's chromium (and a CJK font, so Korean text renders in
# screenshots) for the browser tests, and redis-server for the classroom rooms' Redis tests.
set -euo pipefail
cd "$(dirname "$0")/.."

BROWSER=0
if [ "${1:-}" = "--browser" ]; then BROWSER=1; fi
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"  # where Debian's package puts it (tests may point elsewhere)

# Only root can install Debian packages: a user who lacks them learns which to install before anything
# else is set up. Serving (scripts/serve.sh, no --browser) never needs apt.
MISSING=""
if [ "$BROWSER" = 1 ]; then
    [ -x "$CHROMIUM" ] || MISSING="chromium"
    dpkg -s fonts-noto-cjk >/dev/null 2>&1 || MISSING="$MISSING fonts-noto-cjk"
    # tests/app/test_rooms_redis.py starts a real Redis on a free loopback port
    command -v redis-server >/dev/null 2>&1 || MISSING="$MISSING redis-server"
    if [ -n "$MISSING" ] && [ "$(id -u)" != 0 ]; then
        echo "setup: the browser tests need Debian packages that are missing: ${MISSING# }" >&2
        echo "setup: install them once with:  sudo apt-get install -y ${MISSING# }" >&2
        echo "setup: then run this again (or run the tests without the browser: .venv/bin/python -m pytest tests/app tests/models)" >&2
        exit 1
    fi
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# torch first and pinned. Where pip finds the local CPU wheel of 2.13.0 (this project's machines) the pin
# is enough; on plain PyPI 2.13.0 is the multi-GB CUDA build, so elsewhere set
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu (as the Dockerfile does) to take 2.13.0+cpu from there.
if [ -n "${TORCH_INDEX_URL:-}" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check --index-url "$TORCH_INDEX_URL" "torch==2.13.0+cpu"
else
  .venv/bin/pip install --quiet --disable-pip-version-check "torch==2.13.0"
fi
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]"

if [ -f package-lock.json ]; then
    # the packages ship built files; no install script needs to run (swagger-ui-dist's would phone home)
    npm ci --silent --no-audit --no-fund --ignore-scripts
    .venv/bin/python -m app.precompress  # the vendor files gzipped once with zopfli (~15 s)
fi

if [ "$BROWSER" = 1 ] && [ -n "$MISSING" ]; then  # root, as checked above
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $MISSING >/dev/null
fi
