"""A GRU encoder-decoder with additive (Bahdanau) attention, and the same model without attention.

Source x_1..x_J, target y_1..y_I (the task's output followed by EOS), y_0 = BOS (Sutskever et al.
2014; Bahdanau, Cho and Bengio 2015, whose encoder is bidirectional, as here):

    encoder    fh_j = GRU_fwd(E[x_j], fh_{j-1}),  fh_0 = 0              reads x_1 .. x_J
               bh_j = GRU_bwd(E[x_j], bh_{j+1}),  bh_{J+1} = 0          reads x_J .. x_1
               h_j  = [fh_j; bh_j]          annotation of x_j: the character and both sides of it
    decoder    s_0 = fh_J, and for i = 1..I:
      with attention      e_ij = v^T tanh(W s_{i-1} + U h_j)            energies
                          a_ij = exp(e_ij) / sum_j' exp(e_ij')          alignment weights
                          c_i  = sum_j a_ij h_j                         a fresh context every step
      without attention   c_i  = [fh_J; bh_1]    the encoder's last state in each direction, the same
                                 vector at every step: the whole source squeezed into it (the bottleneck)
                 s_i = GRU_dec([E[y_{i-1}]; c_i], s_{i-1})
                 logits_i = W_out [s_i; c_i] + b_out
                 L_i = -log softmax(logits_i)[y_i]

The GRUs are stepped gate by gate with models.gru.GRUCell; their parameters live in a bidirectional
torch.nn.GRU (encoder) and a torch.nn.GRUCell (decoder), so names and shapes are torch's and a test can
run torch's modules on the very same weights. Arrays in a trace are 0-based: decoder_states[i-1] is s_i.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.attention import additive_attention
from models.device import pick_device
from models.gru import GRUCell
from models.tasks import BOS, EOS, get_task, seq2seq_alphabet
from models.vocab import Vocab

MAX_HIDDEN = 256
MAX_SOURCE_LEN = 64


@dataclass(frozen=True)
class Seq2SeqConfig:
    vocab_size: int = len(seq2seq_alphabet())  # BOS, EOS and the letters a-z
    embed_size: int = 16  # width of E[token]
    hidden_size: int = 64  # width H of each encoder direction and of the decoder state (h_j is 2H)
    attention_size: int = 64  # width of W s_{i-1} + U h_j
    attention: bool = True  # False: c_i = h_J at every step (no attention)
    max_len: int = 24  # longest source accepted
    task: str = "reverse"  # models.tasks.SEQ2SEQ_TASKS: reverse | swap_pairs
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embed_size", "attention_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not 1 <= self.hidden_size <= MAX_HIDDEN:
            raise ValueError(f"hidden_size must be between 1 and {MAX_HIDDEN}, not {self.hidden_size}")
        if not 1 <= self.max_len <= MAX_SOURCE_LEN:
            raise ValueError(f"max_len must be between 1 and {MAX_SOURCE_LEN}, not {self.max_len}")
        get_task(self.task)


@dataclass(frozen=True)
class EncoderRun:
    h: Tensor  # (..., J, 2H) annotations h_j = [fh_j; bh_j]
    gates: dict[str, Tensor]  # r, z, n: (..., J, 2H), forward then backward direction


@dataclass(frozen=True)
class DecoderRun:
    s: Tensor  # (..., I, H) decoder states s_1..s_I
    e: Tensor | None  # (..., I, J) energies (None without attention)
    a: Tensor  # (..., I, J) weights; all zero without attention (c_i does not look at h_j)
    c: Tensor  # (..., I, H) contexts
    gates: dict[str, Tensor]  # r, z, n: (..., I, H)
    logits: Tensor  # (..., I, V)
    inputs: Tensor  # (..., I) decoder inputs y_0..y_{I-1} (teacher forced or its own predictions)


class Seq2Seq(nn.Module):
    def __init__(self, config: Seq2SeqConfig, device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.config = config
        self.cell = GRUCell()
        V, E, H, A = config.vocab_size, config.embed_size, config.hidden_size, config.attention_size
        # torch's constructors fill in values from the global RNG; reset_parameters then draws every
        # value again from the seed alone
        self.embedding = nn.Embedding(V, E)  # shared by source and target characters
        # weight_ih_l0 (3H, E), weight_hh_l0 (3H, H), ..., and the same with _reverse for bh
        self.encoder = nn.GRU(E, H, batch_first=True, bidirectional=True)
        self.decoder = nn.GRUCell(E + 2 * H, H)  # weight_ih (3H, E + 2H), weight_hh (3H, H), ...
        if config.attention:
            self.W = nn.Parameter(torch.empty(A, H))
            self.U = nn.Parameter(torch.empty(A, 2 * H))
            self.v = nn.Parameter(torch.empty(A))
        self.readout = nn.Linear(3 * H, V)  # W_out [s_i; c_i] + b_out
        self.reset_parameters(torch.Generator().manual_seed(config.seed))
        self.to(device)

    @torch.no_grad()
    def reset_parameters(self, gen: torch.Generator) -> None:
        """torch's default initialisations, drawn from `gen` (never the global RNG) in parameter order.

        Embedding N(0, 1); every other tensor U(-1/sqrt(fan_in), +), fan_in being the width of what
        it multiplies (H for the GRUs, as torch.nn.GRU does).
        """
        H = self.config.hidden_size
        for name, p in self.named_parameters():
            if name.startswith("embedding"):
                p.normal_(0.0, 1.0, generator=gen)
                continue
            fan_in = {"W": H, "U": 2 * H, "v": self.config.attention_size}.get(name)
            if fan_in is None:
                fan_in = H if name.startswith(("encoder", "decoder")) else self.readout.in_features
            p.uniform_(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), generator=gen)

    def _direction(self, x: Tensor, suffix: str, order: range) -> tuple[Tensor, dict[str, Tensor]]:
        """One direction of the encoder over the embedded source x (..., J, E), in `order`."""
        enc = self.encoder
        W_ih, W_hh = getattr(enc, f"weight_ih_l0{suffix}"), getattr(enc, f"weight_hh_l0{suffix}")
        b_ih, b_hh = getattr(enc, f"bias_ih_l0{suffix}"), getattr(enc, f"bias_hh_l0{suffix}")
        gi = x @ W_ih.t() + b_ih  # (..., J, 3H) all steps at once
        h = gi.new_zeros(*gi.shape[:-2], self.config.hidden_size)
        hs, gates = {}, {}
        for j in order:
            (h,), gates[j] = self.cell.step(gi[..., j, :], h @ W_hh.t() + b_hh, (h,))
            hs[j] = h
        J = x.shape[-2]
        stacked = {g: torch.stack([gates[j][g] for j in range(J)], -2) for g in self.cell.gates}
        return torch.stack([hs[j] for j in range(J)], -2), stacked

    def encode(self, source: Tensor) -> EncoderRun:
        """source: (..., J) token ids."""
        x = self.embedding(source)
        J = source.shape[-1]
        fh, f_gates = self._direction(x, "", range(J))
        bh, b_gates = self._direction(x, "_reverse", range(J - 1, -1, -1))
        gates = {g: torch.cat([f_gates[g], b_gates[g]], -1) for g in self.cell.gates}
        return EncoderRun(torch.cat([fh, bh], -1), gates)

    def summary(self, h: Tensor) -> Tensor:
        """[fh_J; bh_1]: the last state of each direction, the only context without attention."""
        H = self.config.hidden_size
        return torch.cat([h[..., -1, :H], h[..., 0, H:]], -1)

    def decode(self, h: Tensor, inputs: Tensor | None = None, steps: int | None = None) -> DecoderRun:
        """Teacher forced on `inputs` (..., I) = y_0..y_{I-1}, or, with inputs None, `steps` greedy steps
        that feed each prediction back in (starting from BOS, id 0)."""
        dec, cfg = self.decoder, self.config
        I = inputs.shape[-1] if inputs is not None else steps
        J, H = h.shape[-2], cfg.hidden_size
        Uh = h @ self.U.t() if cfg.attention else None  # (..., J, A): U h_j does not depend on i
        s = h[..., -1, :H]  # s_0 = fh_J
        y_prev = inputs[..., 0] if inputs is not None else torch.zeros(h.shape[:-2], dtype=torch.long, device=h.device)
        out = {k: [] for k in ("s", "e", "a", "c", "logits", "inputs")}
        gates = {g: [] for g in self.cell.gates}
        for i in range(I):
            if cfg.attention:
                e, a, c = additive_attention(s, h, self.W, self.U, self.v, Uh)
                out["e"].append(e)
            else:
                a = torch.zeros(*h.shape[:-2], J, dtype=h.dtype, device=h.device)  # no weights to show
                c = self.summary(h)
            gi = torch.cat([self.embedding(y_prev), c], -1) @ dec.weight_ih.t() + dec.bias_ih
            gh = s @ dec.weight_hh.t() + dec.bias_hh
            (s,), step_gates = self.cell.step(gi, gh, (s,))
            logits = self.readout(torch.cat([s, c], -1))
            for k, value in (("s", s), ("a", a), ("c", c), ("logits", logits), ("inputs", y_prev)):
                out[k].append(value)
            for g, value in step_gates.items():
                gates[g].append(value)
            if i + 1 < I:
                y_prev = inputs[..., i + 1] if inputs is not None else logits.argmax(-1)
        stacked = {k: torch.stack(v, -2) if k != "inputs" else torch.stack(v, -1) for k, v in out.items() if v}
        return DecoderRun(
            s=stacked["s"],
            e=stacked.get("e"),
            a=stacked["a"],
            c=stacked["c"],
            gates={g: torch.stack(v, -2) for g, v in gates.items()},
            logits=stacked["logits"],
            inputs=stacked["inputs"],
        )

    def forward(self, source: Tensor, inputs: Tensor) -> Tensor:
        """Teacher-forced logits (..., I, V) for decoder inputs y_0..y_{I-1}."""
        return self.decode(self.encode(source).h, inputs).logits


def seq2seq_vocab() -> Vocab:
    """BOS is id 0 and EOS id 1 (models.tasks.seq2seq_alphabet)."""
    return Vocab(tuple(seq2seq_alphabet()))


def encode_pair(vocab: Vocab, source: str, target: str) -> tuple[Tensor, Tensor, Tensor]:
    """Source ids (J,), decoder inputs BOS + target (I,) and outputs target + EOS (I,)."""
    return (
        torch.tensor(vocab.encode(source)),
        torch.tensor(vocab.encode(BOS + target)),
        torch.tensor(vocab.encode(target + EOS)),
    )


@dataclass(frozen=True)
class Seq2SeqTrace:
    config: Seq2SeqConfig
    vocab: tuple[str, ...]
    source: str
    target: str  # the task's answer (without EOS)
    source_tokens: np.ndarray  # (J,)
    target_tokens: np.ndarray  # (I,) y_1..y_I: target then EOS
    decoder_inputs: np.ndarray  # (I,) y_0..y_{I-1} as fed (teacher forced or its own predictions)
    teacher_forcing: bool
    encoder_states: np.ndarray  # (J, 2H) h_j = [fh_j; bh_j]
    decoder_states: np.ndarray  # (I, H) s_1..s_I
    decoder_gates: dict[str, np.ndarray]  # r, z, n: (I, H)
    energies: np.ndarray | None  # (I, J) e_ij (None without attention)
    attention: np.ndarray  # (I, J) a_ij; all zero without attention
    context: np.ndarray  # (I, 2H) c_i (without attention [fh_J; bh_1] at every step)
    probs: np.ndarray  # (I, V)
    predicted_tokens: np.ndarray  # (I,) argmax per step
    predicted: str  # the predicted characters up to the first EOS
    correct: np.ndarray  # (I,) bool: predicted_tokens == target_tokens
    loss: np.ndarray  # (I,) L_i
    total_loss: float


def _load(checkpoint: str, device: torch.device) -> tuple[Seq2Seq, Vocab]:
    from models.checkpoints import load_checkpoint

    loaded = load_checkpoint(checkpoint, device=device)
    if loaded.info.arch != "seq2seq":
        raise ValueError(f"checkpoint {checkpoint!r} is a {loaded.info.arch} model, not a seq2seq one")
    return loaded.model, loaded.vocab


def check_source(source: str, vocab: Vocab, max_len: int, what: str = "source") -> None:
    if not source:
        raise ValueError(f"{what} must contain at least one character")
    if len(source) > max_len:
        raise ValueError(f"{what} has {len(source)} characters, more than max_len ({max_len})")
    for ch in source:
        if ch in (BOS, EOS) or ch not in vocab.chars:
            allowed = "".join(c for c in vocab.chars if c not in (BOS, EOS))
            raise ValueError(f"character {ch!r} is not allowed in the {what}: use {allowed!r}")


def trace_seq2seq(
    source: str,
    checkpoint: str | None = None,
    config: Seq2SeqConfig | None = None,
    target: str | None = None,
    teacher_forcing: bool = True,
    device: str = "auto",
    model: Seq2Seq | None = None,
    vocab: Vocab | None = None,
) -> Seq2SeqTrace:
    """Run the encoder-decoder on `source`, one output step at a time.

    The model comes from `checkpoint` (config ignored), is `model` with its `vocab` (a training run's
    weights), or is built untrained from `config` (default Seq2SeqConfig()). `target` defaults to the
    task's answer. Teacher forcing feeds BOS + target to the decoder; without it the decoder feeds back
    its own predictions for as many steps.
    """
    dev = pick_device(device)
    if model is not None:
        if vocab is None:
            raise ValueError("a model needs its vocabulary")
        model = model.to(dev)
    elif checkpoint is not None:
        model, vocab = _load(checkpoint, dev)
    else:
        vocab = seq2seq_vocab()
        config = Seq2SeqConfig(**{**(config or Seq2SeqConfig()).__dict__, "vocab_size": len(vocab)})
        model = Seq2Seq(config, dev)
    config = model.config
    check_source(source, vocab, config.max_len)
    target = get_task(config.task).transform(source) if target is None else target
    check_source(target, vocab, config.max_len, "target")
    src, dec_in, out = (t.to(dev) for t in encode_pair(vocab, source, target))

    with torch.no_grad():
        enc = model.encode(src)
        run = model.decode(enc.h, dec_in if teacher_forcing else None, steps=len(out))
        probs = torch.softmax(run.logits, -1)
        loss = F.cross_entropy(run.logits, out, reduction="none")
        predicted_tokens = run.logits.argmax(-1)
    pred = predicted_tokens.tolist()
    stop = pred.index(vocab.chars.index(EOS)) if vocab.chars.index(EOS) in pred else len(pred)

    def np_(x: Tensor) -> np.ndarray:
        return x.cpu().numpy()

    return Seq2SeqTrace(
        config=config,
        vocab=vocab.chars,
        source=source,
        target=target,
        source_tokens=np_(src),
        target_tokens=np_(out),
        decoder_inputs=np_(run.inputs),
        teacher_forcing=teacher_forcing,
        encoder_states=np_(enc.h),
        decoder_states=np_(run.s),
        decoder_gates={g: np_(v) for g, v in run.gates.items()},
        energies=None if run.e is None else np_(run.e),
        attention=np_(run.a),
        context=np_(run.c),
        probs=np_(probs),
        predicted_tokens=np_(predicted_tokens),
        predicted=vocab.decode(pred[:stop]),
        correct=np_(predicted_tokens == out),
        loss=np_(loss),
        total_loss=float(loss.sum()),
    )


def accuracy_by_length(
    model: Seq2Seq, lengths: list[int], count: int = 100, seed: int = 0
) -> dict[int, dict[str, float]]:
    """Greedy decoding on `count` random strings per length: share of whole strings and of characters
    right. Where the model without attention falls behind as the input grows, the bottleneck shows."""
    from models.tasks import random_strings

    vocab, task = seq2seq_vocab(), get_task(model.config.task)
    letters = "".join(c for c in vocab.chars if c not in (BOS, EOS))
    gen = torch.Generator().manual_seed(seed)
    dev = next(model.parameters()).device
    result = {}
    with torch.no_grad():
        for n in lengths:
            sources = random_strings(count, n, gen, letters)
            src = torch.tensor([vocab.encode(s) for s in sources], device=dev)
            out = torch.tensor([vocab.encode(task.transform(s) + EOS) for s in sources], device=dev)
            pred = model.decode(model.encode(src).h, None, steps=out.shape[-1]).logits.argmax(-1)
            result[n] = {
                "sequence": float((pred == out).all(-1).float().mean()),
                "character": float((pred == out).float().mean()),
            }
    return result


# what one request may ask of the accuracy measurement (app.seq2seq reads these)
ACCURACY_STRINGS = (1, 200)  # held-out strings per length
ACCURACY_LENGTH_STRIDE = 2  # lengths 2, 4, ..., max_len
