"""The GRU encoder-decoder: torch.nn.GRU/GRUCell parity, additive attention against the formula."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.attention import additive_attention
from models.seq2seq import Seq2Seq, Seq2SeqConfig, encode_pair, seq2seq_vocab, trace_seq2seq
from models.tasks import SEQ2SEQ_TASKS, random_strings, reverse, swap_pairs

CONFIG = Seq2SeqConfig(embed_size=6, hidden_size=10, attention_size=7, seed=3)


def _model(**knobs) -> Seq2Seq:
    return Seq2Seq(Seq2SeqConfig(**{**CONFIG.__dict__, **knobs}))


def test_encoder_states_equal_torch_bidirectional_gru_on_the_same_weights():
    model = _model()
    vocab = seq2seq_vocab()
    H = CONFIG.hidden_size
    src = torch.tensor([vocab.encode(s) for s in ("attention", "bottlenec")])
    with torch.no_grad():
        ours = model.encode(src).h  # (2, J, 2H) = [forward; backward]
        theirs, h_n = model.encoder(model.embedding(src))
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)
    torch.testing.assert_close(ours[:, -1, :H], h_n[0], atol=1e-5, rtol=0)  # forward direction ends at x_J
    torch.testing.assert_close(ours[:, 0, H:], h_n[1], atol=1e-5, rtol=0)  # backward direction ends at x_1


@pytest.mark.parametrize("attention", [True, False])
def test_decoder_states_equal_torch_gru_cell_fed_the_traced_contexts(attention):
    trace = trace_seq2seq("encoder", config=Seq2SeqConfig(**{**CONFIG.__dict__, "attention": attention}))
    model = _model(attention=attention)
    s = torch.from_numpy(trace.encoder_states[-1, : CONFIG.hidden_size])  # s_0 = fh_J
    with torch.no_grad():
        for i, y_prev in enumerate(trace.decoder_inputs):
            x = torch.cat([model.embedding(torch.tensor(int(y_prev))), torch.from_numpy(trace.context[i])])
            s = model.decoder(x[None], s[None])[0]
            np.testing.assert_allclose(trace.decoder_states[i], s.numpy(), atol=1e-5)
            logits = model.readout(torch.cat([s, torch.from_numpy(trace.context[i])]))
            np.testing.assert_allclose(trace.probs[i], torch.softmax(logits, -1).numpy(), atol=1e-6)


def test_energies_weights_and_context_equal_an_independent_computation_of_the_formula():
    trace = trace_seq2seq("alignment", config=CONFIG)
    model = _model()
    W, U, v = (p.detach().double().numpy() for p in (model.W, model.U, model.v))
    h = trace.encoder_states.astype(np.float64)  # (J, H)
    J = len(h)
    s_0 = h[-1, : CONFIG.hidden_size]  # fh_J
    previous = np.vstack([s_0, trace.decoder_states[:-1]]).astype(np.float64)  # s_0, s_1, ..., s_{I-1}
    for i, s_prev in enumerate(previous):
        e = np.array([v @ np.tanh(W @ s_prev + U @ h[j]) for j in range(J)])
        a = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
        c = sum(a[j] * h[j] for j in range(J))
        np.testing.assert_allclose(trace.energies[i], e, atol=1e-5)
        np.testing.assert_allclose(trace.attention[i], a, atol=1e-6)
        np.testing.assert_allclose(trace.context[i], c, atol=1e-5)
    np.testing.assert_allclose(trace.attention.sum(1), 1.0, atol=1e-6)


def test_additive_attention_broadcasts_over_a_batch():
    gen = torch.Generator().manual_seed(0)
    s, h = torch.randn(4, 5, generator=gen), torch.randn(4, 6, 3, generator=gen)
    W, U, v = torch.randn(2, 5, generator=gen), torch.randn(2, 3, generator=gen), torch.randn(2, generator=gen)
    e, a, c = additive_attention(s, h, W, U, v)
    for b in range(4):
        eb, ab, cb = additive_attention(s[b], h[b], W, U, v)
        torch.testing.assert_close(e[b], eb)
        torch.testing.assert_close(a[b], ab)
        torch.testing.assert_close(c[b], cb)


def test_without_attention_every_context_is_the_last_state_of_each_encoder_direction():
    trace = trace_seq2seq("bottleneck", config=Seq2SeqConfig(**{**CONFIG.__dict__, "attention": False}))
    assert trace.energies is None
    H, h = CONFIG.hidden_size, trace.encoder_states
    summary = np.concatenate([h[-1, :H], h[0, H:]])
    np.testing.assert_array_equal(trace.context, np.broadcast_to(summary, trace.context.shape))
    assert np.all(trace.attention == 0)


def test_trace_losses_targets_and_prediction_agree():
    trace = trace_seq2seq("abcde", config=CONFIG)
    vocab = seq2seq_vocab()
    assert trace.target == "edcba"
    _, dec_in, out = encode_pair(vocab, "abcde", "edcba")
    np.testing.assert_array_equal(trace.target_tokens, out.numpy())
    np.testing.assert_array_equal(trace.decoder_inputs, dec_in.numpy())
    I = len(out)
    np.testing.assert_allclose(trace.loss, -np.log(trace.probs[np.arange(I), trace.target_tokens]), rtol=1e-4)
    np.testing.assert_array_equal(trace.predicted_tokens, trace.probs.argmax(1))
    np.testing.assert_array_equal(trace.correct, trace.predicted_tokens == trace.target_tokens)
    assert trace.total_loss == pytest.approx(float(trace.loss.sum()), rel=1e-6)


def test_free_running_decoder_feeds_back_its_own_predictions():
    trace = trace_seq2seq("qwerty", config=CONFIG, teacher_forcing=False)
    assert trace.decoder_inputs[0] == seq2seq_vocab().chars.index("^")
    np.testing.assert_array_equal(trace.decoder_inputs[1:], trace.predicted_tokens[:-1])


def test_tasks_copy_the_source_position_their_alignment_names():
    gen = torch.Generator().manual_seed(0)
    assert reverse("abc") == "cba" and swap_pairs("abcde") == "badce"
    for task in SEQ2SEQ_TASKS.values():
        for n in range(1, 12):
            (source,) = random_strings(1, n, gen)
            target = task.transform(source)
            assert sorted(target) == sorted(source)
            assert [source[j] for j in task.alignment(n)] == list(target)


def test_trace_rejects_characters_outside_the_alphabet_and_long_sources():
    with pytest.raises(ValueError, match="'A'"):
        trace_seq2seq("Abc", config=CONFIG)
    with pytest.raises(ValueError, match=r"'\$'"):
        trace_seq2seq("ab$", config=CONFIG)
    with pytest.raises(ValueError, match="max_len"):
        trace_seq2seq("a" * 30, config=CONFIG)
    with pytest.raises(ValueError, match="task"):
        Seq2SeqConfig(task="sort")
    with pytest.raises(ValueError, match="hidden_size"):
        Seq2SeqConfig(hidden_size=0)


def test_weights_are_a_function_of_the_seed_alone():
    a = _model(seed=5)
    torch.manual_seed(999)  # the global generator plays no part
    b, c = _model(seed=5), _model(seed=6)
    for name, value in a.state_dict().items():
        assert torch.equal(b.state_dict()[name], value)
    assert not torch.equal(a.W, c.W)
