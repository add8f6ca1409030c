"""Writing with a trained character model, one sampled character at a time.

The model first reads the prompt w_1..w_n from the zero state, step by step with models.charlm's
equations. Then, for k = 1..length, with h the top layer's state after the last character it read:

    z_k = W_out h + b_out                          next-character logits (V,)
    p_k = softmax(z_k / tau)                       temperature tau > 0: tau < 1 sharpens, tau > 1 flattens
    top-k: p_k[v] = 0 outside the k most likely characters, then p_k = p_k / sum_v p_k[v]
    tau = 0: p_k = the point mass on argmax_v z_k  greedy decoding, the limit tau -> 0 (ties: lowest id)
    w_{n+k} = the first v with P_k(v) = p_k[0] + ... + p_k[v] > u,  u ~ U[0, 1)   (inverse CDF)
    the model reads w_{n+k}; step k + 1 begins

u comes from a torch.Generator seeded with `seed`, one draw per step, so the same model, prompt,
temperature, top_k and seed always write the same text. A character of p_k = 0 is never drawn.

An empty prompt is read as a newline: in the training corpus every paragraph follows one, so the model
starts a paragraph. Neither the prompt nor that newline is part of the written text. Characters outside
the vocabulary read as U+FFFD (models.vocab.Vocab.encode_known). Nothing here touches autograd.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from models import limits
from models.charlm import CharRNN
from models.vocab import Vocab

EMPTY_PROMPT = "\n"  # what the model reads when the prompt is empty: the start of a paragraph


def next_distribution(z: Tensor, temperature: float, top_k: int | None = None) -> Tensor:
    """p_k from the logits z (V,): softmax(z / tau) renormalised over the top k, or at tau = 0 the
    point mass on the argmax (which every top k contains)."""
    if temperature == 0:
        p = torch.zeros_like(z)
        p[z.argmax()] = 1.0  # argmax returns the first of equal maxima
        return p
    p = torch.softmax(z / temperature, -1)
    if top_k is not None and top_k < len(p):
        keep = torch.zeros_like(p, dtype=torch.bool)
        keep[torch.topk(p, top_k).indices] = True
        p = torch.where(keep, p, 0.0)
        p = p / p.sum()
    return p


def draw(p: Tensor, u: float) -> int:
    """The first v whose cumulative probability exceeds u * (total): inverse-CDF sampling."""
    cdf = p.double().cumsum(0)
    return min(int(torch.searchsorted(cdf, u * cdf[-1], right=True)), len(p) - 1)


@dataclass(frozen=True)
class SampleStep:
    t: int  # 0 for the first written character
    token_id: int
    char: str
    probs: np.ndarray  # (V,) float32: the p_k it was drawn from


@dataclass(frozen=True)
class Sample:
    prompt: str
    text: str  # the written characters, prompt excluded
    steps: list[SampleStep]
    vocab: tuple[str, ...]
    unknown: list[int]  # prompt positions read as U+FFFD


class Sampler:
    """A model writing one character per `step()` call, with its state kept here, so a caller can stop
    after any step (a stream whose reader went away) or hand steps to different threads in turn."""

    def __init__(
        self,
        model: CharRNN,
        vocab: Vocab,
        prompt: str = "",
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int = 0,
    ) -> None:
        V = len(vocab)
        if not limits.TEMPERATURE[0] <= temperature <= limits.TEMPERATURE[1]:
            raise ValueError(f"temperature must be between {limits.TEMPERATURE[0]} and {limits.TEMPERATURE[1]}")
        if top_k is not None and not 1 <= top_k <= V:
            raise ValueError(f"top_k must be between 1 and the vocabulary size {V}, or None")
        if model.config.vocab_size != V:
            raise ValueError("the model and the vocabulary differ in size")
        self.model, self.vocab, self.temperature, self.top_k = model, vocab, temperature, top_k
        self.generator = torch.Generator().manual_seed(seed)  # on the CPU: one scalar per step
        ids, self.unknown = vocab.encode_known(prompt or EMPTY_PROMPT)
        W = model.readout.weight
        zero = W.new_zeros(model.config.hidden_size)
        self.state = [tuple(zero for _ in model.cell.states) for _ in range(model.config.layers)]
        self.t = 0
        for token in ids:
            self.z = self._read(token)

    @torch.no_grad()
    def _read(self, token: int) -> Tensor:
        """Advance the state by one character (one-hot input: layer 0 takes a column of W_ih) and
        return the next logits z = W_out h + b_out."""
        x = None
        for layer in range(self.model.config.layers):
            W_ih, W_hh, b_ih, b_hh = self.model.weights(layer)
            gi = W_ih[:, token] + b_ih if layer == 0 else torch.addmv(b_ih, W_ih, x)
            gh = torch.addmv(b_hh, W_hh, self.state[layer][0])
            self.state[layer], _ = self.model.cell.step(gi, gh, self.state[layer])
            x = self.state[layer][0]
        return self.model.readout(x)

    @torch.no_grad()
    def step(self) -> SampleStep:
        p = next_distribution(self.z, self.temperature, self.top_k)
        u = float(torch.rand((), generator=self.generator, dtype=torch.float64))
        v = draw(p, u)
        self.z = self._read(v)
        step = SampleStep(self.t, v, self.vocab.chars[v], p.float().cpu().numpy())
        self.t += 1
        return step


def sample(
    model: CharRNN,
    vocab: Vocab,
    prompt: str = "",
    length: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
) -> Sample:
    """`length` characters written after `prompt` (1 to limits.SAMPLE_LENGTH[1])."""
    if not limits.SAMPLE_LENGTH[0] <= length <= limits.SAMPLE_LENGTH[1]:
        raise ValueError(f"length must be between {limits.SAMPLE_LENGTH[0]} and {limits.SAMPLE_LENGTH[1]}")
    sampler = Sampler(model, vocab, prompt, temperature, top_k, seed)
    steps = [sampler.step() for _ in range(length)]
    return Sample(prompt, "".join(s.char for s in steps), steps, vocab.chars, sampler.unknown)
