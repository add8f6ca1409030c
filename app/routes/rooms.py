"""Classroom rooms over HTTP: a teacher's page publishes its state, students' pages follow it.

POST /api/rooms                      a room: {code, teacher_key, watch_token, join_url, qr_url}
POST /api/rooms/{code}/join          a student's device id (nickname optional); rate-limited per client
POST /api/rooms/{code}/state         the teacher's state snapshot (X-Teacher-Key), a JSON object
GET  /api/rooms/{code}/events        SSE: `state` first (the snapshot), then every change, with ids
POST /api/rooms/{code}/answers       a student's answer to a question (one per device, the last counts)
POST /api/rooms/{code}/explore       a student detaches (exploring) or follows again
GET  /api/rooms/{code}/teacher       counts and the answers' distribution (X-Teacher-Key)
POST /api/rooms/{code}/reveal        show a question's distribution to everyone (X-Teacher-Key)
GET  /api/rooms/{code}/qr.svg        the join URL as a QR code, drawn here (segno)
GET  /join                           the page where a student types the code
GET  /teach                          the page where a teacher opens a room (static/js/rooms/teacher-bar.js)

A wrong or missing teacher key is 403; an unknown or expired code 404 (and counts against the client's
join rate, so codes cannot be found by trying); an oversized state 413; a state that is not an object 422.
The event stream ends like the trace streams on shutdown (a `reconnect` event, app.shutdown); the teacher
follows with ?watch=<watch_token> (EventSource sends no headers; the token, derived from the key, only
follows) and also gets `presence` and `answers` events.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
import segno
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.sse import format_sse_event
from pydantic import BaseModel, Field

from app.errors import request_lang
from app.fair import CLIENT, Refused, TokenBuckets
from app.i18n import LANG_COOKIE, load_strings, pick_lang
from app.pages import asset_context, templates
from app.rooms import RoomConfig, RoomFull, RoomStore, StoreDown, make_store
from app.rooms.model import (
    DEVICE_PATTERN,
    LIMITS,
    TEACHER_ONLY,
    Event,
    clean_nickname,
    normal_code,
    state_bytes,
    watch_token,
)
from app.routes.stream import TraceEventStream, sse_response
from app.settings import Settings
from app.shutdown import RECONNECT_AFTER_MS, Shutdown

_ROOM_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no open room with this code (an unknown code counts against the join rate)"},
    429: {"description": "too many joins or unknown codes from this client; see Retry-After"},
    503: {"description": "the rooms' store (Redis) is away, or the room or the server is full; see Retry-After"},
}
_TEACHER_ONLY: dict[int | str, dict[str, Any]] = {403: {"description": "a wrong or missing X-Teacher-Key"}}
_MEMBER_ONLY: dict[int | str, dict[str, Any]] = {403: {"description": "this device id has not joined the room"}}
router = APIRouter(prefix="/api/rooms", tags=["rooms"], responses=_ROOM_ERRORS)
page_router = APIRouter(tags=["pages"])
DOWN_RETRY_S = 2  # Retry-After while Redis is away: the listener retries every second


def _t(request: Request) -> dict[str, str]:
    return load_strings(request_lang(request))


def _store(request: Request) -> RoomStore:
    return request.app.state.rooms


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _limiter(request: Request) -> TokenBuckets:
    return request.app.state.room_joins


async def _call(request: Request, work):
    """A store call: unknown or expired room -> 404 (charged to the client), Redis away -> 503, full -> 503."""
    try:
        return await work
    except KeyError:
        _limiter(request).take(CLIENT.get())
        raise HTTPException(404, _t(request)["room_unknown"]) from None
    except StoreDown:
        raise Refused(503, "rooms", DOWN_RETRY_S) from None
    except RoomFull:
        raise Refused(503, "room_full", 60) from None


async def room_code(request: Request, code: str) -> str:
    """The room's code from the path, as typed (any case); an impossible or unknown one is 404."""
    normal = normal_code(code)
    if normal is None or not await _call(request, _store(request).exists(normal)):
        _limiter(request).take(CLIENT.get())
        raise HTTPException(404, _t(request)["room_unknown"])
    return normal


Code = Annotated[str, Depends(room_code)]


async def teacher(request: Request, code: Code,
                  x_teacher_key: Annotated[str | None, Header(max_length=128)] = None) -> str:
    """The room's code when the request carries its teacher key (X-Teacher-Key), else 403."""
    if not x_teacher_key or not await _call(request, _store(request).is_teacher(code, x_teacher_key)):
        raise HTTPException(403, _t(request)["room_not_teacher"])
    return code


