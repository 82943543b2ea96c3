import numpy as np

from attnwidget.datasets import synthetic_shop


def test_same_seed_same_data_other_seed_other_data():
    a = synthetic_shop(n_users=50, n_items=120, seed=1)
    b = synthetic_shop(n_users=50, n_items=120, seed=1)
    c = synthetic_shop(n_users=50, n_items=120, seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a.sequences, b.sequences, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a.sequences, c.sequences, strict=False))


def test_shop_has_titles_and_features(shop):
    assert shop.field_names == ["category", "brand", "price"]
    items = shop.items
    assert items["title"].str.len().min() > 5
    assert items["category"].nunique() == 10 and items["brand"].nunique() == 20
    assert shop.n_users == 300 and min(len(s) for s in shop.sequences) >= 5


def test_planted_complements_follow_their_triggers(shop):
    complements = {
        shop.catalog.index_of(t): shop.catalog.index_of(c)
        for t, c in shop.metadata["complements"].items()
    }
    next_, later, total = 0, 0, 0
    for seq in shop.sequences:
        for i, item in enumerate(seq[:-2]):
            if item in complements:
                total += 1
                next_ += seq[i + 1] == complements[item]
                later += seq[i + 2] == complements[item]
    assert total > 100
    # p_complement = 0.8 with 40 % delayed by one purchase, less complements already bought
    assert next_ / total > 0.25 and later / total > 0.12
    assert (next_ + later) / total > 0.5


def _top_brand_share(ds):
    brands = ds.items["brand"].to_numpy()
    share = []
    for seq in ds.sequences:
        counts = np.unique(brands[seq - 1], return_counts=True)[1]
        share.append(counts.max() / len(seq))
    return float(np.mean(share))


def test_brand_loyalty_is_planted():
    loyal = synthetic_shop(n_users=200, n_items=600, seed=3)
    indifferent = synthetic_shop(n_users=200, n_items=600, seed=3, p_brand=0.25)
    assert _top_brand_share(loyal) > _top_brand_share(indifferent) + 0.05
