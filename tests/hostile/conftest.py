"""Hostile-input suite: every case gets a hard timeout and asserts the exact error it expects.

Each test feeds the public API something a user could get wrong (bad shapes, NaN, unknown ids,
damaged files, odd types) and asserts either correct handling or an error of one exact type whose
message names the bad value. Use :func:`tests.hostile.expect.fails` for the second kind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CASE_TIMEOUT_S = 60


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every case in this folder a timeout (unless it sets its own)."""
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        if item.path.is_relative_to(HERE) and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(CASE_TIMEOUT_S))