Teacher = Annotated[str, Depends(teacher)]


def lan_address() -> str:
    """This machine's address on its LAN: the source address of a route outward (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1: only the routing table is consulted
            return sock.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def join_base(request: Request) -> str:
    """Where students reach this server: the setting, or the request's own address unless that is a
    loopback name (the teacher opened localhost), then this machine's LAN address on the same port."""
    settings = _settings(request)
    if settings.public_url:
        return settings.public_url
    host, port = request.url.hostname or "127.0.0.1", request.url.port
    if host in ("localhost", "127.0.0.1", "::1", "testserver"):
        host = lan_address()
    return f"{request.url.scheme}://{host}" + (f":{port}" if port else "")


def join_url(request: Request, code: str) -> str:
    return f"{join_base(request)}/join?code={code}"


class NewRoom(BaseModel):
    code: str = Field(description="6 characters to read aloud (no 0/O, 1/I/L)")
    teacher_key: str = Field(description="the secret that changes the room: keep it in the teacher's page")
    watch_token: str = Field(description="the teacher's own event stream takes this, not the key (a URL "
                             "shows up in logs): it follows the room with the answers and changes nothing")
    join_url: str
    qr_url: str


@router.post("", status_code=201, response_model=NewRoom)
async def post_room(request: Request) -> NewRoom:
    """Open a room; the answer's teacher_key is the only way to change it."""
    code, key = await _call(request, _store(request).create())
    return NewRoom(code=code, teacher_key=key, watch_token=watch_token(key, code), join_url=join_url(request, code),
                   qr_url=f"/api/rooms/{code}/qr.svg")


class JoinRequest(BaseModel):
    nickname: str = Field("", max_length=4 * LIMITS["nickname"], description="optional, shown to the teacher only")


class Joined(BaseModel):
    code: str
    device: str = Field(description="this student's device id: send it with answers and the event stream")
    nickname: str


@router.post("/{code}/join", response_model=Joined)
async def post_join(request: Request, code: str, body: JoinRequest) -> Joined:
    """Join as a student. Every join (and every unknown code) counts against the client's rate."""
    _limiter(request).take(CLIENT.get())
    normal = normal_code(code)
    if normal is None or not await _call(request, _store(request).exists(normal)):
        raise HTTPException(404, _t(request)["room_unknown"])
    nickname = clean_nickname(body.nickname)
    if len(nickname) > LIMITS["nickname"]:
        raise HTTPException(422, [{"type": "string_too_long", "loc": ["body", "nickname"],
                                   "msg": _t(request)["room_nickname_long"].format(limit=LIMITS["nickname"]),
                                   "ctx": {"max_length": LIMITS["nickname"]}}])
    device = await _call(request, _store(request).join(normal, nickname))
    return Joined(code=normal, device=device, nickname=nickname)


@router.post("/{code}/state", responses={403: {"description": "wrong or missing X-Teacher-Key"},
                                         413: {"description": "the state is larger than room_state_bytes"},
                                         422: {"description": "the body is not a JSON object"}})
async def post_state(request: Request, code: Teacher) -> dict[str, int]:
    """Replace the room's state with the body (a JSON object the teacher's page defines); every follower
    gets it as a `state` event."""
    raw = await request.body()
    limit = _settings(request).room_state_bytes
    if len(raw) > limit:
        raise HTTPException(413, _t(request)["room_state_large"].format(limit=limit))
    try:
        state = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError):
        state = None
    if not isinstance(state, dict):
        raise HTTPException(422, [{"type": "dict_type", "loc": ["body"], "msg": _t(request)["room_state_object"]}])
    if len(state_bytes(state).encode()) > limit:  # \u escapes can make the body smaller than its meaning
        raise HTTPException(413, _t(request)["room_state_large"].format(limit=limit))
    return {"id": await _call(request, _store(request).set_state(code, state))}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class AnswerRequest(BaseModel):
    question: str = Field(min_length=1, max_length=LIMITS["question"], pattern=r"^[\w.:-]+$")
    answer: str | int | float = Field(description="a number or a short choice")
    device: str = Field(pattern=DEVICE_PATTERN.pattern, description="the id POST /join gave this device")


def _answer_text(value: str | int | float, request: Request) -> str:
    text = value.strip() if isinstance(value, str) else json.dumps(value)
    if not text or len(text) > LIMITS["answer"] or text in ("NaN", "Infinity", "-Infinity"):
        raise HTTPException(422, [{"type": "value_error", "loc": ["body", "answer"],
                                   "msg": _t(request)["room_answer_bad"].format(limit=LIMITS["answer"])}])
    return text


