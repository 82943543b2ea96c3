"""Building blocks of SASRec that return the attention they actually use."""

from __future__ import annotations

import math

import torch
from torch import nn


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
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
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

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x ``[B, n, d]``, allowed ``[B, 1, n, n]`` (bool) → x, attention ``[B, H, n, n]``."""
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, self.n_heads, d // self.n_heads).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        logits = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.n_heads)
        attention = torch.softmax(logits.masked_fill(~allowed, float("-inf")), dim=-1)
        context = (self.dropout(attention) @ v).transpose(1, 2).reshape(b, n, d)
        x = x + self.dropout(self.out(context))
        x = x + self.dropout(self.feed_forward(self.norm2(x)))
        return x, attention
