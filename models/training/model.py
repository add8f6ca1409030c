"""The lab's recurrent models: torch.nn's fused RNN/LSTM/GRU plus a linear readout, started from the
trace engine's initialisation (models.init), so a run at step 0 is the bench's untrained model of the
same seed and a snapshot of any step opens in the bench unchanged (`engine_model`).

Architectures: rnn (Elman, tanh or relu), irnn (ReLU RNN with W_hh = I and zero biases, Le et al.
2015), lstm, gru; token ids enter as one-hot vectors, as in models.charlm. And transformer: the trace
engine's causal Transformer itself (models.transformer, d_model = hidden_size, d_ff = 4 d_model), for
the token tasks (it embeds characters; the adding task's inputs are numbers). And seq2seq: the engine's
GRU encoder-decoder (models.seq2seq) with or without additive attention, for the reverse task.

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
from models.seq2seq import MAX_SOURCE_LEN, Seq2Seq, Seq2SeqConfig
from models.transformer import CausalTransformer, TransformerConfig

LAB_ARCHS = ("rnn", "irnn", "lstm", "gru", "transformer", "seq2seq")
RECURRENT_LAB = ("rnn", "irnn", "lstm", "gru")
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
    heads: int = 4  # transformer only
    attention: bool = True  # seq2seq only: False reads one context vector, the encoder's last states

    @property
    def engine_arch(self) -> str:
        """The architecture the trace engine (and the bench) knows this model as: an IRNN is an rnn."""
        return "rnn" if self.arch == "irnn" else self.arch

    def transformer_config(self, vocab_size: int) -> TransformerConfig:
        return TransformerConfig(vocab_size=vocab_size, d_model=self.hidden_size, layers=self.layers,
                                 heads=self.heads, d_ff=min(4 * self.hidden_size, limits.D_FF[1]),
                                 max_len=limits.MAX_TEXT, seed=self.seed)

    def seq2seq_config(self, vocab_size: int) -> Seq2SeqConfig:
        return Seq2SeqConfig(vocab_size=vocab_size, hidden_size=self.hidden_size, attention_size=self.hidden_size,
                             attention=self.attention, max_len=MAX_SOURCE_LEN, task="reverse", seed=self.seed)

    def engine_config(self, input_size: int, output_size: int) -> RecurrentConfig | TransformerConfig | Seq2SeqConfig:
        """The trace engine's config for this model (its checks are the lab's checks)."""
        if self.arch == "seq2seq":
            return self.seq2seq_config(input_size)
        if self.arch == "transformer":
            if input_size != output_size:
                raise ValueError("the transformer reads characters: it trains on the token tasks")
            return self.transformer_config(input_size)
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
        config = spec.engine_config(input_size, output_size)
        assert isinstance(config, RecurrentConfig)
        self.config = config
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


class LabTransformer(nn.Module):
    """The engine's CausalTransformer under the lab's interface (no truncation: attention reaches every
    earlier position in one step)."""

    def __init__(self, spec: ModelSpec, vocab_size: int) -> None:
        super().__init__()
        self.spec, self.config = spec, spec.transformer_config(vocab_size)
        self.net = CausalTransformer(self.config)

    def forward(self, x: Tensor, truncation: int | None = None) -> Tensor:
        if truncation:
            raise ValueError("truncation does not apply to the transformer")
        return self.net(x)

    def export(self) -> dict[str, Tensor]:
        """The engine's parameter names (embedding.weight, blocks.0.attn.in_proj_weight, ..., readout.weight)."""
        return {k: v.detach().clone() for k, v in self.net.state_dict().items()}


class LabSeq2Seq(nn.Module):
    """The engine's encoder-decoder under the lab's interface: teacher forced on the decoder inputs."""

    def __init__(self, spec: ModelSpec, vocab_size: int) -> None:
        super().__init__()
        self.spec, self.config = spec, spec.seq2seq_config(vocab_size)
        self.net = Seq2Seq(self.config)

    def forward(self, x: Tensor, truncation: int | None = None, inputs: Tensor | None = None) -> Tensor:
        if truncation or inputs is None:
            raise ValueError("the encoder-decoder trains teacher forced, without truncation")
        return self.net(x, inputs)

    def export(self) -> dict[str, Tensor]:
        return {k: v.detach().clone() for k, v in self.net.state_dict().items()}


LabModel = LabRecurrent | LabTransformer | LabSeq2Seq


def build_model(spec: ModelSpec, input_size: int, output_size: int, tokens: bool) -> LabModel:
    if spec.arch == "seq2seq":
        return LabSeq2Seq(spec, input_size)
    if spec.arch == "transformer":
        if not tokens:
            raise ValueError("the transformer reads characters: it trains on the token tasks")
        return LabTransformer(spec, input_size)
    return LabRecurrent(spec, input_size, output_size, tokens)


def _prefixed(state: dict[str, Tensor]) -> dict[str, Tensor]:
    return {k if k.startswith("readout.") else f"core.{k}": v for k, v in state.items()}


def engine_model(weights: dict[str, Tensor], config: RecurrentConfig | TransformerConfig | Seq2SeqConfig
                 ) -> nn.Module:
    """The trace engine's model holding these weights (gate by gate, every gate a named tensor)."""
    model: nn.Module
    if isinstance(config, RecurrentConfig):
        model = CharRNN(config)
    elif isinstance(config, TransformerConfig):
        model = CausalTransformer(config)
    else:
        model = Seq2Seq(config)
    model.load_state_dict(weights)
    return model.eval()
