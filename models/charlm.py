"""Character-level language model around a recurrent cell.

    x_t = onehot(token_t)                      (V,)   tokens enter as one-hot vectors, no embedding
    S^l_t = cell(W_ih^l x^l_t + b_ih^l, W_hh^l h^l_{t-1} + b_hh^l, S^l_{t-1}),  x^0 = x, x^l = h^{l-1}
    logits_t = W_out h^{L-1}_t + b_out          next-character scores
    L_t = -log softmax(logits_t)[token_{t+1}]   t = 0 .. T-2 (the last step has no target)
    L = sum_t L_t                               the total loss BPTT differentiates

Parameters carry torch.nn's names, shapes and gate order (weight_ih_l0 is (G*H, V) because the input
is one-hot), so `load_into_torch` copies them into torch.nn.RNN/LSTM/GRU unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models import limits
from models.cell import Cell, stacked
from models.elman import ACTIVATIONS, ElmanCell
from models.gru import GRUCell
from models.init import init_recurrent
from models.lstm import LSTMCell
from models.sgru import SimpleGRUCell

ARCHS = ("rnn", "lstm", "gru", "sgru")  # sgru: the simplified GRU, one (update) gate


@dataclass(frozen=True)
class RecurrentConfig:
    arch: str = "lstm"  # rnn | lstm | gru | sgru
    vocab_size: int = 32
    hidden_size: int = 64
    layers: int = 1  # 1 to 3 stacked layers
    activation: str = "tanh"  # Elman RNN only: tanh | relu | sigmoid | linear
    seed: int = 0
    spectral_norm: float | None = None  # target largest singular value of W_hh (per gate block)
    identity_init: bool = False  # IRNN: W_hh = I, zero biases (Elman RNN only)
    forget_bias: float | None = None  # LSTM only: effective forget-gate bias
    # Readout width when it differs from the input's (models.training: the adding task reads 2 real
    # numbers per step and answers 1). None: vocab_size, the next-character readout.
    output_size: int | None = None

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, not {self.arch!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}")
        if not 1 <= self.layers <= limits.LAYERS[self.arch]:
            raise ValueError(f"layers must be between 1 and {limits.LAYERS[self.arch]}")
        if self.hidden_size < 1 or self.vocab_size < 1 or (self.output_size is not None and self.output_size < 1):
            raise ValueError("hidden_size, vocab_size and output_size must be positive")
        if self.spectral_norm is not None and not self.spectral_norm >= 0:
            raise ValueError("spectral_norm must be a non-negative number")
        if self.identity_init and self.arch != "rnn":
            raise ValueError("identity_init (IRNN) applies to the Elman RNN only")
        if self.forget_bias is not None and self.arch != "lstm":
            raise ValueError("forget_bias applies to the LSTM only")

    def make_cell(self) -> Cell:
        if self.arch == "rnn":
            return ElmanCell(self.activation)
        if self.arch == "sgru":
            return SimpleGRUCell()
        return LSTMCell() if self.arch == "lstm" else GRUCell()


@dataclass(frozen=True)
class LayerRun:
    """Everything one layer did over the sequence (detached when produced by `unroll`)."""

    gi: Tensor  # (T, G*H)  W_ih x_t + b_ih
    gh: Tensor  # (T, G*H)  W_hh h_{t-1} + b_hh
    states: Tensor  # (T+1, C, H)  states[0] is the initial (zero) state
    gates: dict[str, Tensor]  # name -> (T, H)


@dataclass(frozen=True)
class Unrolled:
    layers: list[LayerRun]
    logits: Tensor  # (T, V)

    @property
    def top_h(self) -> Tensor:  # (T, H)
        return self.layers[-1].states[1:, 0]


class CharRNN(nn.Module):
    def __init__(self, config: RecurrentConfig, device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.config = config
        self.cell = config.make_cell()
        H, V = config.hidden_size, config.vocab_size
        params = init_recurrent(
            n_gates=len(self.cell.gates),
            vocab_size=V,
            hidden_size=H,
            layers=config.layers,
            seed=config.seed,
            spectral_norm=config.spectral_norm,
            identity_init=config.identity_init,
            forget_bias=config.forget_bias,
            output_size=config.output_size,
        )
        self.readout = nn.Linear(H, V if config.output_size is None else config.output_size)
        for name, value in params.items():
            if name.startswith("readout."):
                getattr(self.readout, name.split(".")[1]).data.copy_(value)
            else:
                self.register_parameter(name, nn.Parameter(value))
        self.to(device)

    def weights(self, layer: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return tuple(getattr(self, f"{w}_l{layer}") for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def input_projection(self, layer: int, x: Tensor) -> Tensor:
        """gi for all steps at once: a column lookup for token ids (one-hot input), a matmul for vectors
        (the layers above, and real-valued inputs such as the adding task's (value, marker) pairs)."""
        W_ih, _, b_ih, _ = self.weights(layer)
        return (x @ W_ih.t() if x.is_floating_point() else W_ih.t()[x]) + b_ih

    def run_layer(self, layer: int, gi: Tensor, truncation: int | None = None) -> LayerRun:
        """The time loop of one layer; truncation k detaches the carried state every k steps."""
        _, W_hh, _, b_hh = self.weights(layer)
        T, H = gi.shape[0], self.config.hidden_size
        zero = gi.new_zeros(H)
        state = tuple(zero for _ in self.cell.states)
        states, ghs, gates = [stacked(state)], [], {g: [] for g in self.cell.gates}
        for t in range(T):
            if truncation and t > 0 and t % truncation == 0:
                state = tuple(s.detach() for s in state)
            gh = torch.addmv(b_hh, W_hh, state[0])
            state, step_gates = self.cell.step(gi[t], gh, state)
            states.append(stacked(state))
            ghs.append(gh)
            for g, value in step_gates.items():
                gates[g].append(value)
        return LayerRun(
            gi=gi,
            gh=torch.stack(ghs),
            states=torch.stack(states),
            gates={g: torch.stack(v) for g, v in gates.items()},
        )

    def torch_layer(self, layer: int) -> nn.Module | None:
        """This layer as a one-layer torch.nn.RNN/LSTM/GRU sharing its weights (no copy), or None
        where torch.nn has no such cell (the Elman RNN with sigmoid or linear activation, the simplified GRU)."""
        cfg = self.config
        if cfg.arch == "sgru" or (cfg.arch == "rnn" and cfg.activation not in ("tanh", "relu")):
            return None
        W_ih, W_hh, b_ih, b_hh = self.weights(layer)
        kinds = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
        extra = {"nonlinearity": cfg.activation} if cfg.arch == "rnn" else {}
        module = kinds[cfg.arch](W_ih.shape[1], cfg.hidden_size, device="meta", **extra)
        state = {"weight_ih_l0": W_ih, "weight_hh_l0": W_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
        module.load_state_dict(state, assign=True)
        return module

    def replay_layer(self, layer: int, module: nn.Module, x: Tensor, gi: Tensor) -> LayerRun:
        """The same LayerRun as `run_layer`, with the time loop left to torch.nn's fused kernel: its h
        sequence, then gh, the gates (and the LSTM's c) for every step at once from that."""
        _, W_hh, _, b_hh = self.weights(layer)
        if not x.is_floating_point():  # token ids: the one-hot input the column lookup stands for
            x = F.one_hot(x, self.config.vocab_size).to(gi.dtype)
        h = module(x.unsqueeze(1))[0][:, 0]
        h_prev = torch.cat([h.new_zeros(1, h.shape[1]), h[:-1]])
        gh = torch.addmm(b_hh, h_prev, W_hh.t())
        new, gates = self.cell.replay(gi, gh, h)
        return LayerRun(gi=gi, gh=gh, states=torch.cat([torch.zeros_like(new[:1]), new]), gates=gates)

    def unroll(self, tokens: Tensor, truncation: int | None = None, fused: bool | None = None) -> Unrolled:
        """Every layer over the sequence. fused (default: when autograd is off and nothing is truncated)
        takes h from torch.nn's kernels, 5-10x faster than the gate-by-gate loop; the loop stays the
        reference, and the two agree to float32 rounding (tests/models/test_recurrent_parity.py)."""
        if fused is None:
            fused = not torch.is_grad_enabled() and not truncation
        runs, x = [], tokens
        for layer in range(self.config.layers):
            gi = self.input_projection(layer, x)
            module = self.torch_layer(layer) if fused else None
            run = self.run_layer(layer, gi, truncation) if module is None else self.replay_layer(layer, module, x, gi)
            runs.append(run)
            x = run.states[1:, 0]
        return Unrolled(runs, self.readout(x))

    def forward(self, tokens: Tensor, truncation: int | None = None) -> Tensor:
        """Next-character logits (T, V); differentiable, for autograd checks and training."""
        return self.unroll(tokens, truncation).logits


def step_losses(logits: Tensor, tokens: Tensor) -> Tensor:
    """L_t for t = 0..T-2: cross-entropy of step t's logits against token t+1."""
    return F.cross_entropy(logits[:-1], tokens[1:], reduction="none")


def load_into_torch(model: CharRNN) -> nn.Module:
    """The equivalent torch.nn.RNN/LSTM/GRU with this model's recurrent weights."""
    cfg = model.config
    if cfg.arch == "sgru":
        raise ValueError("torch.nn has no simplified GRU (one update gate)")
    kwargs = dict(input_size=cfg.vocab_size, hidden_size=cfg.hidden_size, num_layers=cfg.layers)
    if cfg.arch == "rnn":
        if cfg.activation not in ("tanh", "relu"):
            raise ValueError("torch.nn.RNN supports only tanh and relu")
        module: nn.Module = nn.RNN(nonlinearity=cfg.activation, **kwargs)
    else:
        module = (nn.LSTM if cfg.arch == "lstm" else nn.GRU)(**kwargs)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("readout.")}
    module.load_state_dict(state)
    return module.to(next(model.parameters()).device)
