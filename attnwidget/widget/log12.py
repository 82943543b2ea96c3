"""12-bit logarithmic codes for attention weights: 1.5 bytes a weight, 3 significant digits.

Attention weights are non-negative and span many orders of magnitude within a row, so each
row is sent as its largest value (``float32``) plus one 12-bit code per weight, the weight's
log10 distance below that maximum on a grid of ``DECADES / STEPS`` decades:

    code 0        the weight is 0 (or below ``10**-DECADES`` of its row's maximum)
    code 1..4094  weight = row max * 10 ** ((code - 4094) * DECADES / STEPS)
    code 4095     NaN (a missing weight)

Precision (what the views can show, tested on both sides): every weight at or above
``10**-DECADES`` of its row's maximum comes back within ``MAX_RELATIVE_ERROR`` (0.17 %) of
its value, so a tooltip's three significant digits change by at most one or two units of the
last digit and a heatmap colour (256 levels) by at most one level; smaller weights come back
as 0. Two codes share three bytes, little end first: ``a & 0xff``, ``a >> 8 | (b & 0xf) << 4``,
``b >> 4``.

The ``"lower"`` layout sends only the lower triangle (diagonal included) of square matrices,
row by row: all a causal model can have. Zeros above the diagonal come back as zeros.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ArgumentValueError

DECADES = 6
STEPS = 4093  # codes 1..4094 span DECADES decades
NAN_CODE = 4095
MAX_RELATIVE_ERROR = 0.0017  # half a grid step (10 ** (0.5 * DECADES / STEPS) - 1 = 0.169 %)
# plus float32 rounding
LAYOUTS = ("full", "lower")


def can_encode(array: np.ndarray) -> bool:
    """Whether ``array`` fits the codes: a non-empty float array of ≥ 2 dims, no negative
    or infinite value (NaN is fine)."""
    if array.dtype.kind != "f" or array.ndim < 2 or array.size == 0:
        return False
    return not (np.any(array < 0) or np.any(np.isinf(array)))


def is_lower(array: np.ndarray) -> bool:
    """Whether every matrix of ``array`` (last two dims, square) is zero above its diagonal."""
    n = array.shape[-1]
    if array.ndim < 2 or array.shape[-2] != n:
        return False
    upper = ~np.tri(n, dtype=bool)
    return not np.any(array.reshape(-1, n, n)[:, upper])


def _row_values(array: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``[R, n]`` and, per sent value, its row (flat); the lower layout keeps j <= i."""
    n = array.shape[-1]
    rows = array.reshape(-1, n)
    if layout == "full":
        return rows.ravel(), np.repeat(np.arange(len(rows)), n)
    mask = np.tri(n, dtype=bool)
    matrices = array.reshape(-1, n, n)
    row_of = np.nonzero(mask)[0]  # the row of each lower-triangle entry, row-major
    first_row = np.arange(len(matrices))[:, None] * n
    return matrices[:, mask].ravel(), (first_row + row_of[None, :]).ravel()


def count(shape: tuple[int, ...], layout: str) -> int:
    """How many codes an array of ``shape`` sends in ``layout``."""
    n = shape[-1]
    matrices = math.prod(shape[:-2]) if len(shape) > 2 else 1
    if layout == "lower":
        return matrices * n * (n + 1) // 2
    return math.prod(shape)


def nbytes(shape: tuple[int, ...], layout: str) -> int:
    """Bytes of an encoded array: the row maxima (float32), then the packed codes."""
    rows = math.prod(shape[:-1])
    return 4 * rows + 3 * ((count(shape, layout) + 1) // 2)


def encode(array: np.ndarray, layout: str) -> bytes:
    """Row maxima (little-endian float32) followed by the packed codes of ``array``."""
    if layout not in LAYOUTS:
        raise ArgumentValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    values = np.asarray(array, dtype=np.float32)
    n = values.shape[-1]
    flat_rows = values.reshape(-1, n)
    scales = np.nan_to_num(np.fmax.reduce(flat_rows, axis=1, initial=0.0), nan=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = flat_rows / scales[:, None]  # each row over its max, before leaving any out
    missing = np.isnan(flat_rows)
    if layout == "lower":
        lower = np.tri(n, dtype=bool)
        ratio, missing = (a.reshape(-1, n, n)[:, lower] for a in (ratio, missing))
    with np.errstate(divide="ignore", invalid="ignore"):
        code = np.rint(np.log10(ratio.ravel(), dtype=np.float64) * (STEPS / DECADES)) + (STEPS + 1)
    code = np.where(np.isfinite(code) & (code >= 1), code, 0).astype(np.uint16)
    code[missing.ravel()] = NAN_CODE
    if code.size % 2:
        code = np.append(code, np.uint16(0))
    a, b = code[0::2], code[1::2]
    packed = np.empty((len(a), 3), dtype=np.uint8)
    packed[:, 0] = a & 0xFF
    packed[:, 1] = (a >> 8) | ((b & 0xF) << 4)
    packed[:, 2] = b >> 4
    return scales.astype("<f4").tobytes() + packed.tobytes()


def decode(
    raw: bytes | memoryview,
    shape: tuple[int, ...],
    layout: str,
    decades: float = DECADES,
    steps: int = STEPS,
) -> np.ndarray:
    """The float32 array that :func:`encode` sent (zeros above the diagonal for "lower");
    ``decades`` and ``steps`` are the grid the pack's header names."""
    if layout not in LAYOUTS:
        raise ArgumentValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    rows = math.prod(shape[:-1])
    total = count(shape, layout)
    view = memoryview(raw).cast("B")
    scales = np.frombuffer(view, dtype="<f4", count=rows)
    packed = np.frombuffer(view, dtype=np.uint8, offset=4 * rows).reshape(-1, 3).astype(np.uint16)
    code = np.empty(2 * len(packed), dtype=np.uint16)
    code[0::2] = packed[:, 0] | ((packed[:, 1] & 0xF) << 8)
    code[1::2] = (packed[:, 1] >> 4) | (packed[:, 2] << 4)
    code = code[:total]
    table = np.full(NAN_CODE + 1, np.nan, dtype=np.float32)  # codes past the grid: NaN
    table[0] = 0.0
    table[1 : steps + 2] = 10.0 ** ((np.arange(1, steps + 2) - (steps + 1)) * (decades / steps))
    out = np.zeros(shape, dtype=np.float32)
    _, row = _row_values(out, layout)
    values = scales[row] * table[code]
    if layout == "full":
        out[...] = values.reshape(shape)
    else:
        n = shape[-1]
        out.reshape(-1, n, n)[:, np.tri(n, dtype=bool)] = values.reshape(-1, n * (n + 1) // 2)
    return out
