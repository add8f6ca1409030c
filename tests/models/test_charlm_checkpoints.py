"""The corpus, the trained character models, and tracing them: what the trace engine runs is the file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.charlm import CharRNN, RecurrentConfig
from models.checkpoints import CHECKPOINTS, checkpoint_path, load_checkpoint
from models.corpus import CORPUS_DIR, HELD_OUT_EVERY, corpus_split, corpus_text, corpus_vocab, paragraphs
from models.ngram import CharCounts, ar_steps
from models.pretrain import RECIPES, fused_logits
from models.trace import trace_recurrent
from models.vocab import UNKNOWN
from tests.models.test_sampling import rebuild

CHARLMS = ("charlm-rnn", "charlm-lstm", "charlm-gru")


def test_corpus_is_korean_and_english_prose_of_60_to_200_kilobytes():
    sizes = {lang: (CORPUS_DIR / f"{lang}.txt").stat().st_size for lang in ("ko", "en")}
    assert 60_000 <= sum(sizes.values()) <= 200_000 and min(sizes.values()) > 30_000
    ko = corpus_text("ko")
    assert sum("가" <= ch <= "힣" for ch in ko) > 0.6 * len(ko)
    assert UNKNOWN not in corpus_text()


def test_the_split_is_every_tenth_paragraph_of_each_language_and_covers_the_corpus():
    split = corpus_split()
    held = [p for lang in ("ko", "en") for i, p in enumerate(paragraphs(lang)) if i % HELD_OUT_EVERY == 9]
    assert split.held_out == "".join(p + "\n" for p in held)
    assert len(split.train) + len(split.held_out) == len(corpus_text())
    assert corpus_split("ko").held_out + corpus_split("en").held_out == split.held_out
    assert corpus_vocab().chars == tuple(sorted(set(corpus_text()) | {UNKNOWN}))


@pytest.mark.parametrize("name", CHARLMS)
def test_character_model_checkpoint_is_plain_data_that_loads_into_charrnn(name):
    payload = torch.load(checkpoint_path(name), map_location="cpu", weights_only=True)
    assert payload["arch"] == CHECKPOINTS[name].arch == name.split("-")[1]
    assert set(payload["description"]) == {"ko", "en"}
    assert "".join(corpus_vocab().chars) == payload["vocab"]  # the committed corpus is the one it learned
    assert all(v.dtype == torch.float16 for v in payload["state_dict"].values())
    model = CharRNN(RecurrentConfig(**payload["config"]))
    model.load_state_dict(payload["state_dict"], strict=True)
    meta = payload["meta"]
    recipe = RECIPES[name]
    assert (meta["seed"], meta["steps"], meta["threads"]) == (recipe.config.seed, recipe.steps, 1)
    assert meta["command"] == f".venv/bin/python scripts/pretrain.py {name}"
    assert {"loss_ko", "loss_en"} <= meta["report"].keys()


@pytest.mark.parametrize("name", CHARLMS)
def test_trained_models_predict_held_out_text_better_than_counting_pairs(name):
    """On the held-out paragraphs each model beats the unigram by far and the best smoothed bigram."""
    meta = load_checkpoint(name).meta
    vocab, split = corpus_vocab(), corpus_split()
    counts = CharCounts(vocab.encode(split.train), len(vocab))
    held = vocab.encode(split.held_out)
    unigram = counts.next_counts(()) + 0.5
    unigram_loss = -np.log(unigram[held[1:]] / unigram.sum()).mean()
    steps = ar_steps(counts, held, tau=1)
    bigram_loss = -np.mean([np.log((s.counts[s.target] + 0.1) / (s.counts.sum() + 0.1 * len(vocab)))
                            for s in steps[:-1]])
    assert meta["final_loss"] < bigram_loss < unigram_loss - 0.5


@pytest.mark.parametrize("name", CHARLMS)
def test_tracing_a_checkpoint_runs_its_weights_and_marks_unknown_characters(name):
    text = "오늘은 날씨가 ☃ 맑아요. It is ✈ sunny."
    trace = trace_recurrent(text, None, checkpoint=name)
    ckpt = load_checkpoint(name)
    assert trace.config == ckpt.config and trace.vocab == ckpt.vocab.chars
    assert trace.unknown == [text.index("☃"), text.index("✈")]
    assert [trace.vocab[i] for i in trace.tokens[trace.unknown]] == [UNKNOWN, UNKNOWN]
    for k, v in ckpt.model.state_dict().items():
        np.testing.assert_array_equal(trace.params[k], v.numpy())
    logits = rebuild(trace.params, ckpt.info.arch)(trace.tokens.tolist())
    np.testing.assert_allclose(trace.probs, torch.softmax(logits, -1).numpy(), atol=2e-6)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_the_fused_batched_training_pass_is_charrnns_gate_by_gate_forward(arch):
    """Training runs torch.nn's fused kernels on the CharRNN's own parameters; the readable loop agrees
    and the gradient reaches those parameters."""
    model = CharRNN(RecurrentConfig(arch=arch, vocab_size=11, hidden_size=6, layers=2, seed=2))
    x = torch.randint(0, 11, (9, 3), generator=torch.Generator().manual_seed(0))  # (T, B)
    logits = fused_logits(model, x)
    for b in range(3):
        loop = model.unroll(x[:, b], fused=False).logits
        torch.testing.assert_close(logits[:, b], loop, atol=1e-6, rtol=1e-5)
    logits.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_a_checkpoint_of_another_kind_is_refused_by_the_recurrent_trace():
    with pytest.raises(ValueError, match="not a recurrent"):
        trace_recurrent("abc", None, checkpoint="transformer-induction")
    with pytest.raises(ValueError, match="RecurrentConfig or a checkpoint"):
        trace_recurrent("abc", None)
