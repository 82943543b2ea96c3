"""Building blocks of SASRec that return the attention they actually use."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ArgumentValueError

QUERY_BLOCK = 32
"""Query positions per fused-attention call in :meth:`AttentionBlock.fused`: each block
reads only the keys it may see, so causal attention costs about half a full one (the CPU
kernel's cost grows with query × key pairs, masked or not)."""


class FeatureAttention(nn.Module):
    """Fuses an item's id embedding with its feature-field embeddings.

    For each position the tokens ``[id, field_1, …, field_F]`` are scored against a
    query made from their mean, and the softmax weights over fields (the feature
    attention) mix the tokens into one vector.
    """

    def __init__(self, n_items: int, field_sizes: list[int], d_model: int) -> None:
        super().__init__()
        self.item_embedding = nn.Embedding(n_items + 1, d_model, padding_idx=0)
        self.field_embeddings = nn.ModuleList(
            nn.Embedding(size, d_model, padding_idx=0) for size in field_sizes
        )
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.scale = 1.0 / math.sqrt(d_model)

    def forward(
        self, items: torch.Tensor, features: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Fuse: items ``[..., n]``, features ``[..., n, F]``.

        Returns fused vectors ``[..., n, d]`` and feature weights ``[..., n, F + 1]``.
        """
        tokens = [self.item_embedding(items)]
        tokens += [emb(features[..., f]) for f, emb in enumerate(self.field_embeddings)]
        stacked = torch.stack(tokens, dim=-2)
        query = self.query(stacked.mean(dim=-2)).unsqueeze(-1)
        logits = (self.key(stacked) @ query).squeeze(-1) * self.scale
        weights = torch.softmax(logits, dim=-1)
        return (weights.unsqueeze(-1) * stacked).sum(dim=-2), weights


class AttentionBlock(nn.Module):
    """Pre-norm causal self-attention + feed-forward block."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ArgumentValueError(
                f"d_model ({d_model}) must be divisible by n_heads ({n_heads})"
            )
        self.n_heads = n_heads
        self.norm1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(
            nn.Linear(d_model, 4 * d_model),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(4 * d_model, d_model),
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, allowed: torch.Tensor, *, need_weights: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x ``[B, n, d]``, allowed ``[B, 1, n, n]`` (bool) → x, attention ``[B, H, n, n]``.

        ``need_weights=False`` runs the fused kernel
        (:func:`torch.nn.functional.scaled_dot_product_attention`) under the same mask:
        the same result within float rounding, faster, and the weights are never
        materialised (``None`` is returned in their place).
        """
        if not need_weights:
            return self.fused(x, allowed)[0], None
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, self.n_heads, d // self.n_heads).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        logits = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.n_heads)
        attention = torch.softmax(logits.masked_fill(~allowed, float("-inf")), dim=-1)
        context = (self.dropout(attention) @ v).transpose(1, 2).reshape(b, n, d)
        x = x + self.dropout(self.out(context))
        x = x + self.dropout(self.feed_forward(self.norm2(x)))
        return x, attention

    def fused(
        self,
        x: torch.Tensor,
        allowed: torch.Tensor | None,
        *,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
        last_only: bool = False,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """The block without attention weights, by the fused attention kernel.

        Args:
            x: ``[B, s, d]`` inputs of the positions to compute.
            allowed: ``[B or 1, 1, s, p + s]`` bool mask (True = may attend), or ``None``
                for plain causal attention (position ``i`` of ``x`` sees the ``p`` past
                positions and its own ``0..i``).
            past: keys and values ``[1 or B, H, p, d / H]`` of ``p`` earlier positions that
                every position of ``x`` may attend to (a prefix shared by the batch), as
                returned by an earlier call.
            last_only: compute the output of the last position only (``[B, 1, d]``); the
                keys and values of every position are still returned.

        Returns:
            The block's output and this call's keys and values ``[B, H, s, d / H]``.
        """
        b, s, d = x.shape
        heads = self.n_heads
        q, k, v = self.qkv(self.norm1(x)).view(b, s, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        kv = (k, v)
        if past is not None:
            k = torch.cat([past[0].expand(b, -1, -1, -1), k], dim=2)
            v = torch.cat([past[1].expand(b, -1, -1, -1), v], dim=2)
        p = k.shape[2] - s
        if last_only:
            rows = [(s - 1, s)]
            q, x = q[:, :, -1:], x[:, -1:]
        else:
            rows = [(r, min(r + QUERY_BLOCK, s)) for r in range(0, s, QUERY_BLOCK)]
        context = torch.empty(b, q.shape[2], heads, d // heads, dtype=x.dtype, device=x.device)
        for r0, r1 in rows:  # block r0..r1 sees keys 0..p + r1 - 1 at most (causal)
            if allowed is not None:
                mask = allowed[..., r0:r1, : p + r1]
            else:
                mask = torch.ones(r1 - r0, p + r1, dtype=torch.bool, device=x.device)
                mask = mask.tril(diagonal=p + r0)
            first = r0 - rows[0][0]
            context[:, first : first + r1 - r0] = nn.functional.scaled_dot_product_attention(
                q[:, :, first : first + r1 - r0],
                k[:, :, : p + r1],
                v[:, :, : p + r1],
                attn_mask=mask,
                dropout_p=self.dropout.p if self.training else 0.0,
            ).transpose(1, 2)
        x = x + self.dropout(self.out(context.view(x.shape)))
        x = x + self.dropout(self.feed_forward(self.norm2(x)))
        return x, kv
