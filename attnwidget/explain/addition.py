"""The additive counterfactual: one purchase that would bring an item into the top-``k``.

:func:`find_addition` appends each candidate of a bounded pool (:func:`addition_pool`) as the
newest purchase, scores the histories in batches until the pool or the time is used up, and
verifies the best one by running its history again. Ranks are the explorer's what-if ones
(see :mod:`.counterfactual`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..checks import check_float, check_int
from ..data import Dataset
from ..errors import ArgumentTypeError, ArgumentValueError
from .counterfactual import RankSearch
from .importance import SCORE_BATCH
from .rescoring import margin_of, rank_of

if TYPE_CHECKING:
    from .explanation import Explanation

NEIGHBOUR_WINDOW = 5
"""Co-occurrence: an item counts as bought before the chosen item within this many purchases."""


@dataclass(frozen=True)
class Addition:
    """The catalogue item whose purchase (appended as the newest item) brings ``item`` into
    the top-``k``, or the best one tried.

    Attributes:
        item, title: the chosen item's id and title.
        k: the item must reach a rank of at most ``k``.
        found: whether the verified rank after the addition is at most ``k``.
        added, added_title: the id and title of the added item giving the best rank (the
            answer when ``found``); ``None`` when no candidate could be tried.
        rank_before, rank_after: the chosen item's rank before and after adding ``added``,
            from the verifying pass.
        score_before, score_after: its score before and after.
        edited_history: the item ids the model sees after the addition (oldest first; the
            oldest is dropped when the history is already ``max_len`` long).
        candidates: size of the candidate pool; ``tried``: how many were scored in time;
            ``complete``: all of them were.
        pool: how the pool was built.
        message: one sentence saying the above.
        forward_passes: histories scored, the verifying pass included.
        seconds: wall time of the search and verification.
    """

    item: Any
    title: str
    k: int
    found: bool
    added: Any
    added_title: str | None
    rank_before: int
    rank_after: int
    score_before: float
    score_after: float
    edited_history: tuple[Any, ...]
    candidates: int
    tried: int
    complete: bool
    pool: str
    message: str
    forward_passes: int
    seconds: float


def addition_pool(
    expl: Explanation, target: int, size: int, dataset: Dataset | None = None
) -> tuple[list[int], str]:
    """Up to ``size`` candidate items to add for ``target``, and how they were chosen.

    Three sources, taken in turn so that a search cut short by time has tried some of
    each: the items the model scores highest after the history now (what it expects
    next), the items sharing the most feature values with ``target`` (its feature
    neighbours; ties by score), and, with a ``dataset``, the items most often bought up to
    ``NEIGHBOUR_WINDOW`` purchases before ``target`` in it (co-occurrence). Bought items
    (the history and items kept out of the ranking), padding and ``target`` are left out.
    """
    catalog = expl.catalog
    scores = np.nan_to_num(np.asarray(expl.scores, dtype=np.float64), nan=-np.inf)
    allowed = ~np.isneginf(scores)
    allowed[[0, target]] = False
    by_score = np.lexsort((np.arange(scores.size), -scores))
    lists = [[int(i) for i in by_score if allowed[i]]]
    names = ["top by score"]
    features = catalog.features
    if features.shape[1]:
        shared = (features == features[target]).sum(axis=1)
        order = np.lexsort((np.arange(scores.size), -scores, -shared))
        lists.append([int(i) for i in order if allowed[i] and shared[i] > 0])
        names.append("feature neighbours")
    if dataset is not None:
        if not isinstance(dataset, Dataset):
            raise ArgumentTypeError(
                f"dataset must be an attnwidget Dataset or None, got {type(dataset).__name__}"
            )
        counts = np.zeros(catalog.n_items + 1, dtype=np.int64)
        for seq in dataset.aligned_to(catalog).sequences:
            for at in np.flatnonzero(seq == target):
                np.add.at(counts, seq[max(0, at - NEIGHBOUR_WINDOW) : at], 1)
        order = np.lexsort((np.arange(counts.size), -counts))
        lists.append([int(i) for i in order if allowed[i] and counts[i] > 0])
        names.append(f"bought ≤ {NEIGHBOUR_WINDOW} purchases before it in the dataset")
    pool: list[int] = []
    seen: set[int] = set()
    for row in range(max(map(len, lists))):
        for items in lists:
            if row < len(items) and items[row] not in seen and len(pool) < size:
                seen.add(items[row])
                pool.append(items[row])
    return pool, ", ".join(names) + " (in turn)"


def find_addition(
    expl: Explanation,
    item: Any,
    *,
    k: int | None = None,
    pool: int = 200,
    dataset: Dataset | None = None,
    seconds: float = 5.0,
) -> Addition:
    """The single item whose purchase (appended as the newest) brings ``item`` into the
    top-``k``, searched over :func:`addition_pool` for at most about ``seconds``.

    Candidates are scored in batches of ``SCORE_BATCH`` until the pool is done or the time
    is up (``complete`` says which); the one giving ``item`` the best rank is run again to
    verify it. Adding an item also takes it out of the ranking, which alone can lift
    ``item`` by one place: the rank reported is the one the explorer's what-if shows.

    Raises:
        ArgumentTypeError: the source cannot re-run histories, or an argument of the
            wrong type.
        ArgumentValueError: ``item`` is already in the top-``k``, is bought (in the
            history) or scores NaN; ``k``, ``pool`` below 1 or ``seconds`` not positive.
        UnknownItemError: ``item`` is not in the catalogue.
    """
    if item is None:
        raise ArgumentValueError("what_would_add needs the item to bring into the top-k")
    search = RankSearch(expl, item, k, "what_would_add")
    pool = check_int("pool", pool)
    seconds = check_float("seconds", seconds, positive=True)
    title = search.catalog.title(search.target)
    if search.rank_before <= search.k:
        raise ArgumentValueError(
            f"item {search.item_id!r} is already at rank {search.rank_before}, in the top "
            f"{search.k}: nothing to add (use counterfactual to take it out)"
        )
    candidates, how = addition_pool(expl, search.target, pool, dataset)
    max_len = search.source.max_len
    best: tuple[int, float, int] | None = None  # (rank, -margin, item)
    tried = 0
    for start in range(0, len(candidates), SCORE_BATCH):
        if search.seconds() > seconds:
            break
        batch = candidates[start : start + SCORE_BATCH]
        scores = search.scores([np.append(search.history, c)[-max_len:] for c in batch])
        for row, candidate in zip(scores, batch, strict=True):
            mask = search.excluded.copy()
            mask[candidate] = True
            rank = rank_of(row, mask, search.target)
            key = (rank, -margin_of(row, mask, search.target, search.k), candidate)
            if best is None or key < best:
                best = key
        tried += len(batch)
    history = search.history
    rank_after, score_after, added = search.rank_before, search.score_before, None
    if best is not None:
        added = best[2]
        history = np.append(search.history, added)[-max_len:]
        mask = search.excluded.copy()
        mask[added] = True
        rank_after, score_after = search.verify(history, mask)
    found = added is not None and rank_after <= search.k
    complete = tried == len(candidates)
    scope = f"{tried} of {len(candidates)} candidates tried" + (
        "" if complete else f" in {seconds:g} s"
    )
    if found:
        message = (
            f"buying {search.catalog.title(added)!r} next takes {title!r} from rank "
            f"{search.rank_before} to rank {rank_after}, into the top {search.k} ({scope})"
        )
    else:
        message = f"no single added item brings {title!r} into the top {search.k} ({scope})"
    return Addition(
        item=search.item_id,
        title=title,
        k=search.k,
        found=found,
        added=None if added is None else search.catalog.item_id(added),
        added_title=None if added is None else search.catalog.title(added),
        rank_before=search.rank_before,
        rank_after=rank_after,
        score_before=search.score_before,
        score_after=score_after,
        edited_history=search.ids(history),
        candidates=len(candidates),
        tried=tried,
        complete=complete,
        pool=how,
        message=message,
        forward_passes=search.passes,
        seconds=search.seconds(),
    )
