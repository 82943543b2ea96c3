"""12-bit log codes: the precision the views rely on, the lower-triangle layout, bad packs."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from attnwidget.widget import log12
from attnwidget.widget.payload import PackError, decode_pack, encode_pack, replace_header


def softmax_rows(shape: tuple[int, ...], spread: float, causal: bool, seed: int = 0) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(0.0, spread, shape)
    if causal:
        logits[..., ~np.tri(shape[-1], dtype=bool)] = -np.inf
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    return (weights / weights.sum(-1, keepdims=True)).astype(np.float32)


def assert_within_precision(sent: np.ndarray, back: np.ndarray) -> None:
    """Weights ≥ 1e-6 of their row's max within 0.17 %; smaller ones within 1e-6 of it."""
    row_max = np.nanmax(sent, axis=-1, keepdims=True)
    kept = sent >= row_max * 10.0**-log12.DECADES
    relative = np.abs(back - sent)[kept] / sent[kept]
    assert relative.max() <= log12.MAX_RELATIVE_ERROR
    assert np.all(np.abs(back - sent)[~kept] <= (row_max * 1.01e-6 * np.ones_like(sent))[~kept])


@pytest.mark.parametrize("spread", [0.1, 2.0, 8.0])
@pytest.mark.parametrize("causal", [True, False])
def test_every_weight_comes_back_within_the_stated_precision(spread, causal):
    weights = softmax_rows((4, 8, 60, 60), spread, causal)
    header, arrays = decode_pack(encode_pack({}, {"a": weights}, quantized=("a",)))
    assert header["arrays"]["a"]["layout"] == ("lower" if causal else "full")
    back = arrays["a"]
    assert back.dtype == np.float32 and back.shape == weights.shape
    assert_within_precision(weights, back)
    if causal:
        assert not back[..., ~np.tri(60, dtype=bool)].any()  # zeros above the diagonal stay 0


def test_heatmap_colours_move_at_most_one_level_and_tooltips_one_or_two_units():
    weights = softmax_rows((2, 4, 200, 200), 4.0, True)
    back = decode_pack(encode_pack({}, {"a": weights}, quantized=("a",)))[1]["a"]
    top = np.quantile(weights[weights > 0], 0.99)  # the heatmap's robust colour scale
    levels = lambda w: np.minimum(np.floor(w / top * 255), 255)  # noqa: E731
    assert np.abs(levels(back) - levels(weights)).max() <= 1
    shown = weights[weights >= 1e-3]  # tooltips: 3 significant digits
    digits = np.floor(np.log10(shown)) - 2
    units = np.abs(back[weights >= 1e-3] - shown) / 10.0**digits
    assert units.max() <= 2.0


def test_nan_zero_rows_and_huge_values_survive():
    weights = np.zeros((2, 3, 3), dtype=np.float32)
    weights[0] = [[1, 0, 0], [0.25, 0.75, 0], [np.nan, 0.5, 0.5]]
    weights[1, 2] = [3e30, 1e30, 0]  # beyond float16, still non-negative
    back = decode_pack(encode_pack({}, {"a": weights}, quantized=("a",)))[1]["a"]
    assert np.isnan(back[0, 2, 0]) and np.isnan(back).sum() == 1
    assert not back[1, :2].any()  # all-zero rows stay zero
    np.testing.assert_allclose(back[1, 2], weights[1, 2], rtol=log12.MAX_RELATIVE_ERROR)


def test_arrays_the_codes_cannot_carry_travel_as_given():
    negative = np.array([[0.5, -0.5], [1.0, 0.0]], dtype=np.float32)
    empty = np.zeros((1, 1, 0, 0), dtype=np.float32)
    header, arrays = decode_pack(
        encode_pack({}, {"neg": negative, "empty": empty}, quantized=("neg", "empty"))
    )
    assert header["arrays"]["neg"]["dtype"] == "float32"
    assert header["arrays"]["empty"]["dtype"] == "float32"
    np.testing.assert_array_equal(arrays["neg"], negative)


def test_the_lower_layout_is_half_the_bytes():
    weights = softmax_rows((4, 8, 200, 200), 2.0, True)
    pack = encode_pack({}, {"a": weights}, quantized=("a",))
    assert len(pack) / weights.size < 0.78  # 1.5 bytes x (n + 1) / 2n + row maxima
    assert log12.nbytes(weights.shape, "lower") == 4 * 4 * 8 * 200 + 3 * (4 * 8 * 20100 // 2)


def _with_entry(pack: bytes, **changes) -> bytes:
    """``pack`` with its array entry edited (the header written by hand, as a bad encoder)."""
    (size,) = struct.unpack_from("<I", pack, 4)
    header = json.loads(pack[8 : 8 + size])
    header["arrays"]["a"].update(changes)
    data = pack[(8 + size + 7) & ~7 :]
    text = json.dumps(header).encode()
    prefix = b"ATW1" + struct.pack("<I", len(text)) + text
    return prefix + bytes(-len(prefix) % 8) + data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"layout": "diagonal"}, "layout"),
        ({"shape": [2, 3, 4]}, "square"),
        ({"nbytes": 7}, "nbytes"),
        ({"decades": "six"}, "grid"),
        ({"steps": 5000}, "steps"),
        ({"shape": [3]}, "2 dims"),
    ],
)
def test_a_bad_log12_entry_is_a_pack_error(changes, message):
    pack = encode_pack({}, {"a": softmax_rows((2, 3, 3), 1.0, True)}, quantized=("a",))
    with pytest.raises(PackError, match=message):
        decode_pack(_with_entry(pack, **changes))


def test_a_pack_from_a_newer_schema_says_so_and_old_packs_still_decode():
    with pytest.raises(PackError, match="newer"):
        decode_pack(encode_pack({"schema": 99}, {}))
    old = encode_pack({"schema": 1}, {"a": np.ones((1, 2, 2), dtype=np.float16)})
    header, arrays = decode_pack(old)
    assert header["schema"] == 1 and arrays["a"].dtype == np.float16


def test_replace_header_keeps_the_arrays_bytes():
    weights = softmax_rows((2, 2, 5, 5), 1.0, True)
    pack = encode_pack({"user": "a"}, {"a": weights}, quantized=("a",))
    renamed = replace_header(pack, {"user": "a much longer user name", "arrays": "ignored"})
    header, arrays = decode_pack(renamed)
    assert header["user"] == "a much longer user name"
    np.testing.assert_array_equal(arrays["a"], decode_pack(pack)[1]["a"])
