"""Ranking metrics (HR, NDCG, MRR, coverage, novelty) and the popularity baseline."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .checks import check_bool, check_int
from .data import Catalog, Dataset
from .data.dataset import SplitExample
from .errors import (
    ArgumentTypeError,
    ArgumentValueError,
    DataError,
    NonFiniteScoresWarning,
    NothingToRecommendError,
)

Scorer = Callable[[Sequence[np.ndarray]], np.ndarray]
PROTOCOLS = ("full", "sampled")


def check_cutoffs(k: Any) -> list[int]:
    """Sorted distinct cut-offs from one integer or a sequence of integers (each ≥ 1)."""
    if isinstance(k, str | bytes) or not isinstance(k, Sequence | np.ndarray | int | np.integer):
        raise ArgumentTypeError(f"k must be an integer or a list of integers, got {k!r}")
    if isinstance(k, int | np.integer):
        values = [k]
    else:
        values = np.ravel(k).tolist() if isinstance(k, np.ndarray) else list(k)
    if not values:
        raise ArgumentValueError("k must name at least one cut-off, got an empty list")
    return sorted({check_int("k", v) for v in values})


class PopularityBaseline:
    """Scores every item by its number of training interactions."""

    def __init__(self, dataset: Dataset) -> None:
        self.counts = dataset.item_popularity().astype(float)
        self.counts[0] = -np.inf

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        return np.tile(self.counts, (len(histories), 1))


def ranks_of_targets(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each target in its row; ties go to the lower item index."""
    target_scores = scores[np.arange(len(targets)), targets][:, None]
    index = np.arange(scores.shape[1])[None, :]
    ahead = (scores > target_scores) | ((scores == target_scores) & (index < targets[:, None]))
    return ahead.sum(axis=1) + 1


def top_columns(scores: np.ndarray, m: int) -> np.ndarray:
    """``[B, min(m, n)]`` column indices of each row's ``m`` highest scores, best first, ties
    to the lower index: ``np.argsort(-scores, axis=1, kind="stable")[:, :m]`` without sorting
    whole rows (scores hold no NaN)."""
    n = scores.shape[1]
    if n <= 4 * m:
        return np.argsort(-scores, axis=1, kind="stable")[:, :m]
    threshold = -np.partition(-scores, m - 1, axis=1)[:, m - 1 : m]
    greater = scores > threshold
    equal = scores == threshold
    need = m - greater.sum(axis=1, keepdims=True)
    chosen = greater | (equal & (np.cumsum(equal, axis=1) <= need))
    columns = np.nonzero(chosen)[1].reshape(len(scores), m)  # in index order per row
    best = np.argsort(-np.take_along_axis(scores, columns, axis=1), axis=1, kind="stable")
    return np.take_along_axis(columns, best, axis=1)


def ranking_metrics(
    ranks: np.ndarray,
    top_lists: np.ndarray,
    n_items: int,
    item_counts: np.ndarray,
    n_users: int,
    k: Sequence[int],
) -> dict[str, float]:
    """Metrics from target ranks and each case's top-max(k) item list.

    Novelty@K is the mean self-information ``-log2((count + 1) / (n_users + 1))`` of
    recommended items, with training interaction counts.
    """
    ranks = np.asarray(ranks, dtype=float)
    out: dict[str, float] = {}
    info = -np.log2((item_counts + 1.0) / (n_users + 1.0))
    for cut in k:
        hit = ranks <= cut
        out[f"HR@{cut}"] = float(hit.mean())
        out[f"NDCG@{cut}"] = float(np.where(hit, 1.0 / np.log2(ranks + 1.0), 0.0).mean())
        top = top_lists[:, :cut]
        out[f"coverage@{cut}"] = float(np.unique(top[top > 0]).size / n_items)
        out[f"novelty@{cut}"] = (
            float(info[top[top > 0]].mean()) if (top > 0).any() else float("nan")
        )
    out["MRR"] = float((1.0 / ranks).mean())
    return out


