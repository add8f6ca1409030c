"""The refusals no field's schema can state: rules across fields, the server's own limits, and what only
the model or the file can tell. Each operation names the ones it may answer with (`states`, its
openapi_extra); app.docs writes them into /openapi.json (x-cross-field-rules, and the description) and
tests/app/test_fuzz.py checks that input valid by the document is refused by nothing else.

A rule here is (the field the 422 names, or None for the request as a whole; the rule in English); its
code is the 422's error `type`. The sentences a page shows live in static/i18n/*/errors.json.
"""

from __future__ import annotations

from typing import Any

from models import limits

RULES: dict[str, tuple[str | None, str]] = {
    # the trace knobs
    "knob_layers_range": ("layers", "rnn, lstm, gru and sgru take 1 to {recurrent} layers; the transformer 1 to {tf}"),
    "knob_heads_divide": ("heads", "a transformer without a checkpoint: heads must divide d_model"),
    "knob_clip_threshold_required": ("clip_threshold", "clip_mode norm or value needs a clip_threshold"),
    "knob_checkpoint_unknown": ("checkpoint", "a checkpoint is a pretrained model of the same arch (GET "
                                "/api/architectures lists them), run:<id>[@<step>] of a lab run or upload:<hash> "
                                "of an uploaded model"),
    "knob_memory_gone": ("checkpoint", "a run: or upload: checkpoint is one this server still holds"),
    "knob_lab_run_arch": ("checkpoint", "a lab run's checkpoint is traced with the run's own arch"),
    "knob_text_vocab": ("text", "with a checkpoint, every character of text is in its vocabulary"),
    "knob_engine": (None, "the model refuses the input (its message says why)"),
    "knob_text_server_max": ("text", "text (a sample's prompt) is at most the server's UNROLLED_MAX_TEXT_LENGTH "
                             "characters"),
    "knob_hidden_server_max": ("hidden_size", "hidden_size is at most the server's UNROLLED_MAX_HIDDEN_SIZE"),
    "knob_transformer_missing": ("arch", "the transformer needs its module installed on the server"),
    "knob_cost": (None, "the knob set's estimated multiply-adds are within the server's UNROLLED_MAX_TRACE_GMACS"),
    # lab runs as checkpoints
    "knob_lab_run_unknown": ("checkpoint", "run:<id> names a training run this server holds"),
    "knob_lab_run_not_started": ("checkpoint", "a run's weights exist once it has taken its first step"),
    # the character models
    "knob_top_k_vocab": ("top_k", "top_k is at most the size of the checkpoint's vocabulary"),
    # the encoder-decoder
    "knob_seq2seq_source_len": ("source", "source is at most the checkpoint's max_len letters"),
    "knob_seq2seq_nonfinite": ("source", "the trace is finite (a lab run's weights may overflow)"),
    "knob_seq2seq_run_task": ("checkpoint", "a lab run's accuracy is measured on the task it trains on"),
    # the shapes of lesson 10
    "shapes_labels_count": ("labels", "one label per sentence"),
    "shapes_lengths_count": ("lengths", "one length per sentence"),
    "shapes_lengths_value": ("lengths", "each length is 1 to its sentence's number of characters"),
    # the lab's training runs
    "knob_lab_seq_len": ("seq_len", "each task takes its own range of T (GET /api/runs/config)"),
    "knob_lab_cost": (None, "the run's estimated multiply-adds are within the server's UNROLLED_LAB_MAX_GMACS"),
    "knob_lab_applies_to": (None, "a knob that does not apply to the arch is left empty (null)"),
    "knob_lab_transformer_tokens": ("arch", "the transformer trains on the character tasks only"),
    "knob_lab_seq2seq_task": ("arch", "the reverse task is for arch seq2seq, and seq2seq trains on it alone"),
    # an uploaded model
    "knob_upload_format": ("file", "the body is a safetensors file"),
    "knob_upload_vocab_missing": ("vocab", "the vocabulary is in the file's metadata or in ?vocab="),
    "knob_upload_vocab_format": ("vocab", "the vocabulary is a JSON list of single characters"),
    "knob_upload_vocab_size": ("vocab", "the vocabulary holds a bounded number of distinct characters"),
    "knob_upload_layers": ("file", "the weights are of 1 to {recurrent} layers"),
    "knob_upload_hidden": ("file", "the hidden size is within the server's limit"),
    "knob_upload_missing": ("file", "every tensor of the architecture is there"),
    "knob_upload_shape": ("file", "every tensor has the shape the architecture and vocabulary need"),
    "knob_upload_extra": ("file", "the file holds no tensor the model does not have"),
    "knob_upload_not_finite": ("file", "the weights are finite"),
}

TRACE_RULES = ("knob_layers_range", "knob_heads_divide", "knob_clip_threshold_required", "knob_checkpoint_unknown",
               "knob_memory_gone", "knob_lab_run_arch", "knob_text_vocab", "knob_engine", "knob_text_server_max",
               "knob_hidden_server_max", "knob_transformer_missing", "knob_cost", "knob_lab_run_unknown",
               "knob_lab_run_not_started")
RUN_CHECKPOINT_RULES = ("knob_lab_run_unknown", "knob_lab_run_not_started", "knob_lab_run_arch", "knob_memory_gone")


def states(*codes: str) -> dict[str, Any]:
    """An operation's openapi_extra naming the rules it may refuse with (app.docs writes them out)."""
    unknown = [c for c in codes if c not in RULES]
    assert not unknown, unknown
    return {"x-cross-field-rules": list(codes)}


def stated(code: str) -> dict[str, Any]:
    """One rule as the document writes it."""
    field, rule = RULES[code]
    return {"type": code, "field": field,
            "rule": rule.format(recurrent=limits.LAYERS["rnn"], tf=limits.LAYERS["transformer"])}
