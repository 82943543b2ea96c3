"""Attention and recommendations computed elsewhere (e.g. by a TensorFlow model), shown as is.

:class:`PrecomputedSource` holds, per user, the attention over the last ``n`` items of the
user's history in a :class:`Dataset` and the recommendations made after it. It never runs
a model: it answers only for the histories it holds (``can_rerun = False``), so
explanations give NaN for occlusion, gradient and ERASER scores, and the widget offers no
what-if editing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data import Dataset
from ..errors import DataError, UnknownItemError
from .base import SourceOutput

TABLE_COLUMNS = ("user", "layer", "head", "query", "key", "weight")
"""Columns of the long attention table: one row per (user, layer, head, query, key) weight."""

RECOMMENDATION_COLUMNS = ("user", "item")
"""Columns of a recommendation table (``score`` optional), best first within a user."""

Attentions = Mapping[Any, np.ndarray] | pd.DataFrame
Recommendations = Mapping[Any, Sequence[Any]] | pd.DataFrame


@dataclass
class _Entry:
    user: Any
    attentions: np.ndarray  # [L, H, n, n]
    scores: np.ndarray  # [n_items + 1]
    feature_attention: np.ndarray | None  # [n, F]


def _require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{what} is missing column(s) {missing}; it has {list(table.columns)}")


def _shown(value: Any) -> Any:
    """numpy scalars as Python scalars, for messages."""
    return value.item() if isinstance(value, np.generic) else value


def _integers(table: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values % 1 != 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"attention table column {column!r} must hold integers ≥ 0, got "
            f"{_shown(table[column].iloc[row])!r} (row {row})"
        )
    return values.astype(np.int64)


def attention_table_to_arrays(
    table: pd.DataFrame, lengths: Mapping[Any, int]
) -> dict[Any, np.ndarray]:
    """``[layers, heads, n, n]`` arrays per user from a long table (absent cells are 0).

    Args:
        table: columns ``user, layer, head, query, key, weight``; ``query`` and ``key``
            are positions in the user's last ``n`` history items, oldest first.
        lengths: ``n`` per user.
    """
    _require(table, TABLE_COLUMNS, "attention table")
    if table.empty:
        raise DataError("attention table is empty: give one row per attention weight")
    weights = pd.to_numeric(table["weight"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(weights).all():
        row = int(np.argmax(~np.isfinite(weights)))
        raise DataError(
            f"attention table column 'weight' has {int((~np.isfinite(weights)).sum())} NaN, "
            f"infinite or non-numeric value(s), e.g. {_shown(table['weight'].iloc[row])!r} "
            f"(row {row})"
        )
    index = {c: _integers(table, c) for c in ("layer", "head", "query", "key")}
    keys = ["user", "layer", "head", "query", "key"]
    duplicated = table.duplicated(subset=keys).to_numpy()
    if duplicated.any():
        row = int(np.argmax(duplicated))
        cell = {k: _shown(table[k].iloc[row]) for k in keys}
        raise DataError(f"attention table has the same cell twice: {cell} (row {row})")
    n_layers, n_heads = int(index["layer"].max()) + 1, int(index["head"].max()) + 1
    out: dict[Any, np.ndarray] = {}
    rows_of = table.reset_index(drop=True).groupby("user", sort=False).indices
    for user, n in lengths.items():
        rows = rows_of.get(user, np.zeros(0, dtype=np.int64))
        q, k = index["query"][rows], index["key"][rows]
        if len(rows) and max(q.max(), k.max()) >= n:
            raise DataError(
                f"attention table has query/key position {int(max(q.max(), k.max()))} for user "
                f"{user!r}, whose attention covers {n} history items (positions 0..{n - 1})"
            )
        array = np.zeros((n_layers, n_heads, n, n), dtype=np.float32)
        array[index["layer"][rows], index["head"][rows], q, k] = weights[rows]
        out[user] = array
    return out


class PrecomputedSource:
    """An :class:`AttentionSource` over attention and recommendations computed elsewhere.

    Args:
        dataset: the users and their histories. A user's attention covers the last
            ``n = min(len(history), max_len)`` items of ``dataset.sequence(user)``.
        attentions: per user an array ``[layers, heads, n, n]`` (``[heads, n, n]`` and
            ``[n, n]`` mean one layer / one head), query × key, oldest item first; or a
            long table with columns ``user, layer, head, query, key, weight`` (cells not
            in the table are 0).
        recommendations: per user the recommended item ids, best first; or a table with
            columns ``user, item`` and optionally ``score`` (best first in row order).
        scores: per user the scores of the recommended items, in the same order. Without
            scores (here or in the table) the reciprocal rank ``1 / (1 + rank)`` stands in.
        feature_attention: per user ``[n, F]`` weights over ``field_names``.
        field_names: names of the feature-attention fields (default ``["item"]``).
        max_len: the longest history the attention covers (default: the largest ``n``).

    Users present in ``dataset`` but not here cannot be explained; :attr:`users` lists
    the ones that can. When two users have the same history, the first one's data answers.

    Raises:
        DataError: shapes that do not match the histories, NaN or infinite weights or
            scores, missing columns, users missing from recommendations.
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
    ) -> None:
        if not isinstance(dataset, Dataset):
            raise TypeError(f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}")
        self.dataset = dataset
        self.catalog = dataset.catalog
        arrays = self._arrays(attentions, max_len)
        if not arrays:
            raise DataError("attentions is empty: give at least one user's attention")
        longest = max(a.shape[-1] for a in arrays.values())
        self.max_len = int(max_len) if max_len is not None else longest
        recs, rec_scores = self._recommendations(recommendations, scores)
        self.field_names = list(field_names) if field_names is not None else ["item"]
        shapes = {a.shape[:2] for a in arrays.values()}
        if len(shapes) > 1:
            raise DataError(f"users have different numbers of [layers, heads]: {sorted(shapes)}")
        self._entries: dict[tuple[int, ...], _Entry] = {}
        self.users: list[Any] = []
        for user, array in arrays.items():
            history = dataset.sequence(user)[-self.max_len :]
            if array.shape[-1] != len(history):
                raise DataError(
                    f"attention for user {user!r} covers {array.shape[-1]} positions, but it "
                    f"should cover the last {len(history)} items of their history "
                    f"({len(dataset.sequence(user))} items, max_len {self.max_len})"
                )
            if user not in recs:
                raise DataError(f"no recommendations for user {user!r}")
            entry = _Entry(
                user,
                array,
                self._scores(user, recs[user], rec_scores.get(user)),
                self._feature_attention(user, feature_attention, len(history)),
            )
            self._entries.setdefault(tuple(history.tolist()), entry)
            self.users.append(user)
        extra = [u for u in recs if u not in arrays]
        if extra:
            raise DataError(f"recommendations for users without attention: {extra[:5]}")

    # --- validation ----------------------------------------------------------------------
    def _user(self, user: Any) -> Any:
        """The dataset's own id for ``user`` (accepts its string form)."""
        return self.dataset.users[self.dataset.user_position(user)]

    def _arrays(self, attentions: Attentions, max_len: int | None) -> dict[Any, np.ndarray]:
        dataset = self.dataset
        if isinstance(attentions, pd.DataFrame):
            _require(attentions, TABLE_COLUMNS, "attention table")
            if attentions.empty:
                raise DataError("attention table is empty: give one row per attention weight")
            if attentions["user"].isna().any():
                raise DataError("attention table column 'user' has missing (NaN) values")
            ids = {u: self._user(u) for u in pd.unique(attentions["user"])}
            table = attentions.assign(user=attentions["user"].map(ids))
            if max_len is None:
                positions = table[["query", "key"]].apply(pd.to_numeric, errors="coerce")
                max_len = int(np.nanmax(positions.to_numpy(dtype=float))) + 1
            users = pd.unique(table["user"])
            lengths = {u: min(len(dataset.sequence(u)), max_len) for u in users}
            return attention_table_to_arrays(table, lengths)
        if not isinstance(attentions, Mapping):
            raise TypeError(
                "attentions must be a mapping user → array or a pandas DataFrame with columns "
                f"{list(TABLE_COLUMNS)}, got {type(attentions).__name__}"
            )
        out = {}
        for user, value in attentions.items():
            key = self._user(user)
            array = np.asarray(value, dtype=np.float32)
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
            if bad := int(np.count_nonzero(~np.isfinite(array))):
                raise DataError(f"attention for user {user!r} has {bad} NaN or infinite weights")
            out[key] = array
        return out

    def _recommendations(
        self, recommendations: Recommendations, scores: Mapping[Any, Sequence[float]] | None
    ) -> tuple[dict[Any, list[Any]], dict[Any, Sequence[float]]]:
        given: dict[Any, Sequence[float]] = {}
        if isinstance(recommendations, pd.DataFrame):
            _require(recommendations, RECOMMENDATION_COLUMNS, "recommendation table")
            if recommendations["user"].isna().any():
                raise DataError("recommendation table column 'user' has missing (NaN) values")
            groups = {
                self._user(u): rows for u, rows in recommendations.groupby("user", sort=False)
            }
            recs = {u: list(rows["item"]) for u, rows in groups.items()}
            if "score" in recommendations.columns:
                given = {u: rows["score"].to_numpy(dtype=float) for u, rows in groups.items()}
        elif isinstance(recommendations, Mapping):
            recs = {self._user(u): list(items) for u, items in recommendations.items()}
        else:
            raise TypeError(
                "recommendations must be a mapping user → item ids or a pandas DataFrame with "
                f"columns {list(RECOMMENDATION_COLUMNS)}, got {type(recommendations).__name__}"
            )
        for u, values in (scores or {}).items():
            given[self._user(u)] = values
        return recs, given

    def _scores(self, user: Any, items: list[Any], given: Sequence[float] | None) -> np.ndarray:
        if not items:
            raise DataError(f"user {user!r} has no recommendations")
        try:
            indices = self.catalog.encode(items)
        except UnknownItemError as err:
            raise UnknownItemError(f"recommendations for user {user!r}: {err}") from None
        if len(set(indices.tolist())) != len(indices):
            raise DataError(f"recommendations for user {user!r} list an item twice")
        if given is None:
            values = 1.0 / (1.0 + np.arange(len(indices)))
        else:
            values = np.asarray(given, dtype=float).reshape(-1)
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
        self, user: Any, feature_attention: Mapping[Any, np.ndarray] | None, n: int
    ) -> np.ndarray | None:
        if feature_attention is None:
            return None
        found = {self._user(u): v for u, v in feature_attention.items()}
        if user not in found:
            raise DataError(f"no feature attention for user {user!r}")
        array = np.asarray(found[user], dtype=np.float32)
        expected = (n, len(self.field_names))
        if array.shape != expected:
            raise DataError(
                f"feature attention for user {user!r} has shape {array.shape}; expected "
                f"{list(expected)} (history positions × fields {self.field_names})"
            )
        if not np.isfinite(array).all():
            raise DataError(f"feature attention for user {user!r} has NaN or infinite weights")
        return array

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
