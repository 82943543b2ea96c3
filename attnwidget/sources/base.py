"""The AttentionSource protocol: what the explainer and the widget need from a model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ..data import Catalog


@dataclass
class SourceOutput:
    """One batch of model outputs, as numpy arrays.

    Attributes:
        scores: ``[B, n_items + 1]`` next-item scores (index 0 is padding).
        attentions: ``[B, L, H, n, n]`` sequence attention, query × key, over the
            left-padded batch of length ``n``.
        feature_attention: ``[B, n, F]`` weights over :attr:`AttentionSource.field_names`,
            or ``None`` when the model has no feature attention.
    """

    scores: np.ndarray
    attentions: np.ndarray
    feature_attention: np.ndarray | None


@runtime_checkable
class AttentionSource(Protocol):
    """A recommender that reports the attention it used.

    ``catalog`` maps item ids to the dense indices (1-based, 0 = padding) that
    histories are written in; ``max_len`` is the longest history it takes (longer ones
    are cut to the most recent items); ``field_names`` names the feature-attention
    fields (``["item"]`` alone when there are none).
    """

    catalog: Catalog
    max_len: int
    field_names: list[str]

    def run(self, histories: Sequence[np.ndarray]) -> SourceOutput:
        """Scores and attention for a batch of dense-index histories (oldest first)."""
        ...
