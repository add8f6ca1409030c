"""Sequence tasks made in code, from a seed: nothing is downloaded.

Sequence to sequence (source string -> target string), for the encoder-decoder:
  reverse      "abcde" -> "edcba"      output i copies input n-1-i: the anti-diagonal alignment
  swap_pairs   "abcde" -> "badce"      neighbours trade places: alignment zig-zags across the diagonal,
                                       each output step looks one place ahead or one place back

Language modelling, for the Transformer:
  repeated text   a random segment of length p, repeated until the sequence is full
                  ("kqzfkqzfkqzf..."). The first copy cannot be predicted; every later character can,
                  by finding the previous occurrence of the current character and copying the one
                  after it: the look-back ("induction") pattern a trained head shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

LETTERS = "abcdefghijklmnopqrstuvwxyz"
BOS = "^"  # decoder input before the first output character
EOS = "$"  # the decoder's last output: the target is over


def reverse(source: str) -> str:
    return source[::-1]


def swap_pairs(source: str) -> str:
    """Swap characters 0<->1, 2<->3, ...; an odd last character stays in place."""
    chars = list(source)
    for i in range(0, len(chars) - 1, 2):
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def reverse_alignment(n: int) -> list[int]:
    """Source position each output position of `reverse` copies from."""
    return [n - 1 - i for i in range(n)]


def swap_pairs_alignment(n: int) -> list[int]:
    return [i + 1 if i % 2 == 0 and i + 1 < n else (i - 1 if i % 2 else i) for i in range(n)]


@dataclass(frozen=True)
class Seq2SeqTask:
    name: str
    transform: Callable[[str], str]
    alignment: Callable[[int], list[int]]  # output position -> the source position it copies
    description: str


SEQ2SEQ_TASKS = {
    "reverse": Seq2SeqTask("reverse", reverse, reverse_alignment, "write the input backwards"),
    "swap_pairs": Seq2SeqTask("swap_pairs", swap_pairs, swap_pairs_alignment, "swap neighbouring characters"),
}


def get_task(name: str) -> Seq2SeqTask:
    if name not in SEQ2SEQ_TASKS:
        raise ValueError(f"task must be one of {sorted(SEQ2SEQ_TASKS)}, not {name!r}")
    return SEQ2SEQ_TASKS[name]


def seq2seq_alphabet(letters: str = LETTERS) -> str:
    """The encoder-decoder's characters: BOS and EOS, then the letters."""
    return BOS + EOS + letters


def random_strings(count: int, length: int, generator: torch.Generator, letters: str = LETTERS) -> list[str]:
    ids = torch.randint(len(letters), (count, length), generator=generator)
    return ["".join(letters[i] for i in row) for row in ids.tolist()]


def repeated_text(
    count: int, length: int, generator: torch.Generator, letters: str, min_period: int, max_period: int
) -> tuple[list[str], list[int]]:
    """`count` strings of `length` characters, each a random segment repeated to fill it, and their periods."""
    periods = torch.randint(min_period, max_period + 1, (count,), generator=generator).tolist()
    texts = []
    for p in periods:
        segment = random_strings(1, p, generator, letters)[0]
        texts.append((segment * (length // p + 1))[:length])
    return texts, periods
