"""The causal Transformer and its trace, checked against torch's own attention modules and autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models.attention import scaled_dot_product, sinusoidal_encoding
from models.charlm import step_losses
from models.trace import TraceOptions
from models.transformer import CausalTransformer, TransformerConfig, layer_cost, trace_transformer
from models.vocab import Vocab

TEXT = "attention is all you need, attention is all"


def _model(text: str, **knobs) -> tuple[CausalTransformer, torch.Tensor]:
    vocab = Vocab.from_text(text)
    model = CausalTransformer(TransformerConfig(vocab_size=len(vocab), **knobs))
    return model, torch.tensor(vocab.encode(text))


def _jiggle_layer_norms(model: CausalTransformer, seed: int) -> None:
    """LayerNorm starts at gamma = 1, beta = 0; move it so the checks see every parameter at work."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(0.3 * torch.randn(p.shape, generator=gen))


def test_sinusoidal_encoding_has_the_textbook_values():
    np.testing.assert_allclose(
        sinusoidal_encoding(2, 4)[1].numpy(), [0.841471, 0.540302, 0.0099998, 0.99995], rtol=0, atol=1e-6
    )
    T, d = 50, 10
    PE = sinusoidal_encoding(T, d).double().numpy()
    pos = np.arange(T)[:, None]
    for i in range(d // 2):
        np.testing.assert_allclose(PE[:, 2 * i], np.sin(pos[:, 0] / 10000 ** (2 * i / d)), atol=1e-6)
        np.testing.assert_allclose(PE[:, 2 * i + 1], np.cos(pos[:, 0] / 10000 ** (2 * i / d)), atol=1e-6)


def test_trace_adds_the_sinusoidal_encoding_to_the_token_embedding():
    trace = trace_transformer(TEXT, TransformerConfig(d_model=16, heads=2, layers=1, d_ff=32, seed=3))
    model, tokens = _model(TEXT, d_model=16, heads=2, layers=1, d_ff=32, seed=3)
    np.testing.assert_allclose(trace.positional, sinusoidal_encoding(len(TEXT), 16).numpy(), atol=1e-7)
    expected = model.embedding(tokens).detach().numpy() + trace.positional
    np.testing.assert_allclose(trace.embeddings, expected, atol=1e-6)


def test_scaled_dot_product_equals_torch_sdpa_for_outputs_and_weights():
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 9, 5, generator=gen) for _ in range(3))
    S, A, o = scaled_dot_product(q, k, v, causal=True)
    torch.testing.assert_close(o, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-5, rtol=0)
    # with the identity as values, SDPA returns its attention weights themselves
    eye = torch.eye(9).expand(3, 9, 9)
    torch.testing.assert_close(A, F.scaled_dot_product_attention(q, k, eye, is_causal=True), atol=1e-5, rtol=0)
    assert torch.isneginf(S.triu(1)[S.triu(1) != 0]).all() and torch.isneginf(S[:, 0, 1:]).all()


@pytest.mark.parametrize("heads", [1, 4])
def test_trace_attention_equals_torch_multihead_attention_with_copied_weights(heads):
    config = TransformerConfig(d_model=24, heads=heads, layers=2, d_ff=48, seed=5)
    trace = trace_transformer(TEXT, config)
    model, tokens = _model(TEXT, d_model=24, heads=heads, layers=2, d_ff=48, seed=5)
    T = len(tokens)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)  # True = not allowed, as torch expects
    x = torch.from_numpy(trace.embeddings)[None]
    with torch.no_grad():
        for layer, block in enumerate(model.blocks):
            mha = torch.nn.MultiheadAttention(24, heads, batch_first=True)
            mha.load_state_dict(block.self_attn.state_dict())
            a = block.norm1(x)
            out, weights = mha(a, a, a, attn_mask=mask, need_weights=True, average_attn_weights=False)
            np.testing.assert_allclose(trace.attention[layer], weights[0].numpy(), atol=1e-5, rtol=0)
            mine, _ = block.self_attn(a)
            torch.testing.assert_close(mine, out, atol=1e-5, rtol=0)
            q = torch.from_numpy(trace.q[layer])
            k, v = torch.from_numpy(trace.k[layer]), torch.from_numpy(trace.v[layer])
            sdpa = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            np.testing.assert_allclose(trace.head_out[layer], sdpa.numpy(), atol=1e-5, rtol=0)
            x, _ = block(x)


