"""The training lab's models/ part: tasks and their baselines, the loop against a plain torch loop, the
gradient-against-distance snapshot against autograd, and the memory race at a size CI can afford."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from models.trace import trace_recurrent
from models.training.loop import TrainConfig, TrainRun, task_loss
from models.training.model import LabRecurrent, ModelSpec, engine_model
from models.training.snapshot import flow_matrix
from models.training.tasks import COPY_LENGTH, NO_LOSS, TASKS, get_task, unigram_cross_entropy
from models.vocab import Vocab

# ---- tasks ----


def test_adding_has_two_markers_one_per_half_and_the_sum_of_their_values():
    task = get_task("adding")
    b = task.sample(2000, 40, torch.Generator().manual_seed(0))
    values, markers = b.x[..., 0], b.x[..., 1]
    assert torch.equal(markers.sum(1), torch.full((2000,), 2.0))
    assert torch.equal(markers[:, :20].sum(1), torch.ones(2000))
    torch.testing.assert_close(b.y, (values * markers).sum(1))
    assert 0.48 < float(values.mean()) < 0.52
    # always answering 1: MSE = Var(u1 + u2) = 1/6
    assert float(((b.y - 1) ** 2).mean()) == pytest.approx(1 / 6, rel=0.05)
    assert task.baseline(40) == 1 / 6


def test_copy_baseline_is_the_loss_of_blank_then_guessing():
    T = 15
    task = get_task("copy")
    b = task.sample(64, T, torch.Generator().manual_seed(1))
    steps = T + 2 * COPY_LENGTH
    assert b.x.shape == (64, steps) and task.steps(T) == steps
    blank = TASKS["copy"].vocab.index("_")
    logits = torch.full((64, steps, 10), -1e9)
    logits[:, : T + COPY_LENGTH, blank] = 0.0  # certain of the blank while nothing is recalled
    logits[:, T + COPY_LENGTH :, :8] = 0.0  # then uniform over the eight symbols
    assert float(task_loss(task, logits, b)) == pytest.approx(10 * math.log(8) / (T + 20), rel=1e-6)
    assert task.baseline(T) == pytest.approx(10 * math.log(8) / (T + 20))
    assert torch.equal(b.y[:, -COPY_LENGTH:], b.x[:, :COPY_LENGTH])


def test_parity_targets_are_the_running_xor():
    b = get_task("parity").sample(8, 30, torch.Generator().manual_seed(2))
    xor = torch.zeros(8, dtype=torch.long)
    for t in range(30):
        xor ^= b.x[:, t]
        assert torch.equal(b.y[:, t], xor)
    assert get_task("parity").baseline(30) == pytest.approx(math.log(2))


@pytest.mark.parametrize("name", ["copy", "parity", "charlm"])
def test_targets_from_ids_match_the_generator(name):
    """What the bench computes from a text equals what training used."""
    task = get_task(name)
    b = task.sample(6, 12, torch.Generator().manual_seed(3))
    for x, y in zip(b.x, b.y, strict=True):
        expected = y.tolist()
        got = task.targets(x.tolist())
        if name == "charlm":  # the window's last target is outside the window
            expected[-1] = NO_LOSS
        assert got == expected


def test_charlm_baseline_is_the_unigram_cross_entropy():
    value = unigram_cross_entropy()
    assert 3.0 < value < 6.5  # about 760 characters, most of them rare Korean syllables
    assert get_task("charlm").baseline(64) == value


# ---- the loop against plain PyTorch ----


def _train_plainly(params: list, lr: float, steps: int, seed: int, task_name: str, count: int, T: int,
                   batch_loss) -> None:
    """What a learner would write: Adam, clip_grad_norm_ at 1, the task's batches from the seed."""
    task = get_task(task_name)
    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        loss = batch_loss(task.sample(count, T, gen))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()


def _plain_loop(arch: str, steps: int, seed: int) -> nn.Module:
    """torch.nn.LSTM (or GRU) + Linear from the lab's initial weights, trained plainly on the adding task."""
    lab = LabRecurrent(ModelSpec(arch=arch, hidden_size=16, seed=seed), 2, 1, tokens=False)
    core = nn.LSTM(2, 16, batch_first=True) if arch == "lstm" else nn.GRU(2, 16, batch_first=True)
    readout = nn.Linear(16, 1)
    core.load_state_dict({k.removeprefix("core."): v for k, v in lab.state_dict().items() if k.startswith("core.")})
    readout.load_state_dict({k.removeprefix("readout."): v for k, v in lab.state_dict().items() if "readout" in k})
    _train_plainly([*core.parameters(), *readout.parameters()], 1e-2, steps, seed, "adding", 8, 12,
                   lambda b: F.mse_loss(readout(core(b.x)[0])[:, -1, 0], b.y))
    return nn.ModuleDict({"core": core, "readout": readout})


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_twenty_steps_equal_a_plain_torch_loop(arch):
    cfg = TrainConfig(task="adding", length=12, model=ModelSpec(arch=arch, hidden_size=16, seed=5), lr=1e-2, batch=8,
                      steps=20, metrics_every=7, snapshot_every=10)
    run = TrainRun(cfg)
    kinds = [kind for kind, _ in run.events()]
    assert kinds[-1] == "done" and run.step == 20
    plain = _plain_loop(arch, 20, seed=5)
    for name, value in plain.state_dict().items():
        assert torch.equal(run.model.state_dict()[name], value), name


