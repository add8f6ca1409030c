"""Record the small traces the JS unit tests read (tests/js/fixtures/*.json), straight from the API.

    .venv/bin/python tests/js/record_fixtures.py

Each fixture holds the knobs, the whole body of GET /api/trace.json (`payload`) and the events of
GET /api/trace/stream for the same knobs (`events`: [name, data] in stream order), so the tests can
check that core/source.js builds the same trace from either transport.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app

HERE = Path(__file__).resolve().parent / "fixtures"

FIXTURES = {
    "rnn-tanh": {"arch": "rnn", "text": "hello", "hidden_size": 3, "layers": 2, "seed": 0},
    "rnn-relu": {"arch": "rnn", "text": "hello, hello", "hidden_size": 4, "activation": "relu", "spectral_norm": 3},
    "rnn-overflow": {"arch": "rnn", "text": "abcdefghijklmnopqrstuvwxyz" * 2, "hidden_size": 2,
                     "activation": "linear", "spectral_norm": 10},
    "rnn-cut": {"arch": "rnn", "text": "hello world", "hidden_size": 3, "truncation": 4},
    "lstm": {"arch": "lstm", "text": "hello", "hidden_size": 3, "layers": 2, "forget_bias": 1.0},
    "gru": {"arch": "gru", "text": "hello", "hidden_size": 3, "layers": 2},
    "sgru": {"arch": "sgru", "text": "hello", "hidden_size": 3, "layers": 2},
    "transformer": {"arch": "transformer", "text": "hello", "d_model": 8, "heads": 2, "d_ff": 8, "layers": 1},
}


def parse_sse(text: str) -> list[list]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append([fields["event"], json.loads(fields["data"])])
    return events


def main() -> None:
    HERE.mkdir(exist_ok=True)
    with TestClient(create_app()) as client:
        for name, knobs in FIXTURES.items():
            payload = client.get("/api/trace.json", params=knobs).json()
            events = parse_sse(client.get("/api/trace/stream", params=knobs).text)
            body = {"knobs": knobs, "payload": payload, "events": events}
            (HERE / f"{name}.json").write_text(json.dumps(body, separators=(",", ":")) + "\n")
            print(name, len(events), "events")


if __name__ == "__main__":
    main()