def test_attention_rows_sum_to_one_and_the_future_is_masked():
    trace = trace_transformer(TEXT, TransformerConfig(d_model=32, heads=4, layers=3, d_ff=64, seed=1))
    T = len(TEXT)
    future = np.triu(np.ones((T, T), dtype=bool), 1)
    np.testing.assert_allclose(trace.attention.sum(-1), 1.0, atol=1e-6)
    assert np.all(trace.attention[..., future] == 0.0)
    assert np.all(np.isneginf(trace.scores[..., future]))
    assert np.all(np.isfinite(trace.scores[..., ~future]))
    d_head = 8
    q, k = trace.q, trace.k
    expected = q @ np.swapaxes(k, -1, -2) / math.sqrt(d_head)
    np.testing.assert_allclose(trace.scores[..., ~future], expected[..., ~future], atol=1e-5)


@pytest.mark.parametrize("heads", [1, 2])
def test_blocks_equal_torch_transformer_encoder_layer(heads):
    model, tokens = _model(TEXT, d_model=16, heads=heads, layers=2, d_ff=40, seed=2)
    _jiggle_layer_norms(model, 2)
    T = len(tokens)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)
    run = model.run(tokens)
    with torch.no_grad():
        for layer, block in enumerate(model.blocks):
            ref = torch.nn.TransformerEncoderLayer(16, heads, 40, dropout=0.0, batch_first=True, norm_first=True)
            ref.load_state_dict(block.state_dict())
            ref.eval()
            out = ref(run.stream[layer][None], src_mask=mask)[0]
            torch.testing.assert_close(run.stream[layer + 1], out, atol=1e-5, rtol=0)


def _separate_passes(model: CausalTransformer, tokens: torch.Tensor):
    """G[t][s] = ||dL_t/dx_s|| one backward pass per loss term, and ||dL/dx_s||."""
    x = (model.embedding(tokens) + model.positional_encoding(len(tokens))).detach().requires_grad_()
    losses = step_losses(model.run(tokens, x).logits, tokens)
    T = len(tokens)
    G = np.zeros((T, T))
    for t in range(T - 1):
        (g,) = torch.autograd.grad(losses[t], x, retain_graph=True)
        G[t] = g.norm(dim=-1).numpy()
    (g,) = torch.autograd.grad(losses.sum(), x)
    return G, g.norm(dim=-1).numpy()