def test_same_knobs_same_curve_bit_for_bit():
    def curve() -> list[float]:
        cfg = TrainConfig(task="copy", length=5, model=ModelSpec(arch="gru", hidden_size=16, seed=3), batch=16,
                          steps=30, metrics_every=5, snapshot_every=15)
        return [d["loss"] for kind, d in TrainRun(cfg).events() if kind == "metrics"]

    first, second = curve(), curve()
    assert first == second and len(first) == 7


def test_truncated_training_gradient_is_the_engines_truncated_gradient():
    """One char-LM sequence, truncation 4: the lab's chunked forward with detached state gives the
    gradient the trace engine reports under truncation (the lab's loss is the mean, the engine's the sum)."""
    task = get_task("charlm")
    cfg = TrainConfig(task="charlm", length=20, model=ModelSpec(arch="lstm", hidden_size=12, seed=1), batch=1,
                      truncation=4, clip_mode=None, clip_threshold=None, steps=1)
    run = TrainRun(cfg)
    batch = task.sample(1, 20, torch.Generator().manual_seed(9))
    loss = task_loss(task, run.model(batch.x, truncation=4), batch)
    loss.backward()
    lab_grads = {k.removeprefix("core."): p.grad * 20 for k, p in run.model.named_parameters()}
    engine = engine_model(run.model.export(), run.model.config)
    text = task.text(torch.cat([batch.x[0], batch.y[0, -1:]]))
    from models.trace import TraceOptions

    trace = trace_recurrent(text, None, TraceOptions(truncation=4), in_memory=(engine, Vocab(task.vocab)))
    for name, grad in trace.grads.items():
        np.testing.assert_allclose(lab_grads[name].numpy(), grad, rtol=2e-4, atol=1e-6, err_msg=name)


# ---- the snapshot against autograd ----


@pytest.mark.parametrize("arch,task_name", [("lstm", "adding"), ("rnn", "copy"), ("gru", "parity")])
def test_flow_matrix_equals_autograd(arch, task_name):
    task = get_task(task_name)
    model = LabRecurrent(ModelSpec(arch=arch, hidden_size=8, seed=2), task.input_size, task.output_size,
                         tokens=task.vocab is not None)
    b = task.sample(1, 6, torch.Generator().manual_seed(4))
    x, y = b.x[0], b.y[0]
    flow = flow_matrix(model, task, x, y, truncation=None)
    # autograd: the top layer's h_s as leaves of a step-by-step run of the same torch.nn cell
    T = x.shape[0]
    inp = F.one_hot(x, task.input_size).float() if task.vocab is not None else x
    hs, state = [], None
    for t in range(T):
        out, state = model.core(inp[None, t : t + 1], state)
        h = out[0, 0]
        h.retain_grad()
        hs.append(h)
        carried = h[None, None]  # the next step reads this very tensor, so dL/dh_s covers every path
        state = (carried, state[1]) if isinstance(state, tuple) else carried
    outputs = model.readout(torch.stack(hs))
    for t in range(T):
        if task.regression and t < T - 1:
            continue
        if not task.regression and y[t] == NO_LOSS:
            continue
        term = (outputs[t, 0] - y) ** 2 if task.regression else F.cross_entropy(outputs[t], y[t])
        for h in hs:
            h.grad = None
        term.backward(retain_graph=True)
        for s in range(T):
            expected = 0.0 if s > t or hs[s].grad is None else float(hs[s].grad.norm())
            assert flow[t, s] == pytest.approx(expected, rel=1e-4, abs=1e-7), (t, s)


# ---- the memory race, at a size CI can afford ----


@pytest.mark.parametrize("seed", [0, 3])
def test_gated_cells_beat_the_adding_baseline_and_the_tanh_rnn_does_not(seed):
    """Checked locally for seeds 0-4 (1,000 steps): LSTM held-out MSE 0.0004-0.0011, GRU under 0.001, the
    tanh RNN 0.158-0.305 (the held-out baseline is about 1/6). Seed 3 is the LSTM that leaves its plateau last."""
    def held_out(arch: str) -> float:
        cfg = TrainConfig(task="adding", length=30, model=ModelSpec(arch=arch, hidden_size=32, seed=seed), lr=1e-2,
                          batch=32, steps=1000, metrics_every=1000, snapshot_every=10**6)
        run = TrainRun(cfg)
        for _ in run.events():
            pass
        return run.last["held_out"]

    baseline = get_task("adding").baseline(30)
    assert held_out("lstm") < 0.1 * baseline
    assert held_out("gru") < 0.1 * baseline
    assert held_out("rnn") > 0.5 * baseline


