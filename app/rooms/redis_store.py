"""Rooms in Redis (UNROLLED_REDIS_URL), so that a teacher and students on different worker processes
share one room.

Per room, keys that all expire after `expiry_s` without activity (each change renews them):
  unrolled:room:<code>          hash: key, state (JSON), last_id, revealed (JSON list), connected
  unrolled:room:<code>:log      list of logged events (JSON), the last LIMITS["log"]
  unrolled:room:<code>:members  hash: device -> nickname
  unrolled:room:<code>:answers  hash: JSON [question, device] -> answer
  unrolled:room:<code>:exploring set of devices
Events go out on ONE pub/sub channel, `unrolled:rooms`, which each process subscribes to once; its
listener hands every message to the process's Hub (app.rooms.hub), which copies it to the local streams.

If Redis goes away the listener tells every local stream `reconnecting`, retries with a growing pause
(at most 1 s), and once subscribed again tells them `reconnected` and makes them resync from the
snapshot. Operations during the outage raise StoreDown (the routes answer 503 with Retry-After).
What survives a restart of Redis itself is Redis's business: run it with appendonly (the tests do).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.rooms.model import (
    LIMITS,
    Event,
    RoomFull,
    StoreDown,
    TeacherView,
    distribution,
    new_code,
    new_device,
    new_key,
    watch_token,
)
from app.rooms.store import RoomConfig, RoomStore

CHANNEL = "unrolled:rooms"
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
log = logging.getLogger("unrolled.rooms")


def _k(code: str, part: str = "") -> str:
    return f"unrolled:room:{code}" + (f":{part}" if part else "")


class RedisStore(RoomStore):
    def __init__(self, config: RoomConfig, url: str) -> None:
        super().__init__(config)
        self.url = url
        self.redis: aioredis.Redis = aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=5,
                                                             socket_connect_timeout=2)
        self._listener: asyncio.Task | None = None
        self.connected = asyncio.Event()  # set while the subscription is up

    # -- the one subscription ---------------------------------------------------------------------
    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="rooms-redis-listener")
        with contextlib.suppress(TimeoutError):  # a server that starts before Redis still starts
            await asyncio.wait_for(self.connected.wait(), 5)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.redis.aclose()

    async def _listen(self) -> None:
        pause, down = 0.05, False
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self.connected.set()
                pause = 0.05
                if down:
                    down = False
                    log.warning("rooms: Redis is back; streams resync from the snapshot")
                    self.hub.publish_all(Event("reconnected", {}), resync=True)
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._deliver(message["data"])
            except DOWN:
                self.connected.clear()
                if not down:
                    down = True
                    log.warning("rooms: lost Redis at %s; retrying", self.url)
                    self.hub.publish_all(Event("reconnecting", {}))
                await asyncio.sleep(pause)  # back off: at most one attempt a second while Redis is away
                pause = min(1.0, pause * 2)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _deliver(self, raw: str) -> None:
        try:
            code, wire = raw.split(" ", 1)
            self.hub.publish(code, Event.from_wire(wire))
        except (ValueError, KeyError):
            log.warning("rooms: a malformed message on %s", CHANNEL)

    # -- helpers ------------------------------------------------------------------------------------
    async def _do(self, work: Any) -> Any:  # redis-py types its calls as Awaitable[T] | T
        try:
            return await work
        except DOWN as exc:
            raise StoreDown(str(exc)) from exc

    def _keys(self, code: str) -> list[str]:
        return [_k(code), _k(code, "log"), _k(code, "members"), _k(code, "answers"), _k(code, "exploring")]

    def _renew(self, pipe: Any, code: str) -> None:
        ttl = max(1, int(self.config.expiry_s))
        for key in self._keys(code):
            pipe.expire(key, ttl)

    async def _publish(self, code: str, event: Event) -> None:
        await self.redis.publish(CHANNEL, f"{code} {event.wire()}")

    async def _require(self, code: str) -> None:
        if not await self._do(self.redis.exists(_k(code))):
            raise KeyError(code)

    # -- the interface --------------------------------------------------------------------------------
    async def create(self) -> tuple[str, str]:
        key = new_key()
        for _ in range(20):
            code = new_code()
            if await self._do(self.redis.hsetnx(_k(code), "key", key)):
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.hset(_k(code), mapping={"state": "{}", "last_id": 0, "revealed": "[]", "connected": 0})
                    self._renew(pipe, code)
                    await self._do(pipe.execute())
                return code, key
        raise RoomFull("rooms")

    async def exists(self, code: str) -> bool:
        return bool(await self._do(self.redis.exists(_k(code))))

    async def _key(self, code: str) -> str:
        stored = await self._do(self.redis.hget(_k(code), "key"))
        if stored is None:
            raise KeyError(code)
        return stored

    async def is_teacher(self, code: str, key: str) -> bool:
        return secrets.compare_digest((await self._key(code)).encode(), key.encode())

    async def is_watcher(self, code: str, token: str) -> bool:
        return secrets.compare_digest(watch_token(await self._key(code), code).encode(), token.encode())

    async def _log(self, code: str, name: str, data: dict, extra: dict | None = None) -> Event:
        event_id = await self._do(self.redis.hincrby(_k(code), "last_id", 1))
        event = Event(name, data, int(event_id))
        async with self.redis.pipeline(transaction=True) as pipe:
            if extra:
                pipe.hset(_k(code), mapping=extra)
            pipe.rpush(_k(code, "log"), event.wire())
            pipe.ltrim(_k(code, "log"), -LIMITS["log"], -1)
            self._renew(pipe, code)
            pipe.publish(CHANNEL, f"{code} {event.wire()}")
            await self._do(pipe.execute())
        return event

    async def set_state(self, code: str, state: dict) -> int:
        await self._require(code)
        event = await self._log(code, "state", state, {"state": json.dumps(state, separators=(",", ":"))})
        return event.id or 0

    async def snapshot(self, code: str) -> tuple[int, dict] | None:
        last_id, state = await self._do(self.redis.hmget(_k(code), ["last_id", "state"]))
        if last_id is None:
            return None
        return int(last_id), json.loads(state or "{}")

    async def events_after(self, code: str, last_id: int) -> list[Event] | None:
        raw = await self._do(self.redis.lrange(_k(code, "log"), 0, -1))
        events = [Event.from_wire(r) for r in raw]
        current = await self._do(self.redis.hget(_k(code), "last_id"))
        if current is None:
            raise KeyError(code)
        if last_id >= int(current):
            return []
        if not events or (events[0].id or 0) > last_id + 1:
            return None
        return [e for e in events if (e.id or 0) > last_id]

    async def join(self, code: str, nickname: str) -> str:
        await self._require(code)
        if await self._do(self.redis.hlen(_k(code, "members"))) >= self.config.max_members:
            raise RoomFull("members")
        device = new_device()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(_k(code, "members"), device, nickname)
            self._renew(pipe, code)
            await self._do(pipe.execute())
        return device

    async def is_member(self, code: str, device: str) -> bool:
        return bool(await self._do(self.redis.hexists(_k(code, "members"), device)))

    async def _answers(self, code: str) -> dict[str, dict[str, str]]:
        table: dict[str, dict[str, str]] = {}
        for field, answer in (await self._do(self.redis.hgetall(_k(code, "answers")))).items():
            question, device = json.loads(field)
            table.setdefault(question, {})[device] = answer
        return table

    async def answer(self, code: str, question: str, device: str, answer: str) -> dict[str, int]:
        await self._require(code)
        answers = await self._answers(code)
        if question not in answers and len(answers) >= LIMITS["questions"]:
            raise RoomFull("questions")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(_k(code, "answers"), json.dumps([question, device]), answer)
            self._renew(pipe, code)
            await self._do(pipe.execute())
        dist = distribution({**answers.get(question, {}), device: answer})
        await self._do(self._publish(code, Event("answers", {"question": question, "distribution": dist})))
        return dist

    async def reveal(self, code: str, question: str) -> Event:
        await self._require(code)
        revealed = json.loads(await self._do(self.redis.hget(_k(code), "revealed")) or "[]")
        if question not in revealed:
            revealed.append(question)
        dist = distribution((await self._answers(code)).get(question, {}))
        return await self._log(code, "reveal", {"question": question, "distribution": dist},
                               {"revealed": json.dumps(revealed)})

    async def presence(self, code: str, device: str | None, connected: int = 0,
                       exploring: bool | None = None) -> TeacherView:
        await self._require(code)
        async with self.redis.pipeline(transaction=True) as pipe:
            if connected:
                pipe.hincrby(_k(code), "connected", connected)
            if device is not None and (exploring is False or connected < 0):
                pipe.srem(_k(code, "exploring"), device)
            elif device is not None and exploring:
                pipe.sadd(_k(code, "exploring"), device)
            self._renew(pipe, code)
            await self._do(pipe.execute())
        view = await self.teacher_view(code)
        await self._do(self._publish(code, Event("presence", view.as_dict())))
        return view

    async def teacher_view(self, code: str) -> TeacherView:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(_k(code), ["connected", "revealed"])
            pipe.scard(_k(code, "exploring"))
            pipe.hlen(_k(code, "members"))
            (connected, revealed), exploring, joined = await self._do(pipe.execute())
        answers = {q: distribution(a) for q, a in (await self._answers(code)).items()}
        return TeacherView(max(0, int(connected or 0)), int(exploring), int(joined), answers,
                           json.loads(revealed or "[]"))
