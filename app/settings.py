"""Server settings, read once from the environment (prefix UNROLLED_, e.g. UNROLLED_PORT=9000)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    cache_megabytes: int = Field(512, ge=1, le=65536, description="and at most this much memory for them")
    # The request models carry hard caps (app.schemas.LIMITS); these can only tighten them.
    max_text_length: int = Field(LIMITS["text"], ge=2, le=LIMITS["text"])
    max_hidden_size: int = Field(LIMITS["hidden_size"], ge=1, le=LIMITS["hidden_size"])
    use_cdn: bool = Field(True, description="pages load htmx and Plotly from a CDN, falling back to local copies")


def threads_per_worker(settings: Settings) -> int:
    """Small per-step ops gain nothing from more threads, and oversubscribed OpenMP threads spin:
    on a loaded 2-core machine an LSTM trace took 20x longer with 2 threads per worker than with 1."""
    return settings.torch_threads or max(1, (os.cpu_count() or 1) // settings.workers)


@lru_cache
def get_settings() -> Settings:
    return Settings()