# ---- the transformer in the lab ----


def test_the_transformer_trains_as_a_plain_loop_over_the_engines_model():
    from models.transformer import CausalTransformer

    cfg = TrainConfig(task="parity", length=10, model=ModelSpec(arch="transformer", hidden_size=16, layers=2, heads=2,
                                                                 seed=3), batch=8, steps=20, metrics_every=10,
                      snapshot_every=20)
    run = TrainRun(cfg)
    kinds = [kind for kind, _ in run.events()]
    assert kinds[-1] == "done"
    plain = CausalTransformer(cfg.model.transformer_config(2))
    _train_plainly(list(plain.parameters()), cfg.lr, 20, 3, "parity", 8, 10,
                   lambda b: F.cross_entropy(plain(b.x).flatten(0, 1), b.y.flatten()))
    for name, value in plain.state_dict().items():
        torch.testing.assert_close(run.model.net.state_dict()[name], value, rtol=0, atol=0, msg=name)


def test_the_transformers_snapshot_is_its_input_gradient_by_autograd():
    task = get_task("copy")
    cfg = TrainConfig(task="copy", length=3, model=ModelSpec(arch="transformer", hidden_size=16, heads=4, seed=1),
                      steps=1)
    run = TrainRun(cfg)
    b = task.sample(1, 3, torch.Generator().manual_seed(2))
    flow = flow_matrix(run.model, task, b.x[0], b.y[0], truncation=None)
    net, x = run.model.net, b.x[0]
    T = x.shape[0]
    for t in (T - 1, T - 5):
        inputs = (net.embedding(x) + net.positional_encoding(T)).detach().requires_grad_(True)
        F.cross_entropy(net.run(x, inputs).logits[t], b.y[0, t]).backward()
        np.testing.assert_allclose(flow[t], inputs.grad.norm(dim=-1).numpy(), rtol=1e-5, atol=1e-9)
        assert np.all(flow[t, t + 1 :] < 1e-6)  # causal: nothing reaches back from later positions


# ---- the encoder-decoder in the lab ----


def test_the_reverse_task_and_its_baseline():
    task = get_task("reverse")
    b = task.sample(4, 6, torch.Generator().manual_seed(0))
    vocab = task.vocab
    for src, dec_in, out in zip(b.x, b.inputs, b.y, strict=True):
        letters = "".join(vocab[i] for i in src.tolist())
        assert "".join(vocab[i] for i in out.tolist()) == letters[::-1] + "$"
        assert "".join(vocab[i] for i in dec_in.tolist()) == "^" + letters[::-1]
    assert task.baseline(6) == pytest.approx(6 * math.log(26) / 7)


def test_the_encoder_decoder_trains_as_a_plain_loop_and_its_snapshot_is_autograds():
    from models.seq2seq import Seq2Seq

    cfg = TrainConfig(task="reverse", length=5, model=ModelSpec(arch="seq2seq", hidden_size=12, seed=2), lr=3e-3,
                      batch=8, steps=10, metrics_every=10, snapshot_every=10)
    run = TrainRun(cfg)
    events = [(k, d) for k, d in run.events()]
    assert events[-1][0] == "done"
    plain = Seq2Seq(cfg.model.seq2seq_config(len(get_task("reverse").vocab)))
    _train_plainly(list(plain.parameters()), 3e-3, 10, 2, "reverse", 8, 5,
                   lambda b: F.cross_entropy(plain(b.x, b.inputs).flatten(0, 1), b.y.flatten()))
    for name, value in plain.state_dict().items():
        torch.testing.assert_close(run.model.net.state_dict()[name], value, rtol=0, atol=0, msg=name)
    # the snapshot's last-letter curve: ||dL_{I-2}/dE[x_j]|| at d = J + I - 2 - j, by plain autograd
    from models.training.snapshot import seq2seq_flow

    b = get_task("reverse").sample(1, 5, torch.Generator().manual_seed(7))
    flow = seq2seq_flow(run.model.net, b.x[0], b.inputs[0], b.y[0])
    emb = run.model.net.embedding(b.x[0]).detach().requires_grad_(True)
    net = run.model.net
    fh, _ = net._direction(emb, "", range(5))
    bh, _ = net._direction(emb, "_reverse", range(4, -1, -1))
    logits = net.decode(torch.cat([fh, bh], -1), b.inputs[0]).logits
    F.cross_entropy(logits[4], b.y[0, 4]).backward()
    np.testing.assert_allclose(flow[4], emb.grad.norm(dim=-1).numpy(), rtol=1e-5)
