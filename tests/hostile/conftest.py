"""Hostile-input suite: every case gets a hard timeout and asserts the exact error it expects.

Each test feeds the public API something a user could get wrong (bad shapes, NaN, unknown ids,
damaged files, odd types) and asserts either correct handling or an error of one exact type whose
message names the bad value. Use :func:`tests.hostile.expect.fails` for the second kind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from attnwidget import Dataset, SASRec, synthetic_shop

HERE = Path(__file__).resolve().parent
CASE_TIMEOUT_S = 60


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every case in this folder a timeout (unless it sets its own)."""
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        if item.path.is_relative_to(HERE) and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(CASE_TIMEOUT_S))


SMALL = dict(d_model=16, n_layers=1, n_heads=2, max_len=10)  # an untrained model in milliseconds


@pytest.fixture(scope="module")
def shop() -> Dataset:
    """A small shop (60 users, 120 items); overrides the session-wide one of tests/conftest.py."""
    return synthetic_shop(n_users=60, n_items=120, seed=1)


@pytest.fixture(scope="module")
def model(shop: Dataset) -> SASRec:
    return SASRec(shop, **SMALL, seed=0).eval()


@pytest.fixture(scope="module")
def ids(shop: Dataset) -> list:
    return shop.items["item_id"].tolist()
