"""Tiny catalogues and datasets for the adapter tests."""

from __future__ import annotations

import numpy as np
import torch

from attnwidget import Catalog, Dataset


def catalog(n_items: int = 6) -> Catalog:
    ids = range(1, n_items + 1)
    no_features = np.zeros((n_items + 1, 0))
    return Catalog([f"i{k}" for k in ids], [f"item {k}" for k in ids], [], no_features)


def dataset(histories: dict[str, list[int]], n_items: int = 6) -> Dataset:
    """Users with the given dense-index histories over :func:`catalog`."""
    return Dataset(catalog(n_items), list(histories), [np.array(h) for h in histories.values()])


def fix_weights(module: torch.nn.Module, seed: float = 0.0) -> None:
    """Set every parameter to a fixed, asymmetric pattern (no random init involved)."""
    with torch.no_grad():
        for k, p in enumerate(module.parameters()):
            values = torch.arange(p.numel(), dtype=torch.float32)
            p.copy_(0.6 * torch.sin(0.7 * values + 1.3 * k + seed).reshape(p.shape))
