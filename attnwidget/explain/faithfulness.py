"""How far to trust an importance ranking: agreement with occlusion and ERASER scores."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..sources import AttentionSource, can_rerun
from .importance import target_scores

ERASER_K = (1, 3, 5)
Agreement = dict[str, dict[str, float]]
"""Per method: ``kendall_tau`` and ``top1_agreement`` with occlusion."""


def kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's τ-b between two score vectors (NaN when either is constant or has NaN)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 2 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan")
    da = np.sign(a[:, None] - a[None, :])
    db = np.sign(b[:, None] - b[None, :])
    upper = np.triu_indices(a.size, k=1)
    da, db = da[upper], db[upper]
    denominator = np.sqrt(np.count_nonzero(da) * np.count_nonzero(db))
    return float((da * db).sum() / denominator) if denominator else float("nan")


def top1_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """1.0 when both rankings put the same position first, else 0.0 (NaN if undefined)."""
    if a.size == 0 or not (np.isfinite(a).any() and np.isfinite(b).any()):
        return float("nan")
    return float(np.nanargmax(a) == np.nanargmax(b))


def occlusion_agreement(importance: Mapping[str, np.ndarray | None]) -> Agreement:
    """Kendall τ and top-1 agreement of each method's importance with ``importance["occlusion"]``
    (NaN for a method given as ``None``, and for all while occlusion is ``None``)."""
    occlusion = importance.get("occlusion")
    nan = {"kendall_tau": float("nan"), "top1_agreement": float("nan")}
    return {
        method: dict(nan)
        if weights is None or occlusion is None
        else {
            "kendall_tau": kendall_tau(weights, occlusion),
            "top1_agreement": top1_agreement(np.asarray(weights), np.asarray(occlusion)),
        }
        for method, weights in importance.items()
    }


def ranked_positions(importance: np.ndarray) -> np.ndarray:
    """History positions, most important first (ties: the more recent position first)."""
    order = np.lexsort((-np.arange(importance.size), -np.nan_to_num(importance, nan=-np.inf)))
    return order


def eraser_scores(
    source: AttentionSource,
    history: np.ndarray,
    target: int,
    importance: np.ndarray,
    ks: tuple[int, ...] = ERASER_K,
) -> dict[str, float]:
    """ERASER comprehensiveness and sufficiency (DeYoung et al. 2020) for one ranking.

    ``comprehensiveness@k`` is the target's score drop when the top-``k`` items are
    removed (NaN when that would empty the history); ``sufficiency@k`` the drop when
    only they are kept, in their original order. A faithful ranking has high
    comprehensiveness and low sufficiency. All NaN for a source that cannot re-run
    histories (``can_rerun`` False).
    """
    if not can_rerun(source):
        return {
            f"{kind}@{k}": float("nan") for k in ks for kind in ("comprehensiveness", "sufficiency")
        }
    order = ranked_positions(importance)
    n = len(history)
    cases, names = [history], []
    for k in ks:
        top = np.sort(order[:k])
        if k < n:
            cases.append(np.delete(history, top))
            names.append(f"comprehensiveness@{k}")
        cases.append(history[top])
        names.append(f"sufficiency@{k}")
    scores = target_scores(source, cases, target)
    out = {name: float(scores[0] - s) for name, s in zip(names, scores[1:], strict=True)}
    return {
        f"{kind}@{k}": out.get(f"{kind}@{k}", float("nan"))
        for k in ks
        for kind in ("comprehensiveness", "sufficiency")
    }
