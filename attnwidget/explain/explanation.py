"""Explanation: why a model recommends an item after one history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..data import Catalog, Dataset
from ..errors import EmptyHistoryError
from ..models import SASRec
from ..models.sasrec import top_k
from ..sources import AttentionSource, SASRecSource, as_source
from .attention import attention_rollout, distribution_stats
from .faithfulness import eraser_scores, kendall_tau, top1_agreement
from .importance import (
    METHODS,
    attention_importance,
    feature_occlusion,
    gradient_importance,
    occlusion_importance,
    rollout_importance,
)


@dataclass
class Explanation:
    """Attention, importance and faithfulness for one history and one target item.

    Attributes:
        history: dense item indices the model saw (the most recent ``max_len``), oldest
            first; the last position is the prediction position.
        total_length: length of the history before it was cut to ``max_len``.
        target: the explained item (default: the top recommendation).
        scores: ``[n_items + 1]`` next-item scores (history items at ``-inf`` when excluded).
        recommendations: top-k item indices, best first.
        attentions: ``[L, H, n, n]`` sequence attention (query × key).
        feature_attention: ``[n, F]`` weights over :attr:`field_names`, or ``None``.
    """

    source: AttentionSource = field(repr=False)
    history: np.ndarray
    total_length: int
    target: int
    scores: np.ndarray = field(repr=False)
    recommendations: np.ndarray
    attentions: np.ndarray = field(repr=False)
    feature_attention: np.ndarray | None = field(repr=False)
    user: Any = None
    warnings: list[str] = field(default_factory=list)
    _importance: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    @property
    def catalog(self) -> Catalog:
        return self.source.catalog

    @property
    def field_names(self) -> list[str]:
        return list(self.source.field_names)

    @property
    def truncated(self) -> bool:
        return self.total_length > len(self.history)

    @property
    def _model(self) -> SASRec | None:
        return self.source.model if isinstance(self.source, SASRecSource) else None

    @cached_property
    def rollout(self) -> np.ndarray:
        """``[L, n, n]`` attention rollout through each layer (NaN weights count as 0)."""
        return attention_rollout(np.nan_to_num(self.attentions, nan=0.0))

    def _items(self, table: pd.DataFrame | None = None) -> pd.DataFrame:
        out = self.catalog.describe(self.history)[["item_id", "title"]]
        out.index = pd.RangeIndex(len(self.history), name="position")
        return out if table is None else out.join(table)

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

    def method_importance(self, method: str) -> np.ndarray:
        """One method's importance per history position (computed once, then kept)."""
        if method not in METHODS:
            raise ValueError(f"unknown importance method {method!r}; expected one of {METHODS}")
        if method not in self._importance:
            self._importance[method] = self._compute_importance(method)
        return self._importance[method]

    def has_importance(self, method: str) -> bool:
        """Whether ``method``'s importance is already computed."""
        return method in self._importance

    def _compute_importance(self, method: str) -> np.ndarray:
        model = self._model
        if method == "attention":
            return attention_importance(self.attentions)
        if method == "rollout":
            return rollout_importance(self.attentions)
        if method == "gradient":
            if model is None:
                return np.full(len(self.history), np.nan)
            return gradient_importance(model, self.history, self.target)
        return occlusion_importance(self.source, self.history, self.target)

    @property
    def importance(self) -> pd.DataFrame:
        """Importance of each history position for the target, one column per method.

        ``attention`` (prediction-position attention, mean over layers and heads),
        ``rollout``, ``gradient`` (gradient-weighted attention; NaN for models without
        gradients) and ``occlusion`` (score drop when the item is left out).
        """
        return self._items(pd.DataFrame({m: self.method_importance(m) for m in METHODS}))

    @cached_property
    def attention_heads(self) -> pd.DataFrame:
        """Prediction-position attention per layer and head (columns ``L0H0``, ``L0H1``, …)."""
        rows = self.attentions[:, :, -1, :]
        columns = {
            f"L{layer}H{h}": rows[layer, h]
            for layer in range(rows.shape[0])
            for h in range(rows.shape[1])
        }
        return self._items(pd.DataFrame(columns))

    @cached_property
    def feature_importance(self) -> pd.DataFrame:
        """Per item and feature field: feature attention and the score drop when the field
        is replaced by "unknown" (columns ``attention:FIELD`` and ``occlusion:FIELD``)."""
        columns: dict[str, np.ndarray] = {}
        if self.feature_attention is not None:
            for f, name in enumerate(self.field_names):
                columns[f"attention:{name}"] = self.feature_attention[:, f]
        model = self._model
        if model is not None:
            drops = feature_occlusion(model, self.history, self.target)
            for f, name in enumerate(self.field_names[1:]):
                columns[f"occlusion:{name}"] = drops[:, f]
        return self._items(pd.DataFrame(columns))

    @cached_property
    def metrics(self) -> pd.DataFrame:
        """Per method: distribution figures, agreement with occlusion, ERASER scores."""
        table = self.importance
        occlusion = table["occlusion"].to_numpy()
        rows = {}
        for method in METHODS:
            weights = table[method].to_numpy()
            if not np.isfinite(weights).any():
                continue
            rows[method] = {
                **distribution_stats(weights),
                "kendall_tau": kendall_tau(weights, occlusion),
                "top1_agreement": top1_agreement(weights, occlusion),
                **eraser_scores(self.source, self.history, self.target, weights),
            }
        return pd.DataFrame.from_dict(rows, orient="index")


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
    target: int | None = None,
    k: int = 10,
    exclude_seen: bool = True,
    bought_before: np.ndarray | None = None,
    user: Any = None,
) -> Explanation:
    """Explanation of a dense-index history for any :class:`AttentionSource`.

    With ``exclude_seen``, items of the history, and of ``bought_before`` (earlier items
    the model is not shown), are never recommended.
    """
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
        if bought_before is not None:
            scores[np.asarray(bought_before, dtype=np.int64)] = -np.inf
    n = len(seen)
    attentions = np.asarray(out.attentions[0], dtype=np.float32)[..., -n:, -n:]
    feature_attention = None
    if out.feature_attention is not None:
        feature_attention = np.asarray(out.feature_attention[0], dtype=np.float32)[-n:]
    recommendations = top_k(scores, k)
    return Explanation(
        source=source,
        history=seen,
        total_length=len(history),
        target=int(recommendations[0]) if target is None else int(target),
        scores=scores,
        recommendations=recommendations,
        attentions=attentions,
        feature_attention=feature_attention,
        user=user,
        warnings=_attention_warnings(attentions, feature_attention),
    )


