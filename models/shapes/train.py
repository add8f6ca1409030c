"""Recipes for the shapes checkpoints: the tagger (uni- and bidirectional) and the classifier.

Deterministic: model init from the config seed, sentences from the data seed (models.shapes.data),
Adam with models.pretrain's schedule and clipping (its _train loop). Training runs the stepped GRU
itself, with the mask (pads never count). Held-out accuracy: on 400 sentences whose names never
appear in training; the tagger's is per character, the classifier's per sentence.
Run: python -m models.shapes.train (writes checkpoints/shapes-*.pt, well under 1 MB each).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from models.checkpoints import CHECKPOINT_DIR
from models.pretrain import Recipe, _train, round_weights
from models.shapes.data import Sentence, alphabet, make_sentences
from models.shapes.limits import MAX_CHARS
from models.shapes.nets import Classifier, ShapesConfig, Tagger
from models.shapes.padding import pad_batch

FORMAT = 1
EVAL_COUNT = 400
TRAIN_POOL = 4000


@dataclass(frozen=True)
class ShapesRecipe:
    name: str
    kind: str  # tagger | classifier
    config: ShapesConfig
    steps: int = 600
    batch: int = 32
    lr: float = 1e-2
    data_seed: int = 10
    name_rate: float = 0.7  # chance that a template slot holds a name (classifier: 0.3, half the sentences)
    unknown_rate: float = 0.15  # training only: each character is read as UNKNOWN with this chance, so the
    # models learn to find names from their context (held-out names are largely unknown characters)


def _recipes() -> dict[str, ShapesRecipe]:
    v = len(alphabet())
    return {r.name: r for r in (
        ShapesRecipe("shapes-tagger-uni", "tagger", ShapesConfig(v, bidirectional=False)),
        ShapesRecipe("shapes-tagger-bi", "tagger", ShapesConfig(v, bidirectional=True)),
        ShapesRecipe("shapes-classifier", "classifier", ShapesConfig(v, outputs=2), data_seed=11, name_rate=0.3),
    )}


RECIPES = _recipes()


def batch_tensors(sentences: list[Sentence]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    ids, mask, _ = pad_batch([s.text for s in sentences], alphabet(), limit=False)
    tags = torch.zeros_like(ids)
    for b, s in enumerate(sentences):
        tags[: len(s.tags), b] = torch.tensor(s.tags)
    labels = torch.tensor([int(s.has_name) for s in sentences])
    return ids, mask, tags, labels


def loss_of(model, kind: str, sentences: list[Sentence], unknown: Tensor | None = None) -> Tensor:
    ids, mask, tags, labels = batch_tensors(sentences)
    if unknown is not None:  # (T, B) booleans: characters read as UNKNOWN (id 1)
        ids = torch.where(unknown[: ids.shape[0], : ids.shape[1]] & mask, 1, ids)
    if kind == "tagger":
        logits, _ = model(ids, mask)
        return F.cross_entropy(logits[mask], tags[mask])
    logits, _, _ = model(ids, mask)
    return F.cross_entropy(logits, labels)


@torch.no_grad()
def accuracy(model, kind: str, sentences: list[Sentence]) -> float:
    right = total = 0
    for i in range(0, len(sentences), 50):
        ids, mask, tags, labels = batch_tensors(sentences[i:i + 50])
        if kind == "tagger":
            logits, _ = model(ids, mask)
            right += int((logits.argmax(-1) == tags)[mask].sum())
            total += int(mask.sum())
        else:
            logits, _, _ = model(ids, mask)
            right += int((logits.argmax(-1) == labels).sum())
            total += len(labels)
    return right / total


def held_out(recipe: ShapesRecipe) -> list[Sentence]:
    return make_sentences(EVAL_COUNT, recipe.data_seed, "held_out", recipe.name_rate)


def train_shapes(recipe: ShapesRecipe, steps: int | None = None):
    start = time.perf_counter()
    model = (Tagger if recipe.kind == "tagger" else Classifier)(recipe.config)
    pool = make_sentences(TRAIN_POOL, recipe.data_seed, "train", recipe.name_rate)
    shim = Recipe(recipe.name, recipe.config, recipe.steps, recipe.batch, recipe.lr, recipe.data_seed)  # type: ignore[arg-type]

    def batch_loss(gen: torch.Generator) -> Tensor:
        picks = torch.randint(len(pool), (recipe.batch,), generator=gen).tolist()
        unknown = torch.rand(MAX_CHARS, recipe.batch, generator=gen) < recipe.unknown_rate
        return loss_of(model, recipe.kind, [pool[i] for i in picks], unknown)

    history = _train(shim, model, batch_loss, recipe.steps if steps is None else steps)
    round_weights(model, torch.float32)
    return model, history, accuracy(model, recipe.kind, held_out(recipe)), time.perf_counter() - start


def checkpoint_file(name: str):
    return CHECKPOINT_DIR / f"{name}.pt"


def save(recipe: ShapesRecipe, model, history, acc: float, seconds: float) -> None:
    what = {"tagger": ("name tagger (BIO per character)", "이름 태거(글자마다 BIO)"),
            "classifier": ("classifier: does the sentence name a person?",
                           "분류기: 문장에 사람 이름이 있는가")}[recipe.kind]
    direction = ("bidirectional", "양방향") if recipe.config.bidirectional else ("unidirectional", "단방향")
    pct = f"{100 * acc:.1f}%"
    description = {
        "en": f"{direction[0]} GRU {what[0]}, held-out accuracy {pct} on sentences with unseen names",
        "ko": f"{direction[1]} GRU {what[1]}입니다. 처음 보는 이름이 든 문장에서 정확도 {pct}입니다.",
    }
    payload = {"format": FORMAT, "name": recipe.name, "kind": recipe.kind, "description": description,
               "config": asdict(recipe.config), "vocab": alphabet(),
               "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
               "meta": {"held_out_accuracy": acc, "steps": recipe.steps, "data_seed": recipe.data_seed,
                        "history": history, "seconds": seconds, "command": "python -m models.shapes.train"}}
    torch.save(payload, checkpoint_file(recipe.name))


def load(name: str):
    """(model in eval mode, payload) of a committed shapes checkpoint, offline, weights only."""
    if name not in RECIPES:
        raise ValueError(f"unknown shapes checkpoint {name!r}")
    payload = torch.load(checkpoint_file(name), map_location="cpu", weights_only=True)
    if payload.get("format") != FORMAT or payload.get("vocab") != alphabet():
        raise ValueError(f"checkpoint {name} does not match this code: run python -m models.shapes.train")
    model = (Tagger if payload["kind"] == "tagger" else Classifier)(ShapesConfig(**payload["config"]))
    model.load_state_dict(payload["state_dict"])
    return model.eval(), payload


if __name__ == "__main__":
    torch.set_num_threads(1)
    for recipe in RECIPES.values():
        model, history, acc, seconds = train_shapes(recipe)
        save(recipe, model, history, acc, seconds)
        print(f"{recipe.name}: held-out accuracy {acc:.4f}, final loss {history[-1][1]:.4f}, {seconds:.0f} s")
