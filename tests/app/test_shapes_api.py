"""/api/shapes: the numbers equal the models' own (models.shapes, torch's pack_padded_sequence), and bad
fields are 422s naming the field, in the request's language."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from models.shapes.data import alphabet, encode
from models.shapes.limits import MAX_BATCH, MAX_CHARS
from models.shapes.padding import pad_batch, torch_gru
from models.shapes.train import load
from tests.app.conftest import strict_json

SENTENCE = "Harry Potter and Hermione Granger invented a new spell."


def test_tag_numbers_are_the_taggers(client):
    body = strict_json(client.post("/api/shapes/tag", json={"sentence": SENTENCE}).content)
    ids = torch.tensor(encode(SENTENCE, alphabet())).unsqueeze(1)
    for way in ("uni", "bi"):
        model, _ = load(f"shapes-tagger-{way}")
        with torch.no_grad():
            probs = torch.softmax(model(ids)[0][:, 0], -1)
        torch.testing.assert_close(torch.tensor(body[way]["probs"]), probs)
        assert body[way]["tags"] == probs.argmax(-1).tolist()
    bi, uni = torch.tensor(body["bi"]["probs"]), torch.tensor(body["uni"]["probs"])
    chosen = bi.argmax(-1, keepdim=True)
    torch.testing.assert_close(torch.tensor(body["gain"]), (bi.gather(1, chosen) - uni.gather(1, chosen))[:, 0])
    assert body["bi"]["tags"][0] == 1  # "H" of Harry: B, the bidirectional tagger finds the name


def test_classify_is_the_classifiers_state_step_by_step(client):
    text = "어제 하윤이는 도서관에서 선생님을 만났습니다."
    body = strict_json(client.post("/api/shapes/classify", json={"sentence": text}).content)
    model, _ = load("shapes-classifier")
    ids = torch.tensor(encode(text, alphabet())).unsqueeze(1)
    with torch.no_grad():
        _, h_n = torch_gru(model)(model.embedding(ids))
        logits = model.readout(h_n[-1])
    torch.testing.assert_close(torch.tensor(body["hidden"][-1]), h_n[-1, 0], atol=1e-6, rtol=1e-5)
    assert body["prediction"] == int(logits.argmax()) and len(body["p_name"]) == len(text)
    assert body["p_final"] == pytest.approx(body["p_name"][-1], abs=1e-6)


def test_padding_is_torchs_packed_and_no_mask_differs(client):
    texts = ["Ivy wrote.", "Yesterday Mira Voss met the teacher at the library.", "수아가 편지를 썼습니다."]
    body = strict_json(client.post("/api/shapes/padding", json={"sentences": texts, "labels": [1, 1, 1]}).content)
    model, _ = load("shapes-classifier")
    ids, _, lengths = pad_batch(texts, alphabet())
    with torch.no_grad():
        _, h_n = torch_gru(model)(pack_padded_sequence(model.embedding(ids), lengths, enforce_sorted=False))
    torch.testing.assert_close(torch.tensor(body["packed"]["last_hidden"]), h_n[-1])
    torch.testing.assert_close(torch.tensor(body["mask"]["last_hidden"]), h_n[-1], atol=1e-6, rtol=1e-5)
    assert body["lengths"] == [len(t) for t in texts]
    gaps = body["no_mask"]["distance_to_packed"]
    assert gaps[1] < 1e-5 and gaps[0] > 1e-3 and gaps[2] > 1e-3  # only the longest sentence is unpadded


@pytest.mark.parametrize("lengths", [[4, 51, 9], "4, 51, 9", "4 51 9"])
def test_lengths_cut_the_batch_as_if_the_cut_sentences_were_sent(client, lengths):
    texts = ["Ivy wrote.", "Yesterday Mira Voss met the teacher at the library.", "수아가 편지를 썼습니다."]
    cut = [t[:n] for t, n in zip(texts, [4, 51, 9], strict=True)]
    body = strict_json(client.post("/api/shapes/padding", json={"sentences": texts, "lengths": lengths,
                                                                 "labels": [1, 0, 1]}).content)
    alone = strict_json(client.post("/api/shapes/padding", json={"sentences": cut, "labels": [1, 0, 1]}).content)
    assert body == alone and body["sentences"] == cut and body["lengths"] == [4, 51, 9]
    model, _ = load("shapes-classifier")
    ids, _, n = pad_batch(cut, alphabet())
    with torch.no_grad():
        _, h_n = torch_gru(model)(pack_padded_sequence(model.embedding(ids), n, enforce_sorted=False))
    torch.testing.assert_close(torch.tensor(body["packed"]["last_hidden"]), h_n[-1])
    gaps = body["no_mask"]["distance_to_packed"]
    assert gaps[1] < 1e-5 and gaps[0] > 1e-3 and max(body["mask"]["distance_to_packed"]) < 1e-5


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/shapes/tag", {"sentence": ""}, "sentence"),
    ("/api/shapes/tag", {"sentence": "a" * (MAX_CHARS + 1)}, "sentence"),
    ("/api/shapes/classify", {"sentence": 3}, "sentence"),
    ("/api/shapes/tag", {"sentence": "a", "extra": 1}, "extra"),
    ("/api/shapes/padding", {"sentences": ["a"] * (MAX_BATCH + 1)}, "sentences"),
    ("/api/shapes/padding", {"sentences": ["a", "a" * (MAX_CHARS + 1)]}, "sentences"),
    ("/api/shapes/padding", {"sentences": ["a", "b"], "labels": [1]}, "labels"),
    ("/api/shapes/padding", {"sentences": ["a"], "labels": [2]}, "labels"),
    ("/api/shapes/padding", {"sentences": ["ab", "cde"], "lengths": [2]}, "lengths"),
    ("/api/shapes/padding", {"sentences": ["ab", "cde"], "lengths": "2, 4"}, "lengths"),
    ("/api/shapes/padding", {"sentences": ["ab", "cde"], "lengths": [0, 3]}, "lengths"),
    ("/api/shapes/padding", {"sentences": ["ab", "cde"], "lengths": "two, 3"}, "lengths"),
])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_bad_fields_are_422_naming_the_field(client, path, body, field, lang):
    r = client.post(path, json=body, params={"lang": lang})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert any(field in d["loc"] for d in detail)
    if lang == "ko":
        assert all(any("\uac00" <= ch <= "\ud7a3" for ch in d["msg"]) for d in detail)
