"""Two explanations of one history side by side: what differs in the recommendations, and
where the attention moved."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ArgumentTypeError, ArgumentValueError
from .explanation import Explanation


def _check_pair(a: Explanation, b: Explanation) -> None:
    if not (isinstance(a, Explanation) and isinstance(b, Explanation)):
        raise ArgumentTypeError(
            f"compare two Explanations, got {type(a).__name__} and {type(b).__name__}"
        )


def compare_recommendations(a: Explanation, b: Explanation) -> pd.DataFrame:
    """Every item in either top-k: its rank under ``a`` and under ``b`` (1-based, ``<NA>``
    when outside that top-k) and the change, ``"only in a"``, ``"only in b"``, ``"same"``
    or ``"up 2"`` / ``"down 3"`` (b's rank against a's). Sorted by a's rank, then b's.

    Items are matched by id, so the two explanations may come from models with different
    catalogues; the titles are ``a``'s (``b``'s for items only ``b`` recommends).
    """
    _check_pair(a, b)
    rank_a = {a.catalog.item_id(int(i)): r + 1 for r, i in enumerate(a.recommendations)}
    rank_b = {b.catalog.item_id(int(i)): r + 1 for r, i in enumerate(b.recommendations)}
    titles = {b.catalog.item_id(int(i)): b.catalog.title(int(i)) for i in b.recommendations}
    titles |= {a.catalog.item_id(int(i)): a.catalog.title(int(i)) for i in a.recommendations}
    rows = []
    for item in sorted(rank_a.keys() | rank_b.keys(), key=lambda i: _order(i, rank_a, rank_b)):
        ra, rb = rank_a.get(item), rank_b.get(item)
        rows.append(
            {
                "item_id": item,
                "title": titles[item],
                "rank_a": ra,
                "rank_b": rb,
                "change": _change(ra, rb),
            }
        )
    table = pd.DataFrame(rows, columns=["item_id", "title", "rank_a", "rank_b", "change"])
    return table.astype({"rank_a": "Int64", "rank_b": "Int64"})


def _order(item: object, rank_a: dict, rank_b: dict) -> tuple[int, int]:
    big = 1 << 30
    return rank_a.get(item, big), rank_b.get(item, big)


def _change(rank_a: int | None, rank_b: int | None) -> str:
    if rank_a is None:
        return "only in b"
    if rank_b is None:
        return "only in a"
    if rank_a == rank_b:
        return "same"
    return f"up {rank_a - rank_b}" if rank_b < rank_a else f"down {rank_b - rank_a}"


def attention_difference(
    a: Explanation, b: Explanation, layer: int = -1, head: int | None = None
) -> np.ndarray:
    """``[m, m]`` attention of ``b`` minus ``a`` at one layer and head (``head=None``: the
    mean over heads), over the last ``m`` history items both saw (``m`` is the shorter
    history; the rows are the last ``m`` queries, the columns the same ``m`` keys).

    NaN weights stay NaN. Raises :class:`ArgumentValueError` when the histories differ or
    the layer or head is not in both models.
    """
    _check_pair(a, b)
    m = min(len(a.history), len(b.history))
    ids_a = [a.catalog.item_id(int(i)) for i in a.history[-m:]]
    ids_b = [b.catalog.item_id(int(i)) for i in b.history[-m:]]
    if ids_a != ids_b:
        raise ArgumentValueError(
            "the two explanations are of different histories: their attention cannot be "
            "subtracted (compare their recommendations instead)"
        )
    n_layers = min(a.attentions.shape[0], b.attentions.shape[0])
    if not -n_layers <= layer < n_layers:
        raise ArgumentValueError(f"layer {layer} is not in both models ({n_layers} shared)")
    layer %= n_layers
    if head is not None:
        heads = min(a.attentions.shape[1], b.attentions.shape[1])
        if not 0 <= head < heads:
            raise ArgumentValueError(f"head {head} is not in both models ({heads} shared)")

    def matrix(expl: Explanation) -> np.ndarray:
        chosen = expl.attentions[layer]
        full = chosen[head] if head is not None else _nan_mean(chosen)
        return full[-m:, -m:].astype(np.float64)

    return matrix(b) - matrix(a)


def _nan_mean(heads: np.ndarray) -> np.ndarray:
    """Mean over heads skipping NaN (NaN where every head is NaN), as the views draw it."""
    finite = ~np.isnan(heads)
    count = finite.sum(axis=0)
    total = np.where(finite, heads, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)
