"""Ranking metrics (HR, NDCG, MRR, coverage, novelty) and the popularity baseline."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .data import Catalog, Dataset
from .data.dataset import SplitExample

Scorer = Callable[[Sequence[np.ndarray]], np.ndarray]
PROTOCOLS = ("full", "sampled")


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
    """Per case: target first, then ``n_negatives`` items not in its history."""
    out = np.zeros((len(batch), n_negatives + 1), dtype=np.int64)
    for row, ex in enumerate(batch):
        banned = np.zeros(n_items + 1, dtype=bool)
        banned[0] = True
        banned[ex.history] = True
        banned[ex.target] = True
        pool = np.flatnonzero(~banned)
        out[row, 0] = ex.target
        out[row, 1:] = rng.choice(pool, size=n_negatives, replace=pool.size < n_negatives)
    return out


def evaluate_scorer(
    scorer: Scorer,
    dataset: Dataset,
    split: str = "test",
    k: Sequence[int] = (10, 20),
    *,
    protocol: str = "full",
    n_negatives: int = 100,
    exclude_seen: bool = True,
    seed: int = 0,
    batch_size: int = 512,
) -> dict[str, float]:
    """Metrics of any scorer (histories → ``[B, n_items + 1]`` scores) on a split."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    k = sorted({int(c) for c in ([k] if isinstance(k, int) else k)})
    if not k or k[0] < 1:
        raise ValueError(f"k must be positive integers, got {k}")
    examples = dataset.split(split)
    if not examples:
        raise ValueError(f"the {split!r} split is empty: no user has 3 or more interactions")
    rng = np.random.default_rng(seed)
    ranks, tops = [], []
    for start in range(0, len(examples), batch_size):
        batch = examples[start : start + batch_size]
        scores = np.array(scorer([ex.history for ex in batch]), dtype=float, copy=True)
        if exclude_seen:
            _mask_seen(scores, batch)
        if protocol == "sampled":
            candidates = _sample_candidates(batch, dataset.n_items, n_negatives, rng)
            picked = np.take_along_axis(scores, candidates, axis=1)
            ranks.append(ranks_of_targets(picked, np.zeros(len(batch), dtype=np.int64)))
            order = np.argsort(-picked, axis=1, kind="stable")[:, : max(k)]
            tops.append(np.take_along_axis(candidates, order, axis=1))
        else:
            ranks.append(ranks_of_targets(scores, np.array([ex.target for ex in batch])))
            order = np.argsort(-scores, axis=1, kind="stable")[:, : max(k)]
            tops.append(np.where(np.isfinite(np.take_along_axis(scores, order, 1)), order, 0))
    counts = dataset.item_popularity()
    n_train_users = dataset.n_users
    return ranking_metrics(
        np.concatenate(ranks), np.concatenate(tops), dataset.n_items, counts, n_train_users, k
    )


def evaluate(
    model,
    dataset: Dataset,
    split: str = "test",
    k: Sequence[int] = (10, 20),
    *,
    protocol: str = "full",
    n_negatives: int = 100,
    exclude_seen: bool = True,
    baseline: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """Evaluate a model (anything with ``score(histories)``) under leave-one-out.

    Args:
        split: ``"valid"`` or ``"test"``.
        k: cut-offs for HR, NDCG, coverage and novelty.
        protocol: ``"full"`` ranks the target among all items; ``"sampled"`` among the
            target and ``n_negatives`` random items the user has not interacted with.
        exclude_seen: rank only items not already in the history (the target is kept).
        baseline: add a ``"popularity"`` row computed the same way.

    Returns:
        One row per model (``"model"``, ``"popularity"``), one column per metric.
    """
    options = dict(protocol=protocol, n_negatives=n_negatives, exclude_seen=exclude_seen, seed=seed)
    if isinstance(getattr(model, "catalog", None), Catalog):
        dataset = dataset.aligned_to(model.catalog)  # a model trained on a reordered catalogue
    rows = {"model": evaluate_scorer(model.score, dataset, split, k, **options)}
    if baseline:
        rows["popularity"] = evaluate_scorer(
            PopularityBaseline(dataset).score, dataset, split, k, **options
        )
    return pd.DataFrame.from_dict(rows, orient="index")
