"""AR(tau) counts on a corpus small enough to count by hand, and on the real corpus against str.count."""

from __future__ import annotations

import re

import numpy as np
import pytest

from models.corpus import corpus_split, corpus_vocab
from models.ngram import CharCounts, ar_steps, predict
from models.vocab import Vocab

# the corpus "abracadabra": a b r a c a d a b r a
CORPUS = "abracadabra"
VOCAB = Vocab.from_text("abcdr")  # ids: a 0, b 1, c 2, d 3, r 4


def counts() -> CharCounts:
    return CharCounts(VOCAB.encode(CORPUS), len(VOCAB))


def test_unigram_counts_every_character_of_the_corpus():
    # a: 5, b: 2, c: 1, d: 1, r: 2 (11 characters)
    assert counts().next_counts(()).tolist() == [5, 2, 1, 1, 2]
    [step] = ar_steps(counts(), VOCAB.encode("a"), tau=0)
    assert step.count == 11 and step.tau_used == 0
    np.testing.assert_allclose(step.probs, np.array([5, 2, 1, 1, 2]) / 11)


def test_counts_of_what_follows_a_context_by_hand():
    c = counts()
    # "a" is followed by b (twice), c, d; its last occurrence ends the corpus and is followed by nothing
    assert c.next_counts(VOCAB.encode("a")).tolist() == [0, 2, 1, 1, 0]
    # "ab" is followed by r twice; "bra" by c once (the second "bra" ends the corpus)
    assert c.next_counts(VOCAB.encode("ab")).tolist() == [0, 0, 0, 0, 2]
    assert c.next_counts(VOCAB.encode("bra")).tolist() == [0, 0, 1, 0, 0]
    assert c.next_counts(VOCAB.encode("ra")).tolist() == [0, 0, 1, 0, 0]
    assert c.next_counts(VOCAB.encode("rab")).tolist() == [0] * 5  # never in the corpus


def test_steps_use_the_last_tau_characters_and_back_off_to_the_longest_seen_suffix():
    steps = ar_steps(counts(), VOCAB.encode("drab"), tau=2)
    # t = 0: only "d" (id 3) exists so far (k = 1); "d" is followed by a once
    assert (steps[0].context, steps[0].count, steps[0].tau_used) == ((3,), 1, 1)
    assert steps[0].p_target == 0.0  # the target "r" never follows "d": counts cannot predict it
    # t = 1: "dr" never occurs (N = 0): back off to "r", followed by a twice
    assert (steps[1].count, steps[1].tau_used, steps[1].counts.tolist()) == (0, 1, [2, 0, 0, 0, 0])
    assert steps[1].p_target == 1.0
    # t = 2: "ra" occurs twice, once followed by c (the other ends the corpus): N("ra") = 1
    assert (steps[2].count, steps[2].tau_used, steps[2].p_target) == (1, 2, 0.0)
    # t = 3: "ab" is followed by r twice; the last step has no target
    assert (steps[3].count, steps[3].tau_used, steps[3].target, steps[3].p_target) == (2, 2, None, None)
    full, used, n = predict(counts(), VOCAB.encode("rab"))
    assert (full, used, n.tolist()) == (0, 2, [0, 0, 0, 0, 2])  # "rab" unseen, "ab" seen


def test_tau_outside_zero_to_eight_is_refused():
    for tau in (-1, 9):
        with pytest.raises(ValueError, match="tau"):
            ar_steps(counts(), [0, 1], tau)


def test_counts_on_the_corpus_agree_with_counting_substrings():
    vocab, train = corpus_vocab(), corpus_split().train
    c = CharCounts(vocab.encode(train), len(vocab))
    for context in ("학교", "비가 ", "the ", "ing", "요."):
        n = c.next_counts(vocab.encode(context))
        overlapping = len(re.findall(f"(?={re.escape(context)}.)", train, flags=re.S))
        assert n.sum() == overlapping > 0
        for ch in ("에", " ", "s"):
            assert n[vocab.chars.index(ch)] == len(re.findall(f"(?={re.escape(context + ch)})", train))
