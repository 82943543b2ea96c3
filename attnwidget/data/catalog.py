"""The item catalogue: external id ↔ dense index, titles and encoded features.

Ids (of items here, of users in :class:`~attnwidget.data.Dataset`) follow one rule: no
two ids may be *ambiguous*, that is equal as values while printing differently (``1``
and ``1.0``, which pandas would merge) or printing the same while being different
values (``1`` and ``"1"``, which a look-up by text could not tell apart). Ambiguous ids
are a :class:`~attnwidget.errors.DataError` naming both when the catalogue or dataset
is built. A look-up finds an id by value first, then by its string form, so ``"13"``
finds the item ``13``; by the rule above that is never ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_int
from ..errors import ArgumentTypeError, DataError, UnknownItemError
from .features import PAD, FeatureField
from .search import TextIndex, index_of

ID_TYPES = (str, int, float, np.str_, np.integer, np.floating, np.bool_)
"""Types an id read from a table may have (numpy scalars become Python ones)."""


def _plain(value: Any) -> Any:
    """numpy scalars → Python scalars, so ids survive JSON and checkpoints."""
    return value.item() if isinstance(value, np.generic) else value


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _clash(what: str, first: Any, second: Any, where: str) -> str:
    """Why two ids cannot both be ids (``first`` came first)."""
    if str(first) == str(second) and first == second:
        return f"{what} {first!r}{where} appears more than once"
    reason = "are equal values that print differently" if first == second else "print the same"
    return (
        f"{what}s {first!r} ({type(first).__name__}) and {second!r} ({type(second).__name__})"
        f"{where} {reason}, so they cannot be told apart; give every id one type (e.g. all str)"
    )


class IdIndex:
    """Position of each id in a list, found by value or by string form.

    Raises:
        TypeError: an id is not hashable.
        DataError: two ids are ambiguous (see the module docstring) or repeated.
    """

    def __init__(self, ids: Sequence[Any], what: str, where: str = "") -> None:
        self._by_value: dict[Any, int] = {}
        self._by_str: dict[str, int] = {}
        for pos, value in enumerate(ids):
            if not _hashable(value):
                raise ArgumentTypeError(
                    f"{what} {value!r} is a {type(value).__name__}, not a hashable id"
                )
            text = str(value)
            seen = self._by_value.get(value, self._by_str.get(text))
            if seen is not None:
                raise DataError(_clash(what, ids[seen], value, where))
            self._by_value[value] = pos
            self._by_str[text] = pos

    def __len__(self) -> int:
        return len(self._by_value)

    def find(self, value: Any) -> int | None:
        """Position of ``value`` (or of the id whose string form it is), else ``None``."""
        value = _plain(value)
        pos = self._by_value.get(value) if _hashable(value) else None
        return self._by_str.get(str(value)) if pos is None else pos


def check_ids(values: pd.Series, what: str, where: str) -> None:
    """Check a column of ids: ``str``, ``int`` or ``float`` cells, none ambiguous with another.

    ``where`` (e.g. ``" in interactions column 'item_id'"``) follows the ids in a message.
    Columns of one numeric or string dtype are unambiguous by construction; object and
    categorical columns are checked cell by cell (one vectorised pass, then a slow one
    only to name the offending pair).

    Raises:
        DataError: an id of another type (a list, a date…) or two ambiguous ids.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype) or dtype.kind in "iufb":
        return
    if not (pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)):
        raise DataError(f"{what}s must be str, int or float, got a {dtype} column{where}")
    cells = values.to_numpy(dtype=object)
    kinds = set(map(type, cells))
    for kind in kinds:
        if not issubclass(kind, ID_TYPES):
            row = next(k for k, v in enumerate(cells) if type(v) is kind)
            raise DataError(
                f"{what} {cells[row]!r} ({kind.__name__}, row {row + 1}){where}: ids must be "
                "str, int or float"
            )
    if any(issubclass(kind, np.generic) for kind in kinds):
        cells = np.array([_plain(v) for v in cells], dtype=object)
    by_value = pd.factorize(cells)[0].astype(np.int64)
    by_text = pd.factorize(cells.astype(str))[0].astype(np.int64)
    pairs, first = np.unique(by_value * (by_text.max(initial=0) + 1) + by_text, return_index=True)
    if not len(pairs) == by_value.max(initial=-1) + 1 == by_text.max(initial=-1) + 1:
        IdIndex(cells[np.sort(first)].tolist(), what, where)  # raises, naming a pair


