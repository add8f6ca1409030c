"""The shapes models (lesson 10) against torch.nn.GRU and pack_padded_sequence; data; checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from models.shapes.data import PAD, TAGS, alphabet, make_sentences, split_of
from models.shapes.limits import MAX_BATCH, MAX_CHARS
from models.shapes.nets import Classifier, ShapesConfig, Tagger
from models.shapes.padding import pad_batch, padding_demo, torch_gru
from models.shapes.train import RECIPES, accuracy, held_out, load, train_shapes

V = len(alphabet())
TEXTS = ["Harry Potter and Hermione Granger invented a new spell.", "김하윤이 책을 읽었습니다.", "Ivy wrote."]


def _reference(model, ids, lengths=None):
    """torch.nn.GRU with the model's weights copied in, on the model's own embeddings."""
    gru = torch_gru(model)
    emb = model.embedding(ids)
    if lengths is None:
        return gru(emb)
    out, h_n = gru(pack_padded_sequence(emb, lengths, enforce_sorted=False))
    return pad_packed_sequence(out, total_length=ids.shape[0])[0], h_n


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
def test_tagger_equals_torch_gru(bidirectional, layers):
    model = Tagger(ShapesConfig(V, bidirectional=bidirectional, layers=layers, seed=3))
    ids, mask, lengths = pad_batch(TEXTS, alphabet())
    with torch.no_grad():
        out, h_n, _ = model.rnn(model.embedding(ids))
        ref_out, ref_h = _reference(model, ids)
        torch.testing.assert_close(out, ref_out, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(h_n, ref_h, atol=1e-6, rtol=1e-5)
        # masked = packed (torch's dynamic RNN), outputs at real positions and the final states
        out, h_n, _ = model.rnn(model.embedding(ids), mask)
        ref_out, ref_h = _reference(model, ids, lengths)
        torch.testing.assert_close(out[mask], ref_out[mask], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(h_n, ref_h, atol=1e-6, rtol=1e-5)
        logits, _ = model(ids, mask)
        torch.testing.assert_close(logits[mask], model.readout(ref_out)[mask], atol=1e-6, rtol=1e-5)


def test_bidirectional_state_dict_is_torch_naming():
    model = Tagger(ShapesConfig(V, bidirectional=True, layers=2))
    assert set(model.rnn.state_dict()) == set(torch.nn.GRU(16, 32, 2, bidirectional=True).state_dict())


def test_classifier_equals_torch_gru():
    model = Classifier(ShapesConfig(V, outputs=2, seed=5))
    ids, mask, lengths = pad_batch(TEXTS, alphabet())
    with torch.no_grad():
        logits, last, _ = model(ids, mask)
        _, ref_h = _reference(model, ids, lengths)
        torch.testing.assert_close(last, ref_h[-1], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(logits, model.readout(ref_h[-1]), atol=1e-6, rtol=1e-5)


def test_padding_demo_packed_equals_mask_and_no_mask_differs_where_padded():
    model, _ = load("shapes-classifier")
    result = padding_demo(model, alphabet(), TEXTS, [1, 1, 1])
    lengths = result["lengths"]
    longest = max(lengths)
    ids, _, _ = pad_batch(TEXTS, alphabet())
    with torch.no_grad():
        _, ref_h = _reference(model, ids, torch.tensor(lengths))
    torch.testing.assert_close(torch.tensor(result["packed"]["last_hidden"]), ref_h[-1])
    torch.testing.assert_close(torch.tensor(result["mask"]["last_hidden"]), ref_h[-1], atol=1e-6, rtol=1e-5)
    for b, n in enumerate(lengths):
        gap = result["no_mask"]["distance_to_packed"][b]
        if n == longest:
            assert gap < 1e-5  # nothing was padded: all three agree
        else:
            assert gap > 1e-3  # the pads moved the state
        assert result["mask"]["distance_to_packed"][b] < 1e-5
    assert result["no_mask"]["loss"][0] == pytest.approx(result["packed"]["loss"][0], abs=1e-5)


def test_pad_batch_limits():
    with pytest.raises(ValueError):
        pad_batch(["a"] * (MAX_BATCH + 1), alphabet())
    with pytest.raises(ValueError):
        pad_batch(["a" * (MAX_CHARS + 1)], alphabet())
    with pytest.raises(ValueError):
        pad_batch([""], alphabet())


def test_generator_is_deterministic_and_splits_by_name():
    a, b = make_sentences(50, 7), make_sentences(50, 7)
    assert a == b and a != make_sentences(50, 8)
    for split in ("train", "held_out"):
        for s in make_sentences(200, 1, split):
            assert len(s.tags) == len(s.text) and PAD not in s.text
            names, word = [], ""
            for ch, tag in zip(s.text, s.tags, strict=True):
                if TAGS[tag] == "B":
                    if word:
                        names.append(word)
                    word = ch
                elif TAGS[tag] == "I":
                    word += ch
                elif word:
                    names.append(word)
                    word = ""
            for name in names:
                # English: first and last name each; Korean: the given name after an optional family name
                parts = name.split(" ") if s.lang == "en" else [name[-2:]]
                assert all(split_of(part) == split for part in parts)
    assert {s.lang for s in a} == {"en", "ko"}


@pytest.mark.parametrize("name", list(RECIPES))
def test_checkpoints_load_and_reach_stated_accuracy(name):
    model, payload = load(name)
    acc = accuracy(model, payload["kind"], held_out(RECIPES[name]))
    assert acc == pytest.approx(payload["meta"]["held_out_accuracy"], abs=1e-9)
    assert f"{100 * acc:.1f}%" in payload["description"]["en"]
    assert acc > 0.95  # well above the majority tag (~77% O) and chance (50% of sentences name someone)


def test_bidirectional_tagger_beats_unidirectional():
    uni, _ = load("shapes-tagger-uni")
    bi, _ = load("shapes-tagger-bi")
    data = held_out(RECIPES["shapes-tagger-bi"])
    assert accuracy(bi, "tagger", data) > accuracy(uni, "tagger", data)


@pytest.mark.parametrize("name", list(RECIPES))
def test_recipes_are_deterministic(name):
    """The first 20 steps of the recipe, run again, give the committed checkpoint's loss history (to the
    float32 rounding of the CPU at hand: an AVX2 machine and an AVX-512 one sum in different orders, so
    the last digits differ; a changed seed, data or recipe moves the losses by far more)."""
    _, payload = load(name)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the checkpoints were trained: the sums' order, hence the rounding, depends on it
    try:
        _, history, _, _ = train_shapes(RECIPES[name], steps=20)
    finally:
        torch.set_num_threads(threads)
    committed = payload["meta"]["history"][:20]
    assert [step for step, _ in history] == [step for step, _ in committed]
    np.testing.assert_allclose([loss for _, loss in history], [loss for _, loss in committed], rtol=1e-5)
