"""A small causal Transformer language model over characters, and its trace.

For a text of T characters with tokens w_0..w_{T-1} (Vaswani et al. 2017; pre-LayerNorm blocks as
in GPT-2 and nanoGPT, which train more easily than the original post-LN ones at this size):

    x_s   = E[w_s] + PE(s)                                   input representation (PE: models.attention)
    for each block l = 0..L-1, with heads h = 1..H and d_head = d_model / H:
        a   = LayerNorm_1(x)
        q^h = a W_q^h + b_q^h,  k^h = a W_k^h + b_k^h,  v^h = a W_v^h + b_v^h     (T, d_head) each
        S^h = q^h k^h^T / sqrt(d_head),  S^h[t, s] = -inf for s > t            causal mask
        A^h = softmax(S^h) row by row,   o^h = A^h v^h                            head output
        x   = x + [o^1 ... o^H] W_o + b_o
        x   = x + W_2 relu(W_1 LayerNorm_2(x) + b_1) + b_2                       position-wise FFN
    logits_t = W_out LayerNorm(x_t) + b_out
    L_t = -log softmax(logits_t)[w_{t+1}],  t = 0..T-2;   L = sum_t L_t       (as models.charlm)

Parameter names follow torch: each block's names are those of torch.nn.TransformerEncoderLayer
(norm_first=True, activation relu) and its `self_attn` those of torch.nn.MultiheadAttention
(in_proj_weight stacks W_q, W_k, W_v), so weights load into torch's modules unchanged.

Gradient flow has the meaning it has for the recurrent models: G[t][s] = ||dL_t/dx_s|| with respect
to the input representation x_s. Every loss term is one row of a single batched backward pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models import limits
from models.attention import attention_layer_cost, recurrent_layer_cost, scaled_dot_product, sinusoidal_encoding
from models.charlm import step_losses
from models.clipping import clip_gradients, total_norm
from models.device import pick_device
from models.trace import TraceOptions, flushed_denormals
from models.vocab import UNKNOWN, Vocab

POSITIONALS = ("sinusoidal", "learned")
MAX_D_MODEL = limits.D_MODEL[1]
MAX_LAYERS = limits.LAYERS["transformer"]
MAX_HEADS = limits.HEADS[1]
MAX_D_FF = limits.D_FF[1]
MAX_LEN = 1024


@dataclass(frozen=True)
class TransformerConfig:
    vocab_size: int = 32  # characters; a trace takes it from its text (or from the checkpoint)
    d_model: int = 64  # width of each position's representation x_s, at most 256
    layers: int = 2  # blocks, 1 to 4
    heads: int = 4  # 1 to 8, must divide d_model: d_head = d_model // heads
    d_ff: int = 256  # hidden width of the position-wise feed-forward network
    positional: str = "sinusoidal"  # sinusoidal (fixed) | learned (a table of max_len rows)
    max_len: int = 256  # longest sequence the model accepts
    seed: int = 0  # initial weights are a pure function of the seed

    def __post_init__(self) -> None:
        if not 1 <= self.vocab_size:
            raise ValueError("vocab_size must be at least 1")
        if not 1 <= self.d_model <= MAX_D_MODEL:
            raise ValueError(f"d_model must be between 1 and {MAX_D_MODEL}, not {self.d_model}")
        if not 1 <= self.layers <= MAX_LAYERS:
            raise ValueError(f"layers must be between 1 and {MAX_LAYERS}, not {self.layers}")
        if not 1 <= self.heads <= MAX_HEADS:
            raise ValueError(f"heads must be between 1 and {MAX_HEADS}, not {self.heads}")
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by heads ({self.heads})")
        if not 1 <= self.d_ff <= MAX_D_FF:
            raise ValueError(f"d_ff must be between 1 and {MAX_D_FF}, not {self.d_ff}")
        if self.positional not in POSITIONALS:
            raise ValueError(f"positional must be one of {POSITIONALS}, not {self.positional!r}")
        if not 2 <= self.max_len <= MAX_LEN:
            raise ValueError(f"max_len must be between 2 and {MAX_LEN}, not {self.max_len}")

    @property
    def d_head(self) -> int:
        return self.d_model // self.heads


@dataclass(frozen=True)
class HeadsRun:
    """What the heads of one layer computed: (..., heads, T, d_head) and (..., heads, T, T)."""

    q: Tensor
    k: Tensor
    v: Tensor
    S: Tensor  # scaled scores before softmax, -inf where masked
    A: Tensor  # attention weights
    o: Tensor  # head outputs


@dataclass(frozen=True)
class TransformerRun:
    positional: Tensor  # (T, d) PE(s) or the learned table's rows
    x: Tensor  # (..., T, d) input representation
    stream: list[Tensor]  # (..., T, d) residual stream entering each block, then leaving the last
    heads: list[HeadsRun]  # one per layer
    logits: Tensor  # (..., T, V)


class SelfAttention(nn.Module):
    """Multi-head causal self-attention, parameters named as in torch.nn.MultiheadAttention."""

    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))  # [W_q; W_k; W_v]
        self.in_proj_bias = nn.Parameter(torch.empty(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)  # W_o

    def forward(self, a: Tensor) -> tuple[Tensor, HeadsRun]:
        T, d = a.shape[-2:]
        H = self.heads
        qkv = a @ self.in_proj_weight.t() + self.in_proj_bias  # (..., T, 3d)
        # (..., T, d) -> (..., H, T, d_head): head h owns columns h*d_head..(h+1)*d_head
        q, k, v = (z.unflatten(-1, (H, d // H)).transpose(-3, -2) for z in qkv.chunk(3, -1))
        S, A, o = scaled_dot_product(q, k, v, causal=True)
        out = self.out_proj(o.transpose(-3, -2).flatten(-2))  # concat heads: (..., T, d)
        return out, HeadsRun(q, k, v, S, A, o)


class Block(nn.Module):
    """Pre-LN block, parameters named as in torch.nn.TransformerEncoderLayer(norm_first=True)."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        d = config.d_model
        self.norm1 = nn.LayerNorm(d)
        self.self_attn = SelfAttention(d, config.heads)
        self.norm2 = nn.LayerNorm(d)
        self.linear1 = nn.Linear(d, config.d_ff)  # W_1
        self.linear2 = nn.Linear(config.d_ff, d)  # W_2

    def forward(self, x: Tensor) -> tuple[Tensor, HeadsRun]:
        attended, heads = self.self_attn(self.norm1(x))
        x = x + attended
        x = x + self.linear2(F.relu(self.linear1(self.norm2(x))))
        return x, heads


