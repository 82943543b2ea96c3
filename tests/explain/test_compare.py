"""Two explanations of one history: what differs in the top-k and where attention moved."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import attnwidget as aw
from attnwidget.explain import attention_difference, compare_recommendations


@pytest.fixture(scope="module")
def shop() -> aw.Dataset:
    return aw.synthetic_shop(n_users=40, n_items=120, seed=3)


@pytest.fixture(scope="module")
def pair(shop):
    a = aw.SASRec(shop, d_model=16, n_layers=2, n_heads=2, max_len=12, seed=0)
    b = aw.SASRec(shop, d_model=16, n_layers=2, n_heads=2, max_len=12, seed=1)
    user = shop.users[2]
    return aw.explain(a, shop, user), aw.explain(b, shop, user)


def test_every_item_of_either_top_k_is_listed_with_both_ranks(pair) -> None:
    a, b = pair
    table = compare_recommendations(a, b)
    ids_a = [a.catalog.item_id(int(i)) for i in a.recommendations]
    ids_b = [b.catalog.item_id(int(i)) for i in b.recommendations]
    assert set(table["item_id"]) == set(ids_a) | set(ids_b)
    for row in table.itertuples():
        ra = ids_a.index(row.item_id) + 1 if row.item_id in ids_a else None
        rb = ids_b.index(row.item_id) + 1 if row.item_id in ids_b else None
        assert (None if row.rank_a is pd.NA else row.rank_a) == ra
        assert (None if row.rank_b is pd.NA else row.rank_b) == rb
        if ra is None:
            assert row.change == "only in b"
        elif rb is None:
            assert row.change == "only in a"
        elif ra == rb:
            assert row.change == "same"
        else:
            assert row.change == (f"up {ra - rb}" if rb < ra else f"down {rb - ra}")
    assert list(table["item_id"][: len(ids_a)]) == ids_a  # sorted by a's rank first


def test_an_explanation_against_itself_changes_nothing(pair) -> None:
    a, _ = pair
    assert set(compare_recommendations(a, a)["change"]) == {"same"}
    assert not attention_difference(a, a, layer=1, head=0).any()


def test_the_difference_is_b_minus_a_per_head_and_for_the_head_mean(pair) -> None:
    a, b = pair
    np.testing.assert_allclose(
        attention_difference(a, b, layer=0, head=1), b.attentions[0, 1] - a.attentions[0, 1]
    )
    mean = b.attentions[1].mean(axis=0) - a.attentions[1].mean(axis=0)
    np.testing.assert_allclose(attention_difference(a, b, layer=-1), mean, atol=1e-6)


def test_histories_of_other_lengths_compare_on_the_items_both_saw(shop) -> None:
    user = shop.users[5]
    long = aw.explain(aw.SASRec(shop, d_model=16, n_layers=1, n_heads=2, max_len=12), shop, user)
    short = aw.explain(aw.SASRec(shop, d_model=16, n_layers=1, n_heads=2, max_len=4), shop, user)
    m = min(len(long.history), len(short.history))
    diff = attention_difference(long, short, layer=0, head=0)
    assert diff.shape == (m, m)
    expected = short.attentions[0, 0][-m:, -m:] - long.attentions[0, 0][-m:, -m:]
    np.testing.assert_allclose(diff, expected)


def test_bad_pairs_and_views_are_refused(shop, pair) -> None:
    a, b = pair
    other = aw.explain(
        aw.SASRec(shop, d_model=16, n_layers=2, n_heads=2, max_len=12), shop, shop.users[9]
    )
    with pytest.raises(aw.ArgumentValueError, match="different histories"):
        attention_difference(a, other)
    with pytest.raises(aw.ArgumentValueError, match="layer 2"):
        attention_difference(a, b, layer=2)
    with pytest.raises(aw.ArgumentValueError, match="head 5"):
        attention_difference(a, b, layer=0, head=5)
    with pytest.raises(aw.ArgumentTypeError, match="two Explanations"):
        compare_recommendations(a, "b")  # type: ignore[arg-type]
