"""Shared helpers for the recurrent-engine tests: torch.nn reference runs, stepped by hand."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from models.charlm import CharRNN, RecurrentConfig, load_into_torch
from models.vocab import Vocab

TEXT = "to be or not to be, that is the question"


def build(text: str, **knobs) -> tuple[CharRNN, torch.Tensor]:
    vocab = Vocab.from_text(text)
    model = CharRNN(RecurrentConfig(vocab_size=len(vocab), **knobs))
    return model, torch.tensor(vocab.encode(text))


def torch_reference(model: CharRNN, tokens: torch.Tensor, truncation: int | None = None):
    """Run the equivalent torch.nn module one step at a time with autograd.

    Returns the module, the list of per-step states (h_n, c_n or None) of shape (L, 1, H) as they
    are fed to the next step, the per-step losses L_t and a readout copy, all on one graph.
    """
    module = load_into_torch(model)
    readout = torch.nn.Linear(model.config.hidden_size, model.config.vocab_size)
    readout.load_state_dict(model.readout.state_dict())
    L, H, V = model.config.layers, model.config.hidden_size, model.config.vocab_size
    is_lstm = model.config.arch == "lstm"
    x = F.one_hot(tokens, V).float()
    h = torch.zeros(L, 1, H)
    c = torch.zeros(L, 1, H)
    states, logits = [], []
    for t in range(len(tokens)):
        if truncation and t > 0 and t % truncation == 0:
            h, c = h.detach(), c.detach()
        out, hc = module(x[t : t + 1, None], (h, c) if is_lstm else h)
        h, c = hc if is_lstm else (hc, c)
        states.append((h, c if is_lstm else None))
        logits.append(readout(out[0, 0]))
    logits = torch.stack(logits)
    losses = F.cross_entropy(logits[:-1], tokens[1:], reduction="none")
    return module, readout, states, losses


def autograd_unroll(model: CharRNN, tokens: torch.Tensor, truncation: int | None = None):
    """The model's own forward equations with every state a node of one autograd graph.

    Returns states[t][layer] = (h,) or (h, c), exactly the tensors the rest of the graph uses,
    and the per-step losses. Autograd through this graph is the independent check of the explicit
    BPTT recursion (the forward equations themselves are checked against torch.nn elsewhere).
    """
    cfg = model.config
    x_all = F.one_hot(tokens, cfg.vocab_size).float()
    zero = torch.zeros(cfg.hidden_size)
    prev = [tuple(zero for _ in model.cell.states) for _ in range(cfg.layers)]
    states, logits = [], []
    for t in range(len(tokens)):
        if truncation and t > 0 and t % truncation == 0:
            prev = [tuple(s.detach() for s in p) for p in prev]
        x, step = x_all[t], []
        for layer in range(cfg.layers):
            W_ih, W_hh, b_ih, b_hh = model.weights(layer)
            new, _ = model.cell.step(W_ih @ x + b_ih, W_hh @ prev[layer][0] + b_hh, prev[layer])
            step.append(new)
            x = new[0]
        prev = step
        states.append(step)
        logits.append(model.readout(x))
    losses = F.cross_entropy(torch.stack(logits)[:-1], tokens[1:], reduction="none")
    return states, losses
