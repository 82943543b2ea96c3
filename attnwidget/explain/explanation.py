"""Explanation: what a model attended to when recommending for one history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..data import Catalog, Dataset
from ..errors import EmptyHistoryError
from ..models.sasrec import top_k
from ..sources import AttentionSource, as_source
from .attention import attention_rollout


@dataclass
class Explanation:
    """Attention and recommendations for one history (the most recent ``max_len`` items).

    Attributes:
        history: dense item indices that the model saw, oldest first; the last position
            is the prediction position.
        total_length: length of the history before it was cut to ``max_len``.
        scores: ``[n_items + 1]`` next-item scores.
        recommendations: top-k item indices, best first.
        attentions: ``[L, H, n, n]`` sequence attention (query × key).
        feature_attention: ``[n, F]`` weights over :attr:`field_names`, or ``None``.
    """

    catalog: Catalog
    field_names: list[str]
    history: np.ndarray
    total_length: int
    scores: np.ndarray
    recommendations: np.ndarray
    attentions: np.ndarray
    feature_attention: np.ndarray | None
    user: Any = None
    warnings: list[str] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.total_length > len(self.history)

    @cached_property
    def rollout(self) -> np.ndarray:
        """``[L, n, n]`` attention rollout through each layer (NaN weights count as 0)."""
        return attention_rollout(np.nan_to_num(self.attentions, nan=0.0))

    def history_table(self) -> pd.DataFrame:
        """The history the model saw: position, item id, title and features."""
        table = self.catalog.describe(self.history)
        table.insert(0, "position", np.arange(len(self.history)))
        return table

    def recommendation_table(self) -> pd.DataFrame:
        """Top-k items with their scores, best first."""
        table = self.catalog.describe(self.recommendations)
        table.insert(2, "score", self.scores[self.recommendations].astype(float))
        return table


def _attention_warnings(attentions: np.ndarray, feature_attention: np.ndarray | None) -> list[str]:
    warnings = []
    for name, array in (("sequence", attentions), ("feature", feature_attention)):
        if array is not None and (bad := int(np.count_nonzero(~np.isfinite(array)))):
            warnings.append(f"{bad} {name} attention weights are NaN or infinite; shown as missing")
    return warnings


def explain_indices(
    source: AttentionSource,
    history: np.ndarray,
    *,
    k: int = 10,
    exclude_seen: bool = True,
    user: Any = None,
) -> Explanation:
    """Explanation of a dense-index history for any :class:`AttentionSource`."""
    history = np.asarray(history, dtype=np.int64)
    if history.size == 0:
        raise EmptyHistoryError(
            f"user {user!r} has an empty history"
            if user is not None
            else "cannot explain an empty history"
        )
    if k < 1:
        raise ValueError(f"k must be ≥ 1, got {k}")
    seen = history[-source.max_len :]
    out = source.run([seen])
    scores = np.asarray(out.scores[0], dtype=np.float64).copy()
    if exclude_seen:  # the whole history, also the part cut off by max_len
        scores[history] = -np.inf
    attentions = np.asarray(out.attentions[0], dtype=np.float32)
    n = len(seen)
    attentions = attentions[..., -n:, -n:]
    feature_attention = None
    if out.feature_attention is not None:
        feature_attention = np.asarray(out.feature_attention[0], dtype=np.float32)[-n:]
    return Explanation(
        catalog=source.catalog,
        field_names=list(source.field_names),
        history=seen,
        total_length=len(history),
        scores=scores,
        recommendations=top_k(scores, k),
        attentions=attentions,
        feature_attention=feature_attention,
        user=user,
        warnings=_attention_warnings(attentions, feature_attention),
    )


def explain_user(model: Any, dataset: Dataset, user: Any, *, k: int = 10) -> Explanation:
    """Explain the next-item recommendations for a dataset user's whole history."""
    return explain_indices(as_source(model), dataset.sequence(user), k=k, user=user)


def explain_items(model: Any, history: Iterable[Any], *, k: int = 10) -> Explanation:
    """Explain the recommendations after a history of external item ids."""
    source = as_source(model)
    return explain_indices(source, source.catalog.encode(history), k=k)