@router.post("/{code}/answers", responses=_MEMBER_ONLY)
async def post_answer(request: Request, code: Code, body: AnswerRequest) -> dict[str, Any]:
    """A student's answer; sending again replaces the device's earlier one. Anonymous: the distribution
    goes to the teacher's stream live and to everyone on reveal."""
    if not await _call(request, _store(request).is_member(code, body.device)):
        raise HTTPException(403, _t(request)["room_not_member"])
    dist = await _call(request, _store(request).answer(code, body.question, body.device,
                                                       _answer_text(body.answer, request)))
    return {"question": body.question, "answers": sum(dist.values())}


class ExploreRequest(BaseModel):
    device: str = Field(pattern=DEVICE_PATTERN.pattern)
    exploring: bool


@router.post("/{code}/explore", responses=_MEMBER_ONLY)
async def post_explore(request: Request, code: Code, body: ExploreRequest) -> dict[str, int]:
    """A student detaches from the teacher (exploring: true) or follows again (false)."""
    if not await _call(request, _store(request).is_member(code, body.device)):
        raise HTTPException(403, _t(request)["room_not_member"])
    view = await _call(request, _store(request).presence(code, body.device, exploring=body.exploring))
    return {"connected": view.connected, "exploring": view.exploring}


@router.get("/{code}/teacher", responses=_TEACHER_ONLY)
async def get_teacher_view(request: Request, code: Teacher) -> dict[str, Any]:
    """How many follow, how many explore, who joined, and each question's answers so far."""
    return (await _call(request, _store(request).teacher_view(code))).as_dict()


class RevealRequest(BaseModel):
    question: str = Field(min_length=1, max_length=LIMITS["question"], pattern=r"^[\w.:-]+$")


@router.post("/{code}/reveal", responses=_TEACHER_ONLY)
async def post_reveal(request: Request, code: Teacher, body: RevealRequest) -> dict[str, Any]:
    """Show everyone the class's distribution for the question (a `reveal` event)."""
    event = await _call(request, _store(request).reveal(code, body.question))
    return {"id": event.id, **event.data}


