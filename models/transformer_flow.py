"""Gradient flow through the causal Transformer: its backward pass written out, all loss terms at once.

G[t][s] = ||dL_t/dx_s|| asks for one backward pass per loss term L_t. Here every L_t is one row of a
single batched backward pass, the same idea as the recurrent engine's BPTT (models.bptt).

Backward through one pre-LN block (forward equations in models.transformer), for the adjoint dz of
the block's output; the block's input is x, its midpoint after attention is y:

    feed-forward   dy = dz + LN_2^T( ((dz W_2) * 1[W_1 LN_2(y) + b_1 > 0]) W_1 )
    heads          do = dy W_o, split into heads (d_head columns each)
    attention      dA = do v^T
                   dS = A * (dA - rowsum(dA * A))             softmax backward, row by row
                   dq = dS k / sqrt(d_head),  dk = dS^T q / sqrt(d_head),  dv = A^T do
    input          da = [dq dk dv] [W_q; W_k; W_v]
                   dx = dy + LN_1^T(da)
    LayerNorm      LN^T(g) = (g' - mean(g') - x_hat * mean(g' * x_hat)) / sigma,  g' = gamma * g,
                   with x_hat = (x - mean(x)) / sigma, sigma = sqrt(var(x) + eps)

Two facts make it cheap:
  - Causality: L_t depends on positions s <= t only, and the forward pass on a prefix is the prefix
    of the forward pass. A group of rows t < b therefore runs on the first b positions only.
  - In the top block, row t's adjoint sits on position t alone, so every position-wise step is one
    ordinary (T, d) backward, and only the keys and values spread row t over the positions s <= t:
        da^(t)_s = sum_h dS^h[t, s] q^h_t W_k^h / sqrt(d_head) + A^h[t, s] do^h_t W_v^h
                   (+ dq_t W_q at s = t)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ROWS_PER_GROUP = 16  # loss terms per batched sweep: small groups skip more of the causal zeros


@dataclass(frozen=True)
class LayerNormCache:
    x_hat: Tensor  # (T, d) normalised input (x - mean) / sigma, sigma = sqrt(var + eps)
    inv_sigma: Tensor  # (T, 1)
    x_hat_over_sigma: Tensor  # (T, d)

    @classmethod
    def of(cls, norm: nn.LayerNorm, x: Tensor) -> LayerNormCache:
        mu = x.mean(-1, keepdim=True)
        inv_sigma = torch.rsqrt(x.var(-1, unbiased=False, keepdim=True) + norm.eps)
        x_hat = (x - mu) * inv_sigma
        return cls(x_hat, inv_sigma, x_hat * inv_sigma)

    def backward(self, g: Tensor) -> Tensor:
        """LN^T for adjoints g' = gamma * g (..., T, d): the caller folds gamma into its weight matrix."""
        m2 = (g * self.x_hat).mean(-1, keepdim=True)
        out = (g - g.mean(-1, keepdim=True)).mul_(self.inv_sigma)
        return out.addcmul_(self.x_hat_over_sigma, m2, value=-1)

    def prefix(self, n: int) -> LayerNormCache:
        return LayerNormCache(self.x_hat[:n], self.inv_sigma[:n], self.x_hat_over_sigma[:n])


@dataclass(frozen=True)
class BlockCache:
    """What the backward pass of one block needs from its forward pass (one sequence)."""

    norm1: LayerNormCache
    q: Tensor  # (H, T, d_head) already divided by sqrt(d_head)
    k: Tensor  # (H, T, d_head) already divided by sqrt(d_head)
    v: Tensor  # (H, T, d_head)
    A: Tensor  # (H, T, T)
    A_T: Tensor  # (H, T, T) A transposed, stored contiguous: key position first
    o: Tensor  # (H, T, d_head) head outputs
    W_in: Tensor  # (3d, d)  [W_q; W_k; W_v] * gamma_1 (LayerNorm 1's scale folded in)
    W_o: Tensor  # (d, d)
    norm2: LayerNormCache
    relu_mask: Tensor  # (T, d_ff) 1 where the FFN's hidden unit is active
    W_1: Tensor  # (d_ff, d) * gamma_2
    W_2: Tensor  # (d, d_ff)

    def prefix(self, n: int) -> BlockCache:
        return replace(
            self,
            norm1=self.norm1.prefix(n),
            q=self.q[:, :n],
            k=self.k[:, :n],
            v=self.v[:, :n],
            A=self.A[:, :n, :n],
            A_T=self.A_T[:, :n, :n],
            o=self.o[:, :n],
            norm2=self.norm2.prefix(n),
            relu_mask=self.relu_mask[:n],
        )


