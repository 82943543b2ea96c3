"""Shared fixtures: a small synthetic shop and a briefly trained model (built once per session)."""

from __future__ import annotations

import pytest

from attnwidget.datasets import synthetic_shop
from attnwidget.models import SASRec, fit


@pytest.fixture(scope="session")
def shop():
    return synthetic_shop(n_users=300, n_items=150, seed=7)


@pytest.fixture(scope="session")
def trained(shop):
    model = SASRec(shop, d_model=32, n_layers=2, n_heads=2, max_len=20, dropout=0.1, seed=3)
    fit(model, shop, epochs=3, batch_size=64, seed=3, progress=False)
    return model


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory):
    """A cache dir holding the trained demo model; ``ATTNWIDGET_CACHE`` points at it."""
    import os

    from attnwidget import demo_model

    path = tmp_path_factory.getbasetemp() / "attnwidget-cache"
    previous = os.environ.get("ATTNWIDGET_CACHE")
    os.environ["ATTNWIDGET_CACHE"] = str(path)
    demo_model(progress=False)
    yield path
    if previous is None:
        os.environ.pop("ATTNWIDGET_CACHE", None)
    else:
        os.environ["ATTNWIDGET_CACHE"] = previous
