"""Checks at the adapter boundary: what the explanation maths needs from a source.

Rollout mixes each layer's head mean with the identity and divides by the row sums, and
importance reads the rows as shares of attention, so attention weights must be finite
and non-negative, and every query must give some weight to some key.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError

ROW_SUM_TOLERANCE = 1e-3
"""Rows of attention whose sum is this close to 1 are kept exactly as given."""

AXES = ("layer", "head", "query", "key")


def floats(value: Any, what: str) -> np.ndarray:
    """``value`` as a float64 array; a :class:`DataError` for text, ragged lists and the like."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataError(f"{what} is not a numeric array ({type(value).__name__}): {err}") from None


def float32s(value: Any, what: str) -> np.ndarray:
    """:func:`floats` cast to float32; values too large for it become ±inf (no numpy
    warning), for :func:`check_weights` to name."""
    with np.errstate(over="ignore"):
        return floats(value, what).astype(np.float32)


def _where(index: tuple[int, ...], axes: tuple[str, ...]) -> str:
    return ", ".join(f"{a} {int(i)}" for a, i in zip(axes, index, strict=True))


def check_weights(
    array: np.ndarray, what: str, *, axes: tuple[str, ...] = AXES, allow_nan: bool = False
) -> None:
    """Raise a :class:`DataError` for infinite (or, unless ``allow_nan``, NaN) or negative
    weights, naming the first bad cell by ``axes`` (the last ``len(axes)`` dimensions)."""
    bad = np.isinf(array) if allow_nan else ~np.isfinite(array)
    kinds = "infinite" if allow_nan else "NaN or infinite"
    for mask, problem in ((bad, kinds), (array < 0, "negative")):
        if mask.any():
            first = tuple(np.argwhere(mask)[0])
            raise DataError(
                f"{what} has {int(mask.sum())} {problem} weights, e.g. "
                f"{float(array[first])!r} at {_where(first[-len(axes) :], axes)}; attention "
                "weights must be finite and ≥ 0 (shares of attention, as a softmax gives)"
            )


def normalised_rows(
    array: np.ndarray, what: str, *, axes: tuple[str, ...] = AXES, normalize: bool, hint: str = ""
) -> tuple[np.ndarray, int]:
    """``array`` with every row (last axis) summing to 1, and how many rows were rescaled.

    Rows within :data:`ROW_SUM_TOLERANCE` of 1 are kept exactly. A row of zeros is a
    :class:`DataError` (``hint`` says where it may come from); so is any other sum when
    ``normalize`` is false. ``array`` must already pass :func:`check_weights`.
    """
    sums = array.sum(axis=-1, dtype=np.float64)
    row_axes = axes[:-1]
    if (empty := sums <= 0).any():
        first = tuple(np.argwhere(empty)[0])
        raise DataError(
            f"{what} gives no weight at all at {_where(first[-len(row_axes) :], row_axes)} "
            f"({int(empty.sum())} such row(s)){hint}: every query must attend to at least one key"
        )
    off = np.abs(sums - 1.0) > ROW_SUM_TOLERANCE
    if not off.any():
        return array, 0
    if not normalize:
        first = tuple(np.argwhere(off)[0])
        raise DataError(
            f"{what} has {int(off.sum())} row(s) that do not sum to 1, e.g. "
            f"{float(sums[first]):.4g} at {_where(first[-len(row_axes) :], row_axes)}; pass "
            "normalize=True to rescale them"
        )
    out = array.astype(np.float32, copy=True)
    out[off] /= sums[off][:, None].astype(np.float32)
    return out, int(off.sum())