def _mask_seen(scores: np.ndarray, batch: Sequence[SplitExample]) -> None:
    for row, ex in enumerate(batch):
        seen = ex.history[ex.history != ex.target]
        scores[row, seen] = -np.inf


def _sample_candidates(
    batch: Sequence[SplitExample], n_items: int, n_negatives: int, rng: np.random.Generator
) -> np.ndarray:
    """Per case: target first, then ``n_negatives`` distinct items not in its history.

    When fewer items are left, all of them are taken and the rest of the row is padding
    (index 0), which never ranks: such a case ranks among fewer candidates.
    """
    out = np.zeros((len(batch), n_negatives + 1), dtype=np.int64)
    for row, ex in enumerate(batch):
        banned = np.zeros(n_items + 1, dtype=bool)
        banned[0] = True
        banned[ex.history] = True
        banned[ex.target] = True
        pool = np.flatnonzero(~banned)
        out[row, 0] = ex.target
        picked = rng.choice(pool, size=min(n_negatives, pool.size), replace=False)
        out[row, 1 : 1 + picked.size] = picked
    return out


def _checked_scores(
    scorer: Scorer, batch: Sequence[SplitExample], n_items: int
) -> tuple[np.ndarray, int]:
    """The scorer's ``[B, n_items + 1]`` scores as floats, with NaN and +inf set to -inf.

    Returns the scores and how many cases had NaN or +inf scores. Padding (index 0)
    is set to -inf, so it never ranks.
    """
    raw = scorer([ex.history for ex in batch])
    try:
        scores = np.array(raw, dtype=float, copy=True)
    except (TypeError, ValueError):
        raise DataError(
            f"the scorer must return a [batch, n_items + 1] array of numbers, got "
            f"{type(raw).__name__}"
        ) from None
    if scores.shape != (len(batch), n_items + 1):
        raise DataError(
            f"the scorer returned scores of shape {scores.shape} for {len(batch)} histories; "
            f"expected ({len(batch)}, {n_items + 1}) (n_items + 1 with padding at 0): "
            "do the model and the dataset have the same catalogue?"
        )
    unrankable = np.isnan(scores) | np.isposinf(scores)
    scores[unrankable] = -np.inf
    scores[:, 0] = -np.inf
    return scores, int(np.count_nonzero(unrankable[:, 1:].any(axis=1)))