def _one_row_per_item(items: pd.DataFrame, item_col: Any, columns: Sequence[Any]) -> pd.DataFrame:
    """``items[[item_col, *columns]]`` with repeated identical rows dropped.

    Raises:
        DataError: a cell holds a list, dict… (not one value), or two rows of one item
            disagree on a column.
    """
    table = items[[item_col, *columns]]
    for col in columns:
        cells = table[col]
        if pd.api.types.is_object_dtype(cells.dtype):
            bad = ~cells.map(pd.api.types.is_scalar).to_numpy(dtype=bool)
            if bad.any():
                row = int(np.argmax(bad))
                raise DataError(
                    f"items column {col!r} holds {cells.iloc[row]!r} "
                    f"({type(cells.iloc[row]).__name__}) for item {table[item_col].iloc[row]!r}; "
                    "each cell must be one value (join several into one string)"
                )
    table = table.drop_duplicates()
    repeated = table[item_col].duplicated(keep=False).to_numpy()
    if repeated.any():
        item = table[item_col].iloc[int(np.argmax(repeated))]
        rows = table[repeated & (table[item_col] == item).to_numpy()]
        col = next(c for c in columns if rows[c].nunique(dropna=False) > 1)
        first, second = (_plain(v) for v in pd.unique(rows[col])[:2])
        raise DataError(
            f"items table has {len(rows)} rows for item {_plain(item)!r} that disagree on {col!r} "
            f"({first!r} vs {second!r}); keep one row per item, e.g. "
            f"items.drop_duplicates({item_col!r}, keep='last')"
        )
    return table


