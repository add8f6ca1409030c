"""Character vocabulary built from the text itself.

The vocabulary is the sorted set of characters in the text, so the same text always gives the same
ids and a trace is a pure function of its knobs. A trained model's vocabulary (models.corpus) also
holds UNKNOWN, which stands for every character the model never saw: `encode_known` maps them to it.
"""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN = "\ufffd"  # U+FFFD REPLACEMENT CHARACTER


@dataclass(frozen=True)
class Vocab:
    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        if not text:
            raise ValueError("text must contain at least one character")
        return cls(tuple(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        index = {ch: i for i, ch in enumerate(self.chars)}
        try:
            return [index[ch] for ch in text]
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the vocabulary") from None

    def encode_known(self, text: str) -> tuple[list[int], list[int]]:
        """ids with every character outside the vocabulary read as UNKNOWN (which must be in it), and
        the positions t where that happened."""
        index = {ch: i for i, ch in enumerate(self.chars)}
        if UNKNOWN not in index:
            raise ValueError("this vocabulary has no unknown symbol (U+FFFD)")
        ids = [index.get(ch, index[UNKNOWN]) for ch in text]
        return ids, [t for t, ch in enumerate(text) if ch not in index]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.chars[i] for i in ids)
