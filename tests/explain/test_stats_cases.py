"""distribution_stats on the cases js/src/stats.js is checked against too (one definition)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from attnwidget.explain import distribution_stats

CASES = json.loads(
    (
        Path(__file__).resolve().parents[2] / "js" / "tests" / "fixtures" / "stats_cases.json"
    ).read_text(encoding="utf-8")
)["cases"]


def weights(values: list[float | str]) -> np.ndarray:
    """The case's weights ("NaN", "Infinity" and "-Infinity" as floats)."""
    return np.array([float(v) for v in values], dtype=np.float64)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_distribution_stats_meet_the_shared_case(case):
    stats = distribution_stats(weights(case["weights"]))
    for key, expected in case["expected"].items():
        if expected is None:
            assert math.isnan(stats[key]), f"{key}: {stats[key]}, expected undefined (NaN)"
        else:
            assert stats[key] == pytest.approx(expected, rel=1e-12, abs=1e-15), key
