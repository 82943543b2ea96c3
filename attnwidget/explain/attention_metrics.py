"""How much attention accounts for: R² against occlusion (per user) and mutual information
between the most-attended item's features and the recommended item's (over users).

* :func:`occlusion_r2`: the R² of the least-squares line ``drop ≈ a + b · weight`` through
  one history's items, ``drop`` being the recommended item's score drop when the item is
  left out (occlusion). 1 means the weights, up to scale and offset, give the real effect of
  every item; 0 that they account for none of its variation. It equals the squared Pearson
  correlation, so a method ranking the items right but with a curved relation scores below 1.
* :func:`feature_mutual_information`: over users, per feature field, the plug-in mutual
  information (nats) between the field's value on the most important history item (by a
  method) and on the recommended item. The plug-in estimate is biased upwards by about
  ``(Kx − 1)(Ky − 1) / (2N)`` nats for ``N`` pairs over ``Kx × Ky`` observed values (Miller
  1955), which is large for few users and many values; so a shuffled baseline goes with it:
  the mean MI after pairing the recommended items' values with the history side in random
  order. Only the excess over the baseline is evidence of a dependence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..checks import check_int
from .importance import METHODS

N_SHUFFLES = 20
"""Shuffles averaged for the MI baseline."""


def occlusion_r2(weights: np.ndarray, occlusion: np.ndarray) -> float:
    """R² of the linear fit of ``occlusion`` from ``weights`` (NaN with fewer than 3 items,
    non-finite values, or either side constant)."""
    w = np.asarray(weights, dtype=np.float64).ravel()
    o = np.asarray(occlusion, dtype=np.float64).ravel()
    if w.size < 3 or w.size != o.size or not (np.isfinite(w).all() and np.isfinite(o).all()):
        return float("nan")
    w, o = w - w.mean(), o - o.mean()
    sw, so = float(w @ w), float(o @ o)
    if sw <= 1e-24 or so <= 1e-24:
        return float("nan")
    return float((w @ o) ** 2 / (sw * so))


def mutual_information(x: np.ndarray, y: np.ndarray) -> float:
    """Plug-in mutual information (nats) of two equal-length sequences of discrete values."""
    x, y = np.asarray(x).ravel(), np.asarray(y).ravel()
    if x.size == 0:
        return float("nan")
    _, xi = np.unique(x, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    joint = np.zeros((xi.max() + 1, yi.max() + 1))
    np.add.at(joint, (xi, yi), 1.0)
    joint /= x.size
    px, py = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (px @ py)[nz])).sum())


def shuffled_mutual_information(
    x: np.ndarray, y: np.ndarray, n_shuffles: int = N_SHUFFLES, seed: int = 0
) -> float:
    """Mean plug-in MI of ``x`` against ``y`` in ``n_shuffles`` random orders (the value an
    independent pairing with the same marginals gives; the plug-in bias lives here)."""
    n_shuffles = check_int("n_shuffles", n_shuffles)
    rng = np.random.default_rng(seed)
    y = np.asarray(y).ravel()
    return float(np.mean([mutual_information(x, rng.permutation(y)) for _ in range(n_shuffles)]))


def feature_pairs(
    history: np.ndarray, target: int, weights: np.ndarray, features: np.ndarray
) -> np.ndarray | None:
    """``[2, F]`` feature values of the most important history item (by ``weights``; the
    more recent one on ties) and of ``target``; ``None`` when no weight is finite."""
    w = np.asarray(weights, dtype=np.float64)
    if not np.isfinite(w).any():
        return None
    w = np.nan_to_num(w, nan=-np.inf)
    top = int(w.size - 1 - np.argmax(w[::-1]))
    return np.stack([features[int(history[top])], features[int(target)]])


def feature_mutual_information(
    pairs: Sequence[np.ndarray],
    field_names: Sequence[str],
    *,
    n_shuffles: int = N_SHUFFLES,
    seed: int = 0,
) -> pd.DataFrame:
    """Per field: ``mi`` (plug-in, nats), ``mi_shuffled`` (baseline), ``mi_excess`` (their
    difference), ``bias`` (Miller's first-order estimate of the plug-in bias) and ``pairs``,
    from :func:`feature_pairs` of many users. An empty ``pairs`` gives NaN figures."""
    rows = {}
    stacked = np.asarray(pairs) if len(pairs) else np.zeros((0, 2, len(field_names)))
    for f, name in enumerate(field_names):
        x, y = stacked[:, 0, f], stacked[:, 1, f]
        mi = mutual_information(x, y)
        base = shuffled_mutual_information(x, y, n_shuffles, seed) if x.size else float("nan")
        kx, ky = np.unique(x).size, np.unique(y).size
        rows[name] = {
            "mi": mi,
            "mi_shuffled": base,
            "mi_excess": mi - base,
            "bias": (kx - 1) * (ky - 1) / (2 * x.size) if x.size else float("nan"),
            "pairs": int(x.size),
        }
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["mi", "mi_shuffled", "mi_excess", "bias", "pairs"]
    )


def method_feature_mi(
    per_method_pairs: dict[str, list[np.ndarray]],
    field_names: Sequence[str],
    *,
    n_shuffles: int = N_SHUFFLES,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per method, columns ``mi:FIELD`` and ``mi_shuffled:FIELD`` (see
    :func:`feature_mutual_information`)."""
    rows = {}
    for method in (m for m in METHODS if m in per_method_pairs):
        table = feature_mutual_information(
            per_method_pairs[method], field_names, n_shuffles=n_shuffles, seed=seed
        )
        rows[method] = {
            **{f"mi:{name}": table.at[name, "mi"] for name in field_names},
            **{f"mi_shuffled:{name}": table.at[name, "mi_shuffled"] for name in field_names},
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def explanations_feature_mi(
    explanations: Iterable, method: str = "attention", **options: int
) -> pd.DataFrame:
    """:func:`feature_mutual_information` of many explanations' targets against their most
    important history item by ``method`` (``"attention"``: the most-attended item)."""
    pairs, names = [], None
    for expl in explanations:
        names = expl.catalog.field_names
        found = feature_pairs(
            expl.history, expl.target, expl.method_importance(method), expl.catalog.features
        )
        if found is not None:
            pairs.append(found)
    return feature_mutual_information(pairs, names or [], **options)
