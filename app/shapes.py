"""The shapes endpoints' request models and payloads (lesson 10): the name tagger uni vs bi, the
classifier step by step, and the padding demo. Limits come from models.shapes.limits."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from models.shapes.data import TAGS, alphabet, encode
from models.shapes.limits import MAX_BATCH, MAX_CHARS
from models.shapes.padding import padding_demo
from models.shapes.train import load

DEFAULT_SENTENCE = "Harry Potter and Hermione Granger invented a new spell."
DEFAULT_BATCH = ["Ivy wrote a letter to Tobin.", "어제 하윤이는 도서관에서 선생님을 만났습니다.",
                 "The baker said that my friend would win."]


class SentenceKnobs(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    sentence: str = Field(DEFAULT_SENTENCE, min_length=1, max_length=MAX_CHARS,
                          description="one sentence; characters the models never saw read as unknown")


class PaddingKnobs(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    # items, lengths: the document says what the validators below check
    sentences: list[str] = Field(DEFAULT_BATCH, min_length=1, max_length=MAX_BATCH, json_schema_extra={
                                     "items": {"type": "string", "minLength": 1, "maxLength": MAX_CHARS}},
                                 description=f"1 to {MAX_BATCH} sentences of 1 to {MAX_CHARS} characters")
    labels: list[int] | None = Field(None, json_schema_extra={"anyOf": [
                                         {"type": "array", "items": {"enum": [0, 1]}}, {"type": "null"}]},
                                     description="per sentence 1 (names a person) or 0; default: the "
                                     "classifier's own packed prediction, so the loss shows how far each way strays")
    # str first: a lesson figure's control is a text field ("12, 30, 40"); the API takes a list as well
    lengths: str | list[int] | None = Field(None, json_schema_extra={"anyOf": [
                                                {"type": "string", "pattern": r"^[0-9,\s]*$"},
                                                {"type": "array", "items": {"type": "integer", "minimum": 1}},
                                                {"type": "null"}]},
                                            description="per sentence how many of its first characters "
                                            "the batch holds (1 to the sentence's length), as a list or a "
                                            "comma-separated text; default: whole sentences")

    @field_validator("sentences")
    @classmethod
    def _lengths(cls, value: list[str]) -> list[str]:
        for text in value:
            if not 1 <= len(text) <= MAX_CHARS:
                raise PydanticCustomError("shapes_sentence_length", "each sentence 1 to {limit} characters",
                                          {"limit": MAX_CHARS})
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: list[int] | None, info: ValidationInfo) -> list[int] | None:
        if value is None:
            return value
        sentences = info.data.get("sentences")
        if sentences is not None and len(value) != len(sentences):
            raise PydanticCustomError("shapes_labels_count", "one label per sentence ({limit})",
                                      {"limit": len(sentences)})
        if any(v not in (0, 1) for v in value):
            raise PydanticCustomError("shapes_labels_value", "labels are 0 or 1", {})
        return value


    @field_validator("lengths", mode="before")
    @classmethod
    def _cut(cls, value: object, info: ValidationInfo) -> list[int] | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str):
            try:
                value = [int(part) for part in value.replace(",", " ").split()]
            except ValueError:
                raise PydanticCustomError("shapes_lengths_format", "whole numbers separated by commas", {}) from None
        if isinstance(value, list):  # JSON Schema counts 3.0 as an integer: so does the body
            value = [int(v) if isinstance(v, float) and v.is_integer() else v for v in value]
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise PydanticCustomError("shapes_lengths_format", "whole numbers separated by commas", {})
        sentences = info.data.get("sentences")
        if sentences is None:
            return value  # the sentences were refused: that error speaks
        if len(value) != len(sentences):
            raise PydanticCustomError("shapes_lengths_count", "one length per sentence ({limit})",
                                      {"limit": len(sentences)})
        for n, text in zip(value, sentences, strict=True):
            if not 1 <= n <= len(text):
                raise PydanticCustomError("shapes_lengths_value",
                                          "a length from 1 to the sentence's {limit} characters",
                                          {"limit": len(text), "length": n})
        return value

    def batch(self) -> list[str]:
        """The sentences as the batch holds them: each cut to its length."""
        if not isinstance(self.lengths, list):
            return list(self.sentences)
        return [text[:n] for text, n in zip(self.sentences, self.lengths, strict=True)]


@lru_cache(maxsize=4)
def _model(name: str) -> Any:
    return load(name)[0]


def _ids(text: str) -> torch.Tensor:
    return torch.tensor(encode(text, alphabet())).unsqueeze(1)


@torch.no_grad()
def tag_payload(knobs: SentenceKnobs) -> dict[str, Any]:
    """Per character: tag probabilities of the unidirectional and the bidirectional tagger, their tags,
    and the gain: p_bi - p_uni of the tag the bidirectional tagger chose."""
    ids = _ids(knobs.sentence)
    probs = {way: torch.softmax(_model(f"shapes-tagger-{way}")(ids)[0][:, 0], -1) for way in ("uni", "bi")}
    chosen = probs["bi"].argmax(-1)
    gain = probs["bi"].gather(1, chosen[:, None])[:, 0] - probs["uni"].gather(1, chosen[:, None])[:, 0]
    return {
        "sentence": knobs.sentence, "chars": list(knobs.sentence), "tags": list(TAGS),
        "unknown": [i for i, v in enumerate(ids[:, 0].tolist()) if v == 1],
        "uni": {"probs": probs["uni"].tolist(), "tags": probs["uni"].argmax(-1).tolist()},
        "bi": {"probs": probs["bi"].tolist(), "tags": chosen.tolist()},
        "gain": gain.tolist(),
        "changed": [i for i, (a, b) in enumerate(zip(probs["uni"].argmax(-1).tolist(), chosen.tolist(),
                                                     strict=True)) if a != b],
    }


@torch.no_grad()
def classify_payload(knobs: SentenceKnobs) -> dict[str, Any]:
    """Per step t: the state h_t (values and norm) and p(names a person) if the sentence ended at t;
    the final prediction is the last step's."""
    model = _model("shapes-classifier")
    logits, last, states = model(_ids(knobs.sentence))
    h = states["l0"][:, 0]
    p_name = torch.softmax(model.readout(h), -1)[:, 1]
    return {
        "sentence": knobs.sentence, "chars": list(knobs.sentence),
        "hidden": h.tolist(), "hidden_norm": h.norm(dim=-1).tolist(), "p_name": p_name.tolist(),
        "prediction": int(logits[0].argmax()), "p_final": float(torch.softmax(logits[0], -1)[1]),
    }


def padding_payload(knobs: PaddingKnobs) -> dict[str, Any]:
    """The batch (each sentence cut to its length, if given) run padded without a mask, with a mask and packed."""
    model = _model("shapes-classifier")
    texts = knobs.batch()
    labels = knobs.labels
    if labels is None:
        packed = padding_demo(model, alphabet(), texts, [0] * len(texts))["packed"]
        labels = [int(p[1] > p[0]) for p in packed["probs"]]
    return {"sentences": texts, "labels": labels, **padding_demo(model, alphabet(), texts, labels)}
