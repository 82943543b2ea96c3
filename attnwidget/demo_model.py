"""The demo model: SASRec trained on the default synthetic shop, cached on disk."""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from .data import Dataset
from .datasets import synthetic_shop
from .errors import CheckpointError
from .models import SASRec, fit

DEMO_SEED = 0
DEMO_SETTINGS = {"d_model": 64, "n_layers": 2, "n_heads": 2, "max_len": 50, "dropout": 0.2}
DEMO_TRAINING = {"epochs": 20, "lr": 2e-3, "batch_size": 128, "patience": 3}
# Wall time of the first training on a 2-core machine (benchmarks/train_synthetic_shop.py).
DEMO_TRAINING_SECONDS_2_CORES = 30


def cache_dir() -> Path:
    """``$ATTNWIDGET_CACHE`` or ``$XDG_CACHE_HOME/attnwidget`` (``~/.cache/attnwidget``)."""
    if "ATTNWIDGET_CACHE" in os.environ:
        return Path(os.environ["ATTNWIDGET_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "attnwidget"


def data_fingerprint(dataset: Dataset) -> str:
    """A short hash of the items and histories: a cached model is only reused for the
    very data it was trained on (the generator or the settings may change)."""
    digest = hashlib.sha256(repr((DEMO_SETTINGS, DEMO_TRAINING)).encode())
    digest.update("\x1f".join(map(str, dataset.catalog.item_ids)).encode())
    digest.update(np.ascontiguousarray(dataset.catalog.features).tobytes())
    for sequence in dataset.sequences:
        digest.update(sequence.tobytes() + b"|")
    return digest.hexdigest()[:16]


def demo_dataset() -> Dataset:
    """The synthetic shop the demo model is trained on."""
    return synthetic_shop(seed=DEMO_SEED)


def demo_model_path(dataset: Dataset) -> Path:
    """Where the demo model trained on ``dataset`` (the :func:`demo_dataset`) is cached."""
    return cache_dir() / f"demo-sasrec-{data_fingerprint(dataset)}.pt"


def demo_model(retrain: bool = False, progress: bool = True) -> tuple[SASRec, Dataset]:
    """The synthetic shop and a SASRec trained on it (loaded from the cache when present)."""
    return demo_model_on(demo_dataset(), retrain=retrain, progress=progress)


def demo_model_on(
    dataset: Dataset, *, retrain: bool = False, progress: bool = True
) -> tuple[SASRec, Dataset]:
    """:func:`demo_model` for an already generated :func:`demo_dataset`."""
    path = demo_model_path(dataset)
    if path.is_file() and not retrain:
        try:
            return SASRec.load(path), dataset
        except CheckpointError as err:  # a damaged cache is rebuilt, not fatal
            warnings.warn(f"retraining the demo model: {err}", stacklevel=2)
    model = SASRec(dataset, seed=DEMO_SEED, **DEMO_SETTINGS)
    fit(model, dataset, seed=DEMO_SEED, progress=progress, **DEMO_TRAINING)
    model.save(path)
    return model, dataset
