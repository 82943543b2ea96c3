"""Dataset: users' chronological item sequences over a catalogue, with leave-one-out splits."""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_int
from ..errors import (
    ArgumentTypeError,
    ArgumentValueError,
    DataError,
    EmptyHistoryError,
    UnknownItemError,
    UnknownUserError,
)
from .catalog import Catalog, IdIndex, _hashable, _plain, check_ids
from .search import TextIndex, index_of

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class SplitExample:
    """One evaluation case: a user's input history (dense indices) and the held-out target."""

    user: Any
    history: np.ndarray
    target: int


RESERVED_FIELDS = ("item_id", "title", "timestamp", "item")
"""Names attnwidget gives columns of item tables and model fields; features may not use them."""


def _require_table(table: Any, what: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(table).__name__}")
    return table


def _require_columns(df: pd.DataFrame, columns: Sequence[Any], what: str, hint: str = "") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"{what} table is missing column(s) {missing}; it has {list(df.columns)}{hint}"
        )
    repeated = [c for c in dict.fromkeys(columns) if (df.columns == c).sum() > 1]
    if repeated:
        raise DataError(f"{what} table has several columns named {repeated[0]!r}")


def _reject_nan(df: pd.DataFrame, column: Any, what: str, user_col: Any = None) -> None:
    missing = df[column].isna().to_numpy()
    if missing.any():
        row = int(np.argmax(missing))
        user = f" (user {df[user_col].iloc[row]!r})" if user_col is not None else ""
        raise DataError(
            f"{what} column {column!r} has {int(missing.sum())} missing (NaN) value(s), "
            f"the first in row {row + 1}{user}"
        )


def check_columns(user_col: Any, item_col: Any, time_col: Any) -> None:
    """Column-name parameters must be hashable labels naming three different columns.

    Raises:
        TypeError: a name that cannot be a column label (a list, ``None`` for a required one).
        DataError: two parameters name the same column.
    """
    named = {"user_col": user_col, "item_col": item_col}
    if time_col is not None:
        named["time_col"] = time_col
    seen: dict[Any, str] = {}
    for param, col in named.items():
        if col is None or not _hashable(col):
            raise ArgumentTypeError(f"{param} must be a column name, got {col!r}")
        if col in seen:
            raise DataError(f"{seen[col]} and {param} both name column {col!r}; use two columns")
        seen[col] = param


def _feature_columns(
    feature_cols: Any, title_col: Any, user_col: Any, item_col: Any, time_col: Any
) -> list[Any]:
    """``feature_cols`` as a list, checked: item-table columns, each once, none an id or time.

    ``title_col`` may also be a feature (its text is then both the title and a category).
    """
    if isinstance(feature_cols, str | bytes) or not isinstance(feature_cols, Iterable):
        raise ArgumentTypeError(
            f"feature_cols must be a list of column names, got {feature_cols!r}"
        )
    if title_col is not None and not _hashable(title_col):
        raise ArgumentTypeError(f"title_col must be a column name, got {title_col!r}")
    features = list(feature_cols)
    roles = {item_col: "the item id column (item_col); the model always uses the id itself"}
    roles[user_col] = "the user column (user_col); features are columns of the items table"
    if time_col is not None:
        roles[time_col] = "the time column (time_col); features are columns of the items table"
    names: dict[str, Any] = {}
    for col in features:
        if not _hashable(col):
            raise ArgumentTypeError(f"feature_cols must hold column names, got {col!r}")
        if col in roles:
            raise DataError(f"feature_cols includes {col!r}, {roles[col]}")
        name = str(col)
        if name in names:
            raise DataError(f"feature_cols names {col!r} twice (as {names[name]!r} and {col!r})")
        if name in RESERVED_FIELDS:
            raise DataError(
                f"feature column {col!r} clashes with a name attnwidget uses for its own "
                f"columns ({', '.join(RESERVED_FIELDS)}); rename it"
            )
        names[name] = col
    return features


def _time_kind(kind: type) -> str | None:
    """Kind of a time-column cell type: "number", "date", "text", or ``None`` if unusable."""
    if issubclass(kind, bool | np.bool_):
        return None
    if issubclass(kind, numbers.Real):
        return "number"
    if issubclass(kind, dt.date | np.datetime64):
        return "date"
    return "text" if issubclass(kind, str) else None


