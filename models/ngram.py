"""AR(tau): the next character from counts of the last tau characters, a Markov chain of order tau
estimated by counting (no learning, no smoothing).

For a corpus w_1..w_N and a context c = (c_1..c_k) of k <= tau characters:

    N(c, v) = #{ j : w_{j-k+1..j} = c  and  w_{j+1} = v }      c followed by v
    N(c)    = sum_v N(c, v)                                    c followed by any character
    P(v | c) = N(c, v) / N(c)                                  (maximum likelihood)

tau = 0 is the unigram model: the empty context is followed by every character of the corpus, so
N() = N and P(v) is v's frequency.

At step t of a text x_0..x_{T-1} the prediction for x_{t+1} uses the last k = min(tau, t + 1)
characters, c = x_{t-k+1..t} (the trace's step t predicts the same character). A context never seen
in the corpus has N(c) = 0 and says nothing; the model then backs off to the longest suffix of c
that was seen, c without its first character, and so on down to the empty context, which always is.
`tau_used` is the length of the context that gave the prediction. The window is fixed: whatever lies
further back than tau characters cannot change the prediction, which is what a recurrent state can do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models import limits


class CharCounts:
    """N(c, v) for any context c up to limits.AR_TAU[1] characters, counted on demand from an index of
    where each character occurs (contexts are found by extending their last character leftwards)."""

    def __init__(self, ids: Sequence[int], vocab_size: int) -> None:
        self.w = np.asarray(ids, dtype=np.int64)  # (N,) the corpus as ids
        self.V = vocab_size
        followed = self.w[:-1]  # positions j that have a next character w_{j+1}
        self.order = np.argsort(followed, kind="stable")  # positions grouped by their character
        self.starts = np.searchsorted(followed[self.order], np.arange(vocab_size + 1))

    def ends(self, c: Sequence[int]) -> np.ndarray:
        """Positions j (ascending) where the context c ends and a character follows; c non-empty."""
        j = np.sort(self.order[self.starts[c[-1]] : self.starts[c[-1] + 1]])
        for back in range(1, len(c)):  # c[-1 - back] must sit `back` places before j
            j = j[j >= back]
            j = j[self.w[j - back] == c[-1 - back]]
        return j

    def next_counts(self, c: Sequence[int]) -> np.ndarray:
        """(V,) N(c, v) for every v."""
        following = self.w if len(c) == 0 else self.w[self.ends(c) + 1]
        return np.bincount(following, minlength=self.V)


@dataclass(frozen=True)
class ARStep:
    t: int
    context: tuple[int, ...]  # the last min(tau, t + 1) ids, x_{t-k+1..t}
    count: int  # N(context): 0 when it never occurs in the corpus (followed by a character)
    tau_used: int  # length of the longest seen suffix of the context, the one that predicts
    counts: np.ndarray  # (V,) N(c', v) of that suffix c'
    probs: np.ndarray  # (V,) P(v | c') = counts / sum(counts)
    target: int | None  # x_{t+1}; None at the last step
    p_target: float | None


def predict(counts: CharCounts, context: Sequence[int]) -> tuple[int, int, np.ndarray]:
    """(N(context), tau_used, N(c', v)) with c' the longest suffix of the context seen in the corpus."""
    full = None
    for k in range(len(context), -1, -1):
        n = counts.next_counts(context[len(context) - k :])
        if full is None:
            full = int(n.sum())
        if n.sum() > 0:
            return full, k, n
    raise ValueError("the corpus is empty")


def ar_steps(counts: CharCounts, ids: Sequence[int], tau: int) -> list[ARStep]:
    """The AR(tau) prediction at every step t of the text `ids`."""
    if not limits.AR_TAU[0] <= tau <= limits.AR_TAU[1]:
        raise ValueError(f"tau must be between {limits.AR_TAU[0]} and {limits.AR_TAU[1]}")
    steps = []
    for t in range(len(ids)):
        context = tuple(ids[max(0, t + 1 - tau) : t + 1]) if tau else ()
        full, used, n = predict(counts, context)
        probs = n / n.sum()
        target = int(ids[t + 1]) if t + 1 < len(ids) else None
        p_target = None if target is None else float(probs[target])
        steps.append(ARStep(t, context, full, used, n, probs, target, p_target))
    return steps
