"""Scoring edited histories in batches, and an item's rank among the recommendable items.

Shared by counterfactuals and reasons: both score many variants of one history.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ArgumentTypeError
from ..sources import AttentionSource, can_rerun
from ..sources.base import ScoresHistories, ScoresItems
from .importance import SCORE_BATCH


def require_rerun(source: AttentionSource, what: str) -> None:
    """An :class:`ArgumentTypeError` when ``source`` cannot score new histories."""
    if not can_rerun(source):
        raise ArgumentTypeError(
            f"{what} needs a model that can score edited histories; "
            f"{type(source).__name__} has can_rerun = False (precomputed attention)"
        )


def all_scores(source: AttentionSource, histories: Sequence[np.ndarray]) -> np.ndarray:
    """``[len(histories), n_items + 1]`` float64 scores, ``SCORE_BATCH`` histories per call
    (a plain scoring pass where the source has one, else :meth:`run`)."""
    out = []
    for i in range(0, len(histories), SCORE_BATCH):
        chunk = list(histories[i : i + SCORE_BATCH])
        if isinstance(source, ScoresHistories):
            out.append(np.asarray(source.score(chunk), dtype=np.float64))
        else:
            out.append(np.asarray(source.run(chunk).scores, dtype=np.float64))
    if not out:
        return np.zeros((0, source.catalog.n_items + 1))
    return np.concatenate(out)


def item_scores(
    source: AttentionSource, histories: Sequence[np.ndarray], items: Sequence[int]
) -> np.ndarray:
    """``[len(histories), len(items)]`` float64 scores of chosen items: one call of
    ``score_items`` where the source has it (the built-in SASRec), else :func:`all_scores`."""
    if isinstance(source, ScoresItems):
        return np.asarray(source.score_items(list(histories), list(items)), dtype=np.float64)
    return all_scores(source, histories)[:, list(items)]


def rank_of(scores: np.ndarray, excluded: np.ndarray, item: int) -> int:
    """1-based rank of ``item`` among the recommendable items, as :func:`~attnwidget.ranking.top_k`
    orders them (higher score first, ties to the lower index; NaN/±inf never ranked).

    ``excluded`` is a boolean mask over ``scores`` (padding and bought items). An item whose
    own score is not finite is never recommended: it ranks after every rankable item.
    """
    rankable = np.isfinite(scores) & ~excluded
    rankable[item] = False
    own = scores[item]
    if not np.isfinite(own):
        return int(rankable.sum()) + 1
    ahead = rankable & (scores > own)
    tied = rankable & (scores == own) & (np.arange(scores.size) < item)
    return 1 + int(ahead.sum()) + int(tied.sum())


def margin_of(scores: np.ndarray, excluded: np.ndarray, item: int, k: int) -> float:
    """``item``'s score minus the ``k``-th best other rankable score (below 0: out of the
    top-``k``); ``-inf`` when ``item``'s score is not finite, ``+inf`` when fewer than ``k``
    other items are rankable."""
    own = scores[item]
    if not np.isfinite(own):
        return float("-inf")
    rankable = np.isfinite(scores) & ~excluded
    rankable[item] = False
    others = scores[rankable]
    if others.size < k:
        return float("inf")
    return float(own - np.partition(others, others.size - k)[others.size - k])
