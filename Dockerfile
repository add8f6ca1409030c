# Unrolled in a container: CPU torch, the npm assets inside, a non-root user, a health check.
#
#   docker build -t unrolled .
#   docker run --rm -p 8000:8000 unrolled          # http://127.0.0.1:8000/bench
#
# Settings are the same UNROLLED_* variables as outside (README, Configuration), e.g.
#   docker run --rm -p 8000:8000 -e UNROLLED_WORKERS=4 -e UNROLLED_CACHE_MEGABYTES=1024 unrolled
# `docker stop` sends SIGTERM: open streams end after UNROLLED_SHUTDOWN_TIMEOUT_S (5 s) with a
# `reconnect` event, inside docker's own 10 s grace period.

# --- the front-end assets, from package-lock.json (no build step: npm only fetches them) ---
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev --ignore-scripts

# --- the app ---
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UNROLLED_HOST=0.0.0.0 \
    UNROLLED_PORT=8000 \
    UNROLLED_DEVICE=cpu
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin unrolled
WORKDIR /app

# torch first, pinned, and the CPU build, from PyTorch's own index: PyPI's Linux wheel is the CUDA
# build and pulls several GB of nvidia-* packages. TORCH_INDEX_URL may name a mirror of that index.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "$TORCH_INDEX_URL" "torch==2.13.0+cpu"
# the dependencies in their own layer (rebuilt only when pyproject.toml changes): an editable install
# of empty packages, which the sources copied below then fill (app/ reads static/, templates/,
# lessons/ and node_modules/ next to itself, so the code stays in /app rather than site-packages)
COPY pyproject.toml README.md ./
RUN mkdir app models && touch app/__init__.py models/__init__.py \
    && pip install -e . \
    && rm -rf app models
COPY --from=assets /src/node_modules ./node_modules
COPY app ./app
COPY models ./models
COPY static ./static
COPY templates ./templates
COPY lessons ./lessons
COPY checkpoints ./checkpoints
COPY package.json package-lock.json ./
RUN python -m app.precompress  # the vendor files gzipped once (zopfli), as scripts/setup.sh does

USER unrolled
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/status', timeout=4)"]
CMD ["unrolled", "serve"]
