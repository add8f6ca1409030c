"""Request and response models. The knobs carry their limits, so bad input stops at the edge with 422.

`TraceKnobs` is one flat set of knobs for every architecture (the bench form and the URL are flat);
`canonical()` keeps only the knobs that change the trace, so identical traces share one cache key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from app.lab.memory import RUN_PREFIX
from models import limits

Arch = Literal["rnn", "lstm", "gru", "sgru", "transformer"]  # sgru: the simplified GRU (one update gate)
ARCHS: tuple[str, ...] = ("rnn", "lstm", "gru", "sgru", "transformer")
RECURRENT = ("rnn", "lstm", "gru", "sgru")

# Hard caps: what one request may ask of a shared CPU (models.limits). Settings may tighten text and hidden_size.
LIMITS = {"text": limits.MAX_TEXT, "hidden_size": limits.MAX_HIDDEN, "layers_recurrent": limits.LAYERS["rnn"],
          "layers_transformer": limits.LAYERS["transformer"], "d_model": limits.D_MODEL[1]}

# The knobs a checkpoint fixes (it brings its own shape, weights and vocabulary): dropped from its canonical form.
CHECKPOINT_FIXES = ("seed", "layers", "hidden_size", "activation", "spectral_norm", "identity_init", "forget_bias",
                    "d_model", "heads", "d_ff", "positional")


def knob(default: Any, *, widget: str, archs: tuple[str, ...] = ARCHS, step: float | None = None,
         max_by_arch: dict[str, int] | None = None, **field: Any) -> Any:
    """A knob: its pydantic Field (type limits) plus what the forms need, declared once, here.
    widget: how a form shows it; archs: where it applies (elsewhere it is ignored); step: a number's
    step; max_by_arch: a maximum that depends on the architecture (the Field's le is the largest)."""
    extra: dict[str, Any] = {"widget": widget, "archs": list(archs)}
    if step is not None:
        extra["step"] = step
    if max_by_arch is not None:
        extra["max_by_arch"] = max_by_arch
    return Field(default, json_schema_extra=extra, **field)


class TraceKnobs(BaseModel):
    """Everything that determines a trace; a trace is a pure function of these."""

    model_config = ConfigDict(allow_inf_nan=False)

    arch: Arch = knob("lstm", widget="select", description="model to trace")
    text: str = knob("hello, hello world", widget="text", min_length=2, max_length=limits.MAX_TEXT,
                     description="input sequence")
    seed: int = knob(0, widget="number", ge=0, le=limits.SEED_MAX, description="weight initialisation seed")
    layers: int = knob(1, widget="number", ge=1, le=max(limits.LAYERS.values()), max_by_arch=limits.LAYERS,
                       description="stacked layers: 1-3 recurrent, 1-4 transformer")
    # attention sees every earlier position directly: nothing to truncate
    truncation: int | None = knob(None, widget="number", archs=RECURRENT, ge=1, le=limits.MAX_TEXT,
                                  description="detach every k steps; null = full BPTT")
    clip_mode: Literal["norm", "value"] | None = knob(None, widget="select",
                                                      description="gradient clipping; null = none")
    clip_threshold: float | None = knob(None, widget="number", step=0.1, gt=0, le=limits.CLIP_THRESHOLD_MAX,
                                        description="max norm or max |value| when clipping")
    # recurrent
    hidden_size: int = knob(64, widget="number", archs=RECURRENT, ge=1, le=limits.MAX_HIDDEN,
                            description="units per layer")
    activation: Literal["tanh", "relu", "sigmoid", "linear"] = knob("tanh", widget="select", archs=("rnn",),
                                                                    description="Elman RNN nonlinearity")
    spectral_norm: float | None = knob(None, widget="number", archs=RECURRENT, step=0.05, ge=limits.SPECTRAL_NORM[0],
                                       le=limits.SPECTRAL_NORM[1], description="target largest singular value of W_hh")
    identity_init: bool = knob(False, widget="checkbox", archs=("rnn",), description="IRNN: W_hh = I, zero biases")
    forget_bias: float | None = knob(None, widget="number", archs=("lstm",), step=0.5, ge=limits.FORGET_BIAS[0],
                                     le=limits.FORGET_BIAS[1], description="LSTM effective forget-gate bias")
    # transformer
    d_model: int = knob(64, widget="number", archs=("transformer",), ge=limits.D_MODEL[0], le=limits.D_MODEL[1],
                        description="model width")
    heads: int = knob(4, widget="number", archs=("transformer",), ge=limits.HEADS[0], le=limits.HEADS[1],
                      description="attention heads; must divide d_model")
    d_ff: int = knob(256, widget="number", archs=("transformer",), ge=limits.D_FF[0], le=limits.D_FF[1],
                     description="feed-forward width")
    positional: Literal["sinusoidal", "learned"] = knob("sinusoidal", widget="select", archs=("transformer",),
                                                        description="positional encoding")
    checkpoint: str | None = knob(None, widget="select", max_length=64,
                                  description="pretrained model name (for its architecture); null = random init")
    # a lab run of a real-valued task (adding) reads numbers, not the text: which of its examples
    example: int = knob(0, widget="number", archs=RECURRENT, ge=0, le=limits.SEED_MAX,
                        description="a lab run of the adding task (checkpoint=run:<id>): which of its examples "
                        "it reads in place of the text; ignored elsewhere")

    @model_validator(mode="before")
    @classmethod
    def blank_means_null(cls, data: Any) -> Any:
        """HTML forms and URLs send an empty field for 'none'."""
        if isinstance(data, dict):
            return {k: (None if v == "" else v) for k, v in data.items()}
        return data

    @field_validator("layers", mode="wrap")
    @classmethod
    def layers_for_arch(cls, value: Any, handler: Any, info: ValidationInfo) -> int:
        """The layer limit depends on the architecture (arch is validated first: it comes first)."""
        arch = info.data.get("arch")
        most = limits.LAYERS.get(arch) if arch else None
        try:
            layers = handler(value)
        except ValidationError as err:
            if most is not None and err.errors()[0]["type"] == "less_than_equal":
                raise PydanticCustomError("knob_layers_range", "{arch} takes 1 to {limit} layers",
                                          {"arch": arch, "limit": most}) from None
            raise
        if most is not None and layers > most:
            raise PydanticCustomError("knob_layers_range", "{arch} takes 1 to {limit} layers",
                                      {"arch": arch, "limit": most})
        return layers

    @field_validator("text")
    @classmethod
    def text_is_unicode(cls, text: str) -> str:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise PydanticCustomError("text_surrogate", "text must be valid Unicode (a lone surrogate)") from None
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
                knobs.pop(name, None)
        if not str(knobs.get("checkpoint") or "").startswith(RUN_PREFIX):  # only a lab run has examples
            knobs.pop("example", None)
        return knobs


# Which knobs matter for which architecture (from the fields); the others are dropped from the canonical form.
APPLIES_TO: dict[str, tuple[str, ...]] = {
    name: tuple(field.json_schema_extra["archs"])
    for name, field in TraceKnobs.model_fields.items()
    if tuple(field.json_schema_extra["archs"]) != ARCHS
}


INT_KNOBS = frozenset(name for name, field in TraceKnobs.model_fields.items() if field.annotation in (int, int | None))


class KnobQuery(TraceKnobs):
    """The same knobs as a query string; other parameters (page state in a permalink) are ignored."""

    model_config = ConfigDict(extra="ignore")


class KnobBody(TraceKnobs):
    """The same knobs as a JSON body; a misspelt knob is an error, not a silent default. Strict types,
    as the document states them: {"seed": true} or {"seed": "3"} is a 422, not 1 or 3 (a query string
    has only strings: KnobQuery parses them)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def integral_floats_are_integers(cls, data: Any) -> Any:
        """JSON Schema counts 30.0 as an integer, so the body does too: strict types refuse true and "30"."""
        if isinstance(data, dict):
            return {k: int(v) if k in INT_KNOBS and isinstance(v, float) and v.is_integer() else v
                    for k, v in data.items()}
        return data


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
    grad_h_local: list[Floats] | None = Field(
        None,
        description="[t][layer] ||dL_t/dh_t||: BPTT's own-loss term, L_t alone through every path (within the "
        "step for stacked layers); 0 on the last step (no L_{T-1}); recurrent only",
    )
    grad_h_future: list[Floats] | None = Field(
        None,
        description="[t][layer] ||sum_{u>t} dL_u/dh_t||: the term carried back from later losses (stops at "
        "truncation cuts); as vectors local + future = dL/dh_t; recurrent only",
    )
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
    unknown: list[int] = Field(default_factory=list, description="steps whose character is outside a checkpoint's "
                               "vocabulary: they enter as U+FFFD")
    steps: list[Step]
    backward: Backward
    params: dict[str, Any] | None = Field(None, description="torch.nn names -> nested lists (readout.weight, "
                                          "readout.bias ...); absent from GET /api/trace.json?params=false")
    overflow: bool = Field(description="any step overflowed, forward or backward")
    extra: dict[str, Any] = Field(default_factory=dict, description="architecture-specific extras (cost ...)")
