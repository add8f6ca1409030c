"""/api/seq2seq: the encoder-decoder's numbers per decoder step equal the engine's (models.seq2seq), the
accuracy against length is measured live, and bad knobs are 422s naming the field."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.checkpoints import load_checkpoint
from models.seq2seq import accuracy_by_length, trace_seq2seq
from tests.app.conftest import strict_json


@pytest.mark.parametrize("checkpoint", ["seq2seq-reverse-attention", "seq2seq-reverse-plain", "seq2seq-swap-attention"])
@pytest.mark.parametrize("teacher_forcing", [True, False])
def test_trace_numbers_are_the_engines(client, checkpoint, teacher_forcing):
    source = "encoderdecoder"
    body = strict_json(client.post("/api/seq2seq/trace", json={"checkpoint": checkpoint, "source": source,
                                                               "teacher_forcing": teacher_forcing}).content)
    tr = trace_seq2seq(source, checkpoint=checkpoint, teacher_forcing=teacher_forcing, device="cpu")
    assert body["target"] == tr.target and body["predicted"] == tr.predicted and body["vocab"] == list(tr.vocab)
    assert body["T"] == len(body["steps"]) == len(tr.target) + 1 and body["J"] == len(source)
    np.testing.assert_allclose(body["encoder"]["annotations"], tr.encoder_states, rtol=1e-6, atol=1e-7)
    for i, step in enumerate(body["steps"]):
        assert step["input"] == tr.vocab[tr.decoder_inputs[i]]
        np.testing.assert_allclose(step["context"], tr.context[i], rtol=1e-6, atol=1e-7)
        assert step["context_norm"] == pytest.approx(float(np.linalg.norm(tr.context[i])), rel=1e-6)
        np.testing.assert_allclose(step["state"], tr.decoder_states[i], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(step["probs"], tr.probs[i], rtol=1e-6, atol=1e-8)
        assert step["chosen"] == tr.vocab[tr.predicted_tokens[i]]
        assert step["loss"] == pytest.approx(float(tr.loss[i]), rel=1e-6)
        assert step["p_target"] == pytest.approx(float(np.exp(-tr.loss[i])), rel=1e-4)
        if tr.energies is None:
            assert step["energies"] is None and step["weights"] is None
            # without attention the context is [fh_J; bh_1] at every step
            assert step["context"] == body["steps"][0]["context"]
        else:
            np.testing.assert_allclose(step["energies"], tr.energies[i], rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(step["weights"], tr.attention[i], rtol=1e-6, atol=1e-8)
            assert sum(step["weights"]) == pytest.approx(1, abs=1e-5)
            # c_i = sum_j a_ij h_j
            np.testing.assert_allclose(np.asarray(step["weights"]) @ np.asarray(body["encoder"]["annotations"]),
                                       step["context"], atol=1e-5)
    assert body["summary"]["total_loss"] == pytest.approx(tr.total_loss, rel=1e-6)


def test_the_reversal_aligns_on_the_anti_diagonal(client):
    body = client.get("/api/seq2seq/trace", params={"source": "abcdefghijkl"}).json()
    peaks = [int(np.argmax(s["weights"])) for s in body["steps"][:-1]]
    assert sum(p == 11 - i for i, p in enumerate(peaks)) >= 11 and body["summary"]["alignment_hits"] >= 11 / 12
    assert body["summary"]["exact"] and body["predicted"] == "lkjihgfedcba"


def test_accuracy_is_measured_live_and_attention_wins_at_length_16(client):
    body = strict_json(client.get("/api/seq2seq/accuracy", params={"task": "reverse", "count": 100, "seed": 3}).content)
    assert body["lengths"][0] == 2 and body["lengths"][-1] == 24
    by_name = {m["checkpoint"]: m for m in body["models"]}
    assert set(by_name) == {"seq2seq-reverse-attention", "seq2seq-reverse-plain"}
    i16 = body["lengths"].index(16)
    torch.set_num_threads(1)
    for name, m in by_name.items():
        expected = accuracy_by_length(load_checkpoint(name, device="cpu").model, body["lengths"], 100, seed=3)
        assert m["sequence"] == pytest.approx([expected[n]["sequence"] for n in body["lengths"]])
        assert m["character"] == pytest.approx([expected[n]["character"] for n in body["lengths"]])
    assert by_name["seq2seq-reverse-attention"]["sequence"][i16] >= 0.9
    assert by_name["seq2seq-reverse-plain"]["sequence"][i16] < 0.5


@pytest.mark.parametrize(("params", "field", "kind"), [
    ({"source": "Hello"}, "source", "seq2seq_alphabet"),
    ({"source": "ab cd"}, "source", "seq2seq_alphabet"),
    ({"source": "^ab"}, "source", "seq2seq_alphabet"),
    ({"source": ""}, "source", "string_too_short"),
    ({"source": "a" * 25}, "source", "knob_seq2seq_source_len"),
    ({"source": "a" * 65}, "source", "string_too_long"),
    ({"checkpoint": "charlm-rnn"}, "checkpoint", "seq2seq_checkpoint"),
    ({"checkpoint": "nope"}, "checkpoint", "seq2seq_checkpoint"),
    ({"teacher_forcing": "maybe"}, "teacher_forcing", "bool_parsing"),
])
def test_bad_trace_knobs_are_422_naming_the_field(client, params, field, kind):
    for r in (client.post("/api/seq2seq/trace", json=params), client.get("/api/seq2seq/trace", params=params)):
        assert r.status_code == 422, r.text
        detail = strict_json(r.content)["detail"][0]
        assert detail["loc"][-1] == field and detail["type"] == kind


def test_errors_speak_the_request_language_and_extra_body_keys_are_refused(client):
    ko = client.post("/api/seq2seq/trace", params={"lang": "ko"}, json={"source": "Abc"}).json()["detail"][0]
    assert ko["msg"].startswith("입력 글자열:") and "a-z" in ko["msg"]
    en = client.post("/api/seq2seq/trace", params={"lang": "en"}, json={"source": "a" * 30}).json()["detail"][0]
    assert en["msg"] == "Input string: at most 24 characters for this model"
    r = client.post("/api/seq2seq/trace", json={"source": "ab", "sourse": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "sourse"


@pytest.mark.parametrize(("params", "field"), [({"count": 0}, "count"), ({"count": 201}, "count"),
                                                ({"task": "copy"}, "task"), ({"seed": -1}, "seed")])
def test_bad_accuracy_knobs_are_422(client, params, field):
    r = client.get("/api/seq2seq/accuracy", params=params)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == field


def test_the_csv_export_has_one_row_per_decoder_step_of_the_trace(client):
    import csv
    import io

    knobs = {"checkpoint": "seq2seq-reverse-attention", "source": "export", "teacher_forcing": "false"}
    r = client.get("/api/seq2seq/trace.csv", params=knobs)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    body = strict_json(client.get("/api/seq2seq/trace", params=knobs).content)
    assert len(rows) == body["T"] == len("export") + 1
    for row, step in zip(rows, body["steps"], strict=True):
        assert row["chosen"] == step["chosen"] and row["target"] == step["target"]
        assert float(row["loss"]) == step["loss"] and float(row["p_target"]) == step["p_target"]
        assert int(row["attended"]) == int(np.argmax(step["weights"]))
        assert float(row["max_weight"]) == max(step["weights"])
    plain = list(csv.DictReader(io.StringIO(client.get("/api/seq2seq/trace.csv", params={
        **knobs, "checkpoint": "seq2seq-reverse-plain"}).text)))
    assert all(row["attended"] == "" and row["max_weight"] == "" for row in plain)
    r = client.get("/api/seq2seq/trace.csv", params={**knobs, "source": "Bad"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "source"
