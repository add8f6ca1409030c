"""Server settings, read once from the environment (prefix UNROLLED_, e.g. UNROLLED_PORT=9000)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.schemas import LIMITS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UNROLLED_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto takes CUDA when present
    workers: int = Field(2, ge=1, le=64, description="threads that run torch work; requests beyond wait in line")
    torch_threads: int | None = Field(
        None, ge=1, le=256, description="torch intra-op threads per worker; None: CPU cores / workers"
    )
    cache_size: int = Field(64, ge=0, le=4096, description="traces kept, keyed by their canonical knobs")
    cache_megabytes: int = Field(
        512, ge=1, le=65536, description="memory for finished traces, cached and streaming together; a new stream "
        "past it waits up to stream_wait_s, then gets 503"
    )
    stream_wait_s: float = Field(2.0, ge=0, le=60, description="how long a new stream waits for memory")
    # Work (app.fair, models.cost). Only fresh computations count: a class on one teacher's knobs is one.
    max_trace_gmacs: float = Field(
        60.0, gt=0, le=1e6, description="a trace's estimated cost (G multiply-adds, models.cost) above which it is "
        "refused with 422: every recurrent shape fits (the largest LSTM is 52 G, 3.5-4 s on 2 cores); the widest "
        "Transformer fits up to about 190 characters"
    )
    light_gmacs: float = Field(
        2.0, ge=0, le=1e6, description="traces up to this cost may use the worker kept for light work (with 2+ "
        "workers, heavy traces hold at most workers - 1)"
    )
    client_workers: int | None = Field(
        None, ge=1, le=64, description="workers a client's heavy work may hold (light work takes any free one); "
        "None: half"
    )
    client_rate: int = Field(120, ge=0, le=100000, description="fresh computations per client per minute; 0: no limit")
    client_burst: int = Field(60, ge=1, le=100000, description="fresh computations a client may start at once")
    client_queue_budgets: float = Field(
        2.0, gt=0, le=1000, description="work one client may have waiting, in units of max_trace_gmacs (429 past it)"
    )
    queue_budgets: float = Field(
        16.0, gt=0, le=10000, description="work waiting in all, in units of max_trace_gmacs (503 past it)"
    )
    queue_limit: int = Field(256, ge=1, le=100000, description="computations waiting in all (503 past it)")
    # Training lab (app.lab.runs)
    lab_workers: int = Field(2, ge=1, le=64, description="threads that train runs, taking turns over the live runs")
    lab_max_active: int = Field(16, ge=1, le=1000, description="runs training at once; later ones wait in line")
    lab_max_runs: int = Field(64, ge=1, le=10000, description="runs kept (live and finished); 503 past it")
    lab_client_runs: int = Field(8, ge=1, le=1000, description="live runs one client may have (429 past it)")
    lab_grace_s: float = Field(30.0, ge=0, le=86400, description="a live run nobody follows is stopped after this")
    lab_keep_s: float = Field(3600.0, ge=0, le=7 * 86400, description="finished runs stay readable this long")
    lab_url: str | None = Field(None, pattern=r"^https?://[^\s/]+$", description="http://127.0.0.1:PORT of the "
                                "process that owns training runs and uploads; this one forwards them there "
                                "(`unrolled serve --workers N` sets it); unset: they live in this process")
    lab_max_gmacs: float = Field(
        2000.0, gt=0, le=1e7, description="a run's estimated work (G multiply-adds over all its steps) above which "
        "it is refused with 422; the memory race's slowest run (tanh RNN, 3,000 steps) is about 120 G"
    )
    upload_keep_s: float = Field(3600.0, ge=0, le=7 * 86400, description="an uploaded model is kept this long after "
                                 "its last use")
    upload_megabytes: float = Field(200.0, ge=0, le=65536, description="memory for uploaded models in all; the least "
                                    "recently used give way")
    # HTTP
    max_body_bytes: int = Field(16384, ge=256, le=2**30, description="largest JSON request body (413 past it)")
    gzip_min_bytes: int = Field(1024, ge=0, le=2**30, description="responses from this size on are gzipped")
    gzip_streams: bool = Field(True, description="gzip event streams too, flushed after every event")
    shutdown_timeout_s: float = Field(
        5.0, ge=0, le=600, description="on SIGTERM open streams go on this long, then end with a `reconnect` event"
    )
    # Classroom rooms (app.rooms, app.routes.rooms)
    redis_url: str | None = Field(None, description="redis://host:port/db: rooms live in Redis so that several "
                                  "worker processes share them; unset: in this process")
    public_url: str | None = Field(None, pattern=r"^https?://[^\s/]+$", description="the address students open "
                                   "(http://10.0.0.5:8000); unset: this machine's LAN address and the request's port")
    room_expiry_s: float = Field(4 * 3600.0, ge=1, le=7 * 86400, description="a room nobody used this long is gone")
    room_max: int = Field(1000, ge=1, le=100000, description="rooms open at once (503 past it)")
    room_members: int = Field(500, ge=1, le=10000, description="students who may join one room (503 past it)")
    room_state_bytes: int = Field(8192, ge=64, le=65536, description="largest state snapshot (413 past it)")
    room_join_rate: int = Field(20, ge=1, le=100000, description="joins and unknown codes per client per minute "
                                "(429 past it): codes cannot be guessed by brute force")
    room_join_burst: int = Field(10, ge=1, le=100000, description="joins a client may make at once")
    room_queue: int = Field(64, ge=1, le=10000, description="events waiting per student stream; past it the "
                            "stream drops them and resyncs from the snapshot")
    room_keepalive_s: float = Field(15.0, gt=0, le=300, description="a comment line on a quiet room stream this often")
    # The request models carry hard caps (app.schemas.LIMITS); these can only tighten them.
    max_text_length: int = Field(LIMITS["text"], ge=2, le=LIMITS["text"])
    max_hidden_size: int = Field(LIMITS["hidden_size"], ge=1, le=LIMITS["hidden_size"])
    use_cdn: bool = Field(False, description="pages load htmx and Plotly from a CDN (with SRI), falling back to "
                                             "the local copies; off: only the local copies (offline-first)")
    # Security headers (app.headers)
    frame_ancestors: str = Field(
        "'self'", pattern=r"^[^;,\r\n]+$", description="CSP frame-ancestors: who may show the pages in a frame "
        "('none', or space-separated origins such as https://lms.example.org)"
    )
    trusted_hosts: Annotated[list[str], NoDecode] = Field(
        ["*"], min_length=1, description="Host headers answered, comma-separated (*.school.lan wildcards); others "
        "get 400. * answers any (behind a proxy that checks Host, or on loopback)"
    )

    @field_validator("trusted_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        return [h.strip() for h in value.split(",") if h.strip()] if isinstance(value, str) else value


def threads_per_worker(settings: Settings) -> int:
    """Small per-step ops gain nothing from more threads, and oversubscribed OpenMP threads spin:
    on a loaded 2-core machine an LSTM trace took 20x longer with 2 threads per worker than with 1."""
    return settings.torch_threads or max(1, (os.cpu_count() or 1) // settings.workers)


@lru_cache
def get_settings() -> Settings:
    return Settings()
