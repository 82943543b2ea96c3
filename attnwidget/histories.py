"""Histories as dense item indices: checked index arrays and encoded item ids.

Shared by ``models/`` and ``explain/``; index 0 is padding, items are ``1..n_items``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .data import Catalog
from .errors import DataError, EmptyHistoryError


def dense_history(values: Any, n_items: int, what: str = "history") -> np.ndarray:
    """``values`` as a 1-D ``int64`` array of item indices in ``1..n_items``.

    Integral floats (``3.0``) are accepted; anything else is a DataError naming ``what``,
    the position and the value (0 is the padding index, never an item).

    Raises:
        DataError: not 1-D, not integers, or outside ``1..n_items``.
        EmptyHistoryError: no items.
    """
    if isinstance(values, str | bytes | dict | set) or not isinstance(values, Iterable):
        raise DataError(
            f"{what} must be a 1-D sequence of item indices, got "
            f"{type(values).__name__} {values!r:.60}"
        )
    array_like = isinstance(values, Sequence) or hasattr(values, "__array__")
    try:
        array = np.asarray(values if array_like else list(values))
    except ValueError:
        raise DataError(f"{what} must be a flat list of item indices, got nested lists") from None
    if array.ndim != 1:
        raise DataError(f"{what} must be 1-D, got an array of shape {array.shape}")
    if array.size == 0:
        raise EmptyHistoryError(f"{what} is empty")
    if array.dtype.kind not in "iu":
        whole = array.dtype.kind == "f" and np.isfinite(array).all() and (array % 1 == 0).all()
        if not whole:
            items = array.tolist()
            position = next(i for i, v in enumerate(items) if not _is_index(v))
            raise DataError(
                f"{what} holds {items[position]!r} at position {position}: expected integer "
                f"item indices 1..{n_items}"
            )
        array = array.astype(np.int64)
    outside = (array < 1) | (array > n_items)
    if outside.any():
        position = int(np.argmax(outside))
        value = int(array[position])
        hint = " (0 is the padding index, not an item)" if value == 0 else ""
        raise DataError(
            f"{what} holds item index {value} at position {position}, outside 1..{n_items}{hint}"
        )
    return array.astype(np.int64, copy=False)


def _is_index(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, int | np.integer):
        return True
    return isinstance(value, float | np.floating) and np.isfinite(value) and value % 1 == 0


def encode_history(catalog: Catalog, history: Any, what: str = "history") -> np.ndarray:
    """Dense indices of a history of external item ids (oldest first).

    Raises:
        DataError: ``history`` is a string, a set, a mapping, not iterable, or not flat.
        EmptyHistoryError: no items.
        UnknownItemError: an id the catalogue lacks (named in the message).
    """
    if isinstance(history, str | bytes):
        raise DataError(
            f"{what} must be a list of item ids, got the string {history!r:.60}; "
            "wrap a single id in a list"
        )
    if isinstance(history, dict | set | frozenset) or not isinstance(history, Iterable):
        raise DataError(
            f"{what} must be an ordered list of item ids (oldest first), got "
            f"{type(history).__name__} {history!r:.60}"
        )
    if isinstance(history, np.ndarray) and history.ndim != 1:
        raise DataError(f"{what} must be 1-D, got an array of shape {history.shape}")
    ids = list(history)
    nested = next((i for i in ids if isinstance(i, list | tuple | set | dict | np.ndarray)), None)
    if nested is not None:
        raise DataError(f"{what} must be a flat list of item ids, got the element {nested!r:.60}")
    if not ids:
        raise EmptyHistoryError(f"{what} is empty: nothing to score")
    return catalog.encode(ids)
