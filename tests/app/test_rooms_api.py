"""Classroom rooms in one process (app.routes.rooms, app.rooms): every edge of the API, and the event
stream against a real uvicorn on loopback (late joiners, Last-Event-ID, presence, shutdown)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.rooms import MemoryStore, RoomConfig
from app.rooms.hub import Hub
from app.rooms.model import ALPHABET, LIMITS, Event, normal_code, watch_token
from app.settings import Settings

from .conftest import LiveServer, _free_port


@pytest.fixture
def settings() -> Settings:
    return Settings(workers=1, cache_size=4, device="cpu", room_join_burst=50, room_join_rate=600,
                    room_keepalive_s=5)


def open_room(client) -> tuple[str, str]:
    body = client.post("/api/rooms").json()
    return body["code"], body["teacher_key"]


def teacher(key: str) -> dict[str, str]:
    return {"X-Teacher-Key": key}


class Stream:
    """The events of an open text/event-stream response, read one at a time (comments kept apart)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response, self.lines, self.comments = response, response.iter_lines(), []

    def next(self, timeout: float = 20) -> dict:
        deadline, fields = time.monotonic() + timeout, {}
        for line in self.lines:  # keep-alive comments arrive every room_keepalive_s: the deadline is checked
            if time.monotonic() > deadline:
                raise TimeoutError(f"no event in {timeout} s")
            if not line:
                if fields:
                    fields["data"] = json.loads(fields["data"]) if "data" in fields else None
                    return fields
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        raise EOFError("the stream ended")

    def next_of(self, name: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        for _ in range(50):
            event = self.next(max(0.1, deadline - time.monotonic()))
            if event["event"] == name:
                return event
        raise AssertionError(f"no {name} event in 50")


@contextmanager
def follow(base: str, code: str, headers: dict | None = None, **query) -> Iterator[Stream]:
    with httpx.Client(base_url=base, timeout=httpx.Timeout(10.0)) as http:
        with http.stream("GET", f"/api/rooms/{code}/events", params=query, headers=headers or {}) as response:
            assert response.status_code == 200, response.read()
            assert response.headers["content-type"].startswith("text/event-stream")
            yield Stream(response)


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings), _free_port()) as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


# -- codes, keys, limits ---------------------------------------------------------------------------

def test_codes_are_six_characters_easy_to_read_aloud(client: TestClient) -> None:
    codes = {client.post("/api/rooms").json()["code"] for _ in range(40)}
    assert len(codes) == 40
    for code in codes:
        assert len(code) == 6 and set(code) <= set(ALPHABET)
        assert not set(code) & set("0O1IL")
    assert normal_code("abc-def") == "ABCDEF" and normal_code("ABCDE0") is None


def test_new_room_answers_code_key_join_url_and_qr(client: TestClient) -> None:
    body = client.post("/api/rooms").json()
    assert body["join_url"].endswith(f"/join?code={body['code']}")
    assert "127.0.0.1" not in body["join_url"] and "testserver" not in body["join_url"]
    svg = client.get(body["qr_url"])
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and "<path" in svg.text and "<script" not in svg.text
    page = client.get(body["join_url"].split("/", 3)[3])
    assert page.status_code == 200 and f'value="{body["code"]}"' in page.text


def test_public_url_setting_is_the_join_address() -> None:
    with TestClient(create_app(Settings(workers=1, device="cpu", public_url="http://10.1.2.3:8000"))) as client:
        assert client.post("/api/rooms").json()["join_url"].startswith("http://10.1.2.3:8000/join?code=")


def test_state_needs_the_teacher_key(client: TestClient) -> None:
    code, key = open_room(client)
    other_code, other_key = open_room(client)
    url = f"/api/rooms/{code}/state"
    assert client.post(url, json={"step": 1}).status_code == 403
    assert client.post(url, json={"step": 1}, headers=teacher("nope")).status_code == 403
    assert client.post(url, json={"step": 1}, headers=teacher(other_key)).status_code == 403
    assert client.post(f"/api/rooms/{code}/reveal", json={"question": "q"}).status_code == 403
    assert client.get(f"/api/rooms/{code}/teacher", headers=teacher(other_key)).status_code == 403
    assert client.post(url, json={"step": 1}, headers=teacher(key)).json() == {"id": 1}


def test_unknown_code_is_404_everywhere(client: TestClient) -> None:
    code, key = open_room(client)
    unknown = "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"
    calls = [("POST", "state", {}), ("GET", "events", None), ("POST", "join", {}), ("GET", "qr.svg", None),
             ("GET", "teacher", None), ("POST", "reveal", {"question": "q"})]
    for method, path, body in calls:
        response = client.request(method, f"/api/rooms/{unknown}/{path}", json=body, headers=teacher(key))
        assert response.status_code == 404, (path, response.text)
    assert client.post("/api/rooms/BAD0IL/join", json={}).status_code == 404


