"""The attention metrics: R² against occlusion per user, feature MI over users."""

from __future__ import annotations

import numpy as np
import pytest

from attnwidget import explain, faithfulness_report
from attnwidget.explain import (
    explanations_feature_mi,
    feature_mutual_information,
    mutual_information,
    occlusion_r2,
)
from attnwidget.explain.attention_metrics import feature_pairs, shuffled_mutual_information


def test_r2_of_a_linear_relation_is_one_and_of_noise_small():
    w = np.array([0.1, 0.2, 0.3, 0.4])
    assert occlusion_r2(w, 3 * w - 1) == pytest.approx(1.0)
    assert occlusion_r2(w, -w) == pytest.approx(1.0)  # a fit, not an agreement
    assert occlusion_r2(w, np.array([1.0, 0.0, 0.0, 1.0])) == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    assert occlusion_r2(rng.normal(size=500), rng.normal(size=500)) < 0.02


@pytest.mark.parametrize(
    ("w", "o"),
    [
        ([0.5, 0.5, 0.5], [1.0, 2.0, 3.0]),  # constant weights
        ([0.1, 0.2, 0.3], [1.0, 1.0, 1.0]),  # constant drops
        ([0.1, np.nan, 0.3], [1.0, 2.0, 3.0]),
        ([0.1, 0.2], [1.0, 2.0]),  # too few items
    ],
)
def test_r2_is_nan_when_undefined(w, o):
    assert np.isnan(occlusion_r2(np.array(w), np.array(o)))


def test_mutual_information_of_copies_is_the_entropy_and_of_independents_zero():
    x = np.array([0, 0, 1, 1, 2, 2])
    assert mutual_information(x, x) == pytest.approx(np.log(3))
    assert mutual_information(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])) == pytest.approx(0)
    assert mutual_information(x, np.array([5, 5, 7, 7, 9, 9])) == pytest.approx(np.log(3))


def test_the_shuffled_baseline_carries_the_plug_in_bias():
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 10, 100), rng.integers(0, 10, 100)  # independent
    mi, base = mutual_information(x, y), shuffled_mutual_information(x, y, seed=2)
    assert mi > 0.2  # the plug-in estimate is far from the true 0 …
    assert abs(mi - base) < 0.15  # … and the baseline shows it
    table = feature_mutual_information(
        [np.stack([[a], [b]]) for a, b in zip(x, y, strict=True)], ["f"]
    )
    assert table.at["f", "bias"] == pytest.approx(81 / 200)
    assert table.at["f", "pairs"] == 100


def test_feature_pairs_take_the_most_important_item_ties_to_the_recent():
    features = np.array([[0], [3], [4], [5], [6]])
    pairs = feature_pairs(np.array([1, 2, 3]), 4, np.array([0.5, 0.1, 0.5]), features)
    assert pairs.tolist() == [[5], [6]]
    assert feature_pairs(np.array([1]), 4, np.array([np.nan]), features) is None


def test_explanation_metrics_have_r2_per_method(trained, shop):
    expl = explain(trained, shop, shop.users[3])
    metrics = expl.metrics
    table = expl.importance
    assert np.isnan(metrics.at["occlusion", "r2_occlusion"])
    expected = occlusion_r2(table["attention"].to_numpy(), table["occlusion"].to_numpy())
    assert metrics.at["attention", "r2_occlusion"] == pytest.approx(expected)


def test_the_report_has_mi_per_field_and_method(trained, shop):
    report = faithfulness_report(trained, shop, shop.users[:25], progress=False)
    for name in trained.catalog.field_names:
        assert report[f"mi:{name}"].notna().all()
        assert report[f"mi_shuffled:{name}"].notna().all()
    assert report["r2_occlusion"].iloc[:3].notna().all()
    explanations = [explain(trained, shop, u, k=1) for u in shop.users[:25]]
    by_hand = explanations_feature_mi(explanations, "attention")
    assert report.at["attention", "mi:category"] == pytest.approx(by_hand.at["category", "mi"])
