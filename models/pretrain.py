"""Recipes and training loops for the demo checkpoints (run by scripts/pretrain.py).

A recipe fixes everything a checkpoint depends on: model config (with its seed), data generator seed,
steps, batch size, learning rate. The training data are made in code (models.tasks) from the data
seed, batch after batch, so the same recipe on the same machine gives the same weights and the same
loss history; the first steps of that history are what CI re-checks. The character language models
read windows of the corpus (models.corpus) instead, their start positions drawn from the data seed.

Optimiser: Adam, learning rate warmed up linearly over the first 5% of steps, then cosine-decayed to
10%; gradients clipped to total norm 1. Losses are mean cross-entropies per predicted character.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.charlm import CharRNN, RecurrentConfig
from models.checkpoints import CHECKPOINTS, CheckpointInfo
from models.corpus import LANGS, corpus_split, corpus_vocab
from models.seq2seq import Seq2Seq, Seq2SeqConfig, accuracy_by_length, encode_pair, seq2seq_vocab
from models.tasks import LETTERS, get_task, random_strings, repeated_text
from models.transformer import CausalTransformer, TransformerConfig
from models.vocab import Vocab

TRANSFORMER_LETTERS = LETTERS + " .,"
HISTORY_HEAD = 20  # every one of the first steps' losses is kept (what CI re-checks), then every 10th


@dataclass(frozen=True)
class Recipe:
    name: str  # a key of models.checkpoints.CHECKPOINTS
    config: TransformerConfig | Seq2SeqConfig | RecurrentConfig
    steps: int
    batch: int
    lr: float
    data_seed: int
    min_len: int = 0  # seq2seq: source lengths; transformer: periods of the repeated segment
    max_len: int = 0
    seq_len: int = 0  # transformer: characters per training text; charlm: predicted characters per window
    weight_dtype: str = "float32"  # how the checkpoint stores its weights (charlm: float16)
    # what it learns, which picks the training loop in train(): induction | seq2seq | charlm (TASKS);
    # "" for recipes another module trains with _train (models.shapes.train)
    task: str = ""

    @property
    def info(self) -> CheckpointInfo:
        return CHECKPOINTS[self.name]


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "transformer-induction",
            TransformerConfig(d_model=64, layers=2, heads=4, d_ff=128, max_len=128, seed=0),
            steps=2500,
            batch=16,
            lr=2e-3,
            data_seed=1,
            min_len=4,
            max_len=32,
            seq_len=128,
            task="induction",
        ),
        Recipe(
            "seq2seq-reverse-attention",
            Seq2SeqConfig(hidden_size=48, attention_size=48, attention=True, task="reverse", max_len=24, seed=0),
            steps=2500,
            batch=64,
            lr=3e-3,
            data_seed=2,
            min_len=2,
            max_len=16,
            task="seq2seq",
        ),
        Recipe(
            "seq2seq-reverse-plain",
            Seq2SeqConfig(hidden_size=48, attention_size=48, attention=False, task="reverse", max_len=24, seed=0),
            steps=2500,
            batch=64,
            lr=3e-3,
            data_seed=2,
            min_len=2,
            max_len=16,
            task="seq2seq",
        ),
        Recipe(
            "seq2seq-swap-attention",
            Seq2SeqConfig(hidden_size=48, attention_size=48, attention=True, task="swap_pairs", max_len=24, seed=0),
            steps=2500,
            batch=64,
            lr=3e-3,
            data_seed=3,
            min_len=2,
            max_len=16,
            task="seq2seq",
        ),
        *(
            Recipe(
                f"charlm-{arch}",
                # the LSTM starts with forget bias 1, f ~ sigmoid(1) = 0.73: it keeps its cell state from the
                # first step on (Gers et al. 2000; Jozefowicz et al. 2015)
                RecurrentConfig(arch=arch, hidden_size=128, layers=1, seed=0,
                                forget_bias=1.0 if arch == "lstm" else None),
                steps=700,  # the same data for all three; 1.5 (rnn) to 4 (lstm) minutes on one CPU thread
                batch=24,
                lr=5e-3,
                data_seed=4,
                seq_len=128,
                weight_dtype="float16",
                task="charlm",
            )
            for arch in ("rnn", "lstm", "gru")  # the simplified GRU (sgru) has no committed checkpoint
        ),
        Recipe(
            "charlm-transformer",
            # the same corpus, vocabulary, windows and held-out split as the recurrent character models;
            # pre-LN blocks, sinusoidal positions; contexts of 128 characters like their training windows
            TransformerConfig(d_model=96, layers=2, heads=4, d_ff=256, max_len=256, seed=0),
            steps=2000,  # about 6 minutes on one CPU thread (3000 steps at lr 3e-3 ended at a held-out loss of 4.19)
            batch=24,
            lr=2e-3,
            data_seed=4,
            seq_len=128,
            weight_dtype="float16",
            task="charlm",
        ),
    )
}


@dataclass(frozen=True)
class TrainResult:
    model: nn.Module
    vocab: Vocab
    history: list[tuple[int, float]]  # (step, training loss)
    final_loss: float  # mean loss per character on the recipe's fixed evaluation set
    report: dict  # what else the checkpoint shows (attention scores, accuracy by length)
    seconds: float


def _learning_rate(recipe: Recipe, step: int) -> float:
    warmup = max(1, recipe.steps // 20)
    if step < warmup:
        return recipe.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, recipe.steps - warmup)
    return recipe.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def _train(recipe: Recipe, model: nn.Module, batch_loss: Callable[[torch.Generator], Tensor], steps: int):
    gen = torch.Generator().manual_seed(recipe.data_seed)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    history = []
    model.train()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = _learning_rate(recipe, step)
        loss = batch_loss(gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step < HISTORY_HEAD or step % 10 == 0 or step == steps - 1:
            history.append((step, float(loss.detach())))
    model.eval()
    return history


# ---- the Transformer on repeated text ----


def transformer_vocab() -> Vocab:
    return Vocab.from_text(TRANSFORMER_LETTERS)


def _repeated_batch(recipe: Recipe, vocab: Vocab, count: int, gen: torch.Generator) -> tuple[Tensor, list[int]]:
    texts, periods = repeated_text(count, recipe.seq_len, gen, TRANSFORMER_LETTERS, recipe.min_len, recipe.max_len)
    return torch.tensor([vocab.encode(t) for t in texts]), periods


def lookback_scores(attention: Tensor, periods: list[int]) -> Tensor:
    """Mean weight each head puts, from query t, on the positions s = t + 1 - k p (k = 1, 2, ...).

    attention: (batch, layers, heads, T, T); periods: the repeat period p of each text. Those
    positions hold the character that followed an earlier occurrence of the current one, which is
    the next character: a head that looks there is the look-back (induction) head. Only queries
    t >= p - 1, which have such a position, count. Returns (layers, heads).
    """
    T = attention.shape[-1]
    t, s = torch.arange(T)[:, None], torch.arange(T)[None, :]
    scores = []
    for b, p in enumerate(periods):
        target = ((t - s + 1) % p == 0) & (s <= t - p + 1)  # (T, T): where the answer sits
        scores.append((attention[b] * target).sum(-1)[..., p - 1 :].mean(-1))
    return torch.stack(scores).mean(0)


def evaluate_transformer(recipe: Recipe, model: CausalTransformer, vocab: Vocab) -> tuple[float, dict]:
    gen = torch.Generator().manual_seed(recipe.data_seed + 1000)  # held out: another stream
    tokens, periods = _repeated_batch(recipe, vocab, 64, gen)
    with torch.no_grad():
        run = model.run(tokens)
        losses = F.cross_entropy(run.logits[:, :-1].transpose(1, 2), tokens[:, 1:], reduction="none")  # (B, T-1)
        repeated = torch.stack([torch.arange(tokens.shape[1] - 1) >= p - 1 for p in periods])
        scores = lookback_scores(torch.stack([h.A for h in run.heads], 1), periods)
    layer, head = np.unravel_index(int(scores.argmax()), tuple(scores.shape))
    return float(losses.mean()), {
        "loss_first_copy": float(losses[~repeated].mean()),
        "loss_repeats": float(losses[repeated].mean()),
        "lookback_scores": scores.tolist(),
        "lookback_head": [int(layer), int(head)],
        "lookback_score": float(scores.max()),
    }


def train_transformer(recipe: Recipe, steps: int | None = None, evaluate: bool = True) -> TrainResult:
    start = time.perf_counter()
    vocab = transformer_vocab()
    model = CausalTransformer(replace(recipe.config, vocab_size=len(vocab)))

    def batch_loss(gen: torch.Generator) -> Tensor:
        tokens, _ = _repeated_batch(recipe, vocab, recipe.batch, gen)
        logits = model(tokens)
        return F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())

    history = _train(recipe, model, batch_loss, recipe.steps if steps is None else steps)
    final, report = evaluate_transformer(recipe, model, vocab) if evaluate else (float("nan"), {})
    return TrainResult(model, vocab, history, final, report, time.perf_counter() - start)


# ---- the encoder-decoders ----


def _pairs(recipe: Recipe, vocab: Vocab, count: int, length: int, gen: torch.Generator):
    task = get_task(recipe.config.task)
    sources = random_strings(count, length, gen)
    encoded = [encode_pair(vocab, s, task.transform(s)) for s in sources]
    return tuple(torch.stack(parts) for parts in zip(*encoded, strict=True))  # src, decoder inputs, outputs


def seq2seq_eval_loss(recipe: Recipe, model: Seq2Seq, vocab: Vocab) -> float:
    """Mean teacher-forced loss per output character, 32 held-out strings of every training length."""
    gen = torch.Generator().manual_seed(recipe.data_seed + 1000)  # held out: another stream
    total, count = 0.0, 0
    with torch.no_grad():
        for n in range(recipe.min_len, recipe.max_len + 1):
            src, dec_in, out = _pairs(recipe, vocab, 32, n, gen)
            losses = F.cross_entropy(model(src, dec_in).transpose(1, 2), out, reduction="none")
            total, count = total + float(losses.sum()), count + losses.numel()
    return total / count


def evaluate_seq2seq(recipe: Recipe, model: Seq2Seq, vocab: Vocab) -> tuple[float, dict]:
    accuracy = accuracy_by_length(model, [4, 8, 12, 16, 20, 24], 50, seed=recipe.data_seed + 2000)
    report = {"greedy_accuracy_by_length": {str(n): acc for n, acc in accuracy.items()}}
    return seq2seq_eval_loss(recipe, model, vocab), report


def train_seq2seq(recipe: Recipe, steps: int | None = None, evaluate: bool = True) -> TrainResult:
    start = time.perf_counter()
    vocab = seq2seq_vocab()
    model = Seq2Seq(replace(recipe.config, vocab_size=len(vocab)))

    def batch_loss(gen: torch.Generator) -> Tensor:
        n = int(torch.randint(recipe.min_len, recipe.max_len + 1, (), generator=gen))
        src, dec_in, out = _pairs(recipe, vocab, recipe.batch, n, gen)
        return F.cross_entropy(model(src, dec_in).flatten(0, 1), out.flatten())

    history = _train(recipe, model, batch_loss, recipe.steps if steps is None else steps)
    final, report = evaluate_seq2seq(recipe, model, vocab) if evaluate else (float("nan"), {})
    return TrainResult(model, vocab, history, final, report, time.perf_counter() - start)


# ---- the character language models on the corpus ----

EVAL_WINDOW = 128  # held-out characters predicted per window; each window is read from the zero state


def fused_logits(model: CharRNN, x: Tensor) -> Tensor:
    """logits (T, B, V) for token columns x (T, B): CharRNN's forward pass, batched, through torch.nn's
    fused RNN/LSTM/GRU kernels that share the model's parameters (CharRNN.torch_layer), so autograd
    trains the CharRNN itself. x_t enters layer 0 one-hot, exactly as in models.charlm."""
    h = F.one_hot(x, model.config.vocab_size).to(model.readout.weight.dtype)  # (T, B, V)
    for layer in range(model.config.layers):
        module = model.torch_layer(layer)
        if module is None:
            raise ValueError(f"torch.nn has no fused {model.config.activation} RNN to train with")
        h = module(h)[0]  # (T, B, H)
    return model.readout(h)


CharLM = CharRNN | CausalTransformer


def charlm_logits(model: CharLM, x: Tensor) -> Tensor:
    """logits (T, B, V) for token columns x (T, B) of either kind of character model: the recurrent ones
    through fused_logits, the Transformer reading each column as one causal sequence."""
    if isinstance(model, CausalTransformer):
        return model(x.t()).transpose(0, 1)
    return fused_logits(model, x)


def _windows(ids: Tensor, count: int, length: int, gen: torch.Generator) -> Tensor:
    """`count` windows of `length` consecutive tokens at uniformly drawn starts, as columns (length, count)."""
    starts = torch.randint(0, len(ids) - length + 1, (count,), generator=gen)
    return ids[starts[:, None] + torch.arange(length)].t()


def charlm_text_loss(model: CharLM, vocab: Vocab, text: str) -> tuple[float, int]:
    """(sum of -log p over the predicted characters, how many): `text` cut into windows of EVAL_WINDOW
    predictions that overlap by one character, each read from the zero state as a trace reads its text."""
    ids = torch.tensor(vocab.encode_known(text)[0])
    windows = [ids[s : s + EVAL_WINDOW + 1] for s in range(0, len(ids) - 1, EVAL_WINDOW)]
    full = [w for w in windows if len(w) == EVAL_WINDOW + 1]
    batches = ([torch.stack(full, 1)] if full else []) + [w[:, None] for w in windows if len(w) <= EVAL_WINDOW]
    total, count = 0.0, 0
    with torch.no_grad():
        for x in batches:
            logits = charlm_logits(model, x[:-1])
            total += float(F.cross_entropy(logits.flatten(0, 1), x[1:].flatten(), reduction="sum"))
            count += x[1:].numel()
    return total, count


def evaluate_charlm(model: CharLM, vocab: Vocab) -> tuple[float, dict]:
    """Mean cross-entropy per character (nats) on the held-out paragraphs, and per language."""
    parts = {lang: charlm_text_loss(model, vocab, corpus_split(lang).held_out) for lang in LANGS}
    total, count = (sum(values) for values in zip(*parts.values(), strict=True))
    report = {f"loss_{lang}": nats / n for lang, (nats, n) in parts.items()}
    report |= {"held_out_characters": count, "train_characters": len(corpus_split().train), "vocab_size": len(vocab)}
    return total / count, report


def round_weights(model: nn.Module, dtype: torch.dtype) -> None:
    """Round every parameter to `dtype` and back, in place: the weights the checkpoint will store."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype))


