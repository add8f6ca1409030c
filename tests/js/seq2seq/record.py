"""Records the encoder-decoder payloads tests/js/seq2seq.test.mjs reads, from the API itself:
    .venv/bin/python tests/js/seq2seq/record.py"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

HERE = Path(__file__).resolve().parent
CASES = {"reverse-attention": {"checkpoint": "seq2seq-reverse-attention", "source": "abcdef", "teacher_forcing": False},
         "reverse-plain": {"checkpoint": "seq2seq-reverse-plain", "source": "abcdef", "teacher_forcing": True}}

if __name__ == "__main__":
    with TestClient(create_app(Settings(workers=1, cache_size=4, device="cpu"))) as client:
        accuracy = client.get("/api/seq2seq/accuracy", params={"task": "reverse", "count": 20}).json()
        for name, knobs in CASES.items():
            body = client.post("/api/seq2seq/trace", json=knobs).json()
            out = {"knobs": knobs, "body": body, "accuracy": accuracy}
            (HERE / f"{name}.json").write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
