import math

import numpy as np
import pandas as pd
import pytest

from attnwidget.data import Dataset
from attnwidget.evaluate import (
    PopularityBaseline,
    evaluate,
    evaluate_scorer,
    ranking_metrics,
    ranks_of_targets,
)


def test_ranks_break_ties_by_item_index():
    scores = np.array([[-np.inf, 0.5, 0.9, 0.5, 0.1]])
    assert ranks_of_targets(scores, np.array([3]))[0] == 3  # 0.9, then item 1 (tie, lower index)
    assert ranks_of_targets(scores, np.array([2]))[0] == 1


def test_metrics_equal_hand_computed_values():
    ranks = np.array([1, 3, 12])
    tops = np.array([[1, 2, 3], [2, 3, 4], [1, 2, 4]])
    counts = np.array([0, 9, 4, 1, 0])
    m = ranking_metrics(ranks, tops, n_items=4, item_counts=counts, n_users=9, k=[1, 3])
    assert m["HR@1"] == pytest.approx(1 / 3)
    assert m["HR@3"] == pytest.approx(2 / 3)
    assert m["NDCG@3"] == pytest.approx((1 + 1 / math.log2(4)) / 3)
    assert m["MRR"] == pytest.approx((1 + 1 / 3 + 1 / 12) / 3)
    assert m["coverage@1"] == pytest.approx(2 / 4)  # items 1 and 2
    assert m["coverage@3"] == pytest.approx(4 / 4)
    info = lambda c: -math.log2((c + 1) / 10)  # noqa: E731
    assert m["novelty@1"] == pytest.approx((info(9) + info(4) + info(9)) / 3)


@pytest.fixture
def tiny():
    # user a: 1 2 3 4 (test target 4), user b: 2 3 1 (test target 1)
    rows = [
        ("a", 1, 0),
        ("a", 2, 1),
        ("a", 3, 2),
        ("a", 4, 3),
        ("b", 2, 0),
        ("b", 3, 1),
        ("b", 1, 2),
        ("c", 5, 0),
        ("c", 2, 1),
    ]
    return Dataset.from_pandas(pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]))


def test_popularity_baseline_on_a_tiny_case(tiny):
    # training counts (train parts: a→1 2, b→2, c→5 2): item 2 ×3, 1 ×1, 5 ×1, 3 ×0, 4 ×0
    pop = PopularityBaseline(tiny)
    idx = tiny.catalog.index_of
    assert pop.counts[idx(2)] == 3 and pop.counts[idx(1)] == 1 and pop.counts[idx(3)] == 0
    m = evaluate_scorer(pop.score, tiny, "test", k=(1, 2), exclude_seen=False)
    # a's target 4: ahead are 2, 1, 5 and 3 (tie at 0, lower index) → rank 5
    # b's target 1: ahead is 2 → rank 2
    assert m["HR@2"] == pytest.approx(0.5)
    assert m["MRR"] == pytest.approx((1 / 5 + 1 / 2) / 2)
    seen = evaluate_scorer(pop.score, tiny, "test", k=(1,), exclude_seen=True)
    # with history items masked, b's target 1 is first → HR@1 = 1/2 (a's target ranks 2nd after 5)
    assert seen["HR@1"] == pytest.approx(0.5) and seen["MRR"] == pytest.approx((1 / 2 + 1) / 2)


def test_evaluate_returns_model_and_popularity_rows(trained, shop):
    table = evaluate(trained, shop, k=(5, 10))
    assert list(table.index) == ["model", "popularity"]
    assert {"HR@5", "NDCG@10", "MRR", "coverage@10", "novelty@10"} <= set(table.columns)
    assert ((table >= 0).all().all()) and (table[["HR@10", "NDCG@10", "MRR"]] <= 1).all().all()
    assert table.loc["model", "HR@10"] >= table.loc["model", "HR@5"]


def test_sampled_protocol_ranks_among_101_candidates(trained, shop):
    sampled = evaluate(trained, shop, protocol="sampled", k=(10,), seed=1)
    again = evaluate(trained, shop, protocol="sampled", k=(10,), seed=1)
    full = evaluate(trained, shop, k=(10,))
    pd.testing.assert_frame_equal(sampled, again)
    assert (sampled["HR@10"] >= full["HR@10"]).all()  # 100 negatives are easier than all items
    with pytest.raises(ValueError, match="protocol"):
        evaluate(trained, shop, protocol="nope")


def test_top_columns_match_a_stable_full_sort_with_ties_and_minus_inf():
    from attnwidget.evaluate import top_columns

    rng = np.random.default_rng(0)
    for trial in range(50):
        n, m = int(rng.integers(1, 300)), int(rng.integers(1, 25))
        scores = rng.integers(0, 4, size=(6, n)).astype(float)  # many ties
        if trial % 2:
            scores = rng.random((6, n))
        scores[rng.random((6, n)) < 0.3] = -np.inf
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :m]
        np.testing.assert_array_equal(top_columns(scores, m), expected)
