"""Verified counterfactuals: which purchases, removed, take an item out of the recommendations.

Removal (:func:`find_counterfactual`): the smallest set of history items whose removal takes
a recommended item out of the top-``k``. The search is greedy: each step scores every
history with one more remaining item left out (one batched pass; the first step is
occlusion) and removes the item that brings the explained item's score closest to, or
furthest below, the ``k``-th best other score; it stops once the item is out. A pruning
pass then puts back items the result does not need. When the number of smaller sets is
within ``exhaustive_limit`` they are all scored too, so ``exhaustive`` says the size is
proven minimal (or, when nothing is found, that no set of ≤ ``max_size`` items exists).
The first greedy step scores every single removal, so a set of 1 or 2 items is always
proven minimal. The result is **verified**: the edited history is run once more through
the model's full pass and the reported rank is the rank it gives.

The additive direction (one purchase that brings an item in) is :mod:`.addition`.

Ranks are what the explorer's what-if edit shows: items of the edited history are not
recommended, a removed item may be again (unless it is also in the history's part cut off
by ``max_len``, which an :class:`~attnwidget.explain.Explanation` does not keep: such an
item counts as recommendable here).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from ..checks import check_int
from ..errors import ArgumentValueError
from .importance import SCORE_BATCH
from .rescoring import all_scores, margin_of, rank_of, require_rerun

if TYPE_CHECKING:
    from .explanation import Explanation

EXHAUSTIVE_LIMIT = 2048
"""Default bound on the sets the exhaustive check may score (forward passes)."""


@dataclass(frozen=True)
class Counterfactual:
    """The smallest found set of history items whose removal takes ``item`` out of the top-``k``.

    Attributes:
        item, title: the explained item's id and title.
        k: the item must end at a rank above ``k`` (out of the top-``k``).
        found: whether the verified rank after the removal is above ``k``.
        positions: history positions removed (0 = oldest), ascending; empty when not found.
        item_ids, titles: the removed items' ids and titles, in the order of ``positions``.
        rank_before, rank_after: the item's 1-based rank before and after the removal of
            ``positions`` (of ``closest`` when not found), from the verifying pass.
        score_before, score_after: its score before and after.
        edited_history: the item ids the model sees after the removal, oldest first (what
            to give ``AttentionExplorer.history_edit``); the original history when not found.
        closest: when not found, the positions of the greedy search's last attempt (at most
            ``max_size`` items, which leave the item at ``rank_after`` ≤ ``k``); else empty.
        exhaustive: every smaller set (when found) or every set of ≤ ``max_size`` items
            (when not) was scored: the size is proven minimal, or no such set exists.
        max_size: the largest set searched.
        message: one sentence saying the above.
        forward_passes: histories scored, the verifying pass included.
        seconds: wall time of the search and verification.
    """

    item: Any
    title: str
    k: int
    found: bool
    positions: tuple[int, ...]
    item_ids: tuple[Any, ...]
    titles: tuple[str, ...]
    rank_before: int
    rank_after: int
    score_before: float
    score_after: float
    edited_history: tuple[Any, ...]
    closest: tuple[int, ...]
    exhaustive: bool
    max_size: int
    message: str
    forward_passes: int
    seconds: float


class RankSearch:
    """The explained item's rank under edits of one history (with counted passes)."""

    def __init__(self, expl: Explanation, item: Any, k: int | None, what: str) -> None:
        require_rerun(expl.source, what)
        self.source, self.catalog, self.history = expl.source, expl.catalog, expl.history
        self.target = expl.target if item is None else self.catalog.index_of(item)
        recommendable = len(expl.recommendations)
        self.k = check_int("k", recommendable if k is None else k)
        # bought items (and items the model scored -inf) stay out of every ranking
        self.excluded = np.isneginf(np.asarray(expl.scores, dtype=np.float64))
        self.excluded[0] = True
        if self.excluded[self.target]:
            raise ArgumentValueError(
                f"item {self.item_id!r} is bought (in the history, or kept out of the "
                "ranking): it is never recommended"
            )
        self.passes = 0
        self.started = time.perf_counter()
        base = self.scores([self.history])[0]
        if not np.isfinite(base[self.target]):
            raise ArgumentValueError(
                f"item {self.item_id!r} scores {base[self.target]} after this history: "
                "it has no rank, so there is nothing to move"
            )
        others = np.isfinite(base) & ~self.excluded
        others[self.target] = False
        if self.k >= int(others.sum()) + 1:
            raise ArgumentValueError(
                f"k={self.k} is out of range: only {int(others.sum()) + 1} items can be "
                f"ranked after this history; expected 1 ≤ k < {int(others.sum()) + 1}"
            )
        self.score_before = float(base[self.target])
        self.rank_before = rank_of(base, self.mask_removing(()), self.target)

    @property
    def item_id(self) -> Any:
        return self.catalog.item_id(self.target)

    def scores(self, histories: list[np.ndarray]) -> np.ndarray:
        self.passes += len(histories)
        return all_scores(self.source, histories)

    def mask_removing(self, positions: tuple[int, ...] | list[int]) -> np.ndarray:
        """Excluded items after the history loses ``positions``: removed items not kept
        elsewhere in it become recommendable."""
        mask = self.excluded.copy()
        if positions:
            kept = set(np.delete(self.history, list(positions)).tolist())
            for index in self.history[list(positions)].tolist():
                if index not in kept:
                    mask[index] = False
        return mask

    def removal(self, sets: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
        """Rank and margin of the item after removing each set of positions (one batch)."""
        scores = self.scores([np.delete(self.history, list(s)) for s in sets])
        ranks = np.array(
            [
                rank_of(row, self.mask_removing(s), self.target)
                for row, s in zip(scores, sets, strict=True)
            ]
        )
        margins = np.array(
            [
                margin_of(row, self.mask_removing(s), self.target, self.k)
                for row, s in zip(scores, sets, strict=True)
            ]
        )
        return ranks, margins

    def verify(self, history: np.ndarray, mask: np.ndarray) -> tuple[int, float]:
        """Rank and score of the item after ``history``, from the model's full pass."""
        self.passes += 1
        scores = np.asarray(self.source.run([history]).scores[0], dtype=np.float64)
        return rank_of(scores, mask, self.target), float(scores[self.target])

    def ids(self, indices: np.ndarray) -> tuple[Any, ...]:
        return tuple(self.catalog.item_id(int(i)) for i in indices)

    def seconds(self) -> float:
        return time.perf_counter() - self.started


def _set_count(n: int, sizes: range) -> int:
    return sum(math.comb(n, size) for size in sizes)


def _subsets(n: int, size: int) -> Iterator[list[tuple[int, ...]]]:
    """All ``size``-subsets of ``range(n)`` in batches of ``SCORE_BATCH``."""
    batch: list[tuple[int, ...]] = []
    for subset in combinations(range(n), size):
        batch.append(subset)
        if len(batch) == SCORE_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _smallest_of_size(search: RankSearch, size: int) -> tuple[int, ...] | None:
    """The set of ``size`` positions whose removal pushes the item furthest out, if any does."""
    best, best_margin = None, math.inf
    for batch in _subsets(len(search.history), size):
        ranks, margins = search.removal(batch)
        for subset, rank, margin in zip(batch, ranks, margins, strict=True):
            if rank > search.k and margin < best_margin:
                best, best_margin = subset, margin
    return best


def _greedy(search: RankSearch, steps: int) -> tuple[list[int], bool]:
    """Greedy removals (up to ``steps``): the chosen positions and whether the item left
    the top-``k``. Its first step scores every single removal."""
    removed: list[int] = []
    for _ in range(steps):
        remaining = [p for p in range(len(search.history)) if p not in removed]
        sets = [tuple(sorted([*removed, p])) for p in remaining]
        ranks, margins = search.removal(sets)
        best = int(np.lexsort((-ranks, margins))[0])  # lowest margin, then highest rank
        removed.append(remaining[best])
        if ranks[best] > search.k:
            return removed, True
    return removed, False


def _prune(search: RankSearch, removed: list[int]) -> list[int]:
    """Put back, one at a time, the item whose return leaves the most room below the top-``k``,
    while the item stays out."""
    removed = list(removed)
    while len(removed) > 1:
        sets = [tuple(sorted(p for p in removed if p != back)) for back in removed]
        ranks, margins = search.removal(sets)
        fine = np.flatnonzero(ranks > search.k)
        if fine.size == 0:
            break
        removed.pop(int(fine[np.argmin(margins[fine])]))
    return sorted(removed)


def find_counterfactual(
    expl: Explanation,
    item: Any = None,
    *,
    k: int | None = None,
    max_size: int = 10,
    exhaustive_limit: int = EXHAUSTIVE_LIMIT,
) -> Counterfactual:
    """The smallest set of history items whose removal takes ``item`` out of the top-``k``
    (see the module docstring for the search and what is proven).

    Args:
        expl: the explanation of one history.
        item: an item id (default: the explained item); it must be in the top-``k`` now.
        k: the rank the item must fall below (default: the number of recommendations).
        max_size: the largest set to search (at most the history length minus 1: a history
            cannot be empty).
        exhaustive_limit: most sets the exhaustive check may score (0: greedy only).

    Raises:
        ArgumentTypeError: the source cannot re-run histories, or an argument of the
            wrong type.
        ArgumentValueError: ``item`` is not in the top-``k`` (or scores NaN), ``k`` is out
            of range, ``max_size`` below 1, ``exhaustive_limit`` below 0.
        UnknownItemError: ``item`` is not in the catalogue.
    """
    search = RankSearch(expl, item, k, "a counterfactual")
    max_size = check_int("max_size", max_size)
    exhaustive_limit = check_int("exhaustive_limit", exhaustive_limit, minimum=0)
    title = search.catalog.title(search.target)
    if search.rank_before > search.k:
        raise ArgumentValueError(
            f"item {search.item_id!r} is at rank {search.rank_before}, not in the top "
            f"{search.k}: there is no recommendation to take away (give a larger k, or use "
            "what_would_add)"
        )
    n = len(search.history)
    steps = min(max_size, n - 1)
    removed, out = _greedy(search, steps) if steps else ([], False)
    exhaustive = steps <= 1  # the greedy's first step scored every single removal
    if out:
        removed = _prune(search, removed)
        exhaustive = len(removed) <= 2
        smaller = range(2, len(removed))
        if not exhaustive and _set_count(n, smaller) <= exhaustive_limit:
            exhaustive = True
            for size in smaller:
                if (found := _smallest_of_size(search, size)) is not None:
                    removed = list(found)
                    break
    elif not exhaustive and _set_count(n, range(2, steps + 1)) <= exhaustive_limit:
        exhaustive = True
        for size in range(2, steps + 1):
            if (found := _smallest_of_size(search, size)) is not None:
                removed, out = list(found), True
                break
    positions = tuple(sorted(removed))
    edited = np.delete(search.history, list(positions))
    rank_after, score_after = search.verify(edited, search.mask_removing(positions))
    found = out and rank_after > search.k
    removed_indices = search.history[list(positions)] if found else np.zeros(0, np.int64)
    if found:
        message = (
            f"removing {len(positions)} item(s) takes {title!r} from rank "
            f"{search.rank_before} to rank {rank_after}, out of the top {search.k}"
            + ("" if exhaustive else " (smaller sets were not all checked)")
        )
    elif out:  # the model answered the verifying pass differently (not deterministic?)
        message = (
            f"no set of ≤ {steps} items found: the search's set left {title!r} at rank "
            f"{rank_after} when the edited history was run again"
        )
    elif steps == 0:
        message = "no set of ≤ 0 items found: a one-item history has nothing to remove"
    else:
        checked = (
            f"all {_set_count(n, range(1, steps + 1)):,} such sets checked"
            if exhaustive
            else "greedy search; not every set was checked"
        )
        message = f"no set of ≤ {steps} items found ({checked})"
    return Counterfactual(
        item=search.item_id,
        title=title,
        k=search.k,
        found=found,
        positions=positions if found else (),
        item_ids=search.ids(removed_indices),
        titles=tuple(search.catalog.title(int(i)) for i in removed_indices),
        rank_before=search.rank_before,
        rank_after=rank_after,
        score_before=search.score_before,
        score_after=score_after,
        edited_history=search.ids(edited if found else search.history),
        closest=() if found else positions,
        exhaustive=exhaustive,
        max_size=max_size,
        message=message,
        forward_passes=search.passes,
        seconds=search.seconds(),
    )
