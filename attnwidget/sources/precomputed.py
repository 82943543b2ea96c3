"""Attention and recommendations computed elsewhere (e.g. by a TensorFlow model), shown as is.

:class:`PrecomputedSource` holds, per user, the attention over the last ``n`` items of the
user's history in a :class:`Dataset` and the recommendations made after it. It never runs
a model: it answers only for the histories it holds (``can_rerun = False``), so
explanations give NaN for occlusion, gradient and ERASER scores, and the widget offers no
what-if editing.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_int
from ..data import Dataset
from ..errors import ArgumentTypeError, DataError, NothingToRecommendError, UnknownItemError
from .base import SourceOutput
from .tables import TABLE_COLUMNS, attention_table_to_arrays, integers, require
from .validate import check_weights, float32s, floats, normalised_rows

RECOMMENDATION_COLUMNS = ("user", "item")
"""Columns of a recommendation table (``score`` optional), best first within a user."""

AXES_4 = ("layer", "head", "query", "key")
FEATURE_AXES = ("position", "field")

Attentions = Mapping[Any, np.ndarray] | pd.DataFrame
Recommendations = Mapping[Any, Sequence[Any]] | pd.DataFrame


@dataclass
class _Entry:
    user: Any
    attentions: np.ndarray  # [L, H, n, n]
    scores: np.ndarray  # [n_items + 1]
    feature_attention: np.ndarray | None  # [n, F]


def _field_names(names: Sequence[str] | None) -> list[str]:
    """Feature-attention field names: distinct, non-empty strings (default ``["item"]``)."""
    if names is None:
        return ["item"]
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise DataError(f"field_names must be a list of strings, got {names!r}")
    out = list(names)
    if not out or not all(isinstance(n, str) and n for n in out) or len(set(out)) != len(out):
        raise DataError(f"field_names must be distinct, non-empty strings, got {out!r}")
    return out


def _item_list(user: Any, items: Any) -> list[Any]:
    """A user's recommended ids as a list; a single string or a non-sequence is an error."""
    if isinstance(items, str | bytes) or not isinstance(items, Sequence | np.ndarray | pd.Series):
        raise DataError(
            f"recommendations for user {user!r} must be a list of item ids, got "
            f"{type(items).__name__} {items!r:.60}"
        )
    return list(items)


def _same_keys(
    users: Mapping[Any, Any], given: Mapping[Any, Any], what: str, *, required: bool = True
) -> None:
    """Every user with attention has ``what`` (if ``required``), and no other user has."""
    if required and (missing := [u for u in users if u not in given]):
        raise DataError(f"no {what} for user {missing[0]!r} ({len(missing)} user(s) without)")
    if extra := [u for u in given if u not in users]:
        raise DataError(f"{what} for users without attention: {extra[:5]}")


