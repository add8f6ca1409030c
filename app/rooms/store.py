"""The rooms' store: one interface, two homes. MemoryStore (the default) keeps rooms in this process;
app.rooms.redis_store.RedisStore (UNROLLED_REDIS_URL) keeps them in Redis so that several worker
processes serve one class. Both hand events to the process's Hub, which fans them out to local streams.
"""

from __future__ import annotations

import secrets
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from app.rooms.hub import Follower, Hub
from app.rooms.model import (
    LIMITS,
    Event,
    RoomFull,
    TeacherView,
    distribution,
    new_code,
    new_device,
    new_key,
    watch_token,
)


@dataclass(frozen=True)
class RoomConfig:
    expiry_s: float  # a room nobody touched for this long is gone
    max_rooms: int
    max_members: int
    queue_size: int  # events waiting per follower before it resyncs from the snapshot


class RoomStore(ABC):
    def __init__(self, config: RoomConfig) -> None:
        self.config = config
        self.hub = Hub(config.queue_size)

    @abstractmethod
    async def start(self) -> None:
        """Connect (Redis) and start listening."""

    @abstractmethod
    async def close(self) -> None:
        """Stop listening and disconnect."""

    def follow(self, code: str, teacher: bool) -> Follower:
        return self.hub.add(code, teacher)

    def unfollow(self, follower: Follower) -> None:
        self.hub.remove(follower)

    @abstractmethod
    async def create(self) -> tuple[str, str]:
        """A new room: (code, teacher key)."""

    @abstractmethod
    async def exists(self, code: str) -> bool: ...

    @abstractmethod
    async def is_teacher(self, code: str, key: str) -> bool: ...

    @abstractmethod
    async def is_watcher(self, code: str, token: str) -> bool:
        """The token is the room's watch_token: the teacher's read-only view."""

    @abstractmethod
    async def set_state(self, code: str, state: dict) -> int:
        """Replace the snapshot and log a `state` event; its id."""

    @abstractmethod
    async def snapshot(self, code: str) -> tuple[int, dict] | None:
        """(the last event id, the current state), or None for an unknown or expired room."""

    @abstractmethod
    async def events_after(self, code: str, last_id: int) -> list[Event] | None:
        """The logged events after last_id, or None when the log no longer reaches back that far."""

    @abstractmethod
    async def join(self, code: str, nickname: str) -> str:
        """A device id for a new student."""

    @abstractmethod
    async def is_member(self, code: str, device: str) -> bool: ...

    @abstractmethod
    async def answer(self, code: str, question: str, device: str, answer: str) -> dict[str, int]:
        """Record (or replace) one device's answer; the question's distribution now."""

    @abstractmethod
    async def reveal(self, code: str, question: str) -> Event:
        """Log a `reveal` event with the question's distribution."""

    @abstractmethod
    async def presence(self, code: str, device: str | None, connected: int = 0,
                       exploring: bool | None = None) -> TeacherView:
        """Count a stream opening (+1) or closing (-1) and/or a device exploring or following again."""

    @abstractmethod
    async def teacher_view(self, code: str) -> TeacherView: ...


@dataclass
class _Room:
    key: str
    touched: float
    state: dict = field(default_factory=dict)
    last_id: int = 0
    log: deque[Event] = field(default_factory=lambda: deque(maxlen=LIMITS["log"]))
    members: dict[str, str] = field(default_factory=dict)  # device -> nickname
    answers: dict[str, dict[str, str]] = field(default_factory=dict)  # question -> device -> answer
    revealed: list[str] = field(default_factory=list)
    connected: int = 0
    exploring: set[str] = field(default_factory=set)


class MemoryStore(RoomStore):
    """Rooms in this process's memory; `clock` is injectable so tests can make a room expire."""

    def __init__(self, config: RoomConfig, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(config)
        self.clock = clock
        self.rooms: dict[str, _Room] = {}

    async def start(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        self.rooms.clear()

    def _sweep(self) -> None:
        now = self.clock()
        for code in [c for c, r in self.rooms.items() if now - r.touched > self.config.expiry_s]:
            del self.rooms[code]

    def _room(self, code: str, touch: bool = True) -> _Room:
        room = self.rooms.get(code)
        now = self.clock()
        if room is None or now - room.touched > self.config.expiry_s:
            self.rooms.pop(code, None)
            raise KeyError(code)
        if touch:
            room.touched = now
        return room

    def _log(self, code: str, room: _Room, name: str, data: dict) -> Event:
        room.last_id += 1
        event = Event(name, data, room.last_id)
        room.log.append(event)
        self.hub.publish(code, event)
        return event

    async def create(self) -> tuple[str, str]:
        self._sweep()
        if len(self.rooms) >= self.config.max_rooms:
            raise RoomFull("rooms")
        code = new_code()
        while code in self.rooms:
            code = new_code()
        key = new_key()
        self.rooms[code] = _Room(key=key, touched=self.clock())
        return code, key

    async def exists(self, code: str) -> bool:
        try:
            self._room(code, touch=False)
        except KeyError:
            return False
        return True

    async def is_teacher(self, code: str, key: str) -> bool:
        return secrets.compare_digest(self._room(code).key.encode(), key.encode())

    async def is_watcher(self, code: str, token: str) -> bool:
        return secrets.compare_digest(watch_token(self._room(code).key, code).encode(), token.encode())

    async def set_state(self, code: str, state: dict) -> int:
        room = self._room(code)
        room.state = state
        return self._log(code, room, "state", state).id or 0

    async def snapshot(self, code: str) -> tuple[int, dict] | None:
        try:
            room = self._room(code)
        except KeyError:
            return None
        return room.last_id, room.state

    async def events_after(self, code: str, last_id: int) -> list[Event] | None:
        room = self._room(code)
        if last_id >= room.last_id:
            return []
        if not room.log or room.log[0].id is None or room.log[0].id > last_id + 1:
            return None
        return [e for e in room.log if (e.id or 0) > last_id]

    async def join(self, code: str, nickname: str) -> str:
        room = self._room(code)
        if len(room.members) >= self.config.max_members:
            raise RoomFull("members")
        device = new_device()
        room.members[device] = nickname
        return device

    async def is_member(self, code: str, device: str) -> bool:
        return device in self._room(code, touch=False).members

    async def answer(self, code: str, question: str, device: str, answer: str) -> dict[str, int]:
        room = self._room(code)
        if question not in room.answers and len(room.answers) >= LIMITS["questions"]:
            raise RoomFull("questions")
        room.answers.setdefault(question, {})[device] = answer
        dist = distribution(room.answers[question])
        self.hub.publish(code, Event("answers", {"question": question, "distribution": dist}))
        return dist

    async def reveal(self, code: str, question: str) -> Event:
        room = self._room(code)
        if question not in room.revealed:
            room.revealed.append(question)
        dist = distribution(room.answers.get(question, {}))
        return self._log(code, room, "reveal", {"question": question, "distribution": dist})

    async def presence(self, code: str, device: str | None, connected: int = 0,
                       exploring: bool | None = None) -> TeacherView:
        room = self._room(code)
        room.connected = max(0, room.connected + connected)
        if device is not None and (exploring is False or connected < 0):
            room.exploring.discard(device)
        elif device is not None and exploring:
            room.exploring.add(device)
        view = await self.teacher_view(code)
        self.hub.publish(code, Event("presence", view.as_dict()))
        return view

    async def teacher_view(self, code: str) -> TeacherView:
        room = self._room(code, touch=False)
        answers = {q: distribution(a) for q, a in room.answers.items()}
        return TeacherView(room.connected, len(room.exploring), len(room.members), answers, list(room.revealed))

