"""What a classroom room is, independent of where it is stored.

A room has a 6-character code a teacher reads aloud (no 0/O, no 1/I/L), a secret teacher key, a state
snapshot (a bounded JSON object: the page, section, knobs, phase, step ... the teacher's page chooses),
an event log with ids (a reconnecting EventSource resumes after Last-Event-ID; past the log's reach it
gets the snapshot again), the students who joined (a device id each, an optional nickname), and the
answers: one per device per question, the last one counts.

Events: `state` and `reveal` are logged and carry ids; `presence` (connected / exploring counts) and
`answers` (the distribution so far) go to the teacher only and carry none; `reconnecting` and
`reconnected` tell every follower that the store behind the room went away and came back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import Any

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # read aloud without doubt: no 0/O, no 1/I/L
CODE_LENGTH = 6
CODE_PATTERN = re.compile(f"^[{ALPHABET}]{{{CODE_LENGTH}}}$")
DEVICE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,32}$")

# Hard caps of the wire format; the tunable limits (state size, members, rate, expiry) are in app.settings.
LIMITS = {
    "nickname": 24,  # characters, after trimming
    "question": 64,  # characters of a question id
    "answer": 64,  # characters of an answer (a number or a short choice, as text)
    "questions": 64,  # distinct questions answered in one room
    "log": 256,  # events kept for Last-Event-ID resumption
}
LOGGED = ("state", "reveal")  # events with ids, kept in the log
TEACHER_ONLY = ("presence", "answers")  # events a student's stream never carries


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def new_key() -> str:
    return secrets.token_urlsafe(24)


def watch_token(key: str, code: str) -> str:
    """What the teacher's own event stream carries in its URL (EventSource sends no headers): derived from
    the key, and good for following the room only, so a URL in a log or a proxy cannot change the room."""
    return hmac.new(key.encode(), b"watch:" + code.encode(), hashlib.sha256).hexdigest()[:32]


def new_device() -> str:
    return secrets.token_urlsafe(12)  # 16 characters of [A-Za-z0-9_-]


def normal_code(raw: str) -> str | None:
    """The code as typed (any case, spaces or dashes between groups) or None when it cannot be one."""
    code = re.sub(r"[\s-]", "", raw).upper()
    return code if CODE_PATTERN.match(code) else None


def clean_nickname(raw: str | None) -> str:
    """Trimmed, inner whitespace collapsed, control and format characters dropped; the caller checks
    the length. Pages escape it when they show it (Jinja's autoescape, textContent in JS)."""
    text = "".join(ch for ch in (raw or "") if unicodedata.category(ch)[0] != "C" or ch in " \t")
    return " ".join(text.split())


def state_bytes(state: dict) -> str:
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def distribution(answers: dict[str, str]) -> dict[str, int]:
    """{answer: count} for one question, most frequent first."""
    counts: dict[str, int] = {}
    for answer in answers.values():
        counts[answer] = counts.get(answer, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass
class Event:
    event: str
    data: dict[str, Any]
    id: int | None = None

    def wire(self) -> str:
        return json.dumps({"event": self.event, "data": self.data, "id": self.id}, separators=(",", ":"))

    @classmethod
    def from_wire(cls, raw: str | bytes) -> Event:
        obj = json.loads(raw)
        return cls(obj["event"], obj["data"], obj["id"])


@dataclass
class TeacherView:
    connected: int
    exploring: int
    joined: int
    answers: dict[str, dict[str, int]] = field(default_factory=dict)  # question -> distribution
    revealed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"connected": self.connected, "exploring": self.exploring, "joined": self.joined,
                "answers": self.answers, "revealed": self.revealed}


class RoomFull(Exception):
    """The room (or the server's rooms) cannot take more: members, questions or rooms."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class StoreDown(Exception):
    """The store behind the rooms (Redis) cannot be reached now."""
