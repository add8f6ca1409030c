"""The recurrent trace: everything a learner can look at for one model, one text and one knob set.

`trace_recurrent` runs the gate-by-gate forward pass, then the explicit BPTT recursion (models.bptt)
once with one row per loss term, which yields at the same time
  - ||dL/dh_t|| (and ||dL/dc_t||) per step and layer, and the two BPTT terms of dL/dh_t (below),
  - the T x T gradient-flow matrix G[t][s] = ||dL_t/dh_s|| of the top layer (0 for s > t),
  - the parameter gradients of the total loss (under truncation, if asked for),
then the one-step Jacobian norms, the Pascanu quantities of W_hh, and clipping.

Exploding settings never raise: inf/nan stay in the arrays and the steps where they appear are
flagged, so the web layer can send them as null.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from models.bptt import LayerWeights, bptt
from models.charlm import CharRNN, RecurrentConfig, step_losses
from models.clipping import CLIP_MODES, clip_gradients, total_norm
from models.device import pick_device
from models.elman import ACTIVATIONS
from models.jacobian import jacobian_norms
from models.vocab import Vocab


@dataclass(frozen=True)
class TraceOptions:
    truncation: int | None = None  # detach the carried state every k steps; None = full BPTT
    clip_mode: str | None = None  # "norm" | "value" | None
    clip_threshold: float | None = None
    device: str = "auto"  # auto | cpu | cuda
    input_flow: bool = False  # also ||dL_t/dx_s|| for the one-hot input (about 15% more work)

    def __post_init__(self) -> None:
        if self.truncation is not None and self.truncation < 1:
            raise ValueError("truncation must be at least 1 (or None for full BPTT)")
        if self.clip_mode not in (None, *CLIP_MODES):
            raise ValueError(f"clip_mode must be one of {CLIP_MODES} or None")
        if self.clip_mode is not None and not (self.clip_threshold is not None and self.clip_threshold > 0):
            raise ValueError("clip_threshold must be a positive number when clip_mode is set")


@dataclass(frozen=True)
class WeightStats:
    """Per layer and gate block of W_hh: what Pascanu et al.'s bound is made of."""

    sigma_max: list[list[float]]  # [layer][gate block] largest singular value
    spectral_radius: list[float] | None  # [layer] largest |eigenvalue| of W_hh (Elman RNN only)
    gamma: float | None  # bound on |phi'| (Elman RNN only)
    decay_bound: list[float] | None  # gamma * sigma_max per layer: one-step factor the bound allows


@dataclass(frozen=True)
class RecurrentTrace:
    config: RecurrentConfig
    options: TraceOptions
    vocab: tuple[str, ...]
    tokens: np.ndarray  # (T,) ids
    # (T,) target id per step, -1 where none (models.training's tasks); None: the next character, and
    # `loss` is then (T-1,) as below. With targets, `loss` is (T,) with NaN where a step has none.
    targets: np.ndarray | None
    unknown: list[int]  # steps t whose character is outside a checkpoint's vocabulary (read as U+FFFD)
    # forward, per step
    h: np.ndarray  # (T, L, H)
    c: np.ndarray | None  # (T, L, H) LSTM only
    gates: dict[str, np.ndarray]  # name -> (T, L, H)
    probs: np.ndarray  # (T, V) next-character probabilities
    loss: np.ndarray  # (T-1,) L_t
    total_loss: float
    forward_overflow: np.ndarray  # (T,) bool: a forward value at step t is inf/nan
    # backward
    grad_h: np.ndarray  # (T, L) ||dL/dh_t|| per layer (under truncation if set)
    grad_c: np.ndarray | None  # (T, L) ||dL/dc_t|| (LSTM)
    # dL/dh^l_t = dL_t/dh^l_t + sum_{u>t} dL_u/dh^l_t, the BPTT recursion's two terms as vectors:
    grad_h_local: np.ndarray  # (T, L) ||dL_t/dh^l_t||, L_t alone through every path; 0 at T-1 (no L_{T-1})
    grad_h_future: np.ndarray  # (T, L) ||sum_{u>t} dL_u/dh^l_t||, carried back from later losses
    grad_flow: np.ndarray  # (T, T) ||dL_t/dh_s|| top layer; row T-1 is 0 (no L_{T-1})
    grad_flow_c: np.ndarray | None  # (T, T) ||dL_t/dc_s|| top layer (LSTM)
    grad_flow_input: np.ndarray | None  # (T, T) ||dL_t/dx_s|| w.r.t. the one-hot input at s (if asked)
    jacobian_norm: np.ndarray  # (T,) ||dS_t/dS_{t-1}||_2 over the whole stacked state
    weight_stats: WeightStats
    cuts: list[int]  # truncation cuts: no gradient flows from step s to s-1
    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]  # dL/dtheta before clipping (truncated if truncation is set)
    clipped_grads: dict[str, np.ndarray]
    param_grad_norm: dict[str, tuple[float, float]]  # name -> (before, after clipping)
    grad_norm_before_clip: float
    grad_norm_after_clip: float
    truncated_vs_full: dict[str, float] | None  # cosine and norm ratio of the parameter gradient
    backward_overflow: np.ndarray  # (T,) bool
    # A real-valued task (`numbers`): the inputs (T, input_size) in place of tokens (which are then all
    # -1), and the answer (output_size,) read at the last step; `probs` is then the readout itself (T,
    # output_size), the prediction at every step, and `loss` the squared error (NaN but at T-1).
    inputs: np.ndarray | None = None
    answer: np.ndarray | None = None

    @property
    def overflow(self) -> np.ndarray:
        return self.forward_overflow | self.backward_overflow


