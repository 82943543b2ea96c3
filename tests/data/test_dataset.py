import numpy as np
import pandas as pd
import pytest

from attnwidget.data import Catalog, Dataset
from attnwidget.data.features import UNKNOWN
from attnwidget.errors import DataError, EmptyHistoryError, UnknownItemError, UnknownUserError


@pytest.fixture
def tables():
    inter = pd.DataFrame(
        {
            "user": ["b", "a", "a", "a", "b", "a", "c"],
            "item": [10, 11, 12, 13, 11, 14, 10],
            "ts": [5, 3, 1, 2, 5, 9, 1],
        }
    )
    items = pd.DataFrame(
        {
            "item": [10, 11, 12, 13, 14, 15],
            "cat": ["x", "y", "x", "z", "y", "x"],
            "price": [1.0, 2.0, 3.0, 50.0, 100.0, 7.0],
            "name": ["Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen"],
        }
    )
    return inter, items


def build(inter, items, **kw):
    return Dataset.from_pandas(
        inter,
        items,
        user_col="user",
        item_col="item",
        time_col="ts",
        feature_cols=["cat", "price"],
        title_col="name",
        **kw,
    )


def ids(ds, user):
    return ds.history(user)["item_id"].tolist()


def test_sequences_are_chronological_with_ties_in_input_order(tables):
    ds = build(*tables)
    assert ids(ds, "a") == [12, 13, 11, 14]
    assert ids(ds, "b") == [10, 11]  # equal timestamps keep their row order
    shuffled = Dataset.from_pandas(
        tables[0].iloc[::-1], tables[1], user_col="user", item_col="item", time_col="ts"
    )
    assert ids(shuffled, "b") == [11, 10]


def test_id_maps_round_trip_and_padding_is_zero(tables):
    ds = build(*tables)
    assert ds.n_users == 3 and ds.n_items == 6  # item 15 is in the catalogue only
    for item in [10, 11, 12, 13, 14, 15]:
        index = ds.catalog.index_of(item)
        assert index >= 1 and ds.catalog.item_id(index) == item
    assert ds.catalog.index_of("13") == ds.catalog.index_of(13)  # string form is accepted
    assert ds.user_position("c") == 2


def test_features_are_vocabularies_and_quantile_bins(tables):
    ds = build(*tables)
    table = ds.items.set_index("item_id")
    assert table.loc[12, "cat"] == "x" and table.loc[12, "title"] == "Twelve"
    price = ds.catalog.fields[1]
    assert price.kind == "numeric" and price.bin_edges[0] == 1.0 and price.bin_edges[-1] == 100.0
    assert table.loc[10, "price"] != table.loc[14, "price"]
    assert price.encode([1e6])[0] == price.encode([100.0])[0]  # beyond the edges: last bin
    assert price.encode([np.nan])[0] == UNKNOWN
    assert ds.catalog.fields[0].encode(["never-seen"])[0] == UNKNOWN


def test_items_missing_from_item_table_get_unknown_features(tables):
    inter, items = tables
    ds = build(inter, items[items["item"] != 11])
    assert ds.items.set_index("item_id").loc[11, "cat"] == "<unknown>"


def test_leave_one_out_split(tables):
    ds = build(*tables)
    test = {ex.user: ex for ex in ds.split("test")}
    valid = {ex.user: ex for ex in ds.split("valid")}
    a = ds.catalog.encode([12, 13, 11, 14])
    assert set(test) == {"a"}  # b and c have fewer than 3 items
    assert test["a"].target == a[-1] and list(test["a"].history) == list(a[:-1])
    assert valid["a"].target == a[-2] and list(valid["a"].history) == list(a[:-2])
    train = ds.train_sequences()
    assert any(list(s) == list(a[:-2]) for s in train)
    assert all(test["a"].target not in s for s in train if len(s) == 2 and s[0] == a[0])
    with pytest.raises(ValueError, match="split"):
        ds.split("nope")


def test_without_features_the_catalogue_has_no_fields(tables):
    ds = Dataset.from_pandas(tables[0], user_col="user", item_col="item", time_col="ts")
    assert ds.field_names == [] and ds.catalog.features.shape == (6, 0)  # 5 items + padding
    assert ds.items["title"].tolist() == ["10", "11", "12", "13", "14"]


def test_missing_columns_name_the_column(tables):
    inter, items = tables
    with pytest.raises(DataError, match=r"missing column\(s\) \['ts'\]"):
        Dataset.from_pandas(
            inter.drop(columns="ts"), user_col="user", item_col="item", time_col="ts"
        )
    with pytest.raises(DataError, match=r"items table is missing.*'brand'"):
        Dataset.from_pandas(
            inter, items, user_col="user", item_col="item", time_col="ts", feature_cols=["brand"]
        )


def test_nan_ids_are_rejected(tables):
    inter, items = tables
    bad = inter.astype({"user": object})
    bad.loc[2, "user"] = None
    with pytest.raises(DataError, match="'user' has 1 missing"):
        build(bad, items)


def test_unknown_user_and_item_and_empty_input(tables):
    ds = build(*tables)
    with pytest.raises(UnknownUserError, match="unknown user 'zz'"):
        ds.history("zz")
    with pytest.raises(KeyError):  # also a KeyError for callers that catch that
        ds.sequence("zz")
    with pytest.raises(UnknownItemError, match="unknown item 999"):
        ds.catalog.encode([10, 999])
    with pytest.raises(EmptyHistoryError):
        build(tables[0].iloc[:0], tables[1])


def test_reusing_a_catalogue_keeps_indices_and_drops_unknown_items(tables):
    ds = build(*tables)
    inter = pd.DataFrame({"user": ["q", "q", "q"], "item": [14, 999, 10], "ts": [1, 2, 3]})
    again = Dataset.from_pandas(
        inter, user_col="user", item_col="item", time_col="ts", catalog=ds.catalog
    )
    assert ids(again, "q") == [14, 10]
    assert again.metadata["dropped"] == 1


def test_aligned_to_translates_histories_into_another_catalogue(tables):
    inter, items = tables
    ds = build(inter, items)
    order = np.arange(ds.n_items, 0, -1)  # same items, indices in reverse order
    cat = ds.catalog
    flipped = Catalog(
        [cat.item_id(i) for i in order],
        [cat.title(i) for i in order],
        cat.fields,
        cat.features[np.r_[0, order]],
    )
    to_flipped = np.r_[0, np.argsort(order) + 1]
    reordered = Dataset(flipped, ds.users, [to_flipped[s] for s in ds.sequences])
    aligned = reordered.aligned_to(ds.catalog)
    assert aligned.catalog is ds.catalog
    for user in ds.users:
        np.testing.assert_array_equal(aligned.sequence(user), ds.sequence(user))
        assert list(aligned.history(user)["item_id"]) == list(ds.history(user)["item_id"])
    assert ds.aligned_to(ds.catalog) is ds


def test_aligned_to_names_items_the_catalogue_lacks_or_drops_them(tables):
    inter, items = tables
    small = build(inter[inter["item"] != 14], items[items["item"] != 14])
    ds = build(inter, items)
    with pytest.raises(UnknownItemError, match=r"1 item\(s\) of the dataset .* 14"):
        ds.aligned_to(small.catalog)
    dropped = ds.aligned_to(small.catalog, unknown="drop")
    assert dropped.metadata["dropped_interactions"] == 1
    assert 14 not in list(dropped.history("a")["item_id"])
    assert len(dropped.sequence("a")) == len(ds.sequence("a")) - 1