def test_oversized_state_is_413_and_a_non_object_422(client: TestClient, settings: Settings) -> None:
    code, key = open_room(client)
    url = f"/api/rooms/{code}/state"
    big = {"text": "x" * settings.room_state_bytes}
    assert client.post(url, json=big, headers=teacher(key)).status_code == 413
    for body in ([1, 2], "step", 3, None):
        response = client.post(url, json=body, headers=teacher(key))
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body"]
    for raw in (b"{not json", b'{"x": NaN}', b"\xff\xfe"):
        assert client.post(url, content=raw, headers=teacher(key)).status_code == 422
    assert client.post(url, json={"fine": True}, headers=teacher(key)).status_code == 200


def test_nickname_is_length_limited_and_cleaned(client: TestClient) -> None:
    code, _ = open_room(client)
    long = client.post(f"/api/rooms/{code}/join", json={"nickname": "가" * (LIMITS["nickname"] + 1)})
    assert long.status_code == 422 and long.json()["detail"][0]["loc"] == ["body", "nickname"]
    ok = client.post(f"/api/rooms/{code.lower()}/join", json={"nickname": "  <b>민\u0000수</b>\n "}).json()
    assert ok["nickname"] == "<b>민수</b>" and ok["code"] == code  # escaped where shown, not mangled here


def test_join_is_rate_limited_per_client_with_retry_after() -> None:
    with TestClient(create_app(Settings(workers=1, device="cpu", room_join_burst=3, room_join_rate=1))) as client:
        code, _ = open_room(client)
        assert client.post(f"/api/rooms/{code}/join", json={}).status_code == 200
        assert client.post("/api/rooms/ZZZZZZ/join", json={}).status_code in (404, 200)  # a guess counts too
        assert client.get("/api/rooms/YYYYYY/qr.svg").status_code in (404, 200)
        refused = client.post(f"/api/rooms/{code}/join", json={})
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1 and refused.json()["reason"] == "join"


def test_one_answer_per_device_the_last_counts(client: TestClient) -> None:
    code, key = open_room(client)
    a, b = (client.post(f"/api/rooms/{code}/join", json={}).json()["device"] for _ in range(2))
    url = f"/api/rooms/{code}/answers"
    assert client.post(url, json={"question": "q1", "answer": 1, "device": a}).json()["answers"] == 1
    assert client.post(url, json={"question": "q1", "answer": 2, "device": a}).json()["answers"] == 1
    assert client.post(url, json={"question": "q1", "answer": 2, "device": b}).json()["answers"] == 2
    assert client.post(url, json={"question": "q1", "answer": 2, "device": "x" * 16}).status_code == 403
    assert client.post(url, json={"question": "q1", "answer": "y" * 65, "device": a}).status_code == 422
    view = client.get(f"/api/rooms/{code}/teacher", headers=teacher(key)).json()
    assert view["answers"] == {"q1": {"2": 2}} and view["joined"] == 2
    revealed = client.post(f"/api/rooms/{code}/reveal", json={"question": "q1"}, headers=teacher(key)).json()
    assert revealed["distribution"] == {"2": 2} and revealed["question"] == "q1"


def test_room_expires_after_inactivity(client: TestClient, settings: Settings) -> None:
    now = [1000.0]
    app = client.app
    app.state.rooms = MemoryStore(RoomConfig(settings.room_expiry_s, 10, 10, 8), clock=lambda: now[0])
    code, key = open_room(client)
    now[0] += settings.room_expiry_s - 1
    assert client.post(f"/api/rooms/{code}/state", json={"a": 1}, headers=teacher(key)).status_code == 200
    now[0] += settings.room_expiry_s - 1  # used a moment ago: still open
    assert client.get(f"/api/rooms/{code}/teacher", headers=teacher(key)).status_code == 200
    now[0] += settings.room_expiry_s + 1
    assert client.post(f"/api/rooms/{code}/state", json={"a": 2}, headers=teacher(key)).status_code == 404
    assert settings.room_expiry_s == 4 * 3600


def test_a_slow_follower_is_bounded_and_resyncs() -> None:
    hub = Hub(queue_size=4)
    follower = hub.add("ABCDEF", teacher=False)
    for i in range(1000):
        hub.publish("ABCDEF", Event("state", {"i": i}, i + 1))
    assert len(follower.queue) <= 4 and follower.dropped > 0
    resync, events = follower.take()
    assert resync and events[-1].data == {"i": 999}


# -- the event stream, on a real server --------------------------------------------------------------

