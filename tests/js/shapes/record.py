"""Records the shapes payloads tests/js/shapes.test.mjs reads, from the API itself:
    .venv/bin/python tests/js/shapes/record.py"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

HERE = Path(__file__).resolve().parent
CASES = {"harry": {"sentence": "Harry Potter and Hermione Granger invented a new spell.", "shape": "bidirectional"},
         "unknown": {"sentence": "Ivy met ☃ 민준 at noon.", "shape": "deep",
                     "sentences": ["Ivy met Tobin.", "The baker said that my friend would win."]}}

if __name__ == "__main__":
    torch.set_num_threads(1)
    with TestClient(create_app(Settings(workers=1, cache_size=4, device="cpu"))) as client:
        for name, knobs in CASES.items():
            batch = {"sentences": knobs["sentences"]} if "sentences" in knobs else {}
            out = {"knobs": knobs, **{way: client.post(f"/api/shapes/{way}", json=body).json()
                                      for way, body in (("tag", {"sentence": knobs["sentence"]}),
                                                        ("classify", {"sentence": knobs["sentence"]}),
                                                        ("padding", batch))}}
            (HERE / f"{name}.json").write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
