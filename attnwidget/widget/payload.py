"""Binary packs that carry one user's explanation to the front end.

A *pack* is a small JSON header plus raw little-endian arrays, so tensors never travel as
JSON lists. An *archive* bundles several packs for the static HTML export. The layout is
documented in ``js/README.md`` and decoded by ``js/src/decode.js``::

    pack    = b"ATW1" | uint32 J | J bytes UTF-8 JSON header | zero pad to 8 | data section
    archive = b"ATWA" | uint32 count | count x uint32 pack length | packs, each 8-aligned

``header["arrays"][name] = {"dtype", "shape", "offset", "nbytes"}`` where ``offset`` is
relative to the start of the data section and is a multiple of 8. Arrays named in
``encode_pack(..., quantized=...)`` travel as 12-bit logarithmic codes (:mod:`.log12`, about
1.5 bytes a weight, 0.17 % precision, only the lower triangle when the matrices are causal);
their entry adds ``"layout"`` (``"lower"`` or ``"full"``), ``"decades"`` and ``"steps"``.

:func:`encode_pack` sends arrays as given. Packs of explanations first go through
:func:`mark_nonfinite`, so a non-finite value never travels unannounced: every NaN, +inf
and -inf of a float array is sent as NaN (the front end's "missing" value: drawn grey,
left out of statistics), and the header says so::

    header["nonfinite"] = {name: {"nan": int, "posinf": int, "neginf": int}}

counted in the array as given; only arrays with a non-finite value are listed (``{}``
when there are none). For each listed array a readable sentence is appended to
``header["warnings"]``, except when an array named in ``nan_markers`` (where NaN is a
documented value, e.g. "not computed yet") holds NaN only.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import PackError
from . import log12

PACK_MAGIC = b"ATW1"
ARCHIVE_MAGIC = b"ATWA"
SCHEMA = 2
"""Header schema version: 2 added log12 arrays (packs of schema 1 still decode)."""
DTYPES: dict[str, np.dtype] = {
    "float16": np.dtype("<f2"),
    "float32": np.dtype("<f4"),
    "int32": np.dtype("<i4"),
    "uint8": np.dtype("u1"),
}

Buffer = bytes | bytearray | memoryview


def _align8(n: int) -> int:
    return (n + 7) & ~7


def _wire_dtype(name: str, array: np.ndarray) -> str:
    """The wire dtype for an array: float16/float32 kept, other floats -> float32."""
    kind = array.dtype.kind
    if kind == "f":
        return "float16" if array.dtype.itemsize == 2 else "float32"
    if kind == "b":
        return "uint8"
    if kind == "u" and array.dtype.itemsize == 1:
        return "uint8"
    if kind in "iu":
        if array.size and (array.min() < -(2**31) or array.max() > 2**31 - 1):
            raise PackError(f"array {name!r} has values outside the int32 range")
        return "int32"
    raise PackError(
        f"array {name!r} has dtype {array.dtype}; expected a float, integer or bool array"
    )


def _json_safe(value: Any) -> Any:
    """Replace non-finite floats (not valid JSON) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _nonfinite_counts(array: np.ndarray) -> dict[str, int] | None:
    """Counts of NaN, +inf and -inf in a float array (``None`` when all are finite)."""
    if array.dtype.kind != "f" or np.isfinite(array).all():
        return None
    return {
        "nan": int(np.isnan(array).sum()),
        "posinf": int(np.isposinf(array).sum()),
        "neginf": int(np.isneginf(array).sum()),
    }


def nonfinite_warning(counts: Mapping[str, int], label: str) -> str:
    """The readable sentence about an array's non-finite values (see the module docstring)."""
    named = (("NaN", "nan"), ("+inf", "posinf"), ("-inf", "neginf"))
    kinds = ", ".join(f"{counts[key]} {shown}" for shown, key in named if counts[key])
    return (
        f"{label} has {sum(counts.values())} value(s) that are not finite numbers ({kinds}): "
        "shown as missing (grey) and left out of the statistics."
    )