class Catalog:
    """Items known to a dataset or model.

    Index 0 is padding; item ``i`` (1-based) has id ``item_ids[i - 1]``.
    ``features[i, f]`` is the index of item ``i``'s value in ``fields[f]``.

    Raises:
        TypeError: an item id is not hashable.
        DataError: ambiguous or repeated ids (see the module docstring), or titles or
            features that do not fit the ids and fields.
    """

    def __init__(
        self,
        item_ids: Sequence[Any],
        titles: Sequence[str],
        fields: Sequence[FeatureField],
        features: np.ndarray,
    ) -> None:
        self.item_ids = [_plain(i) for i in item_ids]
        self.titles = [str(t) for t in titles]
        self.fields = list(fields)
        self._index = IdIndex(self.item_ids, "item id")
        if len(self.titles) != len(self.item_ids):
            raise DataError(f"{len(self.titles)} titles for {len(self.item_ids)} items")
        self.features = _feature_matrix(features, len(self.item_ids), self.fields)

    @classmethod
    def build(
        cls,
        item_ids: Iterable[Any],
        items: pd.DataFrame | None,
        item_col: Any,
        feature_cols: Sequence[Any],
        title_col: Any | None,
        n_bins: int = 5,
    ) -> Catalog:
        """Catalogue of ``item_ids`` (in order) with features read from ``items``.

        Field names are the string form of the feature columns. Rows of ``items`` that
        repeat an item are fine when identical; items missing from ``items`` get
        "unknown" features and their id as title.
        """
        ids = list(item_ids)
        n_bins = check_int("n_bins", n_bins, 1)
        if items is None:
            if feature_cols or title_col is not None:
                raise DataError("feature_cols and title_col need an items table")
            return cls(ids, [str(i) for i in ids], [], np.zeros((len(ids) + 1, 0)))
        used = list(dict.fromkeys([*feature_cols, *([] if title_col is None else [title_col])]))
        table = _one_row_per_item(items, item_col, used)
        fields = [FeatureField.fit(str(col), table[col], n_bins) for col in feature_cols]
        table = table.set_index(item_col).reindex(ids)
        encoded = np.zeros((len(ids) + 1, len(fields)), dtype=np.int64)
        for f, (col, fld) in enumerate(zip(feature_cols, fields, strict=True)):
            encoded[1:, f] = fld.encode(table[col])
        if title_col is not None:
            titles = [
                str(i) if pd.isna(t) else str(t) for i, t in zip(ids, table[title_col], strict=True)
            ]
        else:
            titles = [str(i) for i in ids]
        return cls(ids, titles, fields, encoded)

    @property
    def n_items(self) -> int:
        """Number of real items (padding excluded)."""
        return len(self.item_ids)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def _find(self, item_id: Any) -> int:
        """Dense index of an id (by value, else by string form), or 0 when unknown."""
        pos = self._index.find(item_id)
        return 0 if pos is None else pos + 1

    def index_of(self, item_id: Any) -> int:
        """Dense index of an external item id (or of its string form, e.g. ``"13"``)."""
        index = self._find(item_id)
        if not index:
            raise UnknownItemError(
                f"unknown item {item_id!r}: not in the catalogue of {self.n_items} items"
            )
        return index

    def encode(self, item_ids: Iterable[Any]) -> np.ndarray:
        """Dense indices of a list of external item ids."""
        return np.array([self.index_of(i) for i in item_ids], dtype=np.int64)

    def item_id(self, index: int) -> Any:
        if not 1 <= index <= self.n_items:
            raise UnknownItemError(f"item index {index} is outside 1..{self.n_items}")
        return self.item_ids[index - 1]

    def title(self, index: int) -> str:
        return self.titles[index - 1] if 1 <= index <= self.n_items else "<pad>"

    def feature_labels(self, index: int, table: np.ndarray | None = None) -> dict[str, str]:
        """Readable feature values of one item, by field name (from ``table``, an edited copy
        of :attr:`features`, when given)."""
        values = self.features if table is None else table
        return {f.name: f.label(int(values[index, k])) for k, f in enumerate(self.fields)}

    def describe(self, indices: Iterable[int]) -> pd.DataFrame:
        """Item id, title and feature labels of the given indices (one row each)."""
        rows = [
            {"item_id": self.item_id(i), "title": self.title(i), **self.feature_labels(i)}
            for i in indices
            if i != PAD
        ]
        return pd.DataFrame(rows, columns=["item_id", "title", *self.field_names])

    def search(self, query: str, limit: int = 20) -> tuple[list[int], bool]:
        """Dense indices of items whose id or title starts with ``query`` (first, in sorted
        order) or contains it, case-insensitive plain text; at most ``limit``, and whether
        more items match. The index is built on the first search (~1 s at 500,000 items)."""
        index = index_of(self, lambda: TextIndex([[str(i) for i in self.item_ids], self.titles]))
        rows, more = index.search(query, limit)
        return [r + 1 for r in rows], more

    def to_state(self) -> dict[str, Any]:
        return {
            "item_ids": self.item_ids,
            "titles": self.titles,
            "fields": [f.to_state() for f in self.fields],
            "features": self.features.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Catalog:
        fields = [FeatureField.from_state(s) for s in state["fields"]]
        return cls(state["item_ids"], state["titles"], fields, np.array(state["features"]))


def _feature_matrix(features: Any, n_items: int, fields: Sequence[FeatureField]) -> np.ndarray:
    """``features`` as an int64 ``[n_items + 1, len(fields)]`` matrix of valid field indices."""
    try:
        matrix = np.asarray(features, dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as e:
        raise DataError(f"item features are not an integer matrix: {e}") from None
    if matrix.shape != (n_items + 1, len(fields)):
        raise DataError(
            f"item features have shape {matrix.shape}, expected ({n_items + 1}, {len(fields)}): "
            "one row per item plus padding, one column per field"
        )
    for f, fld in enumerate(fields):
        column = matrix[:, f]
        if column.size and (column.min() < 0 or column.max() >= fld.size):
            raise DataError(
                f"feature field {fld.name!r} has value indices outside 0..{fld.size - 1}"
            )
    return matrix