def block_cache(block: nn.Module, x: Tensor, q: Tensor, k: Tensor, v: Tensor, A: Tensor, o: Tensor) -> BlockCache:
    """Rebuild the block's intermediate values from its input x (T, d) and its heads' tensors."""
    attn = block.self_attn
    scale = 1 / math.sqrt(q.shape[-1])
    y = x + attn.out_proj(o.transpose(0, 1).flatten(1))  # (T, d) midpoint of the block
    hidden = block.linear1(block.norm2(y))
    return BlockCache(
        norm1=LayerNormCache.of(block.norm1, x),
        q=q * scale,
        k=k * scale,
        v=v,
        A=A,
        A_T=A.transpose(1, 2).contiguous(),
        o=o,
        W_in=attn.in_proj_weight * block.norm1.weight,
        W_o=attn.out_proj.weight,
        norm2=LayerNormCache.of(block.norm2, y),
        relu_mask=(hidden > 0).to(x.dtype),
        W_1=block.linear1.weight * block.norm2.weight,
        W_2=block.linear2.weight,
    )


def _ffn_backward(c: BlockCache, dz: Tensor) -> Tensor:
    d_hidden = (dz @ c.W_2).mul_(c.relu_mask)  # (..., T, d_ff)
    return c.norm2.backward(d_hidden @ c.W_1).add_(dz)


def block_backward_rows(c: BlockCache, dz: Tensor) -> Tensor:
    """Adjoints dz (R, n, d) on the block's output, one row per loss term -> adjoints on its input.

    The (R, n, n) score adjoints are the big tensors here. They are built transposed, key position s
    first, dS^T[h, s, (r, u)], so that both dq (a transposed view) and dk (a plain view) are single
    matrix products, and the softmax backward uses rowsum(dA * A)[r, u] = do[r, u] . o[u] (as in
    FlashAttention's backward), which needs no pass over them.
    """
    R, n, d = dz.shape
    H, _, d_head = c.q.shape
    dy = _ffn_backward(c, dz)
    do = (dy @ c.W_o).view(R, n, H, d_head).permute(2, 0, 1, 3)  # (H, R, n, d_head)
    rho = (do * c.o[:, None]).sum(-1)  # (H, R, n): rowsum(dA * A) = do . o
    dS_T = (c.v @ do.reshape(H, R * n, d_head).transpose(1, 2)).view(H, n, R, n)  # dA^T[h, s, r, u]
    dS_T.sub_(rho[:, None]).mul_(c.A_T[:, :, None])  # A^T * (dA^T - rho): dS^T
    dS_T = dS_T.view(H, n, R * n)
    dq = (dS_T.transpose(1, 2) @ c.k).view(H, R, n, d_head)  # k carries the 1/sqrt(d_head)
    dk = (dS_T.view(H, n * R, n) @ c.q).view(H, n, R, d_head).transpose(1, 2)
    dv = c.A_T @ do.transpose(1, 2).reshape(H, n, R * d_head)  # (H, n, R*d_head)
    dv = dv.view(H, n, R, d_head).transpose(1, 2)
    dqkv = torch.cat([dq, dk, dv]).permute(1, 2, 0, 3).reshape(R, n, 3 * d)  # columns as in W_in
    return c.norm1.backward(dqkv @ c.W_in).add_(dy)


def top_block_backward_rows(c: BlockCache, dz: Tensor) -> Tensor:
    """dz (T, d): row t's adjoint on position t only -> (T, T, d) adjoints on the block's input."""
    T, d = dz.shape
    H, _, d_head = c.q.shape
    dy = _ffn_backward(c, dz)  # (T, d): still one position per row
    do = (dy @ c.W_o).view(T, H, d_head).transpose(0, 1)  # (H, T, d_head), query t of row t
    dA = do @ c.v.transpose(1, 2)  # (H, T, T)
    dS = c.A * (dA - (do * c.o).sum(-1, keepdim=True))
    dq = dS @ c.k  # (H, T, d_head)
    W_q, W_k, W_v = c.W_in.chunk(3)  # (d, d) each; head h owns rows h*d_head..(h+1)*d_head
    qW_k = c.q @ W_k.view(H, d_head, d)  # (H, T, d): q^h_t W_k^h / sqrt(d_head)
    doW_v = do @ W_v.view(H, d_head, d)  # (H, T, d): do^h_t W_v^h
    coef = torch.cat([dS, c.A]).permute(1, 2, 0)  # (T rows, T positions, 2H)
    da = coef @ torch.cat([qW_k, doW_v]).transpose(0, 1)  # (T, T, d)
    rows = torch.arange(T, device=dz.device)
    da[rows, rows] += dq.transpose(0, 1).reshape(T, d) @ W_q
    dx = c.norm1.backward(da)
    dx[rows, rows] += dy
    return dx