@pytest.mark.parametrize(
    "knobs",
    [
        dict(d_model=16, heads=2, layers=1, d_ff=32, seed=11),
        dict(d_model=16, heads=4, layers=2, d_ff=24, seed=12),
        dict(d_model=12, heads=3, layers=3, d_ff=20, seed=13, positional="learned"),
    ],
    ids=["1-layer", "2-layer", "3-layer-learned"],
)
def test_grad_flow_equals_separate_autograd_passes(knobs):
    text = TEXT[:40]  # more than one group of 32 rows in the batched backward
    model, tokens = _model(text, **knobs)
    _jiggle_layer_norms(model, knobs["seed"])
    G, grad_x = _separate_passes(model, tokens)
    trace = trace_transformer(text, TransformerConfig(vocab_size=len(set(text)), **knobs))
    # the trace builds its own (un-jiggled) model, so compare with that one as well
    plain, _ = _model(text, **knobs)
    G_plain, grad_x_plain = _separate_passes(plain, tokens)
    np.testing.assert_allclose(trace.grad_flow, G_plain, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(trace.grad_x, grad_x_plain, rtol=1e-4, atol=1e-7)
    # and the batched backward itself on the jiggled model
    from models.transformer_flow import input_flow_rows

    with torch.no_grad():
        rows = input_flow_rows(model, model.run(tokens), tokens, rows_per_group=16)
    np.testing.assert_allclose(rows.norm(dim=-1).numpy(), G[:-1], rtol=1e-4, atol=1e-7)
    assert np.all(np.triu(trace.grad_flow, 1) == 0), "L_t cannot depend on a later position"
    assert np.all(trace.grad_flow[-1] == 0), "there is no loss at the last position"


def test_parameter_gradients_and_clipping_equal_torch():
    config = TransformerConfig(d_model=16, heads=2, layers=2, d_ff=32, seed=4)
    options = TraceOptions(clip_mode="norm", clip_threshold=0.5)
    trace = trace_transformer(TEXT, config, options)
    model, tokens = _model(TEXT, d_model=16, heads=2, layers=2, d_ff=32, seed=4)
    step_losses(model(tokens), tokens).sum().backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(trace.grads[name], p.grad.numpy(), rtol=1e-4, atol=1e-6)
    before = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    assert trace.grad_norm_before_clip == pytest.approx(float(before), rel=1e-5)
    assert trace.grad_norm_after_clip == pytest.approx(0.5, rel=1e-4)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(trace.clipped_grads[name], p.grad.numpy(), rtol=1e-4, atol=1e-7)
        assert trace.param_grad_norm[name][1] <= trace.param_grad_norm[name][0] + 1e-7

    by_value = trace_transformer(TEXT, config, TraceOptions(clip_mode="value", clip_threshold=0.01))
    for name in by_value.grads:
        np.testing.assert_allclose(by_value.clipped_grads[name], np.clip(by_value.grads[name], -0.01, 0.01))


def test_trace_loss_is_the_per_step_cross_entropy_of_the_next_character():
    trace = trace_transformer(TEXT, TransformerConfig(d_model=16, heads=2, layers=1, d_ff=32))
    targets = trace.tokens[1:]
    expected = -np.log(trace.probs[np.arange(len(TEXT) - 1), targets])
    np.testing.assert_allclose(trace.loss, expected, rtol=1e-4)
    assert trace.total_loss == pytest.approx(float(trace.loss.sum()), rel=1e-6)
    assert not trace.overflow.any()


def test_trace_is_a_pure_function_of_its_seed():
    config = TransformerConfig(d_model=16, heads=2, layers=1, d_ff=32, seed=7)
    a, b = trace_transformer(TEXT, config), trace_transformer(TEXT, config)
    c = trace_transformer(TEXT, TransformerConfig(d_model=16, heads=2, layers=1, d_ff=32, seed=8))
    np.testing.assert_array_equal(a.attention, b.attention)
    np.testing.assert_array_equal(a.grad_flow, b.grad_flow)
    assert not np.allclose(a.attention, c.attention)


@pytest.mark.parametrize(
    "knobs, field",
    [
        (dict(d_model=512), "d_model"),
        (dict(layers=5), "layers"),
        (dict(layers=0), "layers"),
        (dict(heads=9), "heads"),
        (dict(d_model=30, heads=4), "divisible"),
        (dict(positional="rotary"), "positional"),
        (dict(max_len=1), "max_len"),
    ],
)
def test_config_rejects_values_out_of_range_naming_the_field(knobs, field):
    with pytest.raises(ValueError, match=field):
        TransformerConfig(**knobs)


def test_trace_rejects_truncation_and_too_long_text():
    with pytest.raises(ValueError, match="truncation"):
        trace_transformer(TEXT, TransformerConfig(), TraceOptions(truncation=4))
    with pytest.raises(ValueError, match="max_len"):
        trace_transformer("ab" * 20, TransformerConfig(max_len=16, d_model=8, heads=2))


def test_attention_cost_grows_as_t_squared_and_recurrence_as_t():
    config = TransformerConfig(d_model=32, heads=4, d_ff=64)
    small, large = layer_cost(100, config), layer_cost(1000, config)
    assert large["recurrent_macs"] == 10 * small["recurrent_macs"]
    assert large["recurrent_memory"] == 10 * small["recurrent_memory"]
    # a + b T + c T^2: the T^2 part takes over, so 10x the length costs far more than 10x
    assert large["attention_macs"] > 40 * small["attention_macs"]
    assert large["attention_memory"] > 40 * small["attention_memory"]
    d = 32
    quad = lambda T: layer_cost(T, config)["attention_macs"] - 4 * T * d * d - 2 * T * d * 64  # noqa: E731
    assert quad(1000) == 100 * quad(100) == 100 * 2 * 100**2 * d
    trace = trace_transformer(TEXT, config)
    at_T = layer_cost(len(TEXT), config)
    assert trace.cost["attention_macs"] == at_T["attention_macs"]
    assert trace.cost["recurrent_memory"] == at_T["recurrent_memory"]
    lengths = trace.cost["lengths"]
    np.testing.assert_array_equal(trace.cost["curves"]["attention_macs"], layer_cost(lengths, config)["attention_macs"])


def test_models_built_in_parallel_threads_get_their_own_seeds_weights():
    from concurrent.futures import ThreadPoolExecutor

    configs = [TransformerConfig(vocab_size=7, d_model=16, heads=2, layers=2, d_ff=32, seed=s) for s in range(8)]
    alone = [CausalTransformer(c).state_dict() for c in configs]
    torch.manual_seed(12345)  # whatever the global generator holds does not matter
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda c: CausalTransformer(c).state_dict(), configs * 3))
    for i, weights in enumerate(together):
        for name, value in alone[i % 8].items():
            assert torch.equal(weights[name], value), name