class CausalTransformer(nn.Module):
    def __init__(self, config: TransformerConfig, device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.config = config
        d, V = config.d_model, config.vocab_size
        # torch's constructors fill in values from the global RNG; reset_parameters then draws every
        # value again from the seed alone (building on the meta device instead is several times slower)
        self.embedding = nn.Embedding(V, d)  # E
        self.position = nn.Embedding(config.max_len, d) if config.positional == "learned" else None
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(d)
        self.readout = nn.Linear(d, V)  # W_out
        self.reset_parameters(torch.Generator().manual_seed(config.seed))
        self.to(device)

    @torch.no_grad()
    def reset_parameters(self, gen: torch.Generator) -> None:
        """torch's default initialisations, drawn from `gen` in module order.

        Embeddings N(0, 1) (the sinusoid's scale); Linear weights and biases U(-1/sqrt(fan_in), +);
        W_q, W_k, W_v Xavier-uniform and the attention biases 0, as torch.nn.MultiheadAttention;
        LayerNorm gamma = 1, beta = 0. A private generator, never the global one: two traces built
        at once in two threads still get exactly their own seed's weights.
        """
        for name, module in self.named_modules():
            if isinstance(module, nn.Embedding):
                module.weight.normal_(0.0, 1.0, generator=gen)
            elif isinstance(module, nn.LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()
            elif isinstance(module, SelfAttention):
                nn.init.xavier_uniform_(module.in_proj_weight, generator=gen)
                module.in_proj_bias.zero_()
            elif isinstance(module, nn.Linear):
                bound = 1 / math.sqrt(module.in_features)
                module.weight.uniform_(-bound, bound, generator=gen)
                module.bias.uniform_(-bound, bound, generator=gen)
                if name.endswith("out_proj"):
                    module.bias.zero_()

    def positional_encoding(self, T: int) -> Tensor:
        if T > self.config.max_len:
            raise ValueError(f"sequence of {T} tokens is longer than max_len ({self.config.max_len})")
        if self.position is not None:
            return self.position.weight[:T]
        return sinusoidal_encoding(T, self.config.d_model, self.embedding.weight.device)

    def run(self, tokens: Tensor, x: Tensor | None = None) -> TransformerRun:
        """Forward pass keeping every head's tensors; x replaces E[w] + PE when given (for gradients)."""
        PE = self.positional_encoding(tokens.shape[-1])  # (T, d)
        if x is None:
            x = self.embedding(tokens) + PE  # (..., T, d)
        stream, heads = [x], []
        for block in self.blocks:
            h, layer_heads = block(stream[-1])
            stream.append(h)
            heads.append(layer_heads)
        return TransformerRun(PE, x, stream, heads, self.readout(self.norm(stream[-1])))

    def forward(self, tokens: Tensor) -> Tensor:
        """Next-character logits (..., T, V)."""
        return self.run(tokens).logits


@dataclass(frozen=True)
class TransformerTrace:
    config: TransformerConfig
    options: TraceOptions
    vocab: tuple[str, ...]
    tokens: np.ndarray  # (T,) ids
    # forward
    probs: np.ndarray  # (T, V) next-character probabilities
    loss: np.ndarray  # (T-1,) L_t
    total_loss: float
    forward_overflow: np.ndarray  # (T,) bool
    positional: np.ndarray  # (T, d) positional encodings added
    embeddings: np.ndarray  # (T, d) x_s = E[w_s] + PE(s)
    q: np.ndarray  # (layers, heads, T, d_head)
    k: np.ndarray
    v: np.ndarray
    scores: np.ndarray  # (layers, heads, T, T) S before softmax, -inf where masked
    attention: np.ndarray  # (layers, heads, T, T) A, rows sum to 1, masked entries 0
    head_out: np.ndarray  # (layers, heads, T, d_head)
    # backward
    grad_flow: np.ndarray  # (T, T) ||dL_t/dx_s||; 0 for s > t; last row 0 (no L_{T-1})
    grad_x: np.ndarray  # (T,) ||dL/dx_s||
    cost: dict  # per layer work and memory of attention vs an equivalent GRU layer (see layer_cost)
    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]  # dL/dtheta before clipping
    clipped_grads: dict[str, np.ndarray]
    param_grad_norm: dict[str, tuple[float, float]]  # name -> (before, after clipping)
    grad_norm_before_clip: float
    grad_norm_after_clip: float
    backward_overflow: np.ndarray  # (T,) bool
    # (T,) target id per step, -1 where none (a training task's); None: the next character, `loss` (T-1,).
    # With targets `loss` is (T,), NaN where a step has none.
    targets: np.ndarray | None = None

    @property
    def overflow(self) -> np.ndarray:
        return self.forward_overflow | self.backward_overflow


def layer_cost(T: int | np.ndarray, config: TransformerConfig) -> dict[str, np.ndarray]:
    """Per layer multiply-adds and memory (floats) of attention and of a GRU layer as wide, at length(s) T."""
    T = np.asarray(T, dtype=np.int64)
    att = attention_layer_cost(T, config.d_model, config.heads, config.d_ff)
    rec = recurrent_layer_cost(T, config.d_model)
    return {
        "attention_macs": att["macs"],
        "attention_memory": att["memory"],
        "recurrent_macs": rec["macs"],
        "recurrent_memory": rec["memory"],
        "recurrent_sequential_steps": rec["sequential_steps"],
    }


def _cost(T: int, config: TransformerConfig) -> dict:
    lengths = np.unique(np.geomspace(1, max(config.max_len, T), 24).round().astype(np.int64))
    at_T = {k: int(v) for k, v in layer_cost(T, config).items()}
    curves = {k: np.asarray(v) for k, v in layer_cost(lengths, config).items()}
    return {"T": T, "layers": config.layers, **at_T, "lengths": lengths, "curves": curves}


def _np(x: Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()


def _not_finite(x: Tensor) -> Tensor:
    """(T, ...) -> (T,) True where any entry of that step is inf or nan."""
    return ~torch.isfinite(x.flatten(1)).all(1)


def _model_for(
    text: str, config: TransformerConfig | None, checkpoint: str | None, device: torch.device
) -> tuple[CausalTransformer, Vocab]:
    if checkpoint is None:
        if config is None:
            raise ValueError("give a TransformerConfig or a checkpoint name")
        vocab = Vocab.from_text(text)
        config = TransformerConfig(**{**config.__dict__, "vocab_size": len(vocab)})
        return CausalTransformer(config, device), vocab
    from models.checkpoints import load_checkpoint  # the registry imports this module

    loaded = load_checkpoint(checkpoint, device=device)
    if loaded.info.arch != "transformer":
        raise ValueError(f"checkpoint {checkpoint!r} is a {loaded.info.arch} model, not a transformer")
    unknown = [ch for ch in text if ch not in loaded.vocab.chars]
    if unknown and UNKNOWN not in loaded.vocab.chars:  # a character model reads them as U+FFFD, like the RNNs
        allowed = "".join(loaded.vocab.chars)
        raise ValueError(f"character {unknown[0]!r} is not in checkpoint {checkpoint!r}'s vocabulary {allowed!r}")
    return loaded.model, loaded.vocab


def trace_transformer(
    text: str,
    config: TransformerConfig | None = None,
    options: TraceOptions | None = None,
    checkpoint: str | None = None,
    in_memory: tuple[CausalTransformer, Vocab] | None = None,
    targets: Callable[[list[int]], list[int]] | None = None,
) -> TransformerTrace:
    """Trace a causal Transformer on `text` (at least 2 characters).

    Without a checkpoint the model is built from `config` (seeded) with the vocabulary of the text;
    with one, the model and vocabulary come from the checkpoint and `config` is ignored.
    """
    from models.transformer_flow import input_flow, input_flow_for_targets

    options = options or TraceOptions()
    if options.truncation is not None:
        raise ValueError("truncation does not apply to attention: every position sees every earlier one directly")
    if len(text) < 2:
        raise ValueError("text must have at least 2 characters (a step and its next character)")
    device = pick_device(options.device)
    if in_memory is not None:  # a training run's weights (models.training): the text must be in its vocabulary
        model, vocab = in_memory[0].to(device), in_memory[1]
    else:
        model, vocab = _model_for(text, config, checkpoint, device)
    config = model.config
    if len(text) > config.max_len:
        raise ValueError(f"text has {len(text)} characters, more than max_len ({config.max_len})")
    ids = vocab.encode_known(text)[0] if UNKNOWN in vocab.chars else vocab.encode(text)
    tokens = torch.tensor(ids, device=device)
    T = len(tokens)
    names = [name for name, _ in model.named_parameters()]

    with flushed_denormals():
        with torch.enable_grad():
            x = model.embedding(tokens) + model.positional_encoding(T)  # a node of the graph: dL/dx_s below
            run = model.run(tokens, x)
            if targets is None:
                target = None
                loss = step_losses(run.logits, tokens)
                total = loss.sum()
            else:
                target = torch.tensor(targets(tokens.tolist()), device=device)
                has = target >= 0
                loss = torch.full((T,), float("nan"), device=device)
                loss[has] = F.cross_entropy(run.logits[has], target[has], reduction="none")
                total = loss[has].sum()
            d_x, *d_params = torch.autograd.grad(total, [x, *model.parameters()], allow_unused=True)
        loss = loss.detach()
        with torch.no_grad():
            grads = {
                n: torch.zeros_like(p) if g is None else g
                for (n, p), g in zip(model.named_parameters(), d_params, strict=True)
            }
            # (T, T) ||dL_t/dx_s||, all rows in one batched backward
            G = input_flow(model, run, tokens) if target is None else input_flow_for_targets(model, tokens, target)
            clipped = clip_gradients(grads, options.clip_mode, options.clip_threshold)
            probs = torch.softmax(run.logits, -1)
            stack = {f: torch.stack([getattr(h, f) for h in run.heads]) for f in ("q", "k", "v", "S", "A", "o")}

            def per_step(z: Tensor) -> Tensor:  # (layers, heads, T, ...) -> (T, ...)
                return z.transpose(0, 2).flatten(1)

            causal = torch.ones(T, T, dtype=torch.bool, device=device).tril()
            fwd_over = _not_finite(probs) | _not_finite(x) | _not_finite(per_step(stack["A"]))
            fwd_over |= _not_finite(per_step(stack["S"].masked_fill(~causal, 0)))
            fwd_over |= _not_finite(per_step(torch.cat([stack["q"], stack["k"], stack["v"], stack["o"]], -1)))
            if target is None:
                fwd_over[:-1] |= ~torch.isfinite(loss)
            else:
                fwd_over |= has & ~torch.isfinite(loss)
            bwd_over = _not_finite(G) | _not_finite(G.t()) | ~torch.isfinite(d_x).all(-1)

    return TransformerTrace(
        config=config,
        options=options,
        vocab=vocab.chars,
        tokens=_np(tokens),
        probs=_np(probs),
        loss=_np(loss),
        total_loss=float(total.detach()),
        forward_overflow=_np(fwd_over),
        positional=_np(run.positional),
        embeddings=_np(x),
        q=_np(stack["q"]),
        k=_np(stack["k"]),
        v=_np(stack["v"]),
        scores=_np(stack["S"]),
        attention=_np(stack["A"]),
        head_out=_np(stack["o"]),
        grad_flow=_np(G),
        grad_x=_np(d_x.norm(dim=-1)),
        cost=_cost(T, config),
        params={n: _np(p) for n, p in model.state_dict().items()},
        grads={n: _np(g) for n, g in grads.items()},
        clipped_grads={n: _np(g) for n, g in clipped.items()},
        param_grad_norm={n: (float(grads[n].norm()), float(clipped[n].norm())) for n in names},
        grad_norm_before_clip=float(total_norm(grads)),
        grad_norm_after_clip=float(total_norm(clipped)),
        backward_overflow=_np(bwd_over),
        targets=None if target is None else _np(target),
    )
