"""Explanation: why a model recommends an item after one history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_bool, check_int
from ..data import Catalog, Dataset
from ..errors import (
    ArgumentTypeError,
    ArgumentValueError,
    AttnWidgetError,
    DataError,
    UnknownItemError,
)
from ..histories import dense_history, encode_history
from ..ranking import nothing_to_recommend, top_k, unrankable_count
from ..sources import AttentionSource, SourceOutput, as_source
from ..sources.base import EditsFeatures
from .addition import Addition, find_addition
from .attention import attention_rollout, distribution_stats
from .attention_metrics import occlusion_r2
from .counterfactual import EXHAUSTIVE_LIMIT, Counterfactual, find_counterfactual
from .faithfulness import Agreement, eraser_scores, occlusion_agreement
from .importance import (
    METHODS,
    attention_importance,
    feature_occlusion,
    gradient_importance,
    occlusion_importance,
)
from .reasons import REASONS_SHOWN, Reason, explain_reasons


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
    def history_feature_table(self) -> np.ndarray:
        """``[n_items + 1, F - 1]`` feature values the history's items were read with: a
        feature what-if's edited table, else the catalogue's (recommended items keep the
        catalogue's either way)."""
        if isinstance(self.source, EditsFeatures):
            return self.source.history_features
        return self.catalog.features

    @property
    def truncated(self) -> bool:
        return self.total_length > len(self.history)

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

    def recommendation_table(self, reasons: int | None = REASONS_SHOWN) -> pd.DataFrame:
        """Top-k items with their scores, best first, and a ``reason`` column: the
        :meth:`reason` sentence of the first ``reasons`` recommendations (default 3; ``None``:
        all; 0: none), ``None`` after them. Their occlusion shares one batch of ``n + 1``
        passes; feature occlusion adds ``n × fields`` passes per reason."""
        table = self.catalog.describe(self.recommendations)
        table.insert(2, "score", self.scores[self.recommendations].astype(float))
        count = len(self.recommendations) if reasons is None else check_int("reasons", reasons, 0)
        chosen = [self.catalog.item_id(int(i)) for i in self.recommendations[:count]]
        texts = [r.text for r in self.reasons(chosen)] if chosen else []
        table["reason"] = texts + [None] * (len(table) - len(texts))
        return table

    def method_importance(self, method: str) -> np.ndarray:
        """One method's importance per history position (computed once, then kept)."""
        if method not in METHODS:
            raise ArgumentValueError(
                f"unknown importance method {method!r}; expected one of {METHODS}"
            )
        if method not in self._importance:
            self._importance[method] = self._compute_importance(method)
        return self._importance[method]

    def has_importance(self, method: str) -> bool:
        """Whether ``method``'s importance is already computed."""
        return method in self._importance

    def _compute_importance(self, method: str) -> np.ndarray:
        if method == "attention":
            return attention_importance(self.attentions)
        if method == "rollout":  # rollout_importance, from the rollout already made
            return self.rollout[-1, -1].copy()
        if method == "gradient":
            return gradient_importance(self.source, self.history, self.target)
        return occlusion_importance(self.source, self.history, self.target)

    def agreement(self) -> Agreement:
        """Kendall τ and top-1 agreement of each method with occlusion for this history
        (NaN while occlusion is not computed: this does not compute it)."""
        if not self.has_importance("occlusion"):
            return occlusion_agreement({m: None for m in METHODS})
        return occlusion_agreement({m: self.method_importance(m) for m in METHODS})

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
        drops = feature_occlusion(self.source, self.history, self.target)
        if drops is not None:
            for f, name in enumerate(self.field_names[1:]):
                columns[f"occlusion:{name}"] = drops[:, f]
        return self._items(pd.DataFrame(columns))

    @cached_property
    def metrics(self) -> pd.DataFrame:
        """Per method: distribution figures, agreement with occlusion, ``r2_occlusion`` (R²
        of the linear fit of occlusion from the method's weights, see
        :func:`~attnwidget.explain.attention_metrics.occlusion_r2`; NaN for occlusion
        itself) and ERASER scores."""
        table = self.importance
        agreement = self.agreement()
        rows = {}
        for method in METHODS:
            weights = table[method].to_numpy()
            if not np.isfinite(weights).any():
                continue
            occlusion = table["occlusion"].to_numpy()
            rows[method] = {
                **distribution_stats(weights),
                **agreement[method],
                "r2_occlusion": float("nan")
                if method == "occlusion"
                else occlusion_r2(weights, occlusion),
                **eraser_scores(self.source, self.history, self.target, weights),
            }
        return pd.DataFrame.from_dict(rows, orient="index")

    def counterfactual(
        self,
        item: Any = None,
        *,
        k: int | None = None,
        max_size: int = 10,
        exhaustive_limit: int = EXHAUSTIVE_LIMIT,
    ) -> Counterfactual:
        """The smallest set of history items whose removal takes ``item`` (an id; default:
        the explained item) out of the top-``k`` (default: the number of recommendations),
        verified by running the edited history again. See
        :func:`~attnwidget.explain.counterfactual.find_counterfactual`."""
        return find_counterfactual(
            self, item, k=k, max_size=max_size, exhaustive_limit=exhaustive_limit
        )

    @cached_property
    def top_reasons(self) -> list[Reason]:
        """:meth:`reasons` of the first ``REASONS_SHOWN`` recommendations (computed once:
        the explorer shows them under its recommendations); empty when they cannot be
        made (e.g. no recommendation)."""
        items = [self.catalog.item_id(int(i)) for i in self.recommendations[:REASONS_SHOWN]]
        try:
            return self.reasons(items) if items else []
        except AttnWidgetError:
            return []

    @cached_property
    def target_counterfactual(self) -> Counterfactual | None:
        """:meth:`counterfactual` of the explained item (computed once: the explorer's why
        panel offers it as a what-if edit); ``None`` when no search can be made (too few
        rankable items for the top-k, a target outside the top-k, NaN scores)."""
        try:
            return self.counterfactual()
        except AttnWidgetError:
            return None

    def what_would_add(
        self,
        item: Any,
        *,
        k: int | None = None,
        pool: int = 200,
        dataset: Dataset | None = None,
        seconds: float = 5.0,
    ) -> Addition:
        """The single item whose purchase, appended as the newest, brings ``item`` (an id)
        into the top-``k``, searched over a bounded pool in about ``seconds``, verified.
        See :func:`~attnwidget.explain.addition.find_addition`."""
        return find_addition(self, item, k=k, pool=pool, dataset=dataset, seconds=seconds)

    def reason(
        self,
        item: Any = None,
        *,
        method: str | None = None,
        templates: Mapping[str, str] | None = None,
    ) -> Reason:
        """One plain-text sentence saying why ``item`` (an id; default: the explained item)
        is recommended, with its evidence. See :mod:`attnwidget.explain.reasons`."""
        items = None if item is None else [item]
        return self.reasons(items, method=method, templates=templates)[0]

    def reasons(
        self,
        items: Sequence[Any] | None = None,
        *,
        method: str | None = None,
        templates: Mapping[str, str] | None = None,
    ) -> list[Reason]:
        """:meth:`reason` of several items (ids) at once: their occlusion shares one batch."""
        return explain_reasons(self, items, method=method, templates=templates)


def _attention_warnings(attentions: np.ndarray, feature_attention: np.ndarray | None) -> list[str]:
    warnings = []
    for name, array in (("sequence", attentions), ("feature", feature_attention)):
        if array is not None and (bad := int(np.count_nonzero(~np.isfinite(array)))):
            warnings.append(f"{bad} {name} attention weights are NaN or infinite; shown as missing")
    return warnings


def _score_warnings(raw: np.ndarray, target: int, chosen: bool) -> list[str]:
    warnings = []
    if bad := unrankable_count(raw):
        warnings.append(f"{bad} item scores are NaN or +inf; those items are never recommended")
    if chosen and not np.isfinite(raw[target]):
        warnings.append(f"the explained item's score is {raw[target]}: its importance is undefined")
    return warnings


def _source_scores(source: AttentionSource, scores: Any) -> np.ndarray:
    """One history's ``[n_items + 1]`` scores from a source, checked for shape."""
    raw = np.asarray(scores, dtype=np.float64)
    expected = (source.catalog.n_items + 1,)
    if raw.shape != expected:
        raise DataError(
            f"{type(source).__name__} returned scores of shape {raw.shape} for one history; "
            f"expected {expected} (n_items + 1, padding at 0)"
        )
    return raw


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
    the model is not shown), are never recommended. Items scoring NaN or ±inf are never
    recommended either (:attr:`Explanation.warnings` counts NaN and +inf ones), so fewer
    than ``k`` recommendations come back when fewer items are left.

    Raises:
        EmptyHistoryError: the history is empty.
        DataError: the history holds a value that is not an item index ``1..n_items``.
        UnknownItemError: ``target`` is not an item index.
        NothingToRecommendError: ``target`` is ``None`` and no item is left to recommend.
    """
    who = f"user {user!r}" if user is not None else "the history"
    n_items = source.catalog.n_items
    history = dense_history(history, n_items, f"history of {who}")
    k = check_int("k", k)
    exclude_seen = check_bool("exclude_seen", exclude_seen)
    earlier = np.zeros(0, dtype=np.int64)
    if bought_before is not None and len(bought_before):
        earlier = dense_history(bought_before, n_items, f"bought_before of {who}")
    if target is not None:
        target = _target_index(source, target)
    seen = history[-source.max_len :]
    out = source.run([seen])
    return explanation_from_output(
        source,
        history,
        out,
        0,
        target=target,
        k=k,
        excluded=np.concatenate([history, earlier]) if exclude_seen else None,
        user=user,
    )


def explanation_from_output(
    source: AttentionSource,
    history: np.ndarray,
    out: SourceOutput,
    row: int,
    *,
    target: int | None = None,
    k: int = 10,
    excluded: np.ndarray | None = None,
    user: Any = None,
) -> Explanation:
    """The :class:`Explanation` of row ``row`` of a batch ``source.run`` gave (left-padded
    histories, see :class:`~attnwidget.sources.SourceOutput`), for the checked dense
    ``history`` whose last ``max_len`` items were run. :func:`explain_indices` is this for a
    batch of one; :func:`attnwidget.explain_users` runs many users' histories in one pass.

    ``target`` is a checked item index or ``None`` (the top recommendation); ``excluded``
    the items never recommended (e.g. the whole history, also the part cut off by
    ``max_len``), or ``None``.

    Raises:
        NothingToRecommendError: ``target`` is ``None`` and no item is left to recommend.
    """
    who = f"user {user!r}" if user is not None else "the history"
    seen = history[-source.max_len :]
    raw = _source_scores(source, out.scores[row])
    scores = raw.copy()
    if excluded is not None:
        scores[excluded] = -np.inf
    recommendations = top_k(scores, k)
    if target is None and recommendations.size == 0:
        raise nothing_to_recommend(raw, excluded, who)
    n = len(seen)
    attentions = np.asarray(out.attentions[row], dtype=np.float32)[..., -n:, -n:]
    feature_attention = None
    if out.feature_attention is not None:
        feature_attention = np.asarray(out.feature_attention[row], dtype=np.float32)[-n:]
    chosen = int(recommendations[0]) if target is None else target
    return Explanation(
        source=source,
        history=seen,
        total_length=len(history),
        target=chosen,
        scores=scores,
        recommendations=recommendations,
        attentions=attentions,
        feature_attention=feature_attention,
        user=user,
        warnings=_attention_warnings(attentions, feature_attention)
        + _score_warnings(raw, chosen, target is not None),
    )


def _target_index(source: AttentionSource, target: Any) -> int:
    """A dense target index, checked against the source's catalogue."""
    n_items = source.catalog.n_items
    if isinstance(target, bool | np.bool_) or not isinstance(target, int | np.integer):
        raise ArgumentTypeError(f"target must be an item index (int), got {target!r}")
    if not 1 <= target <= n_items:
        raise UnknownItemError(f"target item index {target} is outside 1..{n_items}")
    return int(target)


