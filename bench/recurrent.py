"""Benchmark of the recurrent trace engine (LSTM, T=200, H=128, batch 1, CPU).

- matrix_speedup: the T x T gradient-flow matrix from the batched BPTT recursion, against T
  separate autograd backward passes over the same gate-by-gate graph (one per loss term L_t).
  Both start from a finished forward pass (ours from the stored states, autograd from its graph):
  what is timed is the backward work that produces the matrix;
- trace_over_fused: the whole trace (forward, backward, matrix, Jacobian norms, clipping) against a
  fused torch.nn.LSTM forward+backward of the same size with the same readout and loss.
Both sides run in this process, one after the other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bench.common import alternating_medians, sample_text
from models.bptt import LayerWeights, bptt
from models.charlm import CharRNN, RecurrentConfig
from models.trace import flushed_denormals, trace_recurrent
from models.vocab import Vocab

T, H = 200, 128


def _fused_step(lstm: torch.nn.LSTM, readout: torch.nn.Linear, x: torch.Tensor, tokens: torch.Tensor) -> None:
    out, _ = lstm(x)
    loss = F.cross_entropy(readout(out[:, 0])[:-1], tokens[1:], reduction="sum")
    loss.backward()


def _autograd_graph(model: CharRNN, tokens: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The gate-by-gate forward pass on one autograd graph: every h_t and every L_t."""
    x_all = F.one_hot(tokens, model.config.vocab_size).float()
    W_ih, W_hh, b_ih, b_hh = model.weights(0)
    state = (torch.zeros(H), torch.zeros(H))
    hs, logits = [], []
    for t in range(len(tokens)):
        state, _ = model.cell.step(W_ih @ x_all[t] + b_ih, W_hh @ state[0] + b_hh, state)
        hs.append(state[0])
        logits.append(model.readout(state[0]))
    return hs, F.cross_entropy(torch.stack(logits)[:-1], tokens[1:], reduction="none")


def _autograd_matrix(hs: list[torch.Tensor], losses: torch.Tensor) -> torch.Tensor:
    """G[t][s] with one autograd backward pass per loss term (the baseline)."""
    T = len(hs)
    G = torch.zeros(T, T, dtype=torch.float64)
    for t in range(T - 1):
        grads = torch.autograd.grad(losses[t], hs[: t + 1], retain_graph=True)
        G[t, : t + 1] = torch.stack([torch.linalg.vector_norm(g, dtype=torch.float64) for g in grads])
    return G


def _forward(model: CharRNN, tokens: torch.Tensor):
    with torch.no_grad():
        run = model.unroll(tokens)
        d_logits = torch.softmax(run.logits, -1)
        d_logits[:-1] -= F.one_hot(tokens[1:], model.config.vocab_size).float()
        d_logits[-1] = 0
        return run, d_logits @ model.readout.weight


def _batched_matrix(model: CharRNN, run, d_top: torch.Tensor) -> torch.Tensor:
    """G[t][s] from the stored forward pass: local derivatives, then one batched BPTT sweep."""
    with torch.no_grad(), flushed_denormals():
        local = [model.cell.local(r.gi, r.gh, r.states[:-1], r.states[1:]) for r in run.layers]
        weights = [LayerWeights(*model.weights(0)[:2])]
        return bptt(local, weights, d_top, per_row=True, input_flow=False).flow_state[:, :, 0]


def run() -> dict:
    torch.manual_seed(0)
    text = sample_text(T)
    vocab = Vocab.from_text(text)
    tokens = torch.tensor(vocab.encode(text))
    config = RecurrentConfig(arch="lstm", hidden_size=H, vocab_size=len(vocab))
    model = CharRNN(config)

    lstm = torch.nn.LSTM(len(vocab), H)
    readout = torch.nn.Linear(H, len(vocab))
    x = F.one_hot(tokens, len(vocab)).float()[:, None]
    fused, trace = alternating_medians(
        [lambda: _fused_step(lstm, readout, x, tokens), lambda: trace_recurrent(text, config)], rounds=15
    )

    run, d_top = _forward(model, tokens)
    hs, losses = _autograd_graph(model, tokens)
    batched, separate = alternating_medians(
        [lambda: _batched_matrix(model, run, d_top), lambda: _autograd_matrix(hs, losses)], rounds=3, warmup=1
    )
    G_ours, G_ref = _batched_matrix(model, run, d_top).double(), _autograd_matrix(hs, losses)
    seen = G_ref > 1e-30  # below that the trace flushes subnormal floats to zero on purpose
    max_rel = ((G_ours - G_ref).abs()[seen] / G_ref[seen]).max().item()
    return {
        "matrix_speedup": separate / batched,
        "trace_over_fused": trace / fused,
        "lstm_fused_fwd_bwd_ms": fused * 1e3,
        "lstm_trace_ms": trace * 1e3,
        "matrix_batched_ms": batched * 1e3,
        "matrix_separate_ms": separate * 1e3,
        "matrix_max_rel_diff": max_rel,
    }