@router.get("/{code}/qr.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}, "description": "the join URL as a QR code"}})
async def get_room_qr(request: Request, code: Code) -> Response:
    svg = io.BytesIO()
    segno.make(join_url(request, code), error="m").save(svg, kind="svg", scale=8, border=2, xmldecl=False,
                                                        title=code, dark="#000", light="#fff")
    return Response(svg.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


# -- the event stream --------------------------------------------------------------------------------

def _sse(event: Event) -> bytes:
    return format_sse_event(data_str=json.dumps(event.data, ensure_ascii=False, separators=(",", ":")),
                            event=event.event, id=None if event.id is None else str(event.id))


async def _room_events(request: Request, code: str, follower, start: int | None, teacher_view: bool,
                       shutdown: Shutdown) -> AsyncIterator[bytes]:
    store, settings = _store(request), _settings(request)
    sent = -1  # the last logged id this stream has sent

    async def resync() -> bytes:
        nonlocal sent
        snap = await store.snapshot(code)
        if snap is None:
            raise KeyError(code)
        sent = snap[0]
        return _sse(Event("state", snap[1], snap[0]))

    try:
        backlog = await store.events_after(code, start) if start is not None else None
        if backlog is None:
            yield await resync()
        else:
            for event in backlog:
                sent = event.id or sent
                yield _sse(event)
        if teacher_view:
            yield _sse(Event("presence", (await store.teacher_view(code)).as_dict()))
    except StoreDown:
        yield _sse(Event("reconnecting", {}))
        follower.mark_resync()
    except KeyError:
        yield _sse(Event("expired", {}))
        return
    while not shutdown.closing.is_set():  # the lifespan wakes every follower when closing is set
        with anyio.move_on_after(settings.room_keepalive_s):
            await follower.wake.wait()
        if shutdown.closing.is_set():
            break
        if not follower.wake.is_set():
            yield b": keep-alive\n\n"
            continue
        again, events = follower.take()
        if again:
            try:
                yield await resync()
            except StoreDown:
                follower.resync = True  # again on the next wake-up (the listener sends `reconnected`)
            except KeyError:
                yield _sse(Event("expired", {}))
                return
        for event in events:
            if event.event in TEACHER_ONLY and not teacher_view:
                continue
            if event.id is not None:
                if event.id <= sent:
                    continue  # already sent as part of the backlog or a snapshot
                sent = event.id
            yield _sse(event)
    note = {"reason": "shutdown", "retry_ms": RECONNECT_AFTER_MS, "last_event_id": sent}
    yield format_sse_event(data_str=json.dumps(note), event="reconnect", retry=RECONNECT_AFTER_MS)


_SSE = sse_response("state (the snapshot first, then each change), reveal, presence and answers (teacher only), "
                    "reconnecting / reconnected (the store went away / came back), a final reconnect on shutdown")


@router.get("/{code}/events", response_class=Response,
            responses={200: _SSE, 403: {"description": "a wrong teacher key, or a device that has not joined"}})
async def stream_room_events(
    request: Request,
    code: Code,
    device: Annotated[str | None, Query(pattern=DEVICE_PATTERN.pattern, description="a student's device id")] = None,
    watch: Annotated[str | None, Query(max_length=64, description="the room's watch_token: the teacher's own "
                                       "stream (with presence and answers)")] = None,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
) -> Response:
    """Follow the room: a `state` event with the snapshot (or, after Last-Event-ID, what was missed),
    then one event per change, keep-alive comments when quiet."""
    store = _store(request)
    is_teacher = watch is not None
    if is_teacher and not await _call(request, store.is_watcher(code, watch or "")):
        raise HTTPException(403, _t(request)["room_not_teacher"])
    student = device if device is not None and not is_teacher else None
    if student is not None and not await _call(request, store.is_member(code, student)):
        raise HTTPException(403, _t(request)["room_not_member"])
    follower = store.follow(code, is_teacher)  # before the snapshot is read: no change falls in between
    if student is not None:
        await _call(request, store.presence(code, student, connected=1))

    def closed() -> None:
        store.unfollow(follower)
        if student is not None:  # counted down in a task of its own: this runs as the response ends
            task = asyncio.get_running_loop().create_task(_left(store, code, student))
            tasks: set = request.app.state.room_tasks
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    events = _room_events(request, code, follower, last_event_id, is_teacher, request.app.state.shutdown)
    return TraceEventStream(events, closed)


async def _left(store: RoomStore, code: str, device: str) -> None:
    try:
        await store.presence(code, device, connected=-1)
    except (KeyError, StoreDown):
        pass  # the room expired, or Redis is away: its count renews with the room


@asynccontextmanager
async def open_rooms(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """For the app's lifespan: the store (and its Redis listener), the join limiter, and a watcher that
    wakes every room stream when the server closes its streams (app.shutdown), so that each ends."""
    config = RoomConfig(expiry_s=settings.room_expiry_s, max_rooms=settings.room_max,
                        max_members=settings.room_members, queue_size=settings.room_queue)
    app.state.rooms = make_store(config, settings.redis_url)
    app.state.room_joins = TokenBuckets(settings.room_join_rate, settings.room_join_burst, "join")
    app.state.room_tasks = set()
    await app.state.rooms.start()

    async def watch() -> None:
        await app.state.shutdown.closing.wait()
        app.state.rooms.hub.wake_all()

    watcher = app.state.room_watcher = asyncio.get_running_loop().create_task(watch())
    try:
        yield
    finally:
        watcher.cancel()
        await app.state.rooms.close()


# -- the page ----------------------------------------------------------------------------------------

@page_router.get("/join", response_class=HTMLResponse)
def get_join_page(request: Request, code: str | None = None, lang: str | None = None,
                  accept_language: Annotated[str | None, Header()] = None) -> HTMLResponse:
    """Where a student types the room's code (or arrives with it in the URL) and an optional nickname."""
    chosen = pick_lang(lang, request.cookies.get(LANG_COOKIE), accept_language)
    normal = normal_code(code or "") or ""
    context = {"lang": chosen, "other_lang": "en" if chosen == "ko" else "ko", "t": load_strings(chosen),
               "code": normal, "nickname_max": LIMITS["nickname"], **asset_context(_settings(request))}
    response = templates.TemplateResponse(request, "join.html", context)
    response.headers["Vary"] = "Accept-Language"
    return response


@page_router.get("/teach", response_class=HTMLResponse)
def get_teach_page(request: Request, lang: str | None = None,
                   accept_language: Annotated[str | None, Header()] = None) -> HTMLResponse:
    """Where a teacher opens a room: the code, the join address and its QR code, the counts, a step
    and a question to publish, the answers as they come, the reveal."""
    chosen = pick_lang(lang, request.cookies.get(LANG_COOKIE), accept_language)
    context = {"lang": chosen, "other_lang": "en" if chosen == "ko" else "ko", "t": load_strings(chosen),
               **asset_context(_settings(request))}
    response = templates.TemplateResponse(request, "teach.html", context)
    response.headers["Vary"] = "Accept-Language"
    return response
