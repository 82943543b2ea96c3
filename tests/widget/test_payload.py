"""Pack and archive encoding shared with the front end (js/src/decode.js)."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest

from attnwidget.widget.payload import (
    SCHEMA,
    decode_archive,
    decode_pack,
    encode_archive,
    encode_pack,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "js" / "tests" / "fixtures"


def _header(**extra):
    return {"user": "u1", "n_layers": 1, "n_heads": 1, "fields": ["item"], **extra}


def test_round_trip_keeps_values_and_dtypes():
    rng = np.random.default_rng(0)
    arrays = {
        "seq_attn": rng.random((2, 3, 5, 5)).astype(np.float16),
        "feat_attn": rng.random((5, 4)).astype(np.float32),
        "ids": np.arange(7, dtype=np.int64),
        "mask": np.array([True, False, True]),
        "wide": rng.random(3),
    }
    header, out = decode_pack(encode_pack(_header(), arrays))
    assert header["user"] == "u1" and header["schema"] == SCHEMA
    assert {k: v["dtype"] for k, v in header["arrays"].items()} == {
        "seq_attn": "float16",
        "feat_attn": "float32",
        "ids": "int32",
        "mask": "uint8",
        "wide": "float32",
    }
    np.testing.assert_array_equal(out["seq_attn"], arrays["seq_attn"])
    np.testing.assert_array_equal(out["feat_attn"], arrays["feat_attn"])
    np.testing.assert_array_equal(out["ids"], arrays["ids"])
    np.testing.assert_array_equal(out["mask"], [1, 0, 1])
    np.testing.assert_allclose(out["wide"], arrays["wide"], rtol=1e-6)


def test_layout_is_8_aligned():
    arrays = {"a": np.ones(3, np.float16), "b": np.ones(5, np.uint8), "c": np.ones(2, np.float32)}
    data = encode_pack(_header(title="é—ü"), arrays)
    assert data[:4] == b"ATW1"
    (size,) = struct.unpack_from("<I", data, 4)
    start = (8 + size + 7) // 8 * 8
    assert data[8 + size : start] == bytes(start - 8 - size)
    header, _ = decode_pack(data)
    assert header["title"] == "é—ü"
    for spec in header["arrays"].values():
        assert spec["offset"] % 8 == 0
    assert len(data) % 8 == 0


def test_input_header_is_not_mutated_and_nan_becomes_null():
    header = _header(recommendations=[{"id": "x", "score": float("nan")}])
    decoded, _ = decode_pack(encode_pack(header, {}))
    assert "arrays" not in header and "schema" not in header
    assert decoded["recommendations"][0]["score"] is None
    assert decoded["arrays"] == {}


def test_nan_weights_and_empty_arrays_survive():
    attn = np.full((1, 1, 2, 2), np.nan, dtype=np.float16)
    arrays = {"seq_attn": attn, "empty": np.zeros((1, 1, 0, 0))}
    _, out = decode_pack(encode_pack(_header(), arrays))
    assert np.isnan(out["seq_attn"]).all()
    assert out["empty"].shape == (1, 1, 0, 0)


def test_unknown_dtype_is_skipped_on_decode():
    data = bytearray(encode_pack(_header(), {"x": np.ones(2, np.float32)}))
    data = bytes(data).replace(b'"float32"', b'"float64"')
    header, arrays = decode_pack(data)
    assert "x" in header["arrays"] and arrays == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"NOPE\x00\x00\x00\x00", "magic"),
        (b"ATW1", "magic"),
        (b"ATW1" + struct.pack("<I", 100) + b"{}", "truncated"),
        (b"ATW1" + struct.pack("<I", 3) + b"{x}", "JSON"),
        (b"ATW1" + struct.pack("<I", 2) + b"[]", "object"),
    ],
)
def test_decode_pack_errors(data, message):
    with pytest.raises(ValueError, match=message):
        decode_pack(data)


def test_truncated_array_is_reported():
    data = encode_pack(_header(), {"seq_attn": np.ones((1, 1, 4, 4), np.float32)})
    with pytest.raises(ValueError, match="truncated pack: array 'seq_attn'"):
        decode_pack(data[:-8])


def test_encode_rejects_bad_arrays():
    with pytest.raises(ValueError, match="'names'"):
        encode_pack(_header(), {"names": np.array(["a", "b"])})
    with pytest.raises(ValueError, match="int32 range"):
        encode_pack(_header(), {"big": np.array([2**40])})


def test_archive_round_trip_and_alignment():
    packs = [
        encode_pack(_header(user=f"u{i}"), {"a": np.arange(i + 1, dtype=np.float16)})
        for i in range(3)
    ]
    packs.append(b"odd")  # any bytes: lengths need not be multiples of 8
    packs.append(packs[0])
    archive = encode_archive(packs)
    assert archive[:4] == b"ATWA"
    assert decode_archive(archive) == packs
    pos = 8 + 4 * len(packs)
    for pack in packs:
        pos = (pos + 7) // 8 * 8
        assert archive[pos : pos + len(pack)] == pack
        pos += len(pack)
    assert decode_archive(encode_archive([])) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ATW1\x00\x00\x00\x00", "magic"),
        (b"ATWA" + struct.pack("<I", 5), "truncated"),
        (b"ATWA" + struct.pack("<II", 1, 64) + bytes(8), "truncated"),
    ],
)
def test_decode_archive_errors(data, message):
    with pytest.raises(ValueError, match=message):
        decode_archive(data)


def _packs(data: bytes) -> list[bytes]:
    return decode_archive(data) if data[:4] == b"ATWA" else [data]


def test_js_fixtures_match_the_encoder():
    """The committed fixtures are what the kernel's encoder makes today (headers equal,
    arrays equal to float32 rounding: numpy's exp may differ in the last bit between CPUs)."""
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, data in module.build_fixtures().items():
        committed = _packs((FIXTURES / name).read_bytes())
        made = _packs(data)
        assert len(committed) == len(made), f"regenerate js/tests/fixtures/{name}"
        for old, new in zip(committed, made, strict=True):
            (old_header, old_arrays), (new_header, new_arrays) = decode_pack(old), decode_pack(new)
            assert old_header == new_header, f"regenerate js/tests/fixtures/{name}"
            for key, value in new_arrays.items():
                np.testing.assert_allclose(old_arrays[key], value, rtol=1e-5, equal_nan=True)
    header, arrays = decode_pack((FIXTURES / "sample.pack").read_bytes())
    assert header["user"] == "u1" and header["arrays"]["seq_attn"]["dtype"] == "log12"
    assert arrays["seq_attn"].shape == (2, 2, 3, 3)
