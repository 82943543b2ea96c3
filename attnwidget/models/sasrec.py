"""SASRec: a causal transformer over a user's item history, with feature-level attention."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..data import Catalog, Dataset
from ..errors import CheckpointError, DataError, EmptyHistoryError
from .checkpoint import check_weights, read_checkpoint, write_checkpoint
from .layers import AttentionBlock, FeatureAttention


@dataclass(frozen=True)
class SASRecConfig:
    """Hyper-parameters of :class:`SASRec`."""

    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 2
    max_len: int = 50
    dropout: float = 0.2


@dataclass
class SASRecOutput:
    """What one forward pass used and produced.

    Attributes:
        scores: ``[B, n_items + 1]`` scores of every item for the next step after the
            last position (index 0, padding, is ``-inf``).
        attentions: one ``[B, H, n, n]`` tensor per layer (query × key). Rows of real
            positions sum to 1 and put no weight on padding or later positions; a
            padding row attends only to itself.
        feature_attention: ``[B, n, F + 1]`` weights over ``["item", *fields]`` per position.
        hidden: ``[B, n, d]`` final hidden states.
    """

    scores: torch.Tensor
    attentions: tuple[torch.Tensor, ...]
    feature_attention: torch.Tensor
    hidden: torch.Tensor


class SASRec(nn.Module):
    """Self-attentive sequential recommender (Kang & McAuley 2018) with feature fusion.

    Each history position's input fuses the item id embedding with the item's feature
    embeddings through :class:`FeatureAttention`; candidate items are represented by
    the same fusion, so the output layer shares the input embeddings.

    Histories longer than ``max_len`` are cut to their most recent ``max_len`` items.

    Args:
        data: a :class:`Dataset` or :class:`Catalog` whose items the model scores.
        seed: seed of the weight initialisation.
    """

    def __init__(
        self,
        data: Dataset | Catalog,
        *,
        d_model: int = 64,
        n_layers: int = 2,
        n_heads: int = 2,
        max_len: int = 50,
        dropout: float = 0.2,
        seed: int = 0,
    ) -> None:
        super().__init__()
        catalog = data.catalog if isinstance(data, Dataset) else data
        if not isinstance(catalog, Catalog):
            raise TypeError(f"data must be a Dataset or Catalog, got {type(data).__name__}")
        for name, value in (
            ("d_model", d_model),
            ("n_layers", n_layers),
            ("n_heads", n_heads),
            ("max_len", max_len),
        ):
            if int(value) < 1:
                raise ValueError(f"{name} must be ≥ 1, got {value}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.config = SASRecConfig(d_model, n_layers, n_heads, max_len, dropout)
        self.catalog = catalog
        self.field_names = ["item", *catalog.field_names]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.features = FeatureAttention(
                catalog.n_items, [f.size for f in catalog.fields], d_model
            )
            self.position = nn.Embedding(max_len, d_model)
            self.blocks = nn.ModuleList(
                AttentionBlock(d_model, n_heads, dropout) for _ in range(n_layers)
            )
            self.final_norm = nn.LayerNorm(d_model)
            for module in self.modules():
                if isinstance(module, nn.Embedding):
                    nn.init.normal_(module.weight, std=d_model**-0.5)
                    if module.padding_idx is not None:
                        module.weight.data[module.padding_idx].zero_()
        self.input_dropout = nn.Dropout(dropout)
        self.register_buffer("item_features", torch.as_tensor(catalog.features), persistent=False)

    # --- forward ----------------------------------------------------------------------
    def candidates(self) -> torch.Tensor:
        """``[n_items + 1, d]`` representation of every item, used to score them."""
        index = torch.arange(self.catalog.n_items + 1, device=self.item_features.device)
        return self.features(index, self.item_features)[0]

    def encode(
        self, items: torch.Tensor, features: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        """Hidden states ``[B, n, d]``, attention per layer and feature attention of a padded batch.

        ``features`` (``[B, n, F]``) overrides the catalogue's item features, e.g. to
        replace a field by its "unknown" value.
        """
        if items.dim() != 2:
            raise DataError(
                f"items must be a [batch, length] tensor, got shape {tuple(items.shape)}"
            )
        _b, n = items.shape
        if n > self.config.max_len:
            raise DataError(f"history length {n} exceeds max_len {self.config.max_len}")
        if features is None:
            features = self.item_features[items]
        valid = items > 0
        fused, feature_attention = self.features(items, features)
        positions = torch.arange(self.config.max_len - n, self.config.max_len, device=items.device)
        x = fused * math.sqrt(self.config.d_model) + self.position(positions)
        x = self.input_dropout(x) * valid.unsqueeze(-1)
        causal = torch.ones(n, n, dtype=torch.bool, device=items.device).tril()
        allowed = (causal & valid[:, None, :]) | torch.eye(n, dtype=torch.bool, device=items.device)
        allowed = allowed.unsqueeze(1)
        attentions = []
        for block in self.blocks:
            x, attention = block(x, allowed)
            x = x * valid.unsqueeze(-1)
            attentions.append(attention)
        return self.final_norm(x), attentions, feature_attention

    def forward(self, items: torch.Tensor, features: torch.Tensor | None = None) -> SASRecOutput:
        """Score every item after the last position of each (left-padded) history."""
        hidden, attentions, feature_attention = self.encode(items, features)
        scores = hidden[:, -1] @ self.candidates().T
        scores[:, 0] = float("-inf")
        return SASRecOutput(scores, tuple(attentions), feature_attention, hidden)

    # --- convenience ------------------------------------------------------------------
    def pad(self, histories: Sequence[Sequence[int] | np.ndarray]) -> torch.Tensor:
        """Left-pad dense-index histories into a batch, keeping the last ``max_len`` items."""
        cut = [np.asarray(h, dtype=np.int64)[-self.config.max_len :] for h in histories]
        for i, h in enumerate(cut):
            if h.size == 0:
                raise EmptyHistoryError(f"history {i} of the batch is empty")
            if h.min() < 1 or h.max() > self.catalog.n_items:
                raise DataError(f"history {i} has item indices outside 1..{self.catalog.n_items}")
        n = max(len(h) for h in cut)
        batch = np.zeros((len(cut), n), dtype=np.int64)
        for i, h in enumerate(cut):
            batch[i, n - len(h) :] = h
        return torch.as_tensor(batch, device=self.item_features.device)

    @torch.no_grad()
    def score(self, histories: Sequence[np.ndarray], batch_size: int = 512) -> np.ndarray:
        """``[len(histories), n_items + 1]`` scores for dense-index histories (eval mode)."""
        was_training = self.training
        self.eval()
        try:
            out = [
                self(self.pad(histories[i : i + batch_size])).scores.cpu().numpy()
                for i in range(0, len(histories), batch_size)
            ]
        finally:
            self.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, self.catalog.n_items + 1))

    def recommend(
        self, history: Iterable[Any], k: int = 10, *, exclude_seen: bool = True
    ) -> pd.DataFrame:
        """Top-``k`` items after a history of external item ids (oldest first).

        Returns a DataFrame with ``item_id``, ``title``, ``score`` and the feature
        fields, best first. ``exclude_seen`` drops items already in the history.
        """
        indices = self.catalog.encode(history)
        if indices.size == 0:
            raise EmptyHistoryError("cannot recommend from an empty history")
        if k < 1:
            raise ValueError(f"k must be ≥ 1, got {k}")
        scores = self.score([indices])[0]
        if exclude_seen:
            scores[indices] = -np.inf
        top = top_k(scores, k)
        table = self.catalog.describe(top)
        table.insert(2, "score", scores[top].astype(float))
        return table

    # --- checkpoints ------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write config, weights and the catalogue (id maps, titles, feature vocabularies).

        The write is atomic (see :mod:`attnwidget.models.checkpoint`): a save that fails or is
        interrupted leaves any file already at ``path`` byte-identical.

        Raises:
            CheckpointError: if ``path`` is a directory or its folder cannot be created.
            OSError: if writing fails (e.g. the disk is full); the old file is kept.
        """
        return write_checkpoint(
            path, asdict(self.config), self.catalog.to_state(), self.state_dict()
        )

    @classmethod
    def load(cls, path: str | Path, map_location: str | torch.device = "cpu") -> SASRec:
        """Read a checkpoint written by :meth:`save` (any version this attnwidget reads).

        Uses ``torch.load(weights_only=True)``: no pickled code runs. The file's checksum,
        catalogue, config and weight shapes are checked before the model is built.

        Raises:
            CheckpointError: naming ``path`` and what is wrong, for any bad file.
        """
        defaults = {f.name: f.default for f in fields(SASRecConfig)}
        contents = read_checkpoint(path, defaults)
        try:
            model = cls(Catalog.from_state(contents.catalog), **contents.config)
        except Exception as err:  # the load boundary: a value the checks above let through
            raise CheckpointError(f"checkpoint {str(path)!r} is damaged: {err}") from None
        check_weights(path, contents.state_dict, model.state_dict())
        model.load_state_dict(contents.state_dict)
        return model.to(map_location).eval()


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best finite scores, best first; ties go to the lower index."""
    order = np.lexsort((np.arange(scores.size), -scores))
    order = order[np.isfinite(scores[order])]
    return order[:k]
