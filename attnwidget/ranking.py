"""Ranking scores: the top ``k``, items that cannot be ranked, and why nothing is left.

Shared by ``models/`` (``SASRec.recommend``) and ``explain/`` (any attention source).
"""

from __future__ import annotations

import numpy as np

from .errors import NothingToRecommendError


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best finite scores, best first; ties go to the lower index.

    NaN and ±inf scores are never ranked, so fewer than ``k`` indices come back when
    fewer scores are finite (none at all: an empty array).
    """
    order = np.lexsort((np.arange(scores.size), -scores))
    order = order[np.isfinite(scores[order])]
    return order[:k]


def unrankable_count(scores: np.ndarray) -> int:
    """How many real items (index ≥ 1) have a NaN or +inf score."""
    real = np.asarray(scores)[1:]
    return int(np.count_nonzero(np.isnan(real) | np.isposinf(real)))


def nothing_to_recommend(
    scores: np.ndarray, excluded: np.ndarray | None, who: str
) -> NothingToRecommendError:
    """The error for an empty top list, saying why nothing is left.

    Args:
        scores: the model's ``[n_items + 1]`` scores, before excluding anything.
        excluded: item indices kept out (the history and earlier purchases), or ``None``.
        who: names the history in the message, e.g. ``"user 'u7'"``.
    """
    real = np.asarray(scores, dtype=np.float64)[1:]
    n_items = real.size
    left = np.ones(n_items, dtype=bool)
    if excluded is not None:
        left[np.asarray(excluded, dtype=np.int64) - 1] = False
    if not left.any():
        why = f"its items cover all {n_items} items of the catalogue"
    elif np.isnan(real).all():
        why = "every score the model gives is NaN (diverged weights?)"
    else:
        why = f"the {int(left.sum())} item(s) not in it all score NaN or ±inf"
    return NothingToRecommendError(f"nothing to recommend after {who}: {why}")
