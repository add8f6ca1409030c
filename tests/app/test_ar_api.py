"""GET /api/ar: AR(tau) counts of the training corpus next to the trained model's own trace, per step."""

from __future__ import annotations

import re

import numpy as np
import pytest

from models.corpus import corpus_split
from tests.app.conftest import strict_json


def _followed(context: str, train: str) -> int:
    """How often `context` occurs in the training text followed by a character (overlaps counted)."""
    return len(re.findall(f"(?={re.escape(context)}.)", train, flags=re.S))


def test_ar_steps_count_the_corpus_and_carry_the_models_trace_probabilities(client):
    text = "학교에 가요. I go to school."
    body = strict_json(client.get("/api/ar", params={"text": text, "tau": 3, "checkpoint": "charlm-gru"}).content)
    traced = {"arch": "gru", "text": text, "checkpoint": "charlm-gru"}
    trace = strict_json(client.post("/api/trace", json=traced).content)
    train = corpus_split().train
    vocab = body["vocab"]
    assert vocab == trace["vocab"] and body["unknown"] == [] and len(body["steps"]) == len(text)
    for step, traced in zip(body["steps"], trace["steps"], strict=True):
        t = step["t"]
        assert step["context"] == text[max(0, t - 2) : t + 1] and step["char"] == text[t]
        assert step["count"] == _followed(step["context"], train)
        assert step["tau_used"] <= len(step["context"]) and (step["tau_used"] == len(step["context"])) == (
            step["count"] > 0)
        used = step["context"][len(step["context"]) - step["tau_used"] :]
        assert step["count_used"] == (_followed(used, train) if used else len(train))
        assert sum(step["probs"]) == pytest.approx(1, abs=1e-5)
        np.testing.assert_allclose(step["rnn"]["probs"], traced["probs"], atol=1e-6)
        assert step["target"] == traced["target"]
        if step["target"] is not None:
            i = vocab.index(step["target"])
            assert step["p_target"] == pytest.approx(step["probs"][i], rel=1e-6)
            assert step["rnn"]["p_target"] == pytest.approx(traced["probs"][i], rel=1e-6)
            if used:  # the probability is the count of context + target over the count of the context
                hits = len(re.findall(f"(?={re.escape(used + step['target'])})", train))
                assert step["p_target"] == pytest.approx(hits / step["count_used"], rel=1e-6)
    assert body["summary"]["rnn_loss"] == pytest.approx(np.mean([s["loss"] for s in trace["steps"][:-1]]), rel=1e-5)


def test_tau_zero_is_the_unigram_of_the_corpus_and_unknown_characters_are_marked(client):
    body = client.get("/api/ar", params={"text": "a☃b", "tau": 0}).json()
    train = corpus_split().train
    assert body["checkpoint"] == "charlm-lstm" and body["unknown"] == [1]
    assert all(s["context"] == "" and s["tau_used"] == 0 and s["count"] == len(train) for s in body["steps"])
    b = body["vocab"].index("b")
    assert body["steps"][0]["probs"][b] == pytest.approx(train.count("b") / len(train), rel=1e-6)


def test_an_unseen_context_backs_off_and_says_so(client):
    body = client.get("/api/ar", params={"text": "qqqqzx", "tau": 4, "checkpoint": "charlm-rnn"}).json()
    last = body["steps"][-2]  # context "qqqz": never in the corpus; "z" is
    assert last["context"] == "qqqz" and last["count"] == 0 and last["tau_used"] == 1
    assert body["summary"]["backed_off"] >= 1


@pytest.mark.parametrize(
    ("params", "field"),
    [({"tau": 9}, "tau"), ({"tau": -1}, "tau"), ({"text": "a"}, "text"), ({"text": "a" * 257}, "text"),
     ({"checkpoint": "seq2seq-reverse-plain"}, "checkpoint")],
)
def test_bad_ar_knobs_are_422_naming_the_field(client, params, field):
    response = client.get("/api/ar", params={"text": "hello", "tau": 2, **params})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", field]
