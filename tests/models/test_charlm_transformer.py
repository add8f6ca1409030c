"""The character Transformer (charlm-transformer): trained on the corpus the recurrent character models read,
evaluated on the same held-out paragraphs, traced with its own weights, and what lesson 12 shows with it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.checkpoints import CHECKPOINTS, checkpoint_path, load_checkpoint
from models.corpus import corpus_split, corpus_vocab
from models.ngram import CharCounts, ar_steps
from models.pretrain import RECIPES, charlm_logits, charlm_text_loss
from models.trace import trace_recurrent
from models.transformer import CausalTransformer, TransformerConfig, trace_transformer

NAME = "charlm-transformer"
SENTENCE = "비가 오는 날에는 우산을 챙기고, 맑은 날에는 모자를 쓰고 학교에 갑니다. 그래서 오늘도 우산을 챙겼습니다."


def test_the_checkpoint_is_a_float16_transformer_over_the_corpus_vocabulary_with_its_recipe():
    payload = torch.load(checkpoint_path(NAME), map_location="cpu", weights_only=True)
    recipe = RECIPES[NAME]
    assert recipe.task == "charlm" and payload["arch"] == CHECKPOINTS[NAME].arch == "transformer"
    assert "".join(corpus_vocab().chars) == payload["vocab"]
    assert all(v.dtype == torch.float16 for v in payload["state_dict"].values() if v.is_floating_point())
    model = CausalTransformer(TransformerConfig(**payload["config"]))
    model.load_state_dict(payload["state_dict"], strict=True)
    meta = payload["meta"]
    assert (meta["seed"], meta["steps"], meta["threads"], meta["seq_len"]) == (recipe.config.seed, recipe.steps, 1, 128)
    assert meta["command"] == f".venv/bin/python scripts/pretrain.py {NAME}"
    assert meta["seconds"] < 600, "the recipe trains in under ten minutes on one thread"
    assert {"loss_ko", "loss_en"} <= meta["report"].keys()


def test_it_predicts_held_out_text_better_than_counting_pairs():
    meta = load_checkpoint(NAME).meta
    vocab, split = corpus_vocab(), corpus_split()
    counts = CharCounts(vocab.encode(split.train), len(vocab))
    steps = ar_steps(counts, vocab.encode(split.held_out), tau=1)
    bigram_loss = -np.mean([np.log((s.counts[s.target] + 0.1) / (s.counts.sum() + 0.1 * len(vocab)))
                            for s in steps[:-1]])
    assert meta["final_loss"] < bigram_loss


def test_the_held_out_loss_is_the_sum_of_the_traces_step_losses():
    """Evaluation reads windows through the batched forward pass; a trace of the same text gives the same
    losses one by one, with the checkpoint's own weights."""
    ckpt = load_checkpoint(NAME)
    text = SENTENCE
    total, count = charlm_text_loss(ckpt.model, ckpt.vocab, text)
    trace = trace_transformer(text, checkpoint=NAME)
    assert count == len(text) - 1
    assert trace.loss.sum() == pytest.approx(total, rel=1e-5)
    for k, v in ckpt.model.state_dict().items():
        np.testing.assert_array_equal(trace.params[k], v.numpy())
    x = torch.tensor(ckpt.vocab.encode(text))[:, None]
    with torch.no_grad():
        probs = torch.softmax(charlm_logits(ckpt.model, x)[:, 0], -1).numpy()
    np.testing.assert_allclose(probs, trace.probs, atol=1e-5)


def test_its_gradient_from_the_last_loss_reaches_twenty_steps_back_where_the_rnns_has_faded():
    """Lesson 12's figure 'reach': each model's ||dL_t/d._{t-20}|| over its ||dL_t/d._t|| for the last loss."""
    t, d = len(SENTENCE) - 2, 20
    G_tr = trace_transformer(SENTENCE, checkpoint=NAME).grad_flow
    G_rnn = trace_recurrent(SENTENCE, None, checkpoint="charlm-rnn").grad_flow
    kept_tr, kept_rnn = G_tr[t, t - d] / G_tr[t, t], G_rnn[t, t - d] / G_rnn[t, t]
    assert kept_rnn < 1e-4 < 1e-2 < kept_tr


def test_a_character_outside_the_vocabulary_reads_as_unknown_as_in_the_rnns():
    from models.vocab import UNKNOWN

    text = "안녕🙂하세요"
    trace = trace_transformer(text, checkpoint="charlm-transformer")
    same = trace_transformer(text.replace("🙂", UNKNOWN), checkpoint="charlm-transformer")
    vocab = load_checkpoint("charlm-transformer").vocab
    assert trace.tokens.tolist()[2] == vocab.chars.index(UNKNOWN)
    assert trace.tokens.tolist() == same.tokens.tolist()
    with pytest.raises(ValueError, match="not in checkpoint"):  # a vocabulary without U+FFFD still refuses
        trace_transformer("ab🙂", checkpoint="transformer-induction")
