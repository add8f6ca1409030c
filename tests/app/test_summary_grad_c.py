"""The summary (stream event and GET /api/trace/summary) carries the LSTM's ‖∂L_t/∂c_s‖ matrix, the
grad-c-h panel's data: the same numbers as POST /api/trace, null for a model without a cell state."""

from __future__ import annotations

import math

KNOBS = {"arch": "lstm", "text": "hello there", "hidden_size": 4, "seed": 0}


def test_summary_has_the_cell_state_gradient_flow(client):
    trace = client.post("/api/trace", json=KNOBS).json()
    summary = client.get("/api/trace/summary", params=KNOBS).json()
    flow_c = summary["grad_flow_c"]
    assert flow_c == trace["backward"]["grad_flow_c"]
    T = len(KNOBS["text"])
    assert len(flow_c) == T and all(len(row) == T for row in flow_c)
    # a loss reaches only the states before it, and reaches each of those through c
    for t in range(T - 1):
        assert all(flow_c[t][s] == 0 for s in range(t + 1, T))
        assert all(math.isfinite(flow_c[t][s]) and flow_c[t][s] > 0 for s in range(t + 1))


def test_summary_grad_flow_c_is_null_without_a_cell_state(client):
    summary = client.get("/api/trace/summary", params={**KNOBS, "arch": "gru"}).json()
    assert summary["grad_flow_c"] is None
