"""Sampling from the trained character models: every drawn distribution is softmax(z / tau) of the model
rebuilt in plain torch.nn from the exported weights, renormalised over the top k; tau = 0 is the argmax."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from models.checkpoints import load_checkpoint
from models.sampling import EMPTY_PROMPT, draw, next_distribution, sample
from models.trace import trace_recurrent
from models.vocab import UNKNOWN

CHARLMS = ("charlm-rnn", "charlm-lstm", "charlm-gru")


def rebuild(params: dict, arch: str):
    """torch.nn.RNN/LSTM/GRU and a Linear readout loaded from a trace's `params` (the README's "Rebuild it
    in plain PyTorch"); returns ids -> logits (T, V) of the one-hot sequence from the zero state."""
    V, H = len(params["readout.bias"]), len(params["weight_hh_l0"][0])
    L = sum(name.startswith("weight_hh_l") for name in params)
    rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[arch](input_size=V, hidden_size=H, num_layers=L)
    rnn.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in params.items() if not k.startswith("readout.")})
    readout = nn.Linear(H, V)
    readout.load_state_dict({k.split(".")[1]: torch.tensor(np.asarray(v)) for k, v in params.items()
                             if k.startswith("readout.")})

    def logits(ids: list[int]) -> torch.Tensor:
        with torch.no_grad():
            out, _ = rnn(F.one_hot(torch.tensor(ids), V).float())
            return readout(out)

    return logits


def expected_probs(z: torch.Tensor, temperature: float, top_k: int | None) -> np.ndarray:
    p = torch.softmax(z / temperature, -1)
    if top_k is not None:
        kth = torch.topk(p, top_k, dim=-1).values[..., -1:]
        p = torch.where(p >= kth, p, 0.0)
        p = p / p.sum(-1, keepdim=True)
    return p.numpy()


def test_next_distribution_is_the_tempered_softmax_renormalised_over_the_top_k():
    z = torch.tensor([2.0, 1.0, 0.5, -1.0, 3.0])
    np.testing.assert_allclose(next_distribution(z, 0.5), torch.softmax(z / 0.5, -1), rtol=1e-6)
    p = next_distribution(z, 2.0, top_k=2).numpy()
    e = np.exp(np.array([2.0, 3.0]) / 2.0)
    np.testing.assert_allclose(p, [e[0] / e.sum(), 0, 0, 0, e[1] / e.sum()], rtol=1e-6)
    assert next_distribution(z, 0.0).tolist() == [0, 0, 0, 0, 1]  # greedy: the point mass on the argmax
    assert next_distribution(z, 1.0, top_k=5).sum() == pytest.approx(1.0)


def test_inverse_cdf_draw_picks_the_first_character_past_u_and_never_a_zero():
    p = torch.tensor([0.25, 0.0, 0.5, 0.25])
    assert [draw(p, u) for u in (0.0, 0.2499, 0.25, 0.74, 0.75, 0.9999)] == [0, 0, 2, 2, 3, 3]
    assert draw(torch.tensor([0.0, 1.0, 0.0]), 0.999999) == 1


@pytest.mark.parametrize("name", CHARLMS)
def test_sampled_probs_are_the_rebuilt_torch_model_softmax_over_the_top_k(name):
    ckpt = load_checkpoint(name)
    params = trace_recurrent("ab", None, checkpoint=name).params  # the exported weights
    logits = rebuild(params, ckpt.info.arch)
    prompt, temperature, top_k = "The weather today", 0.7, 12
    out = sample(ckpt.model, ckpt.vocab, prompt, length=40, temperature=temperature, top_k=top_k, seed=3)
    ids = ckpt.vocab.encode(prompt + out.text)
    z = logits(ids)[len(prompt) - 1 : len(prompt) - 1 + 40]  # the step before each written character
    np.testing.assert_allclose(np.stack([s.probs for s in out.steps]), expected_probs(z, temperature, top_k),
                               atol=2e-6)
    assert all((s.probs > 0).sum() == top_k and s.probs[s.token_id] > 0 for s in out.steps)


@pytest.mark.parametrize("name", CHARLMS)
def test_temperature_zero_writes_the_argmax_every_step(name):
    ckpt = load_checkpoint(name)
    logits = rebuild(trace_recurrent("ab", None, checkpoint=name).params, ckpt.info.arch)
    prompt = "학교에 가는 길에"
    out = sample(ckpt.model, ckpt.vocab, prompt, length=30, temperature=0.0, seed=11)
    z = logits(ckpt.vocab.encode(prompt + out.text))[len(prompt) - 1 : len(prompt) - 1 + 30]
    assert [s.token_id for s in out.steps] == z.argmax(-1).tolist()
    assert all(s.probs[s.token_id] == 1 and s.probs.sum() == 1 for s in out.steps)
    other_seed = sample(ckpt.model, ckpt.vocab, prompt, length=30, temperature=0.0, seed=12)
    assert other_seed.text == out.text  # nothing is random at tau = 0


def test_same_knobs_and_seed_write_the_same_text_and_another_seed_another():
    ckpt = load_checkpoint("charlm-lstm")
    knobs = dict(prompt="Once upon a time", length=80, temperature=1.0, top_k=None)
    a = sample(ckpt.model, ckpt.vocab, seed=5, **knobs)
    b = sample(ckpt.model, ckpt.vocab, seed=5, **knobs)
    c = sample(ckpt.model, ckpt.vocab, seed=6, **knobs)
    assert a.text == b.text and len(a.text) == 80
    np.testing.assert_array_equal(np.stack([s.probs for s in a.steps]), np.stack([s.probs for s in b.steps]))
    assert a.text != c.text


def test_an_empty_prompt_starts_a_paragraph_and_unknown_prompt_characters_are_reported():
    ckpt = load_checkpoint("charlm-gru")
    empty = sample(ckpt.model, ckpt.vocab, "", length=20, temperature=0.8, seed=1)
    newline = sample(ckpt.model, ckpt.vocab, EMPTY_PROMPT, length=20, temperature=0.8, seed=1)
    assert empty.text == newline.text and empty.unknown == []
    odd = sample(ckpt.model, ckpt.vocab, "snow ☃ and ✈", length=5, seed=1)
    assert odd.unknown == [5, 11] and UNKNOWN in ckpt.vocab.chars


def test_bad_knobs_raise_naming_the_knob():
    ckpt = load_checkpoint("charlm-rnn")
    V = len(ckpt.vocab)
    for knobs, name in [({"length": 0}, "length"), ({"length": 501}, "length"), ({"temperature": -1}, "temperature"),
                        ({"temperature": 6}, "temperature"), ({"top_k": 0}, "top_k"), ({"top_k": V + 1}, "top_k")]:
        with pytest.raises(ValueError, match=name):
            sample(ckpt.model, ckpt.vocab, "a", **{"length": 5, **knobs})