def explain(
    model: Any, dataset: Dataset, user: Any, item: Any = None, *, k: int = 10
) -> Explanation:
    """Why ``item`` (default: the top recommendation) is recommended to a dataset user.

    Args:
        model: a :class:`~attnwidget.SASRec` or any :class:`~attnwidget.sources.AttentionSource`.
        dataset: holds the user's history (all of it; the model sees the last ``max_len``).
        user: the user id.
        item: the item id to explain; ``None`` explains the top recommendation.
        k: number of recommendations kept.
    """
    source = as_source(model)
    target = None if item is None else source.catalog.index_of(item)
    history = dataset.aligned_to(source.catalog).sequence(user)
    return explain_indices(source, history, target=target, k=k, user=user)


def explain_history(
    model: Any,
    dataset: Dataset | Catalog | None,
    history: Iterable[Any],
    item: Any = None,
    *,
    k: int = 10,
) -> Explanation:
    """Why ``item`` (default: the top recommendation) follows an arbitrary history of item ids.

    ``dataset`` is accepted for symmetry with :func:`explain`; ids are resolved with the
    model's own catalogue.
    """
    source = as_source(model)
    target = None if item is None else source.catalog.index_of(item)
    return explain_indices(source, source.catalog.encode(history), target=target, k=k)
