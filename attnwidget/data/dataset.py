"""Dataset: users' chronological item sequences over a catalogue, with leave-one-out splits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, EmptyHistoryError, UnknownItemError, UnknownUserError
from .catalog import Catalog, _plain

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class SplitExample:
    """One evaluation case: a user's input history (dense indices) and the held-out target."""

    user: Any
    history: np.ndarray
    target: int


def _require_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{what} table is missing column(s) {missing}; it has {list(df.columns)}")


def _reject_nan(df: pd.DataFrame, column: str, what: str) -> None:
    bad = int(df[column].isna().sum())
    if bad:
        raise DataError(f"{what} column {column!r} has {bad} missing (NaN) value(s)")


class Dataset:
    """Interactions grouped into per-user chronological sequences over a :class:`Catalog`.

    Split (leave-one-out): for a user with history ``s`` of length ≥ 3 the test case
    is ``s[:-1] → s[-1]``, the validation case ``s[:-2] → s[-2]`` and training uses
    ``s[:-2]``. Users with fewer than 3 items are used for training only.
    Interactions with equal timestamps keep their order in the input table, so
    sequences are deterministic.
    """

    def __init__(
        self,
        catalog: Catalog,
        users: Sequence[Any],
        sequences: Sequence[np.ndarray],
        timestamps: Sequence[np.ndarray] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if len(users) != len(sequences):
            raise DataError(f"{len(users)} users but {len(sequences)} sequences")
        self.catalog = catalog
        self.users = [_plain(u) for u in users]
        self.sequences = [np.asarray(s, dtype=np.int64) for s in sequences]
        self.timestamps = list(timestamps) if timestamps is not None else None
        self.metadata = dict(metadata or {})
        self._user_index = {u: i for i, u in enumerate(self.users)}
        self._user_index_str = {str(u): i for i, u in enumerate(self.users)}

    @classmethod
    def from_pandas(
        cls,
        interactions: pd.DataFrame,
        items: pd.DataFrame | None = None,
        *,
        user_col: str = "user_id",
        item_col: str = "item_id",
        time_col: str | None = "timestamp",
        feature_cols: Sequence[str] = (),
        title_col: str | None = None,
        n_bins: int = 5,
        catalog: Catalog | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Dataset:
        """Build a dataset from an interaction table and an optional item table.

        Args:
            interactions: one row per (user, item) event.
            items: item table with ``item_col`` and the feature/title columns.
            user_col, item_col, time_col: column names; ``time_col=None`` keeps row order.
            feature_cols: item feature columns; numeric ones are put in ``n_bins`` quantile bins.
            title_col: item column with a readable title (defaults to the id).
            catalog: reuse an existing catalogue (e.g. a trained model's); interactions
                with items outside it are dropped with a count in ``metadata["dropped"]``.
        """
        if not isinstance(interactions, pd.DataFrame):
            raise DataError(
                f"interactions must be a pandas DataFrame, got {type(interactions).__name__}"
            )
        cols = [user_col, item_col] + ([time_col] if time_col else [])
        _require_columns(interactions, cols, "interactions")
        for col in cols:
            _reject_nan(interactions, col, "interactions")
        if interactions.empty:
            raise EmptyHistoryError("interactions table is empty")
        if items is not None:
            _require_columns(
                items, [item_col, *feature_cols] + ([title_col] if title_col else []), "items"
            )
            _reject_nan(items, item_col, "items")
        elif feature_cols or title_col:
            raise DataError("feature_cols and title_col need an items table")

        df = interactions[cols].reset_index(drop=True)
        meta = dict(metadata or {})
        if catalog is None:
            item_ids = pd.unique(df[item_col])
            if items is not None:  # keep catalogue-only items too (cold items)
                extra = items[item_col][~items[item_col].isin(item_ids)]
                item_ids = np.concatenate([item_ids, pd.unique(extra)])
            catalog = Catalog.build(item_ids, items, item_col, feature_cols, title_col, n_bins)
            df["_item"] = [catalog.index_of(i) for i in df[item_col]]
        else:
            known = df[item_col].map(lambda i: catalog._index_str.get(str(i), 0))
            meta["dropped"] = int((known == 0).sum())
            df = df.assign(_item=known)[known > 0]

        df["_row"] = np.arange(len(df))
        order = [user_col] + ([time_col] if time_col else []) + ["_row"]
        df = df.sort_values(order, kind="mergesort")
        users, sequences, times = [], [], []
        for user, group in df.groupby(user_col, sort=True):
            users.append(user)
            sequences.append(group["_item"].to_numpy(np.int64))
            times.append(group[time_col].to_numpy() if time_col else None)
        return cls(catalog, users, sequences, times if time_col else None, meta)

    # --- look-ups -------------------------------------------------------------------
    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return self.catalog.n_items

    @property
    def n_interactions(self) -> int:
        return int(sum(len(s) for s in self.sequences))

    @property
    def field_names(self) -> list[str]:
        """Feature fields (without the item id)."""
        return self.catalog.field_names

    def user_position(self, user: Any) -> int:
        """Row of ``user`` in :attr:`users`; accepts the id or its string form."""
        pos = self._user_index.get(_plain(user)) if not isinstance(user, list) else None
        if pos is None:
            pos = self._user_index_str.get(str(user))
        if pos is None:
            raise UnknownUserError(f"unknown user {user!r}: not among the {self.n_users} users")
        return pos

    def aligned_to(self, catalog: Catalog, *, unknown: str = "error") -> Dataset:
        """This dataset written in ``catalog``'s item indices (e.g. a trained model's).

        Returns ``self`` when both list the same items in the same order. Otherwise the
        histories are translated by item id; items the catalogue lacks raise an
        :class:`UnknownItemError` naming them (``unknown="error"``) or are left out of
        the histories (``unknown="drop"``; ``metadata["dropped_interactions"]`` counts them).
        """
        if unknown not in ("error", "drop"):
            raise ValueError(f"unknown must be 'error' or 'drop', got {unknown!r}")
        if catalog is self.catalog or catalog.item_ids == self.catalog.item_ids:
            return self
        mapping = np.zeros(self.n_items + 1, dtype=np.int64)
        mapping[1:] = [catalog._index_str.get(str(i), 0) for i in self.catalog.item_ids]
        sequences = [mapping[s] for s in self.sequences]
        missing = sorted(
            {int(i) for s, m in zip(self.sequences, sequences, strict=True) for i in s[m == 0]}
        )
        metadata = dict(self.metadata)
        if missing and unknown == "error":
            names = ", ".join(repr(self.catalog.item_id(i)) for i in missing[:5])
            raise UnknownItemError(
                f"{len(missing)} item(s) of the dataset are not in the model's catalogue "
                f"of {catalog.n_items} items: {names}{', …' if len(missing) > 5 else ''}"
            )
        timestamps = self.timestamps
        if missing:
            metadata["dropped_interactions"] = int(sum((s == 0).sum() for s in sequences))
            if timestamps is not None:
                timestamps = [t[s > 0] for t, s in zip(timestamps, sequences, strict=True)]
            sequences = [s[s > 0] for s in sequences]
        return Dataset(catalog, self.users, sequences, timestamps, metadata)

    def sequence(self, user: Any) -> np.ndarray:
        """The user's full chronological sequence of dense item indices."""
        seq = self.sequences[self.user_position(user)]
        if seq.size == 0:
            raise EmptyHistoryError(f"user {user!r} has an empty history")
        return seq

    @property
    def items(self) -> pd.DataFrame:
        """The item table: id, title and readable feature values."""
        return self.catalog.describe(range(1, self.n_items + 1))

    def history(self, user: Any) -> pd.DataFrame:
        """The user's history, oldest first, with titles, features and timestamps."""
        pos = self.user_position(user)
        table = self.catalog.describe(self.sequences[pos])
        if self.timestamps is not None:
            table.insert(1, "timestamp", self.timestamps[pos])
        return table

    # --- splits ---------------------------------------------------------------------
    def _train_parts(self) -> list[np.ndarray]:
        return [seq[:-2] if len(seq) >= 3 else seq for seq in self.sequences]

    def train_sequences(self) -> list[np.ndarray]:
        """Training sequences: each user's history without the valid/test items (≥ 2 items)."""
        return [part for part in self._train_parts() if len(part) >= 2]

    def split(self, name: str) -> list[SplitExample]:
        """Leave-one-out evaluation cases for ``"valid"`` or ``"test"``."""
        if name not in ("valid", "test"):
            raise ValueError(f"split must be 'valid' or 'test', got {name!r}")
        cut = 2 if name == "valid" else 1
        return [
            SplitExample(user, seq[:-cut], int(seq[-cut]))
            for user, seq in zip(self.users, self.sequences, strict=True)
            if len(seq) >= 3
        ]

    def item_popularity(self) -> np.ndarray:
        """Interaction counts per item index in the training part (index 0 is padding)."""
        counts = np.zeros(self.n_items + 1, dtype=np.int64)
        for part in self._train_parts():
            np.add.at(counts, part, 1)
        return counts

    def __repr__(self) -> str:
        fields = ", ".join(self.field_names) or "none"
        return (
            f"Dataset({self.n_users} users, {self.n_items} items, "
            f"{self.n_interactions} interactions, features: {fields})"
        )