def mark_nonfinite(
    header: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    *,
    nan_markers: Collection[str] = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and arrays to encode, with non-finite values announced and sent as NaN.

    Fills ``header["nonfinite"]`` and appends to ``header["warnings"]`` as the module
    docstring describes; ``labels`` gives arrays readable names for the warnings (default
    ``"Array 'name'"``). Arrays without non-finite values are passed on unchanged.
    """
    head = dict(header)
    warnings = [str(w) for w in head.get("warnings") or []]
    nonfinite: dict[str, dict[str, int]] = {}
    out: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        array = np.asarray(value)
        counts = _nonfinite_counts(array)
        if counts is not None:
            nonfinite[name] = counts
            if name not in nan_markers or counts["posinf"] or counts["neginf"]:
                warnings.append(
                    nonfinite_warning(counts, (labels or {}).get(name, f"Array {name!r}"))
                )
            array = np.where(np.isfinite(array), array, np.nan).astype(array.dtype)
        out[name] = array
    head["nonfinite"] = nonfinite
    head["warnings"] = warnings
    return head, out


def _wire(name: str, array: np.ndarray, quantized: Collection[str]) -> tuple[bytes, dict]:
    """The bytes of one array and its header entry (without the offset)."""
    if name in quantized and log12.can_encode(array):
        layout = "lower" if log12.is_lower(array) else "full"
        raw = log12.encode(array, layout)
        extra = {"layout": layout, "decades": log12.DECADES, "steps": log12.STEPS}
        return raw, {"dtype": "log12", "shape": [int(s) for s in array.shape], **extra}
    dtype = _wire_dtype(name, array)
    raw = np.ascontiguousarray(array, dtype=DTYPES[dtype]).tobytes()
    return raw, {"dtype": dtype, "shape": [int(s) for s in array.shape]}


def encode_pack(
    header: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    *,
    quantized: Collection[str] = (),
) -> bytes:
    """Encode a JSON header and named arrays into one pack.

    The header is copied; ``"schema"`` defaults to :data:`SCHEMA` and ``"arrays"`` is
    filled in here. Non-finite floats in the header become ``null``. float64 arrays are
    sent as float32, bool as uint8, other integers as int32. Arrays named in ``quantized`` are
    sent as 12-bit log codes when they fit them (non-negative, no ±inf), else as given.
    """
    head = _json_safe(dict(header))
    head.setdefault("schema", SCHEMA)
    entries: dict[str, dict[str, Any]] = {}
    chunks: list[bytes] = []
    offset = 0
    for name, value in arrays.items():
        raw, entry = _wire(name, np.asarray(value), quantized)
        entries[name] = {**entry, "offset": offset, "nbytes": len(raw)}
        padded = _align8(len(raw))
        chunks.append(raw + bytes(padded - len(raw)))
        offset += padded
    head["arrays"] = entries
    return _with_data(head, b"".join(chunks))


def _with_data(header: Mapping[str, Any], data: Buffer) -> bytes:
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    start = _align8(8 + len(text))
    prefix = PACK_MAGIC + struct.pack("<I", len(text)) + text
    return prefix + bytes(start - len(prefix)) + bytes(data)


def replace_header(pack: Buffer, header: Mapping[str, Any]) -> bytes:
    """``pack`` with its JSON header replaced by ``header`` (its ``"arrays"`` entry is
    kept from the pack, and the arrays' bytes are copied as they are)."""
    old, start, view = _read_header(pack)
    head = _json_safe({**header, "arrays": old.get("arrays", {})})
    return _with_data(head, view[start:])


def _read_header(data: Buffer) -> tuple[dict[str, Any], int, memoryview]:
    """The header, where the data section starts, and the pack as bytes."""
    view = memoryview(data).cast("B")
    if len(view) < 8 or bytes(view[:4]) != PACK_MAGIC:
        raise PackError(f"not an attnwidget pack: expected magic {PACK_MAGIC!r}")
    (size,) = struct.unpack_from("<I", view, 4)
    if 8 + size > len(view):
        raise PackError(f"truncated pack: header needs {size} bytes, {len(view) - 8} left")
    try:
        header = json.loads(bytes(view[8 : 8 + size]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackError(f"pack header is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise PackError("pack header must be a JSON object")
    schema = header.get("schema", 1)
    if isinstance(schema, int) and schema > SCHEMA:
        raise PackError(
            f"pack schema {schema} is newer than this attnwidget reads ({SCHEMA}): upgrade it"
        )
    return header, _align8(8 + size), view


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_header(data: Buffer) -> dict[str, Any]:
    """The JSON header of a pack, without decoding its arrays (raises :class:`PackError`)."""
    return _read_header(data)[0]


def _read_array(view: memoryview, start: int, name: str, spec: Any) -> np.ndarray | None:
    """One array of the data section (None for a dtype this module does not know)."""
    kind = spec.get("dtype") if isinstance(spec, dict) else None
    if kind not in DTYPES and kind != "log12":
        return None
    try:
        shape = tuple(int(s) for s in spec["shape"])
        offset, size = int(spec["offset"]), int(spec["nbytes"])
        layout = str(spec.get("layout", "full"))
    except (KeyError, TypeError, ValueError) as exc:
        raise PackError(f"array {name!r}: bad entry {spec!r}") from exc
    if min(shape, default=0) < 0:
        raise PackError(f"array {name!r}: bad shape {shape}")
    if kind == "log12":
        if layout not in log12.LAYOUTS or len(shape) < 2:
            raise PackError(f"array {name!r}: log12 needs ≥ 2 dims and a layout in {log12.LAYOUTS}")
        if layout == "lower" and shape[-1] != shape[-2]:
            raise PackError(f"array {name!r}: the lower layout needs square matrices, got {shape}")
        expected = log12.nbytes(shape, layout)
    else:
        expected = math.prod(shape) * DTYPES[kind].itemsize
    if size != expected:
        raise PackError(f"array {name!r}: nbytes {size} does not match shape {shape}")
    if offset < 0 or start + offset + size > len(view):
        raise PackError(f"truncated pack: array {name!r} runs past the end of the data")
    if kind == "log12":
        decades, steps = spec.get("decades", log12.DECADES), spec.get("steps", log12.STEPS)
        if not (_number(decades) and 0 < decades <= 38 and _integer(steps)):
            raise PackError(f"array {name!r}: bad log12 grid decades={decades!r} steps={steps!r}")
        if not 1 <= steps <= log12.STEPS:
            raise PackError(f"array {name!r}: log12 steps {steps} not in 1..{log12.STEPS}")
        raw = view[start + offset : start + offset + size]
        return log12.decode(raw, shape, layout, decades, steps)
    dtype = DTYPES[kind]
    return np.frombuffer(view, dtype=dtype, count=math.prod(shape), offset=start + offset).reshape(
        shape
    )


def decode_pack(data: Buffer) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Decode a pack into ``(header, arrays)``; plain arrays are read-only views of
    ``data``, log12 arrays are decoded into float32.

    Arrays with a dtype this module does not know are skipped, like the front end does.

    Raises:
        PackError: the bytes are not a pack, are cut short, or are from a newer schema.
    """
    header, start, view = _read_header(data)
    specs = header.get("arrays") or {}
    if not isinstance(specs, dict):
        raise PackError("pack header 'arrays' must be a JSON object")
    arrays: dict[str, np.ndarray] = {}
    for name, spec in specs.items():
        array = _read_array(view, start, name, spec)
        if array is not None:
            arrays[name] = array
    return header, arrays


def encode_archive(packs: Sequence[Buffer]) -> bytes:
    """Bundle packs into one archive; each pack starts at a multiple of 8."""
    parts = [ARCHIVE_MAGIC, struct.pack(f"<{len(packs) + 1}I", len(packs), *map(len, packs))]
    size = 8 + 4 * len(packs)
    for pack in packs:
        pad = _align8(size) - size
        parts += [bytes(pad), bytes(pack)]
        size += pad + len(pack)
    return b"".join(parts)


def decode_archive(data: Buffer) -> list[bytes]:
    """Split an archive back into its packs."""
    view = memoryview(data).cast("B")
    if len(view) < 8 or bytes(view[:4]) != ARCHIVE_MAGIC:
        raise PackError(f"not an attnwidget archive: expected magic {ARCHIVE_MAGIC!r}")
    (count,) = struct.unpack_from("<I", view, 4)
    if 8 + 4 * count > len(view):
        raise PackError(f"truncated archive: {count} pack lengths do not fit")
    lengths = struct.unpack_from(f"<{count}I", view, 8)
    packs: list[bytes] = []
    pos = 8 + 4 * count
    for i, length in enumerate(lengths):
        pos = _align8(pos)
        if pos + length > len(view):
            raise PackError(f"truncated archive: pack {i} runs past the end")
        packs.append(bytes(view[pos : pos + length]))
        pos += length
    return packs
