"""An exploding configuration answers 200 with valid JSON: non-finite numbers as null, flagged per step."""

from __future__ import annotations

import httpx
import numpy as np

from tests.app.conftest import parse_sse, strict_json

TEXT = ("the quick brown fox jumps over the lazy dog " * 6)[:250]
EXPLODING = {"arch": "rnn", "activation": "relu", "spectral_norm": 5, "text": TEXT, "hidden_size": 64}


def test_exploding_rnn_returns_nulls_and_overflow_flags(client):
    response = client.post("/api/trace", json=EXPLODING)
    assert response.status_code == 200
    trace = strict_json(response.content)  # would raise on NaN / Infinity
    assert trace["overflow"] is True
    flagged = [s["t"] for s in trace["steps"] if s["overflow"]]
    assert flagged, "some forward step must overflow"
    late = trace["steps"][flagged[-1]]
    assert None in late["h"][0] or None in late["probs"] or late["loss"] is None
    # steps before the first flag are finite numbers, steps after carry nulls instead of NaN
    early = trace["steps"][0]
    assert not early["overflow"] and all(isinstance(x, float) for x in early["h"][0])
    assert trace["backward"]["loss"] is None and trace["backward"]["grad_norm_before_clip"] is None
    assert any(trace["backward"]["overflow"])
    grad_h = np.array(trace["backward"]["grad_h"], dtype=float)  # None -> nan
    assert np.isnan(grad_h).any()


def test_exploding_stream_and_csv_stay_valid(live):
    with httpx.Client(base_url=live.url, timeout=60) as http:
        events = parse_sse(http.get("/api/trace/stream", params=EXPLODING).text)  # strict parse inside
        assert events[-1]["event"] == "done" and len(events) == 2 * len(TEXT) + 3
        assert any(e["data"]["overflow"] for e in events if e["event"] == "forward")
        assert events[-2]["data"]["loss"] is None and events[-2]["data"]["overflow"] is True
        csv = http.get("/api/trace.csv", params=EXPLODING)
        assert csv.status_code == 200
        rows = [line.split(",") for line in csv.text.strip().split("\n")]
        overflow = [int(r[-1]) for r in rows[1:]]
        assert len(overflow) == len(TEXT) and any(overflow)
        assert "nan" not in csv.text.lower() and "inf" not in csv.text.lower()


def test_growing_but_finite_configuration_has_no_false_flags(client):
    trace = strict_json(client.post("/api/trace", json={**EXPLODING, "spectral_norm": 3}).content)
    assert trace["overflow"] is False
    assert not any(s["overflow"] for s in trace["steps"]) and not any(trace["backward"]["overflow"])
    assert trace["backward"]["grad_h"][0][0] > 1e3  # exploded, but within float32