def train_charlm(recipe: Recipe, steps: int | None = None, evaluate: bool = True) -> TrainResult:
    start = time.perf_counter()
    vocab = corpus_vocab()
    ids = torch.tensor(vocab.encode(corpus_split().train))
    config = replace(recipe.config, vocab_size=len(vocab))
    model: CharLM = CausalTransformer(config) if isinstance(config, TransformerConfig) else CharRNN(config)

    def batch_loss(gen: torch.Generator) -> Tensor:
        x = _windows(ids, recipe.batch, recipe.seq_len + 1, gen)  # (seq_len + 1, batch)
        logits = charlm_logits(model, x[:-1])
        return F.cross_entropy(logits.flatten(0, 1), x[1:].flatten())

    history = _train(recipe, model, batch_loss, recipe.steps if steps is None else steps)
    round_weights(model, getattr(torch, recipe.weight_dtype))
    final, report = evaluate_charlm(model, vocab) if evaluate else (float("nan"), {})
    return TrainResult(model, vocab, history, final, report, time.perf_counter() - start)


# a recipe's task -> its training loop; each loop builds the model its config describes
TASKS: dict[str, Callable[[Recipe, int | None, bool], TrainResult]] = {
    "induction": train_transformer,
    "seq2seq": train_seq2seq,
    "charlm": train_charlm,
}


def train(recipe: Recipe, steps: int | None = None, evaluate: bool = True) -> TrainResult:
    """Train `recipe` (all its steps, or the first `steps` of the very same run), then evaluate it."""
    return TASKS[recipe.task](recipe, steps, evaluate)


def held_out_loss(recipe: Recipe, model: nn.Module, vocab: Vocab) -> float:
    """The loss a recipe's checkpoint records as final_loss, recomputed for `model`."""
    if recipe.task == "induction":
        return evaluate_transformer(recipe, model, vocab)[0]
    if recipe.task == "charlm":
        return evaluate_charlm(model, vocab)[0]
    return seq2seq_eval_loss(recipe, model, vocab)