def _explained_item(catalog: Catalog, item: Any, history: np.ndarray, who: str) -> int | None:
    """Dense index of the item to explain (``None``: the top one); it must not be in the history."""
    if item is None:
        return None
    index = catalog.index_of(item)
    if index in set(history.tolist()):
        raise DataError(
            f"item {item!r} is already in {who}: only items not in it are recommended, so "
            "there is no recommendation of it to explain"
        )
    return index


def explain(
    model: Any, dataset: Dataset, user: Any, item: Any = None, *, k: int = 10
) -> Explanation:
    """Why ``item`` (default: the top recommendation) is recommended to a dataset user.

    A user with one item is explained too: its occlusion and ERASER scores are NaN
    (there is nothing left to score without the item).

    Args:
        model: a :class:`~attnwidget.SASRec` or any :class:`~attnwidget.sources.AttentionSource`.
        dataset: holds the user's history (all of it; the model sees the last ``max_len``).
        user: the user id.
        item: the item id to explain (not one of the user's items); ``None`` explains
            the top recommendation.
        k: number of recommendations kept (fewer when fewer items are left).

    Raises:
        UnknownUserError, UnknownItemError: ``user`` or ``item`` is not in the data.
        EmptyHistoryError: the user has no items.
        DataError: ``item`` is already in the user's history.
        NothingToRecommendError: no item is left to recommend (see :func:`explain_indices`).
    """
    source = as_source(model)
    if not isinstance(dataset, Dataset):
        raise ArgumentTypeError(
            f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}"
        )
    dataset.user_position(user)  # an unknown user is named before any other work
    history = dataset.aligned_to(source.catalog).sequence(user)
    target = _explained_item(source.catalog, item, history, f"the history of user {user!r}")
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
    model's own catalogue. Raises as :func:`explain` does.
    """
    source = as_source(model)
    if dataset is not None and not isinstance(dataset, Dataset | Catalog):
        raise ArgumentTypeError(
            f"dataset must be a Dataset, a Catalog or None, got {type(dataset).__name__}"
        )
    indices = encode_history(source.catalog, history)
    target = _explained_item(source.catalog, item, indices, "the history")
    return explain_indices(source, indices, target=target, k=k)
