"""The committed demo checkpoints: load offline, show what the lessons claim, come from their recipe."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch

from models.checkpoints import CHECKPOINTS, checkpoint_path, list_checkpoints, load_checkpoint
from models.pretrain import RECIPES, TASKS, held_out_loss, lookback_scores, train
from models.seq2seq import accuracy_by_length, trace_seq2seq
from models.tasks import get_task, random_strings, repeated_text
from models.transformer import trace_transformer


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", list(CHECKPOINTS))
def test_checkpoint_loads_offline_and_is_small(name, no_network):
    path = checkpoint_path(name)
    # the character models' ~840-character vocabulary makes their input and readout weights large
    assert path.stat().st_size < (1536 if RECIPES[name].task == "charlm" else 400) * 1024
    payload = torch.load(path, map_location="cpu", weights_only=True)  # plain data only, no code
    ckpt = load_checkpoint(name)
    assert ckpt.info.arch == CHECKPOINTS[name].arch == payload["arch"]
    assert ckpt.config == RECIPES[name].config.__class__(**payload["config"])
    assert not ckpt.model.training
    assert {info.name for info in list_checkpoints()} == set(CHECKPOINTS)


@pytest.mark.parametrize("name", list(CHECKPOINTS))
def test_checkpoint_final_loss_is_the_loss_of_its_weights_on_the_held_out_set(name):
    ckpt, recipe = load_checkpoint(name), RECIPES[name]
    loss = held_out_loss(recipe, ckpt.model, ckpt.vocab)
    assert loss == pytest.approx(ckpt.meta["final_loss"], rel=1e-4)


def test_every_checkpoint_has_a_recipe_whose_task_names_its_training_loop():
    assert set(RECIPES) == set(CHECKPOINTS)
    assert {r.task for r in RECIPES.values()} == set(TASKS)
    # the task, not the architecture, picks the loop: two Transformers learn two different things
    assert {RECIPES[n].task for n in ("transformer-induction", "charlm-transformer")} == {"induction", "charlm"}


@pytest.mark.parametrize("name", list(CHECKPOINTS))
def test_pretraining_reproduces_the_first_steps_of_each_checkpoint_from_its_seed(name):
    """A reduced run of the recipe (a few steps) retraces the start of the committed loss history."""
    ckpt, steps = load_checkpoint(name), 6
    threads = torch.get_num_threads()
    torch.set_num_threads(ckpt.meta["threads"])
    try:
        result = train(RECIPES[name], steps=steps, evaluate=False)
    finally:
        torch.set_num_threads(threads)
    committed = [loss for step, loss in ckpt.meta["history"] if step < steps]
    np.testing.assert_allclose([loss for _, loss in result.history], committed, rtol=1e-4)


def _alignment_hits(name: str, lengths: range, per_length: int, seed: int) -> float:
    task = get_task(load_checkpoint(name).config.task)
    gen = torch.Generator().manual_seed(seed)
    hits = total = 0
    for n in lengths:
        for source in random_strings(per_length, n, gen):
            trace = trace_seq2seq(source, checkpoint=name)
            argmax = trace.attention[:n].argmax(1)  # the EOS step has no source character to copy
            hits += int((argmax == np.array(task.alignment(n))).sum())
            total += n
    return hits / total


def test_reversal_attention_is_anti_diagonal_on_held_out_strings():
    # held out: a seed the recipe never draws from, lengths 6 to 14 (26^6 strings: a repeat is unlikely)
    assert _alignment_hits("seq2seq-reverse-attention", range(6, 15, 2), 6, seed=12345) >= 0.9


def test_swap_attention_zig_zags_on_held_out_strings():
    assert _alignment_hits("seq2seq-swap-attention", range(6, 15, 2), 6, seed=54321) >= 0.9


def test_reversal_without_attention_falls_behind_as_inputs_grow():
    plain = accuracy_by_length(load_checkpoint("seq2seq-reverse-plain").model, [4, 14], 40, seed=7)
    attended = accuracy_by_length(load_checkpoint("seq2seq-reverse-attention").model, [4, 14], 40, seed=7)
    assert attended[14]["character"] >= 0.9
    assert plain[14]["character"] < attended[14]["character"] - 0.2
    assert plain[4]["character"] > plain[14]["character"]


def test_transformer_checkpoint_has_a_look_back_head_on_repeated_text():
    ckpt = load_checkpoint("transformer-induction")
    gen = torch.Generator().manual_seed(999)
    texts, periods = repeated_text(16, 96, gen, "".join(ckpt.vocab.chars), 5, 24)
    with torch.no_grad():
        run = ckpt.model.run(torch.tensor([ckpt.vocab.encode(t) for t in texts]))
    scores = lookback_scores(torch.stack([h.A for h in run.heads], 1), periods)  # (layers, heads)
    traced = trace_transformer(texts[0], checkpoint="transformer-induction").attention
    np.testing.assert_allclose(traced, torch.stack([h.A[0] for h in run.heads]).numpy(), atol=1e-5)
    layer, head = ckpt.meta["report"]["lookback_head"]
    # chance level: the look-back positions are a few of up to 96 visible ones
    assert float(scores[layer, head]) >= 0.5, "the head attends to the character after the earlier occurrences"
    assert float(scores[0].max()) < 0.2, "first-layer heads stay near chance (about 1/p)"


def test_transformer_checkpoint_predicts_the_repeat_and_not_the_first_copy():
    text = "a quick brown fox jumps. a quick brown fox jumps."
    trace = trace_transformer(text, checkpoint="transformer-induction")
    n = len("a quick brown fox jumps. ")
    first, second = trace.loss[: n - 1], trace.loss[n - 1 :]  # L_t predicts character t + 1
    assert first.mean() > 2.5 and second.mean() < 1.0


def test_checkpoint_trace_rejects_unknown_characters_and_long_text():
    with pytest.raises(ValueError, match="'Q'"):
        trace_transformer("Quiet", checkpoint="transformer-induction")
    with pytest.raises(ValueError, match="max_len"):
        trace_transformer("ab" * 100, checkpoint="transformer-induction")
    with pytest.raises(ValueError, match="unknown checkpoint"):
        trace_transformer("abc", checkpoint="no-such-thing")
    with pytest.raises(ValueError, match="not a transformer"):
        trace_transformer("abc", checkpoint="seq2seq-reverse-attention")
