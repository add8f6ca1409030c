"""What one trace costs, in multiply-adds, before it runs: the number a server compares with its budget.

A trace is a forward pass over the T characters plus the backward analysis, and the backward part is
the expensive one because it asks for the whole T x T gradient-flow matrix, one row per loss term.
Counted as the engine computes (dense kernels, masked entries included), per architecture:

Recurrent (G gate blocks: RNN 1, simplified GRU 2, GRU 3, LSTM 4; C state components: h, plus c for the LSTM;
L layers of H units; a one-hot input of V characters; models.bptt and models.jacobian):
    forward      T * sum_l G H (in_l + H)  +  T H V              in_0 = V, in_l = H above
    rows         R = T (T + 1) / 2: at step s the rows t = s..T-1 are alive in the BPTT sweep
    flow         R * (L C H^2 + (L - 1) G H^2)                   one regrouped step per row and layer,
                                                                 and W_ih down to the layer below
    regrouping   T L C G H^2                                     M_t = sum_g diag(coef_g) W_g, per step
    jacobian     2 k T (2 L - 1) G H^2                           k Lanczos products J v and J^T u per step,
                                                                 k = min(LANCZOS_PRODUCTS, L C H)
    truncated    + a second, summed sweep (T L C H^2) when truncation cuts the sequence

Causal Transformer (d = d_model, F = d_ff, L blocks; models.transformer_flow):
    forward      L (4 T d^2 + 2 T^2 d + 2 T d F)  +  T d V       models.attention.attention_layer_cost
    rows         loss terms run in groups of ROWS_PER_GROUP; a group ending at b runs on b positions:
                 P = sum_t b_t positions and Q = sum_t b_t^2 (about T^2 / 2 and T^3 / 3)
    lower blocks (L - 1) (P (4 d^2 + 2 d F) + 4 d Q)             position-wise backward per row and position,
                                                                 and dA, dS k, dS^T q, A^T v per row
    top block    T (4 d^2 + 2 d F) + 2 P d^2                     one ordinary backward; keys and values
                                                                 spread each row over its positions

The estimate is for budgets, not for benchmarks: on a shared 2-core CPU the engine ran 7 to 19 G
multiply-adds a second by these counts on large shapes, depending on the shape and the load
(bench/hardening.py measures it: cost_gmacs_per_s_*); small traces are all overhead.
"""

from __future__ import annotations

from dataclasses import dataclass

GATE_BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4, "sgru": 2}
STATE_COMPONENTS = {"rnn": 1, "gru": 1, "lstm": 2, "sgru": 1}
LANCZOS_PRODUCTS = 32  # typical Lanczos iterations per step (models.jacobian: 24 to 35, at most 96)
ROWS_PER_GROUP = 16  # models.transformer_flow.ROWS_PER_GROUP


@dataclass(frozen=True)
class TraceCost:
    forward: int  # multiply-adds of the forward pass over the sequence
    flow: int  # the backward analysis: the T x T gradient-flow matrix and what comes with it
    jacobian: int  # one-step Jacobian norms (recurrent only)

    @property
    def total(self) -> int:
        return self.forward + self.flow + self.jacobian


def recurrent_cost(arch: str, T: int, V: int, hidden_size: int, layers: int,
                   truncation: int | None = None) -> TraceCost:
    """Multiply-adds of trace_recurrent for an Elman RNN, LSTM or GRU (see the module docstring)."""
    G, C, H, L = GATE_BLOCKS[arch], STATE_COMPONENTS[arch], hidden_size, layers
    forward = T * sum(G * H * ((V if layer == 0 else H) + H) for layer in range(L)) + T * H * V
    R = T * (T + 1) // 2
    flow = R * (L * C * H * H + (L - 1) * G * H * H) + T * L * C * G * H * H
    if truncation is not None and truncation < T:
        flow += T * L * C * H * H
    k = min(LANCZOS_PRODUCTS, L * C * H)
    jacobian = 2 * k * T * (2 * L - 1) * G * H * H
    return TraceCost(forward, flow, jacobian)


def _row_groups(T: int) -> tuple[int, int]:
    """P = sum_t b_t and Q = sum_t b_t^2, with b_t the end of row t's group of ROWS_PER_GROUP."""
    P = Q = 0
    for start in range(0, T, ROWS_PER_GROUP):
        b = min(T, start + ROWS_PER_GROUP)
        rows = b - start
        P += rows * b
        Q += rows * b * b
    return P, Q


def transformer_cost(T: int, V: int, d_model: int, layers: int, d_ff: int) -> TraceCost:
    """Multiply-adds of trace_transformer (see the module docstring); the head count does not change them."""
    d, F, L = d_model, d_ff, layers
    position = 4 * d * d + 2 * d * F  # q, k, v, out projections and the feed-forward, per position
    forward = L * (T * position + 2 * T * T * d) + T * d * V
    P, Q = _row_groups(T)
    flow = (L - 1) * (P * position + 4 * d * Q) + T * position + 2 * P * d * d
    return TraceCost(forward, flow, 0)
