"""The long attention table: one row per (user, layer, head, query, key) weight."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError

TABLE_COLUMNS = ("user", "layer", "head", "query", "key", "weight")
"""Columns of the long attention table: one row per (user, layer, head, query, key) weight."""


def require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """A :class:`DataError` naming the ``columns`` that ``table`` lacks."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{what} is missing column(s) {missing}; it has {list(table.columns)}")


def _shown(value: Any) -> Any:
    """numpy scalars as Python scalars, for messages."""
    return value.item() if isinstance(value, np.generic) else value


def integers(table: pd.DataFrame, column: str) -> np.ndarray:
    """``table[column]`` as int64; a :class:`DataError` naming the first value that is not
    an integer ≥ 0 (text, fractions, negatives, NaN)."""
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
    require(table, TABLE_COLUMNS, "attention table")
    if table.empty:
        raise DataError("attention table is empty: give one row per attention weight")
    weights = pd.to_numeric(table["weight"], errors="coerce").to_numpy(dtype=float)
    for bad, what in (
        (~np.isfinite(weights), "NaN, infinite or non-numeric"),
        (weights < 0, "negative"),
    ):
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(
                f"attention table column 'weight' has {int(bad.sum())} {what} value(s), e.g. "
                f"{_shown(table['weight'].iloc[row])!r} (row {row}); attention weights must be "
                "finite and ≥ 0"
            )
    index = {c: integers(table, c) for c in ("layer", "head", "query", "key")}
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
        with np.errstate(over="ignore"):  # too large for float32: inf, named by the caller
            array[index["layer"][rows], index["head"][rows], q, k] = weights[rows]
        out[user] = array
    return out
