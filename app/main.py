"""The application factory: `uvicorn app.main:app`, `python -m app` and `unrolled serve` all start this."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import torch
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp

from app.compute import TraceService
from app.docs import DOCS_VENDOR, add_docs
from app.engine import run_trace
from app.errors import KnobError, http_error_response, knob_error_response, refused_response, validation_error_response
from app.fair import ClientMiddleware, Refused, pool_options
from app.headers import SecurityHeadersMiddleware, security_headers
from app.http import GZIP_LEVEL, IMMUTABLE, ONE_DAY, REVALIDATE, CachedStaticFiles, gzip_exclusions, vendor_versions
from app.lab.forward import LabForwarder
from app.lab.memory import MemoryModels
from app.lab.runs import RunManager
from app.pages import router as pages_router
from app.routes.api import router as api_router
from app.routes.lab import models_router
from app.routes.lab import page_router as lab_page_router
from app.routes.lab import router as lab_router
from app.routes.lessons import router as lessons_router
from app.routes.lm import router as lm_router
from app.routes.rooms import open_rooms
from app.routes.rooms import page_router as rooms_page_router
from app.routes.rooms import router as rooms_router
from app.routes.seq2seq import router as seq2seq_router
from app.routes.shapes import router as shapes_router
from app.routes.stream import router as stream_router
from app.settings import Settings, get_settings, threads_per_worker
from app.shutdown import Shutdown
from app.too_large import LocalizedTooLarge
from models import limits
from models.device import pick_device

ROOT = Path(__file__).resolve().parent.parent
# Local copies of the CDN assets, installed at set-up by npm ci (package-lock.json), never committed;
# each is also served under /vendor/<name>@<version> (app.http: cached for a year).
VENDOR = {
    "/vendor/htmx": ROOT / "node_modules" / "htmx.org" / "dist",
    "/vendor/plotly": ROOT / "node_modules" / "plotly.js-cartesian-dist-min",
    "/vendor/swagger-ui": ROOT / "node_modules" / "swagger-ui-dist",  # /docs and /redoc (app.docs)
    "/vendor/redoc": ROOT / "node_modules" / "redoc" / "bundles",
}
VENDOR_PACKAGES = {"/vendor/htmx": "htmx.org", "/vendor/plotly": "plotly.js-cartesian-dist-min", **DOCS_VENDOR}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        device = str(pick_device(settings.device))  # a missing CUDA fails here, at start, not per request
        threads_before = torch.get_num_threads()
        app.state.memory = MemoryModels(upload_keep_s=settings.upload_keep_s,
                                        upload_megabytes=settings.upload_megabytes)
        app.state.lab = RunManager(
            workers=settings.lab_workers, max_active=settings.lab_max_active, max_runs=settings.lab_max_runs,
            client_runs=settings.lab_client_runs, grace_s=settings.lab_grace_s, keep_s=settings.lab_keep_s,
            torch_threads=threads_per_worker(settings), memory=app.state.memory,
        )
        app.state.traces = TraceService(
            settings.workers, settings.cache_size, device, threads_per_worker(settings), settings.cache_megabytes,
            max_macs=settings.max_trace_gmacs * 1e9, fair=pool_options(settings),
            engine=partial(run_trace, memory=app.state.memory.get),  # runs' weights and uploads
        )
        app.state.shutdown = Shutdown(settings.shutdown_timeout_s)
        unwatch = app.state.shutdown.watch_signals()  # SIGTERM: streams end after the timeout
        try:
            async with open_rooms(app, settings):  # classroom rooms (app.routes.rooms)
                yield
        finally:
            unwatch()
            app.state.traces.close()
            app.state.lab.close()
            torch.set_num_threads(threads_before)  # the setting is process-wide (tests share the process)

    app = FastAPI(
        title="Unrolled",
        summary="Step through recurrent and attention models one token at a time.",
        version="0.1.0",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,  # 413 past it, from Content-Length before reading a byte
        docs_url=None, redoc_url=None,  # app.docs serves them from local copies, under their own CSP
    )
    app.state.settings = settings
    app.dependency_overrides[get_settings] = lambda: settings
    # Starlette types a handler's exception as Exception; these take the subclass they are registered for
    app.add_exception_handler(KnobError, knob_error_response)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error_response)  # type: ignore[arg-type]
    app.add_exception_handler(Refused, refused_response)
    app.add_exception_handler(StarletteHTTPException, http_error_response)
    if settings.lab_url:  # innermost: compression, headers and limits stay this worker's (app.lab.forward)
        app.add_middleware(LabForwarder, lab_url=settings.lab_url, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes, compresslevel=GZIP_LEVEL,
                       exclude_content_types=gzip_exclusions(settings.gzip_streams))
    app.add_middleware(ClientMiddleware)  # the fair pool knows whose work it is
    if settings.trusted_hosts != ["*"]:  # a foreign Host header (DNS rebinding, a wrong name) gets 400
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    app.include_router(api_router)
    app.include_router(stream_router)
    app.include_router(lm_router)
    app.include_router(seq2seq_router)
    app.include_router(shapes_router)
    app.include_router(lab_router)
    app.include_router(lab_page_router)
    app.include_router(models_router)
    app.include_router(pages_router)
    app.include_router(lessons_router)
    app.include_router(rooms_router)
    app.include_router(rooms_page_router)
    add_docs(app, settings)
    gz = settings.gzip_min_bytes
    app.mount("/static", CachedStaticFiles(directory=ROOT / "static", check_dir=False, cache_control=REVALIDATE,
                                           gzip_min_bytes=gz), name="static")
    # Outside FastAPI's own stack (its body limit and error middleware answer from there): the 413 in the
    # request's language, and the security headers on every answer, a 413 and a 500 included.
    build, headers = app.build_middleware_stack, security_headers(settings)
    too_large = {"/api/models": limits.UPLOAD_BYTES}

    def outermost() -> ASGIApp:
        return SecurityHeadersMiddleware(LocalizedTooLarge(build(), too_large, settings.max_body_bytes), headers)

    app.build_middleware_stack = outermost  # type: ignore[method-assign]
    versions = vendor_versions()
    for path, directory in VENDOR.items():
        name = path.strip("/").replace("/", "-")
        version = versions.get(VENDOR_PACKAGES[path])
        if version:
            app.mount(f"{path}@{version}", CachedStaticFiles(directory=directory, check_dir=False,
                                                             cache_control=IMMUTABLE, gzip_min_bytes=gz),
                      name=f"{name}-versioned")
        app.mount(path, CachedStaticFiles(directory=directory, check_dir=False, cache_control=ONE_DAY,
                                          gzip_min_bytes=gz), name=name)
    return app


app = create_app()
