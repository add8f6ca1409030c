"""A GRU stepped one position at a time, with torch.nn.GRU's parameter names and equations, and the two
models on top of it: the tagger (many-to-many, one tag per character) and the classifier (many-to-one).

Per layer l and direction (suffix "" forward, "_reverse" backward), exactly as torch.nn.GRU:
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h
with weight_ih_l{l}{suffix} = [W_ir; W_iz; W_in] and so on, so a state_dict copies into
torch.nn.GRU(bidirectional=...) unchanged. A mask (1 at real characters, 0 at pads) freezes the state
where it is 0: h' = m h' + (1 - m) h. The backward direction reads each sequence from its own last real
character (with the mask it starts from the zero state there, as a packed sequence does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from models.shapes.data import TAGS


@dataclass(frozen=True)
class ShapesConfig:
    vocab_size: int
    embed: int = 16
    hidden_size: int = 32
    layers: int = 1
    bidirectional: bool = False
    outputs: int = len(TAGS)  # tagger: 3 tags; classifier: 2 classes
    seed: int = 0


class SteppedGRU(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, layers: int = 1, bidirectional: bool = False):
        super().__init__()
        self.hidden_size, self.layers, self.bidirectional = hidden_size, layers, bidirectional
        k = 1 / math.sqrt(hidden_size)
        for layer in range(layers):
            size = input_size if layer == 0 else hidden_size * self.directions
            for suffix in self.suffixes:
                shapes = {"weight_ih": (3 * hidden_size, size), "weight_hh": (3 * hidden_size, hidden_size),
                          "bias_ih": (3 * hidden_size,), "bias_hh": (3 * hidden_size,)}
                for name, shape in shapes.items():
                    weight = nn.Parameter(torch.empty(shape).uniform_(-k, k))
                    self.register_parameter(f"{name}_l{layer}{suffix}", weight)

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def cell(self, x: Tensor, h: Tensor, layer: int, suffix: str) -> tuple[Tensor, Tensor, Tensor]:
        """One step: (h', r, z)."""
        p = lambda name: getattr(self, f"{name}_l{layer}{suffix}")  # noqa: E731
        gi = x @ p("weight_ih").T + p("bias_ih")
        gh = h @ p("weight_hh").T + p("bias_hh")
        i_r, i_z, i_n = gi.chunk(3, -1)
        h_r, h_z, h_n = gh.chunk(3, -1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h, r, z

    def forward(self, x: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor, dict]:
        """x: (T, B, input). Returns outputs (T, B, directions * hidden) of the top layer, h_n
        (layers * directions, B, hidden) in torch's order, and the per-step states of every layer and
        direction ({"l0": (T, B, H), "l0_reverse": ...}). mask: (T, B), 1 at real positions."""
        steps, batch = x.shape[:2]
        m = torch.ones(steps, batch, 1, dtype=x.dtype) if mask is None else mask.to(x.dtype).unsqueeze(-1)
        states: dict[str, Tensor] = {}
        finals = []
        inp = x
        for layer in range(self.layers):
            outs = []
            for suffix in self.suffixes:
                h = x.new_zeros(batch, self.hidden_size)
                order = range(steps) if suffix == "" else range(steps - 1, -1, -1)
                seq: list[Tensor] = [h] * steps
                for t in order:
                    h_new, _, _ = self.cell(inp[t], h, layer, suffix)
                    h = m[t] * h_new + (1 - m[t]) * h
                    seq[t] = h
                finals.append(h)
                out = torch.stack(seq)
                states[f"l{layer}{suffix}"] = out
                outs.append(out)
            inp = torch.cat(outs, -1)
        return inp, torch.stack(finals), states


class _Base(nn.Module):
    def __init__(self, config: ShapesConfig):
        super().__init__()
        self.config = config
        torch.manual_seed(config.seed)
        self.embedding = nn.Embedding(config.vocab_size, config.embed)
        self.rnn = SteppedGRU(config.embed, config.hidden_size, config.layers, config.bidirectional)
        width = config.hidden_size * (2 if config.bidirectional else 1)
        self.readout = nn.Linear(width, config.outputs)


class Tagger(_Base):
    """Many-to-many: one tag distribution per character (T, B, tags) from the top layer's outputs."""

    def forward(self, ids: Tensor, mask: Tensor | None = None) -> tuple[Tensor, dict]:
        out, _, states = self.rnn(self.embedding(ids), mask)
        return self.readout(out), states


class Classifier(_Base):
    """Many-to-one: one prediction per sentence from the top layer's final forward state (unidirectional),
    read after the last position fed (or, with a mask, the last real character)."""

    def forward(self, ids: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor, dict]:
        _, h_n, states = self.rnn(self.embedding(ids), mask)
        last = h_n[-1]
        return self.readout(last), last, states