def evaluate_scorer(
    scorer: Scorer,
    dataset: Dataset,
    split: str = "test",
    k: int | Sequence[int] = (10, 20),
    *,
    protocol: str = "full",
    n_negatives: int = 100,
    exclude_seen: bool = True,
    seed: int = 0,
    batch_size: int = 512,
) -> dict[str, float]:
    """Metrics of any scorer (histories → ``[B, n_items + 1]`` scores) on a split.

    NaN and +inf scores are unrankable: those items are never in a top list and a target
    with such a score counts as a miss at the worst rank (a
    :class:`NonFiniteScoresWarning` says how many cases had them).

    Raises:
        NothingToRecommendError: every score of every case is NaN or infinite.
    """
    if protocol not in PROTOCOLS:
        raise ArgumentValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    k = check_cutoffs(k)
    n_negatives = check_int("n_negatives", n_negatives)
    exclude_seen = check_bool("exclude_seen", exclude_seen)
    seed = check_int("seed", seed, minimum=0)
    batch_size = check_int("batch_size", batch_size)
    examples = dataset.split(split)
    if not examples:
        raise DataError(f"the {split!r} split is empty: no user has 3 or more interactions")
    rng = np.random.default_rng(seed)
    ranks, tops, flawed, rankable = [], [], 0, False
    for start in range(0, len(examples), batch_size):
        batch = examples[start : start + batch_size]
        scores, bad = _checked_scores(scorer, batch, dataset.n_items)
        flawed, rankable = flawed + bad, rankable or bool(np.isfinite(scores).any())
        if exclude_seen:
            _mask_seen(scores, batch)
        if protocol == "sampled":
            candidates = _sample_candidates(batch, dataset.n_items, n_negatives, rng)
            picked = np.take_along_axis(scores, candidates, axis=1)
            targets = np.zeros(len(batch), dtype=np.int64)
            worst = n_negatives + 1
        else:
            candidates, picked = None, scores
            targets = np.array([ex.target for ex in batch])
            worst = dataset.n_items
        rank = ranks_of_targets(picked, targets)
        rank[~np.isfinite(picked[np.arange(len(batch)), targets])] = worst
        ranks.append(rank)
        order = top_columns(picked, max(k))
        items = order if candidates is None else np.take_along_axis(candidates, order, 1)
        tops.append(np.where(np.isfinite(np.take_along_axis(picked, order, 1)), items, 0))
    if not rankable:
        raise NothingToRecommendError(
            f"every score the model gave on the {split!r} split is NaN or infinite "
            "(diverged weights?): nothing can be ranked"
        )
    if flawed:
        warnings.warn(
            f"{flawed} of {len(examples)} {split!r} cases have NaN or +inf scores; those "
            "items are never ranked (a target among them counts as a miss)",
            NonFiniteScoresWarning,
            stacklevel=3,
        )
    counts = dataset.item_popularity()
    n_train_users = dataset.n_users
    return ranking_metrics(
        np.concatenate(ranks), np.concatenate(tops), dataset.n_items, counts, n_train_users, k
    )


def evaluate(
    model: Any,
    dataset: Dataset,
    split: str = "test",
    k: int | Sequence[int] = (10, 20),
    *,
    protocol: str = "full",
    n_negatives: int = 100,
    exclude_seen: bool = True,
    baseline: bool = True,
    seed: int = 0,
    device: Any = None,
) -> pd.DataFrame:
    """Evaluate a model (anything with ``score(histories)``) under leave-one-out.

    Args:
        split: ``"valid"`` or ``"test"``.
        k: cut-offs for HR, NDCG, coverage and novelty.
        protocol: ``"full"`` ranks the target among all items; ``"sampled"`` among the
            target and ``n_negatives`` random items the user has not interacted with.
        exclude_seen: rank only items not already in the history (the target is kept).
        baseline: add a ``"popularity"`` row computed the same way.
        device: for a torch model (an ``nn.Module``), the device it scores on
            (``"cuda"``, ``"mps"``, ``"cpu"``): the model is moved there and stays.
            Default: the model's device.

    Returns:
        One row per model (``"model"``, ``"popularity"``), one column per metric.

    Raises:
        UnknownItemError: the dataset has items the model's catalogue lacks.
        NothingToRecommendError: every score the model gives is NaN or infinite.
    """
    if not callable(getattr(model, "score", None)):
        raise ArgumentTypeError(
            f"model must have a score(histories) method, got {type(model).__name__}"
        )
    if not isinstance(dataset, Dataset):
        raise ArgumentTypeError(
            f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}"
        )
    baseline = check_bool("baseline", baseline)
    if device is not None:
        if not callable(getattr(model, "to", None)):
            raise ArgumentTypeError(
                f"device={device!r} needs a torch model (with .to), got {type(model).__name__}"
            )
        model.to(device)
    options = dict(protocol=protocol, n_negatives=n_negatives, exclude_seen=exclude_seen, seed=seed)
    if isinstance(getattr(model, "catalog", None), Catalog):
        dataset = dataset.aligned_to(model.catalog)  # a model trained on a reordered catalogue
    rows = {"model": evaluate_scorer(model.score, dataset, split, k, **options)}
    if baseline:
        rows["popularity"] = evaluate_scorer(
            PopularityBaseline(dataset).score, dataset, split, k, **options
        )
    return pd.DataFrame.from_dict(rows, orient="index")
