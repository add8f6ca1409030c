"""Training tasks made in code from a seed, each with the baseline a model must beat to have learnt it.

    adding   (Hochreiter & Schmidhuber 1997; Le et al. 2015) T steps of (value, marker): values ~ U(0, 1),
             exactly two markers, one in each half. The answer, read from the last step, is the sum of
             the two marked values. Always answering 1 scores MSE Var(u1 + u2) = 2/12 = 1/6.
    copy     (Arjovsky, Shah & Bengio 2016) 10 symbols from 8, T - 1 blanks, a delimiter, 10 blanks; the
             output is blank for T + 10 steps, then the 10 symbols. Answering blank, then guessing, scores
             a cross-entropy of 10 ln 8 / (T + 20) per step.
    parity   T bits; at every step the answer is the parity (XOR) of the bits so far. One bit back is not
             enough: it needs a state that flips; guessing scores ln 2.
    charlm   windows of the project's own Korean and English prose, next character at every step; the
             baseline is the unigram model's held-out cross-entropy (knowing only how often each
             character occurs).
    reverse  (for the encoder-decoder) T random letters in, the same letters backwards out, then EOS,
             teacher forced: guessing every letter (knowing where the string ends) scores
             T ln 26 / (T + 1) per output character.

Token tasks give ids (B, T) and targets (B, T) with -1 where a step has no loss; the adding task gives
vectors (B, T, 2) and one target per sequence (B,). A model reads token ids as one-hot vectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from models.corpus import corpus_split, corpus_vocab
from models.seq2seq import encode_pair, seq2seq_vocab
from models.tasks import LETTERS, random_strings

NO_LOSS = -1  # target id of a step that has no loss term (torch's cross_entropy ignore_index)
COPY_SYMBOLS = "abcdefgh"
COPY_BLANK, COPY_DELIMITER = "_", ":"
COPY_LENGTH = 10  # symbols to remember


@dataclass(frozen=True)
class Batch:
    x: Tensor  # (B, T) long ids, or (B, T, input_size) float
    y: Tensor  # (B, T) long ids with NO_LOSS where there is none, or (B,) float: the answer at the last step
    inputs: Tensor | None = None  # reverse: the decoder's inputs BOS + target (B, T + 1); y is target + EOS


@dataclass(frozen=True)
class Task:
    name: str
    length: tuple[int, int]  # the T a learner may choose (what T means is the task's own: see `steps`)
    default_length: int
    vocab: tuple[str, ...] | None  # token tasks: the characters ids stand for (input and output alike)
    input_size: int  # width of one step's input (the vocabulary size for token tasks)
    output_size: int  # width of the readout
    regression: bool  # MSE on the last step's answer (adding); otherwise cross-entropy per step

    def steps(self, T: int) -> int:
        """Steps in one sequence of the task at length T (copy: T + 20)."""
        return T + 2 * COPY_LENGTH if self.name == "copy" else T

    def sample(self, count: int, T: int, gen: torch.Generator) -> Batch:
        return _SAMPLERS[self.name](count, T, gen)

    def baseline(self, T: int) -> float:
        """The loss of the best answer that uses no memory (see the module docstring)."""
        if self.name == "adding":
            return 1 / 6
        if self.name == "copy":
            return COPY_LENGTH * math.log(len(COPY_SYMBOLS)) / (T + 2 * COPY_LENGTH)
        if self.name == "parity":
            return math.log(2)
        if self.name == "reverse":
            return T * math.log(len(LETTERS)) / (T + 1)
        return unigram_cross_entropy()

    @property
    def has_accuracy(self) -> bool:
        return not self.regression

    def targets(self, ids: list[int]) -> list[int]:
        """A token task's target id at every step of any sequence of its ids (NO_LOSS: none), so the
        bench can trace a run's model on a text the learner edits and show the task's own loss."""
        if self.name == "charlm":
            return [*ids[1:], NO_LOSS]
        if self.name == "parity":
            return [int(sum(ids[: t + 1]) % 2) for t in range(len(ids))]
        if self.name == "copy":  # blank, except the COPY_LENGTH steps after the last delimiter recall the start
            blank, delimiter = len(COPY_SYMBOLS), len(COPY_SYMBOLS) + 1
            out = [blank] * len(ids)
            if delimiter in ids:
                p = len(ids) - 1 - ids[::-1].index(delimiter)
                for i, t in enumerate(range(p + 1, min(p + 1 + COPY_LENGTH, len(ids)))):
                    out[t] = ids[i] if i < len(ids) and ids[i] < blank else blank
            return out
        raise ValueError(f"the {self.name} task has no per-step targets of its inputs")

    def text(self, x: Tensor) -> str | None:
        """One sequence of a token task as the characters the bench shows."""
        return None if self.vocab is None else "".join(self.vocab[i] for i in x.tolist())


def _adding(count: int, T: int, gen: torch.Generator) -> Batch:
    values = torch.rand(count, T, generator=gen)
    half = T // 2
    first = torch.randint(0, half, (count,), generator=gen)
    second = torch.randint(half, T, (count,), generator=gen)
    markers = torch.zeros(count, T)
    rows = torch.arange(count)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    answer = values[rows, first] + values[rows, second]
    return Batch(torch.stack([values, markers], -1), answer)


def _copy(count: int, T: int, gen: torch.Generator) -> Batch:
    blank, delimiter = len(COPY_SYMBOLS), len(COPY_SYMBOLS) + 1  # ids: symbols 0..7, then blank, delimiter
    steps = T + 2 * COPY_LENGTH
    symbols = torch.randint(0, len(COPY_SYMBOLS), (count, COPY_LENGTH), generator=gen)
    x = torch.full((count, steps), blank, dtype=torch.long)
    x[:, :COPY_LENGTH] = symbols
    x[:, T + COPY_LENGTH - 1] = delimiter
    y = torch.full((count, steps), blank, dtype=torch.long)
    y[:, -COPY_LENGTH:] = symbols
    return Batch(x, y)


def _parity(count: int, T: int, gen: torch.Generator) -> Batch:
    bits = torch.randint(0, 2, (count, T), generator=gen)
    return Batch(bits, bits.cumsum(1) % 2)


@lru_cache
def _corpus_ids(part: str) -> Tensor:
    split = corpus_split()
    return torch.tensor(corpus_vocab().encode(split.train if part == "train" else split.held_out))


def _charlm(count: int, T: int, gen: torch.Generator, part: str = "train") -> Batch:
    ids = _corpus_ids(part)
    starts = torch.randint(0, len(ids) - T - 1, (count,), generator=gen)
    windows = torch.stack([ids[s : s + T + 1] for s in starts.tolist()])
    return Batch(windows[:, :-1], windows[:, 1:])


@lru_cache
def unigram_cross_entropy() -> float:
    """Held-out cross-entropy of character frequencies counted on the training text (add-one smoothed)."""
    V = len(corpus_vocab())
    counts = torch.bincount(_corpus_ids("train"), minlength=V).double() + 1
    logp = (counts / counts.sum()).log()
    return float(-logp[_corpus_ids("held_out")].mean())


def _reverse(count: int, T: int, gen: torch.Generator) -> Batch:
    vocab = seq2seq_vocab()
    pairs = [encode_pair(vocab, s, s[::-1]) for s in random_strings(count, T, gen)]
    src, dec_in, out = (torch.stack(parts) for parts in zip(*pairs, strict=True))
    return Batch(src, out, dec_in)


_SAMPLERS = {"adding": _adding, "copy": _copy, "parity": _parity, "charlm": _charlm, "reverse": _reverse}

TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("adding", (2, 200), 50, None, 2, 1, regression=True),
        Task("copy", (1, 100), 20, (*COPY_SYMBOLS, COPY_BLANK, COPY_DELIMITER), 10, 10, regression=False),
        Task("parity", (2, 200), 20, ("0", "1"), 2, 2, regression=False),
        Task("charlm", (8, 256), 64, corpus_vocab().chars, len(corpus_vocab()), len(corpus_vocab()),
             regression=False),
        Task("reverse", (2, 32), 12, seq2seq_vocab().chars, len(seq2seq_vocab()), len(seq2seq_vocab()),
             regression=False),
    )
}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, not {name!r}")
    return TASKS[name]


def held_out(task: Task, count: int, T: int, seed: int) -> Batch:
    """A fixed evaluation set: its own generator stream, and for charlm the held-out paragraphs."""
    gen = torch.Generator().manual_seed(seed + 1_000_003)
    if task.name == "charlm":
        return _charlm(count, T, gen, part="held_out")
    return task.sample(count, T, gen)


def example(task: Task, T: int, seed: int, index: int) -> Batch:
    """One sequence for the bench to trace: example `index` of a run with this seed, drawn from a stream
    of its own (neither a training batch nor the held-out set), the same every time it is asked for."""
    gen = torch.Generator().manual_seed((seed * 1_000_033 + index + 2_000_029) % 2**63)
    return task.sample(1, T, gen)
