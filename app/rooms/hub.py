"""Fan-out inside one process: every open room stream is a Follower with a bounded queue.

A store (in-process or Redis) hands each event to the hub once; the hub copies it to the followers of
that room. A follower whose device reads too slowly does not grow the server's memory: when its queue is
full it is emptied and marked `resync`, and its stream sends the current snapshot instead (state is a
snapshot, so nothing a student needs is lost, only intermediate steps).
"""

from __future__ import annotations

import asyncio
from collections import deque

from app.rooms.model import Event


class Follower:
    def __init__(self, code: str, teacher: bool, size: int) -> None:
        self.code, self.teacher, self.size = code, teacher, size
        self.queue: deque[Event] = deque()
        self.resync = False
        self.dropped = 0  # times the queue overflowed
        self.wake = asyncio.Event()

    def push(self, event: Event) -> None:
        if len(self.queue) >= self.size:
            self.dropped += 1
            self.queue.clear()
            self.resync = True
        self.queue.append(event)
        self.wake.set()

    def mark_resync(self) -> None:
        self.queue.clear()
        self.resync = True
        self.wake.set()

    def take(self) -> tuple[bool, list[Event]]:
        """(resync first?, the events waiting), emptying the queue."""
        resync, events = self.resync, list(self.queue)
        self.resync = False
        self.queue.clear()
        self.wake.clear()
        return resync, events


class Hub:
    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self.rooms: dict[str, set[Follower]] = {}

    def add(self, code: str, teacher: bool) -> Follower:
        follower = Follower(code, teacher, self.queue_size)
        self.rooms.setdefault(code, set()).add(follower)
        return follower

    def remove(self, follower: Follower) -> None:
        room = self.rooms.get(follower.code)
        if room is not None:
            room.discard(follower)
            if not room:
                del self.rooms[follower.code]

    def publish(self, code: str, event: Event) -> None:
        for follower in self.rooms.get(code, ()):
            follower.push(event)

    def publish_all(self, event: Event, resync: bool = False) -> None:
        """To every follower of every room (the store went away, or came back: then resync too)."""
        for room in self.rooms.values():
            for follower in room:
                if resync:
                    follower.mark_resync()
                follower.push(event)

    def wake_all(self) -> None:
        """Wake every stream (the server is closing: each sees it and ends)."""
        for room in self.rooms.values():
            for follower in room:
                follower.wake.set()

    @property
    def followers(self) -> int:
        return sum(len(room) for room in self.rooms.values())