def readout_backward(model: nn.Module, top: Tensor, d_logits: Tensor) -> Tensor:
    """Adjoint on the last block's output x^L (T, d) from dL_t/dlogits_t (T, V)."""
    return LayerNormCache.of(model.norm, top).backward(d_logits @ (model.readout.weight * model.norm.weight))


def _row_groups(model: nn.Module, run, tokens: Tensor, rows_per_group: int) -> Iterator[tuple[int, int, Tensor]]:
    """Yield (a, b, dL_t/dx_s for t = a..b-1 and s = 0..b-1), group after group."""
    T = tokens.shape[-1]
    probs = torch.softmax(run.logits, -1)
    d_logits = probs.clone()  # dL_t/dlogits_t = p_t - onehot(w_{t+1}); nothing at the last step
    d_logits[:-1] -= F.one_hot(tokens[1:], probs.shape[-1]).to(probs.dtype)
    d_logits[-1] = 0
    caches = [
        block_cache(block, run.stream[layer], h.q, h.k, h.v, h.A, h.o)
        for layer, (block, h) in enumerate(zip(model.blocks, run.heads, strict=True))
    ]
    dz = readout_backward(model, run.stream[-1], d_logits)
    rows = top_block_backward_rows(caches[-1], dz)[: T - 1]  # (T-1, T, d)
    for a in range(0, T - 1, rows_per_group):
        b = min(a + rows_per_group, T - 1)  # rows a..b-1 reach positions 0..b-1 only
        group = rows[a:b, :b]
        for c in reversed(caches[:-1]):
            group = block_backward_rows(c.prefix(b), group)
        yield a, b, group


def input_flow_rows(model: nn.Module, run, tokens: Tensor, rows_per_group: int = ROWS_PER_GROUP) -> Tensor:
    """dL_t/dx_s for t = 0..T-2 and every s: (T-1, T, d), zero for s > t.

    model: a models.transformer.CausalTransformer; run: its TransformerRun on `tokens` (T,).
    """
    T, d = tokens.shape[-1], run.x.shape[-1]
    out = run.x.new_zeros(T - 1, T, d)
    for a, b, group in _row_groups(model, run, tokens, rows_per_group):
        out[a:b, :b] = group
    return out


def input_flow(model: nn.Module, run, tokens: Tensor, rows_per_group: int = ROWS_PER_GROUP) -> Tensor:
    """G[t][s] = ||dL_t/dx_s|| as a (T, T) matrix: zero for s > t and in the last row (no L_{T-1})."""
    T = tokens.shape[-1]
    G = run.x.new_zeros(T, T)
    for a, b, group in _row_groups(model, run, tokens, rows_per_group):
        G[a:b, :b] = torch.linalg.vector_norm(group, dim=-1)
    return G


def input_flow_for_targets(model: nn.Module, tokens: Tensor, targets: Tensor) -> Tensor:
    """(T, T) ||dL_t/dx_s|| for any per-step targets (-1: step t has no loss; its row is 0), by autograd
    with one row per loss term in one batched backward pass. The sweep above is faster but written for
    next-character targets; a training task's targets (models.training) come here."""
    T = tokens.shape[0]
    rows = torch.nonzero(targets >= 0).flatten()
    flow = torch.zeros(T, T, dtype=torch.float64)
    if len(rows) == 0:
        return flow
    with torch.enable_grad():
        x = (model.embedding(tokens) + model.positional_encoding(T)).detach().requires_grad_(True)
        logits = model.run(tokens, x).logits
        losses = F.cross_entropy(logits[rows], targets[rows], reduction="none")
        (grads,) = torch.autograd.grad(losses, x, torch.eye(len(rows), dtype=losses.dtype), is_grads_batched=True)
    flow[rows] = torch.linalg.vector_norm(grads, dim=-1, dtype=torch.float64).cpu()
    return flow
