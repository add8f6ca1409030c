"""The application factory: `uvicorn app.main:app`, `python -m app` and `unrolled serve` all start this."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import torch
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from app.compute import TraceService
from app.errors import KnobError, knob_error_response, validation_error_response
from app.pages import router as pages_router
from app.routes.api import router as api_router
from app.routes.stream import router as stream_router
from app.settings import Settings, get_settings, threads_per_worker
from models.device import pick_device

ROOT = Path(__file__).resolve().parent.parent
# Local copies of the CDN assets, installed at set-up by npm ci (package-lock.json), never committed.
VENDOR = {
    "/vendor/htmx": ROOT / "node_modules" / "htmx.org" / "dist",
    "/vendor/plotly": ROOT / "node_modules" / "plotly.js-cartesian-dist-min",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        device = str(pick_device(settings.device))  # a missing CUDA fails here, at start, not per request
        threads_before = torch.get_num_threads()
        app.state.traces = TraceService(
            settings.workers, settings.cache_size, device, threads_per_worker(settings), settings.cache_megabytes
        )
        try:
            yield
        finally:
            app.state.traces.close()
            torch.set_num_threads(threads_before)  # the setting is process-wide (tests share the process)

    app = FastAPI(
        title="Unrolled",
        summary="Step through recurrent and attention models one token at a time.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.dependency_overrides[get_settings] = lambda: settings
    app.add_exception_handler(KnobError, knob_error_response)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.include_router(api_router)
    app.include_router(stream_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=ROOT / "static", check_dir=False), name="static")
    for path, directory in VENDOR.items():
        app.mount(path, StaticFiles(directory=directory, check_dir=False), name=path.strip("/").replace("/", "-"))
    return app


app = create_app()
