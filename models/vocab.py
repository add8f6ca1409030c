"""Character vocabulary built from the text itself.

The vocabulary is the sorted set of characters in the text, so the same text always gives the same
ids and a trace is a pure function of its knobs.
"""

from __future__ import annotations

from dataclasses import dataclass


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

    def decode(self, ids: list[int]) -> str:
        return "".join(self.chars[i] for i in ids)
