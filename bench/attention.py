"""Benchmark of the attention trace engine (causal Transformer, 2 layers, 4 heads, d_model 64, T=128, CPU).

- transformer_trace_over_plain: the whole trace (forward with every head's tensors, parameter
  gradients, the T x T gradient-flow matrix, clipping, conversion to NumPy) against a plain
  forward+backward of the same module on the same text (target: at most 10);
- transformer_flow_speedup: the gradient-flow matrix from the batched explicit backward against
  T-1 separate autograd backward passes, one per loss term L_t;
- transformer_flow_over_batched_autograd: the same matrix from autograd.grad(is_grads_batched=True),
  over the batched explicit backward (what the explicit backward saves).
All timings in this process, two threads, medians after a warm-up; the plain and traced runs alternate
so that a busy machine slows both alike.
"""

from __future__ import annotations

import torch

from bench.common import alternating_medians, median_seconds, sample_text
from models.charlm import step_losses
from models.trace import flushed_denormals
from models.transformer import CausalTransformer, TransformerConfig, trace_transformer
from models.transformer_flow import input_flow_rows
from models.vocab import Vocab

T = 128
CONFIG = TransformerConfig(d_model=64, layers=2, heads=4, d_ff=256, max_len=T, seed=0)


def run() -> dict[str, float]:
    torch.set_num_threads(2)
    text = sample_text(T)
    vocab = Vocab.from_text(text)
    config = TransformerConfig(**{**CONFIG.__dict__, "vocab_size": len(vocab)})
    model = CausalTransformer(config)
    tokens = torch.tensor(vocab.encode(text))

    def plain() -> None:
        model.zero_grad(set_to_none=True)
        step_losses(model(tokens), tokens).sum().backward()

    def trace() -> None:
        trace_transformer(text, config)

    plain_s, trace_s = alternating_medians([plain, trace])

    x = (model.embedding(tokens) + model.positional_encoding(T)).detach().requires_grad_()

    def flow_batched_explicit() -> None:
        with torch.no_grad(), flushed_denormals():
            input_flow_rows(model, model.run(tokens), tokens).norm(dim=-1)

    def flow_batched_autograd() -> None:
        losses = step_losses(model.run(tokens, x).logits, tokens)
        (rows,) = torch.autograd.grad(losses, x, torch.eye(T - 1), is_grads_batched=True)
        rows.norm(dim=-1)

    def flow_separate() -> None:
        losses = step_losses(model.run(tokens, x).logits, tokens)
        for t in range(T - 1):
            torch.autograd.grad(losses[t], x, retain_graph=True)[0].norm(dim=-1)

    flow_s = median_seconds(flow_batched_explicit, repeats=7)
    autograd_batched_s = median_seconds(flow_batched_autograd, repeats=3, warmup=1)
    separate_s = median_seconds(flow_separate, repeats=3, warmup=1)
    return {
        "transformer_trace_over_plain": trace_s / plain_s,
        "transformer_plain_ms": plain_s * 1e3,
        "transformer_trace_ms": trace_s * 1e3,
        "transformer_flow_ms": flow_s * 1e3,
        "transformer_flow_speedup": separate_s / flow_s,
        "transformer_flow_over_batched_autograd": autograd_batched_s / flow_s,
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:40s} {value:.4g}")
