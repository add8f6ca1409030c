"""Whatever the knobs, the answer is a trace (200, valid JSON) or a 422 that names a field: never a 500."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import strict_json

CHOICES = {
    "arch": ["rnn", "lstm", "gru", "transformer"],
    "text": ["ab", "aaaa", "x" * 40, "hello, world!", "\u00e9\u00e8 \u4e2d\u6587 \U0001f600", "a\nb\tc"],
    "layers": [1, 2, 3, 4],
    "hidden_size": [1, 2, 16],
    "activation": ["tanh", "relu", "sigmoid", "linear"],
    "spectral_norm": [None, 0, 0.5, 10],
    "identity_init": [False, True],
    "forget_bias": [None, -10, 10],
    "truncation": [None, 1, 2, 100],
    "clip_mode": [None, "norm", "value"],
    "clip_threshold": [None, 1e-6, 1e6],
    "d_model": [8, 16, 24],
    "heads": [1, 2, 3, 8],
    "d_ff": [8, 64],
    "positional": ["sinusoidal", "learned"],
    "seed": [0, 2**31 - 1],
}


def test_random_knob_sets_never_answer_500():
    rng = random.Random(4)
    with TestClient(create_app(Settings(device="cpu", cache_size=0)), raise_server_exceptions=False) as client:
        seen = set()
        for _ in range(60):
            knobs = {name: rng.choice(values) for name, values in CHOICES.items()}
            response = client.post("/api/trace", json=knobs)
            assert response.status_code in (200, 422), (knobs, response.text)
            body = strict_json(response.content)
            if response.status_code == 422:
                assert all(e["loc"][-1] in CHOICES for e in body["detail"]), body
            else:
                assert len(body["steps"]) == len(knobs["text"])
            seen.add(response.status_code)
        assert seen == {200, 422}
