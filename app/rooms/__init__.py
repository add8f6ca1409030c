"""Classroom rooms: a teacher's page publishes its state, students' pages follow it (app.routes.rooms)."""

from __future__ import annotations

from app.rooms.model import RoomFull, StoreDown
from app.rooms.store import MemoryStore, RoomConfig, RoomStore


def make_store(config: RoomConfig, redis_url: str | None) -> RoomStore:
    """Redis when a URL is set (several worker processes share the rooms), else this process's memory."""
    if redis_url:
        from app.rooms.redis_store import RedisStore

        return RedisStore(config, redis_url)
    return MemoryStore(config)


__all__ = ["MemoryStore", "RoomConfig", "RoomFull", "RoomStore", "StoreDown", "make_store"]