class PrecomputedSource:
    """An :class:`AttentionSource` over attention and recommendations computed elsewhere.

    Args:
        dataset: the users and their histories. A user's attention covers the last
            ``n = min(len(history), max_len)`` items of ``dataset.sequence(user)``.
        attentions: per user an array ``[layers, heads, n, n]`` (``[heads, n, n]`` and
            ``[n, n]`` mean one layer / one head), query × key, oldest item first; or a
            long table with columns ``user, layer, head, query, key, weight`` (cells not
            in the table are 0). Every user needs the same layers and heads.
        recommendations: per user the recommended item ids, best first; or a table with
            columns ``user, item`` and optionally ``score`` (best first in row order).
        scores: per user the scores of the recommended items, in the same order. Without
            scores (here or in the table) the reciprocal rank ``1 / (1 + rank)`` stands in.
        feature_attention: per user ``[n, F]`` weights over ``field_names``.
        field_names: names of the feature-attention fields (default ``["item"]``).
        max_len: the longest history the attention covers (default: the largest ``n``).
        normalize: what to do with attention (or feature attention) rows that do not sum
            to 1, e.g. because a ``[CLS]`` token's share was dropped: ``True`` (default)
            rescales them so each query's weights sum to 1 and warns (``UserWarning``);
            ``False`` makes them an error. Rows within 1e-3 of 1 are kept exactly.

    The explanation maths (rollout, importance) reads each row as shares of attention, so
    weights must be finite and ≥ 0, and every query must give some weight to some key: a
    row of zeros (in a table, a (user, layer, head, query) without rows) is an error.

    Users present in ``dataset`` but not here cannot be explained; :attr:`users` lists
    the ones that can. When two users have the same history, the first one's data answers.

    Raises:
        DataError: shapes that do not match the histories, layers or heads that differ
            between users, NaN, infinite or negative weights, rows without weight, NaN or
            infinite scores, missing columns, a user given twice, users missing from (or
            only in) recommendations, scores or feature attention.
        EmptyHistoryError: a user with attention but an empty history.
        NothingToRecommendError: a user whose recommendations are all in their history
            (explanations never recommend what the user already has).
        UnknownUserError / UnknownItemError: ids not in the dataset or its catalogue.
    """

    can_rerun = False

    def __init__(
        self,
        dataset: Dataset,
        attentions: Attentions,
        recommendations: Recommendations,
        *,
        scores: Mapping[Any, Sequence[float]] | None = None,
        feature_attention: Mapping[Any, np.ndarray] | None = None,
        field_names: Sequence[str] | None = None,
        max_len: int | None = None,
        normalize: bool = True,
    ) -> None:
        if not isinstance(dataset, Dataset):
            raise ArgumentTypeError(
                f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}"
            )
        self.dataset = dataset
        self.catalog = dataset.catalog
        self.field_names = _field_names(field_names)
        self._normalize = bool(normalize)
        self._rescaled: dict[Any, int] = {}
        if max_len is not None:
            max_len = check_int("max_len", max_len)
        arrays = self._arrays(attentions, max_len)
        if not arrays:
            raise DataError("attentions is empty: give at least one user's attention")
        self.max_len = max_len if max_len is not None else max(a.shape[-1] for a in arrays.values())
        recs, rec_scores = self._recommendations(recommendations, scores)
        _same_keys(arrays, recs, "recommendations")
        _same_keys(arrays, rec_scores, "scores", required=False)
        features = self._by_user(feature_attention, "feature attention")
        if features is not None:
            _same_keys(arrays, features, "feature attention")
        self._entries: dict[tuple[int, ...], _Entry] = {}
        self.users: list[Any] = []
        for user, array in arrays.items():
            history = self._history(user, array)
            entry = _Entry(
                user,
                self._rows(array, f"attention for user {user!r}", AXES_4, user),
                self._scores(user, recs[user], rec_scores.get(user)),
                self._feature_attention(user, features, len(history)),
            )
            self._entries.setdefault(tuple(history.tolist()), entry)
            self.users.append(user)
        self._warn_rescaled()

    # --- validation ----------------------------------------------------------------------
    def _user(self, user: Any) -> Any:
        """The dataset's own id for ``user`` (accepts its string form)."""
        return self.dataset.users[self.dataset.user_position(user)]

    def _by_user(self, values: Mapping[Any, Any] | None, what: str) -> dict[Any, Any] | None:
        """``values`` keyed by the dataset's user ids; a user given twice is an error."""
        if values is None:
            return None
        if not isinstance(values, Mapping):
            raise ArgumentTypeError(
                f"{what} must be a mapping user → values, got {type(values).__name__}"
            )
        out: dict[Any, Any] = {}
        spelled: dict[Any, Any] = {}
        for given, value in values.items():
            user = self._user(given)
            if user in out:
                raise DataError(
                    f"{what} lists user {user!r} twice (as {spelled[user]!r} and {given!r})"
                )
            out[user], spelled[user] = value, given
        return out

    def _arrays(self, attentions: Attentions, max_len: int | None) -> dict[Any, np.ndarray]:
        if isinstance(attentions, pd.DataFrame):
            return self._table_arrays(attentions, max_len)
        if not isinstance(attentions, Mapping):
            raise ArgumentTypeError(
                "attentions must be a mapping user → array or a pandas DataFrame with columns "
                f"{list(TABLE_COLUMNS)}, got {type(attentions).__name__}"
            )
        out = {}
        for user, value in (self._by_user(attentions, "attentions") or {}).items():
            array = floats(value, f"attention for user {user!r}")
            if not 2 <= array.ndim <= 4:
                raise DataError(
                    f"attention for user {user!r} has shape {array.shape}; expected "
                    "[layers, heads, n, n], [heads, n, n] or [n, n]"
                )
            array = array.reshape((1,) * (4 - array.ndim) + array.shape)
            if array.shape[-1] != array.shape[-2] or array.shape[-1] == 0:
                raise DataError(
                    f"attention for user {user!r} has shape {array.shape}; the last two axes "
                    "(query, key) must both be the n history positions"
                )
            out[user] = float32s(array, f"attention for user {user!r}")
        return out

    def _table_arrays(self, table: pd.DataFrame, max_len: int | None) -> dict[Any, np.ndarray]:
        require(table, TABLE_COLUMNS, "attention table")
        if table.empty:
            raise DataError("attention table is empty: give one row per attention weight")
        if table["user"].isna().any():
            raise DataError("attention table column 'user' has missing (NaN) values")
        ids = {u: self._user(u) for u in pd.unique(table["user"])}
        table = table.assign(user=table["user"].map(ids))
        if max_len is None:
            max_len = int(max(integers(table, c).max() for c in ("query", "key"))) + 1
        lengths = {u: min(len(self.dataset.sequence(u)), max_len) for u in pd.unique(table["user"])}
        return attention_table_to_arrays(table, lengths)

    def _history(self, user: Any, array: np.ndarray) -> np.ndarray:
        """The part of the user's history the attention covers (its shape checked)."""
        full = self.dataset.sequence(user)  # an empty one is an EmptyHistoryError
        history = full[-self.max_len :]
        if array.shape[-1] != len(history):
            raise DataError(
                f"attention for user {user!r} covers {array.shape[-1]} positions, but it "
                f"should cover the last {len(history)} items of their history "
                f"({len(full)} items, max_len {self.max_len})"
            )
        if self._entries:
            layers, heads = next(iter(self._entries.values())).attentions.shape[:2]
            if array.shape[:2] != (layers, heads):
                raise DataError(
                    f"attention for user {user!r} has {array.shape[0]} layers × "
                    f"{array.shape[1]} heads, that of user {self.users[0]!r} {layers} × "
                    f"{heads}: every user needs the same layers and heads"
                )
        return history

    def _rows(self, array: np.ndarray, what: str, axes: tuple[str, ...], user: Any) -> np.ndarray:
        """``array`` checked (finite, ≥ 0, in float32) with rows that sum to 1 (see
        ``normalize``), counting rescaled rows."""
        check_weights(array, what, axes=axes)
        hint = " (no rows for it in the table, or only zeros)" if axes == AXES_4 else ""
        out, count = normalised_rows(array, what, axes=axes, normalize=self._normalize, hint=hint)
        if count:
            self._rescaled[user] = self._rescaled.get(user, 0) + count
        return out

    def _warn_rescaled(self) -> None:
        if not self._rescaled:
            return
        users = list(self._rescaled)
        shown = ", ".join(map(repr, users[:5])) + (", …" if len(users) > 5 else "")
        warnings.warn(
            f"PrecomputedSource rescaled {sum(self._rescaled.values())} attention row(s) of "
            f"{len(users)} user(s) ({shown}) that did not sum to 1, so that each query's "
            "weights sum to 1; pass normalize=False to make this an error",
            UserWarning,
            stacklevel=3,
        )

    def _recommendations(
        self, recommendations: Recommendations, scores: Mapping[Any, Sequence[float]] | None
    ) -> tuple[dict[Any, list[Any]], dict[Any, Any]]:
        given: dict[Any, Any] = {}
        if isinstance(recommendations, pd.DataFrame):
            require(recommendations, RECOMMENDATION_COLUMNS, "recommendation table")
            if recommendations["user"].isna().any():
                raise DataError("recommendation table column 'user' has missing (NaN) values")
            groups = {
                self._user(u): rows for u, rows in recommendations.groupby("user", sort=False)
            }
            recs = {u: list(rows["item"]) for u, rows in groups.items()}
            if "score" in recommendations.columns:
                given = {u: rows["score"].tolist() for u, rows in groups.items()}
        elif isinstance(recommendations, Mapping):
            recs = {
                u: _item_list(u, v)
                for u, v in self._by_user(recommendations, "recommendations").items()
            }
        else:
            raise ArgumentTypeError(
                "recommendations must be a mapping user → item ids or a pandas DataFrame with "
                f"columns {list(RECOMMENDATION_COLUMNS)}, got {type(recommendations).__name__}"
            )
        given.update(self._by_user(scores, "scores") or {})
        return recs, given

    def _scores(self, user: Any, items: list[Any], given: Any) -> np.ndarray:
        if not items:
            raise DataError(f"user {user!r} has no recommendations")
        try:
            indices = self.catalog.encode(items)
        except UnknownItemError as err:
            raise UnknownItemError(f"recommendations for user {user!r}: {err}") from None
        if len(set(indices.tolist())) != len(indices):
            raise DataError(f"recommendations for user {user!r} list an item twice")
        if np.isin(indices, self.dataset.sequence(user)).all():
            raise NothingToRecommendError(
                f"all {len(items)} recommendations for user {user!r} ({items[:5]}) are already "
                "in their history, and explanations never recommend what a user already has: "
                "nothing is left to recommend"
            )
        if given is None:
            values = 1.0 / (1.0 + np.arange(len(indices)))
        else:
            values = floats(given, f"scores for user {user!r}").reshape(-1)
            if values.shape != indices.shape:
                raise DataError(
                    f"user {user!r} has {len(values)} scores for {len(indices)} recommendations"
                )
            if not np.isfinite(values).all():
                raise DataError(f"scores for user {user!r} have NaN or infinite values")
        out = np.full(self.catalog.n_items + 1, -np.inf)
        out[indices] = values
        return out

    def _feature_attention(
        self, user: Any, features: dict[Any, Any] | None, n: int
    ) -> np.ndarray | None:
        if features is None:
            return None
        what = f"feature attention for user {user!r}"
        array = float32s(features[user], what)
        expected = (n, len(self.field_names))
        if array.shape != expected:
            raise DataError(
                f"{what} has shape {array.shape}; expected {list(expected)} (history "
                f"positions × fields {self.field_names})"
            )
        return self._rows(array, what, FEATURE_AXES, user)

    # --- the AttentionSource protocol ------------------------------------------------------
    def entry(self, history: np.ndarray) -> _Entry:
        """The precomputed data for a history (the last ``max_len`` items are matched)."""
        key = tuple(np.asarray(history, dtype=np.int64).reshape(-1)[-self.max_len :].tolist())
        found = self._entries.get(key)
        if found is None:
            ids = [self.catalog.item_id(i) for i in key[-5:] if 1 <= i <= self.catalog.n_items]
            shown = ", ".join(map(str, self.users[:5])) + (", …" if len(self.users) > 5 else "")
            raise DataError(
                f"no precomputed attention for this history of {len(key)} items (ending "
                f"{ids}): PrecomputedSource cannot run a model, it holds only the histories of "
                f"its {len(self.users)} users ({shown})"
            )
        return found

    def run(self, histories: Sequence[np.ndarray]) -> SourceOutput:
        """The stored scores and attention of histories this source holds (left-padded)."""
        entries = [self.entry(h) for h in histories]
        n = max(e.attentions.shape[-1] for e in entries)
        layers, heads = entries[0].attentions.shape[:2]
        attentions = np.zeros((len(entries), layers, heads, n, n), dtype=np.float32)
        features = None
        if all(e.feature_attention is not None for e in entries):
            features = np.zeros((len(entries), n, len(self.field_names)), dtype=np.float32)
        for b, e in enumerate(entries):
            m = e.attentions.shape[-1]
            attentions[b, :, :, n - m :, n - m :] = e.attentions
            if features is not None:
                features[b, n - m :] = e.feature_attention
        return SourceOutput(
            scores=np.stack([e.scores for e in entries]),
            attentions=attentions,
            feature_attention=features,
        )
