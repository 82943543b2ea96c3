"""Hostile input to the data layer: ambiguous ids, text timestamps, clashing columns, bad types.

The rules these cases pin down are written in the README ("Your data").
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from attnwidget.data import Catalog, Dataset
from attnwidget.datasets import synthetic_shop
from attnwidget.errors import DataError, EmptyHistoryError, UnknownUserError
from tests.hostile.expect import fails


def events(users, items, times=None, **extra) -> pd.DataFrame:
    """An interaction table; ``times`` defaults to 1, 2, 3…"""
    times = list(range(1, len(users) + 1)) if times is None else times
    return pd.DataFrame(
        {
            "user_id": pd.Series(users, dtype=object),
            "item_id": pd.Series(items, dtype=object),
            "timestamp": times,
            **extra,
        }
    )


BASE = events(["a", "a", "b"], ["x", "y", "x"])
ITEMS = pd.DataFrame({"item_id": ["x", "y"], "kind": ["p", "q"], "price": [1.0, 2.0]})


def history(ds: Dataset, user) -> list:
    return ds.history(user)["item_id"].tolist()


# --- one id rule: ambiguous ids are an error, look-up by string form is a convenience -------
@pytest.mark.parametrize(
    ("users", "items", "fragments"),
    [
        ([1, "1", 2], ["x", "y", "x"], ["user ids 1 (int) and '1' (str)", "'user_id'"]),
        (["a", "a", "b"], [7, "7", 8], ["item ids 7 (int) and '7' (str)", "'item_id'"]),
        ([1, 1.0, 2], ["x", "y", "x"], ["1 (int) and 1.0 (float)", "equal values"]),
        (["a", "a", "b"], [1, True, 2], ["1 (int) and True (bool)", "print differently"]),
    ],
    ids=["int-str-users", "int-str-items", "int-float-users", "int-bool-items"],
)
def test_ambiguous_ids_in_one_column(users, items, fragments):
    with fails(DataError, *fragments):
        Dataset.from_pandas(events(users, items))


@pytest.mark.parametrize(
    ("table_ids", "fragment"),
    [(["1", "2"], "1 (int) and '1' (str)"), ([1.0, 2.0], "1 (int) and 1.0 (float)")],
    ids=["str-in-items", "float-in-items"],
)
def test_ids_ambiguous_between_interactions_and_items(table_ids, fragment):
    items = pd.DataFrame({"item_id": table_ids, "kind": ["p", "q"]})
    with fails(DataError, fragment, "across the interactions and items tables"):
        Dataset.from_pandas(events(["a", "a", "b"], [1, 2, 1]), items, feature_cols=["kind"])


def test_catalog_and_dataset_constructors_apply_the_same_rule():
    with fails(DataError, "item ids 1 (int) and '1' (str)"):
        Catalog([1, "1"], ["one", "uno"], [], np.zeros((3, 0)))
    with fails(DataError, "item id 'a' appears more than once"):
        Catalog(["a", "a"], ["A", "A"], [], np.zeros((3, 0)))
    one = Catalog(["x"], ["X"], [], np.zeros((2, 0)))
    with fails(DataError, "user ids 5 (int) and '5' (str)"):
        Dataset(one, [5, "5"], [[1], [1]])
    with fails(TypeError, "user id [1]", "list"):
        Dataset(one, [[1]], [[1]])


def test_lookup_by_string_form_is_a_convenience():
    ds = Dataset.from_pandas(events([7, 7, 8], [13, 14, 13]))
    assert ds.catalog.index_of("13") == ds.catalog.index_of(13) == ds.catalog.index_of(np.int64(13))
    assert ds.user_position("7") == ds.user_position(7) == 0
    with fails(UnknownUserError, "unknown user [7]"):
        ds.user_position([7])  # unhashable: not found, never a TypeError


def test_reused_catalogue_and_alignment_match_ids_by_string_form():
    text = Dataset.from_pandas(events(["a", "a", "b"], ["1", "2", "3"]))
    numbers = Dataset.from_pandas(events(["q", "q"], [2, 3]), catalog=text.catalog)
    assert history(numbers, "q") == ["2", "3"] and numbers.metadata["dropped"] == 0
    other = Dataset.from_pandas(events(["q", "q", "q"], [3, 1, 2]))
    aligned = other.aligned_to(text.catalog)
    np.testing.assert_array_equal(aligned.sequence("q"), text.catalog.encode(["3", "1", "2"]))


def test_reused_catalogue_without_a_known_item():
    text = Dataset.from_pandas(events(["a", "a"], ["1", "2"]))
    with fails(EmptyHistoryError, "none of the 2 interactions' items", "(e.g. 8)"):
        Dataset.from_pandas(events(["q", "q"], [8, 9]), catalog=text.catalog)


@pytest.mark.parametrize(
    ("items", "fragments"),
    [
        ([[1], [2]], ["item id [1] (list, row 1)", "'item_id'"]),
        ([{"k": 1}, {"k": 2}], ["item id {'k': 1} (dict, row 1)"]),
        ([pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-02")], ["(Timestamp, row 1)"]),
        ([(1, 2), (3, 4)], ["item id (1, 2) (tuple, row 1)"]),
    ],
    ids=["list", "dict", "timestamp", "tuple"],
)
def test_ids_of_other_types_are_rejected(items, fragments):
    with fails(DataError, *fragments, "ids must be str, int or float"):
        Dataset.from_pandas(events(["a", "a"], items))


def test_period_dtype_ids_are_rejected():
    table = events(["a", "a"], ["x", "y"])
    table["user_id"] = pd.period_range("2020", periods=2, freq="D")
    with fails(DataError, "user ids must be str, int or float", "period[D]"):
        Dataset.from_pandas(table)


def test_huge_ids_survive():
    big_user, big_item = 10**20, 2**70
    ds = Dataset.from_pandas(events([big_user, big_user], [big_item, 2**64 + 1]))
    assert ds.users == [big_user] and history(ds, str(big_user)) == [big_item, 2**64 + 1]
    assert ds.catalog.index_of(str(big_item)) == 1


def test_mixed_but_unambiguous_ids_sort_numbers_first():
    ds = Dataset.from_pandas(events([2, "b", 1], ["x", 5, "x"]))
    assert ds.users == [1, 2, "b"] and history(ds, "b") == [5]


# --- time column: numbers, datetimes, or text of either ----------------------------------
def test_numeric_text_timestamps_sort_as_numbers():
    ds = Dataset.from_pandas(events(["a", "a"], ["x", "y"], ["1000000100", "999999900"]))
    assert history(ds, "a") == ["y", "x"]
    assert ds.history("a")["timestamp"].tolist() == [999999900, 1000000100]


@pytest.mark.parametrize(
    "times",
    [
        ["2021-03-01", "2020-12-31T10:00"],
        pd.to_datetime(["2021-03-01", "2020-12-31"]),
        pd.to_datetime(["2021-03-01", "2020-12-31"]).tz_localize("Europe/Paris"),
        [dt.datetime(2021, 3, 1), dt.datetime(2020, 12, 31)],
    ],
    ids=["iso-text", "datetime64", "tz-aware", "python-datetime"],
)
def test_dates_sort_chronologically(times):
    ds = Dataset.from_pandas(events(["a", "a"], ["x", "y"], times))
    assert history(ds, "a") == ["y", "x"]


@pytest.mark.parametrize(
    ("times", "fragments"),
    [
        (["01/03/2021", "31/12/2020"], ["'01/03/2021' (row 1)", "neither a number nor an ISO"]),
        (["soon", "5"], ["'soon' (row 1)", "neither a number"]),
        (["5", "2020-12-31"], ["mixes numbers (e.g. '5') and dates (e.g. '2020-12-31')"]),
        ([5, "6"], ["mixes number (e.g. 5) and text (e.g. '6')"]),
        ([True, False], ["holds True (bool, row 1)"]),
        ([(1,), (2,)], ["holds (1,) (tuple, row 1)"]),
        (["2021-03-01T00:00+01:00", "2021-03-01T00:00+02:00"], ["mixes time zones"]),
    ],
    ids=["day-first", "garbage", "numbers-and-dates", "int-and-str", "bool", "tuple", "zones"],
)
def test_unusable_time_columns(times, fragments):
    with fails(DataError, "time column 'timestamp'", *fragments):
        Dataset.from_pandas(events(["a", "a"], ["x", "y"], pd.Series(times, dtype=object)))


def test_a_user_with_only_nan_timestamps_is_named():
    with fails(DataError, "'timestamp' has 2 missing (NaN)", "row 2 (user 'b')"):
        Dataset.from_pandas(events(["a", "b", "b"], ["x", "y", "x"], [1.0, np.nan, np.nan]))


# --- column roles -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"user_col": "item_id"}, "user_col and item_col both name column 'item_id'"),
        ({"time_col": "user_id"}, "user_col and time_col both name column 'user_id'"),
        ({"item_col": "timestamp"}, "item_col and time_col both name column 'timestamp'"),
    ],
    ids=["user=item", "user=time", "item=time"],
)
def test_roles_naming_the_same_column(kwargs, fragment):
    with fails(DataError, fragment):
        Dataset.from_pandas(BASE, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"user_col": None}, "user_col must be a column name, got None"),
        ({"item_col": ["a"]}, "['a']"),
    ],
    ids=["none", "list"],
)
def test_column_names_of_the_wrong_type(kwargs, fragment):
    with fails(TypeError, fragment):
        Dataset.from_pandas(BASE, **kwargs)


def test_repeated_column_label_and_missing_time_column():
    table = pd.DataFrame([["a", "x", "y"]], columns=["user_id", "item_id", "item_id"])
    with fails(DataError, "several columns named 'item_id'"):
        Dataset.from_pandas(table, time_col=None)
    with fails(DataError, "missing column(s) ['timestamp']", "pass time_col=None"):
        Dataset.from_pandas(BASE.drop(columns="timestamp"))


def test_non_string_column_names_work():
    inter = pd.DataFrame([["a", "x", 2], ["a", "y", 1]])  # columns 0, 1, 2
    items = pd.DataFrame({1: ["x", "y"], 5: ["p", "q"]})
    ds = Dataset.from_pandas(inter, items, user_col=0, item_col=1, time_col=2, feature_cols=[5])
    assert history(ds, "a") == ["y", "x"] and ds.field_names == ["5"]
    assert ds.items.set_index("item_id").loc["x", "5"] == "p"


# --- tables -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("items", "kind"),
    [
        ({"item_id": ["x"]}, "dict"),
        ([["x", "p"]], "list"),
        (pd.Series(["x", "y"], name="item_id"), "Series"),
        (np.array([["x", "p"]]), "ndarray"),
    ],
    ids=["dict", "list", "series", "ndarray"],
)
def test_items_that_are_not_a_dataframe(items, kind):
    with fails(DataError, f"items must be a pandas DataFrame, got {kind}"):
        Dataset.from_pandas(BASE, items)


def test_interactions_that_are_not_a_dataframe():
    with fails(DataError, "interactions must be a pandas DataFrame, got dict"):
        Dataset.from_pandas({"user_id": ["a"], "item_id": ["x"]})


def test_empty_items_table_and_items_with_a_catalogue():
    with fails(DataError, "items table is empty; pass items=None"):
        Dataset.from_pandas(BASE, ITEMS.iloc[:0])
    catalog = Dataset.from_pandas(BASE).catalog
    with fails(DataError, "pass items or catalog, not both"):
        Dataset.from_pandas(BASE, ITEMS, catalog=catalog)
    with fails(TypeError, "catalog must be a Catalog, got str"):
        Dataset.from_pandas(BASE, catalog="model.pt")


# --- feature_cols -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("feature_cols", "fragment"),
    [
        (["item_id"], "feature_cols includes 'item_id', the item id column"),
        (["user_id"], "feature_cols includes 'user_id', the user column"),
        (["timestamp"], "feature_cols includes 'timestamp', the time column"),
        (["kind", "kind"], "feature_cols names 'kind' twice"),
        (["title"], "feature column 'title' clashes with a name attnwidget uses"),
    ],
    ids=["item-id", "user", "time", "twice", "reserved"],
)
def test_bad_feature_cols(feature_cols, fragment):
    items = ITEMS.assign(user_id=["u", "v"], timestamp=[1, 2], title=["X", "Y"])
    with fails(DataError, fragment):
        Dataset.from_pandas(BASE, items, feature_cols=feature_cols)


def test_feature_cols_of_the_wrong_shape():
    with fails(TypeError, "feature_cols must be a list of column names, got 'kind'"):
        Dataset.from_pandas(BASE, ITEMS, feature_cols="kind")
    items = pd.DataFrame({"item_id": ["x", "y"], 1: [1, 2], "1": [3, 4]})
    with fails(DataError, "feature_cols names '1' twice"):
        Dataset.from_pandas(BASE, items, feature_cols=[1, "1"])
    with fails(DataError, "feature_cols and title_col need an items table"):
        Dataset.from_pandas(BASE, feature_cols=["kind"])


def test_title_column_may_also_be_a_feature():
    ds = Dataset.from_pandas(BASE, ITEMS, feature_cols=["kind"], title_col="kind")
    table = ds.items.set_index("item_id")
    assert table.loc["x", "title"] == "p" and table.loc["x", "kind"] == "p"


# --- numeric parameters ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n_bins", "error", "fragment"),
    [
        ("5", TypeError, "n_bins must be an integer, got '5' (str)"),
        (5.0, TypeError, "got 5.0 (float)"),
        (True, TypeError, "got True (bool)"),
        (None, TypeError, "got None (NoneType)"),
        (0, ValueError, "n_bins must be ≥ 1, got 0"),
        (-3, ValueError, "got -3"),
    ],
    ids=["str", "float", "bool", "none", "zero", "negative"],
)
def test_bad_n_bins(n_bins, error, fragment):
    with fails(error, fragment):
        Dataset.from_pandas(BASE, ITEMS, feature_cols=["price"], n_bins=n_bins)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"n_users": "10"}, TypeError, "n_users must be an integer, got '10' (str)"),
        ({"n_users": 10.0}, TypeError, "n_users must be an integer, got 10.0"),
        ({"n_users": True}, TypeError, "got True (bool)"),
        ({"n_users": -5}, ValueError, "n_users must be ≥ 1, got -5"),
        ({"n_items": 50}, ValueError, "n_items must be ≥ 120, got 50"),
        ({"min_len": 1}, ValueError, "min_len must be ≥ 2, got 1"),
        ({"min_len": 8, "max_len": 6}, DataError, "max_len=6 is less than min_len=8"),
        ({"n_items": 120, "min_len": 13, "max_len": 20}, DataError, "min_len=13 is more than"),
        ({"p_brand": 1.5}, DataError, "p_brand must be a probability between 0 and 1, got 1.5"),
        ({"p_tier": "high"}, TypeError, "p_tier must be a number, got 'high'"),
        ({"p_complement": float("nan")}, DataError, "p_complement must be a probability"),
        ({"seed": -1}, ValueError, "seed must be ≥ 0, got -1"),
        ({"seed": "1"}, TypeError, "seed must be an integer, got '1'"),
        ({"n_bins": 0}, ValueError, "n_bins must be ≥ 1, got 0"),
    ],
    ids=lambda v: "-".join(f"{k}={v[k]}" for k in v) if isinstance(v, dict) else None,
)
def test_bad_synthetic_shop_parameters(kwargs, error, fragment):
    with fails(error, fragment):
        synthetic_shop(**{"n_users": 20, "n_items": 120, **kwargs})


def test_numpy_integers_are_fine_as_parameters():
    ds = synthetic_shop(n_users=np.int64(12), n_items=np.int32(120), n_bins=np.int64(3), seed=1)
    assert ds.n_users == 12 and ds.n_items == 120


# --- item table contents ----------------------------------------------------------------------
def test_nan_and_inf_features_go_to_the_unknown_bucket():
    items = pd.DataFrame({"item_id": ["x", "y", "z"], "price": [np.nan, np.inf, 3.0]})
    ds = Dataset.from_pandas(
        events(["a", "a", "a"], ["x", "y", "z"]), items, feature_cols=["price"]
    )
    assert ds.items["price"].tolist() == ["<unknown>", "<unknown>", "3–3"]
    with fails(DataError, "numeric feature column 'price' has no finite values"):
        Dataset.from_pandas(BASE, ITEMS.assign(price=[np.nan, -np.inf]), feature_cols=["price"])


def test_nullable_integer_features_with_missing_values():
    items = pd.DataFrame({"item_id": ["x", "y"], "year": pd.array([1999, None], dtype="Int64")})
    ds = Dataset.from_pandas(BASE, items, feature_cols=["year"])
    assert ds.items["year"].tolist() == ["1999–1999", "<unknown>"]


def test_duplicate_item_rows_must_agree():
    clash = pd.concat([ITEMS, ITEMS.iloc[[0]].assign(price=9.5)])
    with fails(DataError, "2 rows for item 'x' that disagree on 'price' (1.0 vs 9.5)"):
        Dataset.from_pandas(BASE, clash, feature_cols=["kind", "price"])
    same = pd.concat([ITEMS, ITEMS.iloc[[0]]])
    ds = Dataset.from_pandas(BASE, same, feature_cols=["kind", "price"])
    assert ds.n_items == 2 and ds.items["kind"].tolist() == ["p", "q"]


def test_items_missing_from_the_items_table_get_unknown_features():
    ds = Dataset.from_pandas(BASE, ITEMS.iloc[[0]], feature_cols=["kind"], title_col="kind")
    row = ds.items.set_index("item_id").loc["y"]
    assert row["kind"] == "<unknown>" and row["title"] == "y"


def test_a_list_in_a_feature_cell_is_rejected():
    items = ITEMS.assign(kind=[["p", "r"], "q"])
    with fails(DataError, "items column 'kind' holds ['p', 'r'] (list) for item 'x'"):
        Dataset.from_pandas(BASE, items, feature_cols=["kind"])


def test_unicode_and_html_titles_are_kept_as_plain_text():
    titles = ["<b>Bold</b> & <script>alert(1)</script>", "Café 🎉 \u202eevil"]
    ds = Dataset.from_pandas(BASE, ITEMS.assign(name=titles), title_col="name")
    assert ds.items["title"].tolist() == titles


# --- hand-built datasets and catalogues ------------------------------------------------------
def test_hand_built_dataset_and_catalogue_are_checked():
    one = Catalog(["x", "y"], ["X", "Y"], [], np.zeros((3, 0)))
    with fails(DataError, "user 'a' has item index 5 outside 1..2"):
        Dataset(one, ["a"], [[1, 5]])
    with fails(DataError, "user 'a' has 2 items but 1 timestamps"):
        Dataset(one, ["a"], [[1, 2]], [np.array([1])])
    with fails(TypeError, "catalog must be a Catalog, got DataFrame"):
        Dataset(ITEMS, ["a"], [[1]])
    with fails(DataError, "item features have shape (2, 1), expected (3, 0)"):
        Catalog(["x", "y"], ["X", "Y"], [], np.zeros((2, 1)))
    field = Dataset.from_pandas(BASE, ITEMS, feature_cols=["kind"]).catalog.fields[0]
    with fails(DataError, "feature field 'kind' has value indices outside 0..3"):
        Catalog(["x", "y"], ["X", "Y"], [field], np.array([[0], [2], [7]]))
