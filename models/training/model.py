"""The lab's recurrent models: torch.nn's fused RNN/LSTM/GRU plus a linear readout, started from the
trace engine's initialisation (models.init), so a run at step 0 is the bench's untrained model of the
same seed and a snapshot of any step opens in the bench unchanged (`engine_model`).

Architectures: rnn (Elman, tanh or relu), irnn (ReLU RNN with W_hh = I and zero biases, Le et al.
2015), lstm, gru. Token ids enter as one-hot vectors, as in models.charlm.

Truncated BPTT with length k is what PyTorch users write: the sequence runs in chunks of k steps and
the state carried into each chunk is detached, so the loss of the whole sequence backpropagates at most
k steps back from each cut, and one optimiser step follows (the gradient models.trace reports as
truncated).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models import limits
from models.charlm import CharRNN, RecurrentConfig

LAB_ARCHS = ("rnn", "irnn", "lstm", "gru")
_TORCH = {"rnn": nn.RNN, "irnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@dataclass(frozen=True)
class ModelSpec:
    arch: str = "lstm"  # rnn | irnn | lstm | gru
    hidden_size: int = 64
    layers: int = 1
    activation: str = "tanh"  # rnn only: tanh | relu (irnn is always relu)
    spectral_norm: float | None = None
    forget_bias: float | None = None  # lstm only
    seed: int = 0

    def engine_config(self, input_size: int, output_size: int) -> RecurrentConfig:
        """The trace engine's config for this model (its checks are the lab's checks)."""
        irnn = self.arch == "irnn"
        if self.arch not in LAB_ARCHS:
            raise ValueError(f"arch must be one of {LAB_ARCHS}, not {self.arch!r}")
        if self.arch == "rnn" and self.activation not in ("tanh", "relu"):
            raise ValueError("activation must be tanh or relu (torch.nn.RNN's two)")
        return RecurrentConfig(
            arch="rnn" if irnn else self.arch,
            vocab_size=input_size,
            output_size=output_size,
            hidden_size=self.hidden_size,
            layers=self.layers,
            activation="relu" if irnn else (self.activation if self.arch == "rnn" else "tanh"),
            seed=self.seed,
            spectral_norm=self.spectral_norm,
            identity_init=irnn,
            forget_bias=self.forget_bias,
        )


class LabRecurrent(nn.Module):
    def __init__(self, spec: ModelSpec, input_size: int, output_size: int, tokens: bool) -> None:
        super().__init__()
        self.spec, self.tokens, self.input_size = spec, tokens, input_size
        self.config = spec.engine_config(input_size, output_size)
        if self.config.layers > limits.LAYERS[self.config.arch]:
            raise ValueError(f"layers must be between 1 and {limits.LAYERS[self.config.arch]}")
        extra = {"nonlinearity": self.config.activation} if self.config.arch == "rnn" else {}
        self.core = _TORCH[spec.arch](input_size, spec.hidden_size, spec.layers, batch_first=True, **extra)
        self.readout = nn.Linear(spec.hidden_size, output_size)
        # the engine's parameters (its seeded init) under torch.nn's names
        self.load_state_dict(_prefixed(CharRNN(self.config).state_dict()))

    def forward(self, x: Tensor, truncation: int | None = None) -> Tensor:
        """Readout at every step (B, T, output_size)."""
        inp = F.one_hot(x, self.input_size).float() if self.tokens else x
        if not truncation or truncation >= inp.shape[1]:
            return self.readout(self.core(inp)[0])
        outputs, state = [], None
        for start in range(0, inp.shape[1], truncation):
            if state is not None:  # detach the carried state: no gradient crosses the cut
                state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
            out, state = self.core(inp[:, start : start + truncation], state)
            outputs.append(out)
        return self.readout(torch.cat(outputs, 1))

    def export(self) -> dict[str, Tensor]:
        """torch.nn's parameter names (weight_ih_l0, ...) with the readout as readout.weight/bias: what
        torch.nn.RNN/LSTM/GRU and models.charlm.CharRNN both load."""
        return {k.removeprefix("core."): v.detach().clone() for k, v in self.state_dict().items()}


def _prefixed(state: dict[str, Tensor]) -> dict[str, Tensor]:
    return {k if k.startswith("readout.") else f"core.{k}": v for k, v in state.items()}


def engine_model(weights: dict[str, Tensor], config: RecurrentConfig) -> CharRNN:
    """The trace engine's model holding these weights (gate by gate, every gate a named tensor)."""
    model = CharRNN(config)
    model.load_state_dict(weights)
    return model.eval()