def _parse_dates(values: pd.Series, column: Any) -> pd.Series:
    try:
        return pd.to_datetime(values, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # mixed time zones, or naive and aware together
        raise DataError(
            f"time column {column!r} mixes time zones (e.g. {values.iloc[0]!r}); convert it "
            "first, e.g. with pd.to_datetime(column, utc=True)"
        ) from None


def _time_key(values: pd.Series, column: Any) -> pd.Series:
    """The time column as numbers or datetimes that sort chronologically.

    Numeric and datetime columns are used as they are. Text is parsed: all numbers
    (``"1000000100"``) sort as numbers, all ISO 8601 dates as datetimes.

    Raises:
        DataError: booleans, other types, mixed kinds (numbers and text, numbers and
            dates) or text that is neither a number nor an ISO 8601 date.
    """
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        raise DataError(f"time column {column!r} holds booleans; expected numbers or datetimes")
    if pd.api.types.is_numeric_dtype(dtype) or dtype.kind in "mM":
        return values
    cells = values.astype(object)
    examples: dict[str | None, Any] = {}
    for kind in set(map(type, cells)):
        row = next(k for k, v in enumerate(cells) if type(v) is kind)
        examples.setdefault(_time_kind(kind), (cells.iloc[row], row))
    if None in examples:
        value, row = examples[None]
        raise DataError(
            f"time column {column!r} holds {value!r} ({type(value).__name__}, row {row + 1}); "
            "expected numbers, datetimes, or text of either"
        )
    if len(examples) > 1:
        (a, (va, _)), (b, (vb, _)) = sorted(examples.items())[:2]
        raise DataError(
            f"time column {column!r} mixes {a} (e.g. {va!r}) and {b} (e.g. {vb!r}); "
            "give it one type"
        )
    if "number" in examples:
        return pd.to_numeric(cells)
    if "date" in examples:
        return _parse_dates(cells, column)
    as_numbers = pd.to_numeric(cells, errors="coerce")
    if as_numbers.notna().all():
        return as_numbers
    as_dates = _parse_dates(cells, column)
    if as_dates.notna().all():
        return as_dates
    if as_numbers.notna().any() and as_dates.notna().any():
        va = cells[as_numbers.notna()].iloc[0]
        vb = cells[as_dates.notna()].iloc[0]
        raise DataError(
            f"time column {column!r} mixes numbers (e.g. {va!r}) and dates (e.g. {vb!r}) as text"
        )
    row = int(np.argmax((as_numbers.isna() & as_dates.isna()).to_numpy()))
    raise DataError(
        f"time column {column!r} holds {cells.iloc[row]!r} (row {row + 1}), neither a number "
        "nor an ISO 8601 date/time"
    )


def _sort_rank(ids: Sequence[Any]) -> np.ndarray:
    """Rank of each id in sorted order (numbers before text when both occur)."""
    keys = [_plain(i) for i in ids]
    try:
        order = sorted(range(len(keys)), key=keys.__getitem__)
    except TypeError:
        order = sorted(range(len(keys)), key=lambda k: (isinstance(keys[k], str), keys[k]))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return rank


def _checked_sequence(seq: Any, user: Any, n_items: int) -> np.ndarray:
    try:
        out = np.asarray(seq, dtype=np.int64)
    except (TypeError, ValueError):
        raise DataError(f"sequence of user {user!r} is not a list of item indices") from None
    if out.ndim != 1:
        raise DataError(f"sequence of user {user!r} has shape {out.shape}; expected 1-D")
    if out.size and (out.min() < 1 or out.max() > n_items):
        bad = out[(out < 1) | (out > n_items)][0]
        raise DataError(f"sequence of user {user!r} has item index {bad} outside 1..{n_items}")
    return out


def _catalog_ids(item_ids: Sequence[Any], items: pd.DataFrame | None, item_col: Any) -> list:
    """Items of the interactions, then the items table's other (cold) items, checked together."""
    ids = list(item_ids)
    if items is None:
        return ids
    listed = list(pd.unique(items[item_col]))
    check_ids(
        pd.Series([*ids, *listed], dtype=object),
        "item id",
        f" across the interactions and items tables (column {item_col!r})",
    )
    known = set(ids)
    return ids + [i for i in listed if i not in known]


def _sequences(
    users: pd.Series, index: np.ndarray, times: pd.Series | None
) -> tuple[list[Any], list[np.ndarray], list[np.ndarray] | None]:
    """Users in sorted order with their items (dense ``index``; 0 = left out), oldest first.

    Equal times keep the row order of the input table.
    """
    codes, uniques = pd.factorize(users)
    rank = _sort_rank(list(uniques))[codes]
    keys = pd.DataFrame({"user": rank})
    if times is not None:
        keys["time"] = times.reset_index(drop=True)
    keys["row"] = np.arange(len(rank))
    keys = keys[index > 0]
    order = keys.sort_values(list(keys.columns), kind="mergesort")["row"].to_numpy()
    starts = np.flatnonzero(np.r_[True, rank[order][1:] != rank[order][:-1]])
    user_list = [uniques[c] for c in codes[order][starts]]
    sequences = np.split(index[order], starts[1:])
    stamps = None if times is None else np.split(times.to_numpy()[order], starts[1:])
    return user_list, sequences, stamps


class Dataset:
    """Interactions grouped into per-user chronological sequences over a :class:`Catalog`.

    Split (leave-one-out): for a user with history ``s`` of length ≥ 3 the test case
    is ``s[:-1] → s[-1]``, the validation case ``s[:-2] → s[-2]`` and training uses
    ``s[:-2]``. Users with fewer than 3 items are used for training only.
    Interactions with equal timestamps keep their order in the input table, so
    sequences are deterministic. User ids follow the same rule as item ids (see
    :mod:`attnwidget.data.catalog`): unambiguous, found by value or string form.
    """

    def __init__(
        self,
        catalog: Catalog,
        users: Sequence[Any],
        sequences: Sequence[np.ndarray],
        timestamps: Sequence[np.ndarray] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(catalog, Catalog):
            raise ArgumentTypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        if len(users) != len(sequences):
            raise DataError(f"{len(users)} users but {len(sequences)} sequences")
        if timestamps is not None and len(timestamps) != len(users):
            raise DataError(f"{len(timestamps)} timestamp lists for {len(users)} users")
        self.catalog = catalog
        self.users = [_plain(u) for u in users]
        self._user_index = IdIndex(self.users, "user id")
        self.sequences = [
            _checked_sequence(s, u, catalog.n_items)
            for u, s in zip(self.users, sequences, strict=True)
        ]
        self.timestamps = list(timestamps) if timestamps is not None else None
        for user, seq, times in zip(
            self.users, self.sequences, self.timestamps or (), strict=False
        ):
            if len(times) != len(seq):
                raise DataError(f"user {user!r} has {len(seq)} items but {len(times)} timestamps")
        self.metadata = dict(metadata or {})

    @classmethod
    def from_pandas(
        cls,
        interactions: pd.DataFrame,
        items: pd.DataFrame | None = None,
        *,
        user_col: Any = "user_id",
        item_col: Any = "item_id",
        time_col: Any | None = "timestamp",
        feature_cols: Sequence[Any] = (),
        title_col: Any | None = None,
        n_bins: int = 5,
        catalog: Catalog | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Dataset:
        """Build a dataset from an interaction table and an optional item table.

        Args:
            interactions: one row per (user, item) event.
            items: item table with ``item_col`` and the feature/title columns; rows
                that repeat an item must agree. Items it lacks get "unknown" features.
            user_col, item_col, time_col: three different columns; ``time_col=None``
                keeps row order. The time column holds numbers, datetimes, or text of
                either (numeric text sorts as numbers, ISO 8601 text as datetimes).
            feature_cols: item feature columns; numeric ones are put in ``n_bins``
                quantile bins (NaN and ±inf → "unknown"), others get a vocabulary.
            title_col: item column with a readable title (defaults to the id); it may
                also be one of ``feature_cols``.
            catalog: reuse an existing catalogue (e.g. a trained model's) instead of
                ``items``; interactions with items outside it are dropped with a count
                in ``metadata["dropped"]``. Ids are matched by value, else string form.

        Raises:
            DataError: a table that is not a DataFrame, missing or repeated columns,
                NaN ids or times, ambiguous ids (``1`` and ``"1"``), an unusable time
                column, conflicting item rows, or bad ``feature_cols``.
            TypeError: a parameter of the wrong type (``n_bins="5"``, ``feature_cols="a"``).
        """
        _require_table(interactions, "interactions")
        if items is not None:
            _require_table(items, "items")
            if catalog is not None:
                raise DataError("pass items or catalog, not both (a catalogue has its features)")
        if catalog is not None and not isinstance(catalog, Catalog):
            raise ArgumentTypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        n_bins = check_int("n_bins", n_bins, 1)
        check_columns(user_col, item_col, time_col)
        features = _feature_columns(feature_cols, title_col, user_col, item_col, time_col)
        if items is None and (features or title_col is not None):
            raise DataError("feature_cols and title_col need an items table")
        cols = [user_col, item_col] + ([] if time_col is None else [time_col])
        only_time = time_col is not None and time_col not in interactions.columns
        hint = "; pass time_col=None to keep the row order" if only_time else ""
        _require_columns(interactions, cols, "interactions", hint)
        for col in cols:
            _reject_nan(interactions, col, "interactions", user_col if col == time_col else None)
        if interactions.empty:
            raise EmptyHistoryError("interactions table is empty")
        for col, what in ((user_col, "user id"), (item_col, "item id")):
            check_ids(interactions[col], what, f" in interactions column {col!r}")
        times = None if time_col is None else _time_key(interactions[time_col], time_col)
        if items is not None:
            title = [] if title_col is None else [title_col]
            _require_columns(items, [item_col, *features, *title], "items")
            if items.empty:
                raise DataError("items table is empty; pass items=None to use no item table")
            _reject_nan(items, item_col, "items")
            check_ids(items[item_col], "item id", f" in items column {item_col!r}")

        meta = dict(metadata or {})
        item_codes, item_ids = pd.factorize(interactions[item_col])
        reuse = catalog is not None
        if catalog is None:
            ids = _catalog_ids(item_ids, items, item_col)
            catalog = Catalog.build(ids, items, item_col, features, title_col, n_bins)
        index = np.array([catalog._find(i) for i in item_ids], dtype=np.int64)[item_codes]
        if reuse:
            meta["dropped"] = int((index == 0).sum())
            if not index.any():
                raise EmptyHistoryError(
                    f"none of the {len(index)} interactions' items is in the catalogue of "
                    f"{catalog.n_items} items (e.g. {_plain(item_ids[0])!r})"
                )
        users, sequences, stamps = _sequences(interactions[user_col], index, times)
        return cls(catalog, users, sequences, stamps, meta)

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
        pos = self._user_index.find(user)
        if pos is None:
            raise UnknownUserError(f"unknown user {user!r}: not among the {self.n_users} users")
        return pos

    def search_users(self, query: str, limit: int = 20) -> tuple[list[int], bool]:
        """Rows in :attr:`users` of users whose id starts with ``query`` (first, in sorted
        order) or contains it, case-insensitive plain text; at most ``limit``, and whether
        more users match. The index is built on the first search (~1 s at 1,000,000 users)."""
        return index_of(self, lambda: TextIndex([[str(u) for u in self.users]])).search(
            query, limit
        )

    def aligned_to(self, catalog: Catalog, *, unknown: str = "error") -> Dataset:
        """This dataset written in ``catalog``'s item indices (e.g. a trained model's).

        Returns ``self`` when both list the same items in the same order. Otherwise the
        histories are translated by item id; items the catalogue lacks raise an
        :class:`UnknownItemError` naming them (``unknown="error"``) or are left out of
        the histories (``unknown="drop"``; ``metadata["dropped_interactions"]`` counts them).
        """
        if not isinstance(catalog, Catalog):
            raise ArgumentTypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        if unknown not in ("error", "drop"):
            raise ArgumentValueError(f"unknown must be 'error' or 'drop', got {unknown!r}")
        if catalog is self.catalog or catalog.item_ids == self.catalog.item_ids:
            return self
        mapping = np.zeros(self.n_items + 1, dtype=np.int64)
        mapping[1:] = [catalog._find(i) for i in self.catalog.item_ids]
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
            raise ArgumentValueError(f"split must be 'valid' or 'test', got {name!r}")
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