@contextmanager
def flushed_denormals():
    """Vanishing gradients pass through subnormal floats, which slow CPU arithmetic many-fold."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()


def _not_finite_per_step(*arrays: torch.Tensor) -> torch.Tensor:
    flags = [~torch.isfinite(a.flatten(1)).all(1) for a in arrays]
    return torch.stack(flags).any(0)


def _weight_stats(model: CharRNN) -> WeightStats:
    cfg, G, H = model.config, max(len(model.cell.gates), 1), model.config.hidden_size
    W_hh = [model.weights(layer)[1].detach() for layer in range(cfg.layers)]
    blocks = torch.stack(W_hh).reshape(cfg.layers * G, H, H)
    sig = torch.linalg.matrix_norm(blocks, ord=2).reshape(cfg.layers, G).tolist()
    if cfg.arch != "rnn":  # Pascanu's bound is stated for h_t = phi(W_hh h_{t-1} + ...)
        return WeightStats(sig, None, None, None)
    rad = torch.linalg.eigvals(torch.stack(W_hh)).abs().amax(-1).tolist()
    gamma = ACTIVATIONS[cfg.activation].gamma
    return WeightStats(sig, rad, gamma, [gamma * s[0] for s in sig])


def _parameter_grads(model, tokens, run, d_gi, d_gh, d_logits):
    """dL/dtheta from the per-step adjoints of gi and gh (summed over loss terms)."""
    grads = {}
    x = tokens
    for layer, lr in enumerate(run.layers):
        gi_adj, gh_adj = d_gi[:, layer], d_gh[:, layer]  # (T, G*H)
        if layer == 0 and not x.is_floating_point():  # one-hot input: W_ih's column for token x_t collects step t's
            # adjoint (real-valued inputs, the adding task's, take the outer product below like a layer above)
            W = torch.zeros_like(model.weights(0)[0]).t()
            grads["weight_ih_l0"] = W.index_add_(0, x, gi_adj).t()
        else:
            grads[f"weight_ih_l{layer}"] = gi_adj.t() @ x
        grads[f"weight_hh_l{layer}"] = gh_adj.t() @ lr.states[:-1, 0]
        grads[f"bias_ih_l{layer}"] = gi_adj.sum(0)
        grads[f"bias_hh_l{layer}"] = gh_adj.sum(0)
        x = lr.states[1:, 0]
    grads["readout.weight"] = d_logits.t() @ run.top_h
    grads["readout.bias"] = d_logits.sum(0)
    return grads


def _flat(grads: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([g.reshape(-1) for g in grads.values()])


def _step_jacobians(local, weights) -> torch.Tensor:
    """The part of the trace that needs only the forward pass (it may run on a helper thread: grad
    mode and the denormal flag are per thread, so it sets both itself)."""
    with torch.no_grad(), flushed_denormals():
        return jacobian_norms(local, weights)


def _model_for(
    text: str, config: RecurrentConfig | None, checkpoint: str | None, device: torch.device
) -> tuple[CharRNN, Vocab, list[int], list[int]]:
    """The model, its vocabulary, the text's ids and the steps whose character it does not know.

    Without a checkpoint: a seeded model of `config` over the text's own characters (all known). With
    one: the trained model, config and vocabulary from the file; characters outside it read as U+FFFD."""
    if checkpoint is None:
        if config is None:
            raise ValueError("give a RecurrentConfig or a checkpoint name")
        vocab = Vocab.from_text(text)
        model = CharRNN(RecurrentConfig(**{**config.__dict__, "vocab_size": len(vocab)}), device)
        return model, vocab, vocab.encode(text), []
    from models.checkpoints import load_checkpoint  # the registry imports models.transformer, which imports this

    loaded = load_checkpoint(checkpoint, device=device)
    if not isinstance(loaded.model, CharRNN):
        raise ValueError(f"checkpoint {checkpoint!r} is a {loaded.info.arch} model, not a recurrent one")
    ids, unknown = loaded.vocab.encode_known(text)
    return loaded.model, loaded.vocab, ids, unknown


def trace_recurrent(
    text: str,
    config: RecurrentConfig | None,
    options: TraceOptions | None = None,
    *,
    helper: Executor | None = None,
    checkpoint: str | None = None,
    in_memory: tuple[CharRNN, Vocab] | None = None,
    targets: Callable[[list[int]], list[int]] | None = None,
    numbers: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> RecurrentTrace:
    """Trace `config` (its vocab_size is taken from the text) on `text` (at least 2 characters), or with
    `checkpoint` a trained character model (models.checkpoints; `config` is then ignored).

    helper: an executor on which the Jacobian norms (about half the work) run while this thread runs
    BPTT; both loops are TorchScript and release the GIL (models.kernels), so on an idle second core
    a trace takes about 0.6x the time. Without one, everything runs here.

    in_memory: a model held in memory with its vocabulary (a training run's weights), instead of a
    checkpoint file; every character of the text must be in that vocabulary. targets: the target id
    of every step from the ids (a training task's, -1 for none) in place of the next character.

    numbers: a real-valued sequence (T, input_size) and its answer (output_size,) in place of the text
    (which is then ignored), with the in_memory model that reads them (the lab's adding task): the
    loss is the squared error of the readout at the last step, L = ||y_hat_{T-1} - y||^2, the only
    loss term, so the gradient views show how far back that one loss reaches."""
    options = options or TraceOptions()
    if numbers is None and len(text) < 2:
        raise ValueError("text must have at least 2 characters (a step and its next character)")
    device = pick_device(options.device)
    if numbers is not None:
        if in_memory is None:
            raise ValueError("numbers are read by a model held in memory (a lab run's)")
        model, vocab, unknown = in_memory[0].to(device), in_memory[1], list[int]()
        tokens = numbers[0].to(device=device, dtype=torch.float32)  # (T, input_size)
        answer = numbers[1].to(device=device, dtype=torch.float32).reshape(-1)
        if tokens.ndim != 2 or tokens.shape[0] < 2 or tokens.shape[1] != model.weights(0)[0].shape[1]:
            raise ValueError("numbers must be (T >= 2, the model's input size)")
        ids = [-1] * tokens.shape[0]
    elif in_memory is not None:
        model, vocab = in_memory[0].to(device), in_memory[1]
        ids, unknown = vocab.encode(text), list[int]()
    else:
        model, vocab, ids, unknown = _model_for(text, config, checkpoint, device)
    config = model.config
    if numbers is None:
        tokens = torch.tensor(ids, device=device)
    L = config.layers

    with torch.no_grad(), flushed_denormals():
        run = model.unroll(tokens)
        logits = run.logits
        # the readout is the prediction of a real-valued task; otherwise next-character probabilities
        probs = logits if numbers is not None else torch.softmax(logits, -1)
        if numbers is not None:  # regression: one loss term, the squared error at the last step
            target = torch.full((len(ids),), -1, device=device)
            target[-1] = 0
            has = target >= 0
            loss = torch.full((len(ids),), float("nan"), device=device)
            loss[-1] = ((logits[-1] - answer) ** 2).sum()
            d_logits = torch.zeros_like(logits)
            d_logits[-1] = 2 * (logits[-1] - answer)
        elif targets is None:
            target = None
            loss = step_losses(logits, tokens)
            # dL/dlogits_t = p_t - onehot(token_{t+1}); the last step has no target
            d_logits = probs.clone()
            d_logits[:-1] -= F.one_hot(tokens[1:], len(vocab)).to(probs.dtype)
            d_logits[-1] = 0
        else:
            target = torch.tensor(targets(ids), device=device)
            has = target >= 0
            loss = torch.full((len(ids),), float("nan"), device=device)
            loss[has] = F.cross_entropy(logits[has], target[has], reduction="none")
            d_logits = torch.zeros_like(probs)
            d_logits[has] = probs[has] - F.one_hot(target[has], logits.shape[1]).to(probs.dtype)
        d_top = d_logits @ model.readout.weight  # (T, H)

        local = [model.cell.local(r.gi, r.gh, r.states[:-1], r.states[1:]) for r in run.layers]
        weights = [LayerWeights(*model.weights(layer)[:2]) for layer in range(L)]
        side = helper.submit(_step_jacobians, local, weights) if helper is not None else None
        rows = bptt(local, weights, d_top, per_row=True, truncation=options.truncation, input_flow=options.input_flow)
        grads = _parameter_grads(model, tokens, run, rows.d_gi, rows.d_gh, d_logits)

        truncated_vs_full = None
        if rows.cuts:
            full = bptt(local, weights, d_top, per_row=False)
            full_grads = _parameter_grads(model, tokens, run, full.d_gi, full.d_gh, d_logits)
            a, b = _flat(grads), _flat(full_grads)
            truncated_vs_full = {
                "cosine": float(F.cosine_similarity(a, b, dim=0)),
                "norm_ratio": float(a.norm() / b.norm()),
            }

        clipped = clip_gradients(grads, options.clip_mode, options.clip_threshold)
        states = torch.stack([r.states[1:] for r in run.layers], 1)  # (T, L, C, H)
        gates = {g: torch.stack([r.gates[g] for r in run.layers], 1) for g in model.cell.gates}
        fwd_over = _not_finite_per_step(states, probs, *gates.values())
        if target is None:
            fwd_over[:-1] |= ~torch.isfinite(loss)
        else:
            fwd_over |= has & ~torch.isfinite(loss)
        bwd_over = _not_finite_per_step(
            rows.grad_state, rows.grad_own, rows.grad_future, rows.flow_state.transpose(0, 1)
        )
        is_lstm = config.arch == "lstm"
        fields = dict(  # everything but the Jacobian norms, made while the helper may still compute them
            config=config,
            options=options,
            vocab=vocab.chars,
            tokens=_np(tokens) if numbers is None else np.full(len(ids), -1),
            targets=None if target is None or numbers is not None else _np(target),
            inputs=None if numbers is None else _np(tokens),
            answer=None if numbers is None else _np(answer),
            unknown=unknown,
            h=_np(states[:, :, 0]),
            c=_np(states[:, :, 1]) if is_lstm else None,
            gates={g: _np(v) for g, v in gates.items()},
            probs=_np(probs),
            loss=_np(loss),
            total_loss=float(loss.sum() if target is None else loss[has].sum()),
            forward_overflow=_np(fwd_over),
            grad_h=_np(rows.grad_state[:, :, 0]),
            grad_c=_np(rows.grad_state[:, :, 1]) if is_lstm else None,
            grad_h_local=_np(rows.grad_own[:, :, 0]),
            grad_h_future=_np(rows.grad_future[:, :, 0]),
            grad_flow=_np(rows.flow_state[:, :, 0]),
            grad_flow_c=_np(rows.flow_state[:, :, 1]) if is_lstm else None,
            grad_flow_input=None if rows.flow_input is None else _np(rows.flow_input),
            weight_stats=_weight_stats(model),
            cuts=rows.cuts,
            params={k: _np(v) for k, v in model.state_dict().items()},
            grads={k: _np(v) for k, v in grads.items()},
            clipped_grads={k: _np(v) for k, v in clipped.items()},
            param_grad_norm={k: (float(grads[k].norm()), float(clipped[k].norm())) for k in grads},
            grad_norm_before_clip=float(total_norm(grads)),
            grad_norm_after_clip=float(total_norm(clipped)),
            truncated_vs_full=truncated_vs_full,
        )
        jac = side.result() if side is not None else _step_jacobians(local, weights)
        bwd_over |= ~torch.isfinite(jac)
        return RecurrentTrace(**fields, jacobian_norm=_np(jac), backward_overflow=_np(bwd_over))
