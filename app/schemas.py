"""Request and response models. The knobs carry their limits, so bad input stops at the edge with 422.

`TraceKnobs` is one flat set of knobs for every architecture (the bench form and the URL are flat);
`canonical()` keeps only the knobs that change the trace, so identical traces share one cache key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Arch = Literal["rnn", "lstm", "gru", "transformer"]
RECURRENT = ("rnn", "lstm", "gru")

# Hard caps: what one request may ask of a shared CPU. Settings may tighten text and hidden_size.
LIMITS = {"text": 256, "hidden_size": 256, "layers_recurrent": 3, "layers_transformer": 4, "d_model": 256}

# Which knobs matter for which architecture; the others are ignored (dropped from the canonical form).
APPLIES_TO: dict[str, tuple[str, ...]] = {
    "truncation": RECURRENT,  # attention sees every earlier position directly: nothing to truncate
    "hidden_size": RECURRENT,
    "activation": ("rnn",),
    "identity_init": ("rnn",),
    "spectral_norm": RECURRENT,
    "forget_bias": ("lstm",),
    "d_model": ("transformer",),
    "heads": ("transformer",),
    "d_ff": ("transformer",),
    "positional": ("transformer",),
    "checkpoint": ("transformer",),
}

CHECKPOINT_FIXES = ("seed", "layers", "d_model", "heads", "d_ff", "positional")


class TraceKnobs(BaseModel):
    """Everything that determines a trace; a trace is a pure function of these."""

    model_config = ConfigDict(allow_inf_nan=False)

    arch: Arch = Field("lstm", description="model to trace")
    text: str = Field("hello, hello world", min_length=2, max_length=LIMITS["text"], description="input sequence")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="weight initialisation seed")
    layers: int = Field(1, ge=1, le=LIMITS["layers_transformer"], description="1-3 recurrent, 1-4 transformer")
    truncation: int | None = Field(None, ge=1, le=LIMITS["text"], description="detach every k steps; null = full")
    clip_mode: Literal["norm", "value"] | None = Field(None, description="gradient clipping; null = none")
    clip_threshold: float | None = Field(None, gt=0, le=1e6, description="max norm or max |value| when clipping")
    # recurrent
    hidden_size: int = Field(64, ge=1, le=LIMITS["hidden_size"], description="units per layer")
    activation: Literal["tanh", "relu", "sigmoid", "linear"] = Field("tanh", description="Elman RNN nonlinearity")
    spectral_norm: float | None = Field(None, ge=0, le=10, description="target largest singular value of W_hh")
    identity_init: bool = Field(False, description="IRNN: W_hh = I, zero biases")
    forget_bias: float | None = Field(None, ge=-10, le=10, description="LSTM effective forget-gate bias")
    # transformer
    d_model: int = Field(64, ge=8, le=LIMITS["d_model"], description="model width")
    heads: int = Field(4, ge=1, le=8, description="attention heads; must divide d_model")
    d_ff: int = Field(256, ge=8, le=1024, description="feed-forward width")
    positional: Literal["sinusoidal", "learned"] = Field("sinusoidal", description="positional encoding")
    checkpoint: str | None = Field(None, max_length=64, description="pretrained model name; null = random init")

    @model_validator(mode="before")
    @classmethod
    def blank_means_null(cls, data: Any) -> Any:
        """HTML forms and URLs send an empty field for 'none'."""
        if isinstance(data, dict):
            return {k: (None if v == "" else v) for k, v in data.items()}
        return data

    @field_validator("text")
    @classmethod
    def text_is_unicode(cls, text: str) -> str:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (it has a lone surrogate)") from None
        return text

    def canonical(self) -> dict[str, Any]:
        knobs = self.model_dump()
        for name, archs in APPLIES_TO.items():
            if self.arch not in archs:
                knobs.pop(name)
        if self.clip_mode is None:
            knobs["clip_threshold"] = None
        if knobs.get("checkpoint") is not None:  # the checkpoint fixes the model: its own shape and weights
            for name in CHECKPOINT_FIXES:
                knobs.pop(name)
        return knobs


class KnobQuery(TraceKnobs):
    """The same knobs as a query string; other parameters (page state in a permalink) are ignored."""

    model_config = ConfigDict(extra="ignore")


class KnobBody(TraceKnobs):
    """The same knobs as a JSON body; a misspelt knob is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


# --- response shape (documentation for /docs; the body itself is written by app.serialize) ---

Floats = list[float | None]


class Step(BaseModel):
    t: int
    token: str
    token_id: int
    target: str | None = Field(description="the next character, which probs should predict; null on the last step")
    h: list[Floats] | None = Field(None, description="[layer][unit] hidden state (recurrent)")
    c: list[Floats] | None = Field(None, description="[layer][unit] cell state (LSTM)")
    gates: dict[str, list[Floats]] = Field(default_factory=dict, description="gate -> [layer][unit]")
    probs: Floats
    loss: float | None = Field(description="L_t = -log p(next char); null on the last step or if not finite")
    overflow: bool = Field(description="some forward value at this step was inf/nan (sent as null)")
    attention: list[list[Floats]] | None = Field(None, description="[layer][head][s] weights of row t")
    scores: list[list[Floats]] | None = Field(None, description="[layer][head][s] before softmax; masked: null")
    q: list[list[Floats]] | None = None
    k: list[list[Floats]] | None = None
    v: list[list[Floats]] | None = None
    embedding: Floats | None = None
    positional: Floats | None = None


class Backward(BaseModel):
    loss: float | None = Field(description="total loss, the sum of L_t")
    grad_h: list[Floats] = Field(description="[t][layer] ||dL/dh_t|| (transformer: [t][1] ||dL/dx_t||)")
    grad_c: list[Floats] | None = None
    grad_flow: list[Floats] = Field(description="[t][s] ||dL_t/dh_s|| of the top layer")
    grad_flow_c: list[Floats] | None = Field(None, description="[t][s] ||dL_t/dc_s|| (LSTM)")
    jacobian_norm: Floats | None = Field(None, description="[t] ||dS_t/dS_{t-1}||_2")
    grad_norm_before_clip: float | None
    grad_norm_after_clip: float | None
    param_grad_norm: dict[str, list[float | None]] = Field(description="name -> [before, after] clipping")
    truncation: int | None
    cuts: list[int] = Field(description="steps s where no gradient flows from s to s-1")
    truncated_vs_full: dict[str, float | None] | None = None
    clip_mode: str | None
    clip_threshold: float | None
    pascanu: dict[str, Any] | None = Field(None, description="sigma_max, spectral_radius, gamma, decay_bound")
    overflow: list[bool] = Field(description="[t] some backward value at step t was inf/nan")


class TraceResponse(BaseModel):
    knobs: dict[str, Any] = Field(description="the canonical knobs this trace is a function of")
    arch: Arch
    vocab: list[str]
    tokens: list[int]
    steps: list[Step]
    backward: Backward
    params: dict[str, Any] = Field(description="torch.nn names -> nested lists (readout.weight, readout.bias ...)")
    overflow: bool = Field(description="any step overflowed, forward or backward")
    extra: dict[str, Any] = Field(default_factory=dict, description="architecture-specific extras (cost ...)")