def test_late_joiner_lands_on_the_current_state(server: LiveServer, http: httpx.Client) -> None:
    code, key = open_room(http)
    for step in range(3):
        http.post(f"/api/rooms/{code}/state", json={"page": "lesson", "step": step}, headers=teacher(key))
    device = http.post(f"/api/rooms/{code}/join", json={"nickname": "late"}).json()["device"]
    with follow(server.url, code, device=device) as stream:
        first = stream.next()
        assert first == {"event": "state", "id": "3", "data": {"page": "lesson", "step": 2}}
        http.post(f"/api/rooms/{code}/state", json={"page": "lesson", "step": 3}, headers=teacher(key))
        assert stream.next() == {"event": "state", "id": "4", "data": {"page": "lesson", "step": 3}}
        http.post(f"/api/rooms/{code}/reveal", json={"question": "q1"}, headers=teacher(key))
        reveal = stream.next()
        assert reveal["event"] == "reveal" and reveal["data"] == {"question": "q1", "distribution": {}}


def test_last_event_id_resumes_after_what_was_seen(server: LiveServer, http: httpx.Client) -> None:
    code, key = open_room(http)
    for step in range(5):
        http.post(f"/api/rooms/{code}/state", json={"step": step}, headers=teacher(key))
    with follow(server.url, code, headers={"Last-Event-ID": "2"}) as stream:
        assert [stream.next()["data"]["step"] for _ in range(3)] == [2, 3, 4]  # ids 3, 4, 5
    for step in range(5, 5 + LIMITS["log"] + 5):  # past the log's reach: the snapshot instead
        http.post(f"/api/rooms/{code}/state", json={"step": step}, headers=teacher(key))
    with follow(server.url, code, headers={"Last-Event-ID": "2"}) as stream:
        snap = stream.next()
        assert snap["data"] == {"step": 5 + LIMITS["log"] + 4} and snap["id"] == str(5 + LIMITS["log"] + 5)


def test_teacher_sees_connected_exploring_and_answers_live(server: LiveServer, http: httpx.Client) -> None:
    code, key = open_room(http)
    device = http.post(f"/api/rooms/{code}/join", json={}).json()["device"]
    token = watch_token(key, code)
    with follow(server.url, code, watch=token) as teacher_stream:
        assert teacher_stream.next()["event"] == "state"
        assert teacher_stream.next_of("presence")["data"]["connected"] == 0
        with follow(server.url, code, device=device) as student:
            student.next()
            assert teacher_stream.next_of("presence")["data"]["connected"] == 1
            http.post(f"/api/rooms/{code}/explore", json={"device": device, "exploring": True})
            assert teacher_stream.next_of("presence")["data"]["exploring"] == 1
            http.post(f"/api/rooms/{code}/answers", json={"question": "q", "answer": "b", "device": device})
            assert teacher_stream.next_of("answers")["data"] == {"question": "q", "distribution": {"b": 1}}
            http.post(f"/api/rooms/{code}/state", json={"step": 9}, headers=teacher(key))
            assert student.next() == {"event": "state", "id": "1", "data": {"step": 9}}  # no answers event
        left = teacher_stream.next_of("presence")["data"]
        assert left["connected"] == 0 and left["exploring"] == 0


def test_a_student_stream_needs_a_joined_device_and_a_teacher_stream_the_watch_token(server: LiveServer,
                                                                                     http: httpx.Client) -> None:
    room = http.post("/api/rooms").json()
    code, key, token = room["code"], room["teacher_key"], room["watch_token"]
    assert token == watch_token(key, code) != key
    for wrong in ("wrong", key):  # the key itself never goes in a URL: as a watch token it is refused
        assert http.get(f"/api/rooms/{code}/events", params={"watch": wrong}).status_code == 403
    # the token only follows: it cannot change the room
    assert http.post(f"/api/rooms/{code}/state", json={"step": 1}, headers=teacher(token)).status_code == 403
    assert http.get(f"/api/rooms/{code}/events", params={"device": "a" * 16}).status_code == 403


def test_quiet_stream_sends_keep_alive_and_ends_on_shutdown() -> None:
    app = create_app(Settings(workers=1, device="cpu", room_keepalive_s=0.2))
    with LiveServer(app, _free_port()) as live, httpx.Client(base_url=live.url, timeout=10) as http:
        code, _ = open_room(http)
        with follow(live.url, code) as stream:
            stream.next()
            lines = stream.lines
            assert next(lines).startswith(": keep-alive")
            loop = app.state.room_watcher.get_loop()  # the server's event loop (its own thread)
            loop.call_soon_threadsafe(app.state.shutdown.closing.set)
            end = stream.next_of("reconnect")
            assert end["data"]["reason"] == "shutdown" and "retry" in end
            with pytest.raises(EOFError):
                stream.next()


def test_serve_lan_listens_everywhere_and_names_the_students_url() -> None:
    from app.cli import build_parser, student_url

    args = build_parser().parse_args(["serve", "--lan", "--workers", "2", "--port", "8123"])
    assert args.lan and args.workers == 2
    url = student_url(8123)
    assert url.startswith("http://") and url.endswith(":8123/join") and "0.0.0.0" not in url
