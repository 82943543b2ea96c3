"""The matrix the views show for a layer/head choice: one definition, the same cases as the
front end's (js/tests/explanation.test.js reads js/tests/fixtures/view_cases.json too)."""

import json
from pathlib import Path

import numpy as np
import pytest

from attnwidget.explain import selected_attention

CASES = json.loads(
    (
        Path(__file__).resolve().parents[2] / "js" / "tests" / "fixtures" / "view_cases.json"
    ).read_text()
)


def array(values, shape):
    return np.array([np.nan if v is None else v for v in values], dtype=np.float32).reshape(shape)


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: json.dumps(c["view"]))
def test_the_chosen_matrix_is_the_one_the_front_end_draws(case):
    L, H, n, _ = CASES["shape"]
    attention = array(CASES["attention"], (L, H, n, n))
    rollout = array(CASES["rollout"], (L, n, n))
    chosen = selected_attention(attention, rollout, **case["view"])
    np.testing.assert_allclose(chosen, array(case["matrix"], (n, n)), rtol=1e-6, equal_nan=True)
