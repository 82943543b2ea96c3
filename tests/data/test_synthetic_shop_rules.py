import numpy as np
import pytest

from attnwidget.datasets import synthetic_shop
from attnwidget.errors import DataError


@pytest.fixture(scope="module")
def ruled():
    return synthetic_shop(n_users=600, n_items=240, rules=3, p_rule=0.5, seed=4)


def test_rules_off_by_default_leave_the_shop_unchanged():
    plain = synthetic_shop(n_users=80, n_items=120, seed=2)
    assert plain.metadata["rules"] == {}
    off = synthetic_shop(n_users=80, n_items=120, rules=0, p_rule=0.9, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(plain.sequences, off.sequences, strict=True))


def test_each_target_follows_its_trigger_within_five_purchases(ruled):
    catalog = ruled.catalog
    rules = {catalog.index_of(t): catalog.index_of(g) for t, g in ruled.metadata["rules"].items()}
    assert len(rules) == 3 and len(set(rules) | set(rules.values())) == 6
    followed, gaps = 0, []
    for seq in ruled.sequences:
        items = seq.tolist()
        for trigger, target in rules.items():
            if target in items:
                assert trigger in items[: items.index(target)]  # never without its trigger
            if trigger in items:
                assert target in items
                gaps.append(items.index(target) - items.index(trigger))
                followed += 1
    assert 0.4 * 600 < followed < 0.6 * 600
    assert set(gaps) == {1, 2, 3, 4, 5}


def test_purchases_between_trigger_and_target_are_popular_items(ruled):
    catalog = ruled.catalog
    rules = {catalog.index_of(t): catalog.index_of(g) for t, g in ruled.metadata["rules"].items()}
    counts = ruled.item_popularity()
    top = set(np.argsort(-counts)[:40].tolist())
    between = []
    for seq in ruled.sequences:
        items = seq.tolist()
        for trigger, target in rules.items():
            if trigger in items:
                between += items[items.index(trigger) + 1 : items.index(target)]
    assert between and np.mean([i in top for i in between]) > 0.8


def test_mean_len_sets_the_history_length():
    shop = synthetic_shop(n_users=1000, n_items=240, min_len=5, mean_len=9.3, seed=1)
    assert 8.5 < np.mean([len(s) for s in shop.sequences]) < 10.0
    with pytest.raises(DataError, match="mean_len=3 must be at least min_len=5"):
        synthetic_shop(n_users=10, n_items=120, min_len=5, mean_len=3)


def test_too_many_rules_or_a_bad_probability_are_refused():
    with pytest.raises(DataError, match="rules=100 needs 200 rarely bought accessories"):
        synthetic_shop(n_users=10, n_items=120, rules=100)
    with pytest.raises(DataError, match="p_rule must be a probability"):
        synthetic_shop(n_users=10, n_items=120, rules=1, p_rule=1.5)


def test_complement_delay_puts_popular_items_between_trigger_and_complement():
    shop = synthetic_shop(n_users=400, n_items=240, complement_delay=(1, 5), seed=3)
    catalog = shop.catalog
    complements = {
        catalog.index_of(t): catalog.index_of(c) for t, c in shop.metadata["complements"].items()
    }
    top = set(np.argsort(-shop.item_popularity())[:40].tolist())
    gaps, between = [], []
    for seq in shop.sequences:
        items = seq.tolist()
        for i, item in enumerate(items):
            target = complements.get(item)
            if target in items[i + 1 : i + 6]:
                j = items.index(target, i + 1)
                gaps.append(j - i)
                between += items[i + 1 : j]
    assert set(gaps) == {1, 2, 3, 4, 5}
    assert np.mean(np.array(gaps) >= 2) > 0.6
    assert np.mean([i in top for i in between]) > 0.8
    with pytest.raises(DataError, match="hi must be at least lo"):
        synthetic_shop(n_users=10, n_items=120, complement_delay=(3, 1))
