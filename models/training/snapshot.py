"""How far back a training model's gradient reaches, measured with the trace engine's BPTT.

For each of a few held-out sequences, the model's weights go into the engine's gate-by-gate model
(models.charlm.CharRNN) and one sweep of models.bptt with one row per loss term gives every
||dL_t/dh_s|| of the top layer (under the run's truncation). Two curves against the distance d:

    mean[d]   = mean over sequences and loss terms t of ||dL_t/dh_{t-d}||
    final[d]  = mean over sequences of ||dL_last/dh_{T-1-d}||, the last step's loss (adding: the only one;
                copy: the last recalled symbol)

L_t is one sequence's loss term at step t (cross-entropy, or the adding task's squared error), not
divided by the batch.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from models.bptt import LayerWeights, bptt
from models.charlm import CharRNN
from models.seq2seq import Seq2Seq
from models.trace import flushed_denormals
from models.training.model import LabModel, LabRecurrent, LabSeq2Seq, LabTransformer, engine_model
from models.training.tasks import NO_LOSS, Batch, Task
from models.transformer_flow import input_flow_for_targets


def loss_gradient(task: Task, logits: Tensor, y: Tensor) -> Tensor:
    """d L_t / d logits_t for one sequence (T, output_size); zero where a step has no loss."""
    d = torch.zeros_like(logits)
    if task.regression:
        d[-1, 0] = 2 * (logits[-1, 0] - y)
        return d
    has = y != NO_LOSS
    d[has] = torch.softmax(logits[has], -1)
    d[has, y[has]] -= 1
    return d


def flow_matrix(model: LabRecurrent | LabTransformer, task: Task, x: Tensor, y: Tensor,
                truncation: int | None) -> np.ndarray:
    """(T, T) ||dL_t/dh_s|| of the top layer for one sequence (row t: loss term t; 0 for s > t); for the
    transformer ||dL_t/dx_s||, the gradient at its input x_s = E[w_s] + PE(s), as the bench shows it."""
    if isinstance(model, LabTransformer):
        return input_flow_for_targets(model.net, x, y).double().numpy()
    engine = engine_model(model.export(), model.config)
    assert isinstance(engine, CharRNN)
    with torch.no_grad(), flushed_denormals():
        run = engine.unroll(x)
        d_top = loss_gradient(task, run.logits, y) @ engine.readout.weight
        local = [engine.cell.local(r.gi, r.gh, r.states[:-1], r.states[1:]) for r in run.layers]
        weights = [LayerWeights(*engine.weights(layer)[:2]) for layer in range(engine.config.layers)]
        rows = bptt(local, weights, d_top, per_row=True, truncation=truncation, input_flow=False)
        assert rows.flow_state is not None  # per_row
        return rows.flow_state[:, :, 0].double().numpy()


def by_distance(flow: np.ndarray, has_loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mean[d] over loss terms t >= d of flow[t, t - d]; final[d] = flow[T-1, T-1-d]."""
    T = flow.shape[0]
    mean = np.zeros(T)
    for d in range(T):
        t = np.arange(d, T)
        t = t[has_loss[t]]
        mean[d] = flow[t, t - d].mean() if len(t) else 0.0
    return mean, flow[T - 1, ::-1].copy()


def seq2seq_flow(net: Seq2Seq, src: Tensor, dec_in: Tensor, out: Tensor) -> np.ndarray:
    """(I, J) ||dL_i/dE[x_j]||: each output's loss at each source character's embedding, by autograd with
    one row per output in one batched backward pass."""
    J, I = src.shape[0], dec_in.shape[0]
    with torch.enable_grad(), flushed_denormals():
        x = net.embedding(src).detach().requires_grad_(True)
        fh, _ = net._direction(x, "", range(J))
        bh, _ = net._direction(x, "_reverse", range(J - 1, -1, -1))
        logits = net.decode(torch.cat([fh, bh], -1), dec_in).logits
        losses = F.cross_entropy(logits, out, reduction="none")
        (grads,) = torch.autograd.grad(losses, x, torch.eye(I), is_grads_batched=True)
    return torch.linalg.vector_norm(grads, dim=-1, dtype=torch.float64).numpy()


def seq2seq_by_distance(model: LabSeq2Seq, batch: Batch) -> dict:
    """Distance in time steps from reading source character j (encoder step j) to writing output i
    (step J + i): d = J + i - j. mean[d] over every (i, j) that far apart; final[d] for the last letter
    written (i = I - 2, before EOS), which in a reversal copies the first character read."""
    assert batch.inputs is not None
    means, finals = [], []
    for x, dec_in, out in zip(batch.x, batch.inputs, batch.y, strict=True):
        flow = seq2seq_flow(model.net, x, dec_in, out)
        I, J = flow.shape
        d = J + np.arange(I)[:, None] - np.arange(J)[None, :]
        D = J + I
        mean = np.zeros(D)
        final = np.zeros(D)
        for k in range(D):
            mean[k] = flow[d == k].mean() if (d == k).any() else 0.0
        final[d[I - 2]] = flow[I - 2]
        means.append(mean)
        finals.append(final)
    return {"distance": list(range(len(means[0]))), "mean": np.mean(means, 0), "final": np.mean(finals, 0)}


def gradient_by_distance(model: LabModel, task: Task, batch: Batch, truncation: int | None) -> dict:
    if isinstance(model, LabSeq2Seq):
        return seq2seq_by_distance(model, batch)
    means, finals = [], []
    for i in range(len(batch.x)):
        x, y = batch.x[i], batch.y[i]
        T = x.shape[0]
        has_loss = np.zeros(T, bool)
        if task.regression:
            has_loss[-1] = True
        else:
            has_loss[(y != NO_LOSS).numpy()] = True
        mean, final = by_distance(flow_matrix(model, task, x, y, truncation), has_loss)
        means.append(mean)
        finals.append(final)
    with np.errstate(invalid="ignore", over="ignore"):
        return {"distance": list(range(len(means[0]))), "mean": np.mean(means, 0), "final": np.mean(finals, 0)}
