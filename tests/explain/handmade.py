"""Hand-made sources whose right answers are known: scores are sums of fixed item weights."""

from __future__ import annotations

import numpy as np
import pandas as pd

from attnwidget import Catalog
from attnwidget.data.features import FeatureField
from attnwidget.sources import SourceOutput


def shop_catalog(titles: list[str], categories: list[str] | None = None) -> Catalog:
    """Items ``i1..iN`` with the given titles and (optionally) a category field."""
    n = len(titles)
    ids = [f"i{k}" for k in range(1, n + 1)]
    if categories is None:
        return Catalog(ids, titles, [], np.zeros((n + 1, 0)))
    field = FeatureField.fit("category", pd.Series(categories))
    features = np.zeros((n + 1, 1), dtype=np.int64)
    features[1:, 0] = field.encode(pd.Series(categories))
    return Catalog(ids, titles, [field], features)


class LinearSource:
    """``score[j] = bias[j] + Σ_i W[h_i, j]`` over the history ``h``; attention is uniform.

    ``can_rerun`` may be set False to stand for a precomputed source.
    """

    max_len = 50
    field_names = ("item",)

    def __init__(self, catalog: Catalog, weights: np.ndarray, bias: np.ndarray) -> None:
        self.catalog = catalog
        self.weights = np.asarray(weights, dtype=np.float64)  # [n_items + 1, n_items + 1]
        self.bias = np.asarray(bias, dtype=np.float64)  # [n_items + 1]
        self.can_rerun = True
        self.runs = 0

    def score(self, histories):
        self.runs += len(histories)
        out = np.array([self.bias + self.weights[np.asarray(h)].sum(axis=0) for h in histories])
        out[:, 0] = -np.inf
        return out

    def run(self, histories):
        n = max(len(h) for h in histories)
        attn = np.zeros((len(histories), 1, 1, n, n))
        for b, h in enumerate(histories):
            for q in range(n - len(h), n):
                attn[b, 0, 0, q, n - len(h) : q + 1] = 1.0 / (q + 1 - (n - len(h)))
        return SourceOutput(self.score(histories), attn, None)
