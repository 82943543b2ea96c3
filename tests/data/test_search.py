"""TextIndex: the user and item search behind the explorer, built once per dataset/catalogue."""

import pytest

import attnwidget as aw
from attnwidget.data.catalog import Catalog
from attnwidget.data.search import TextIndex
from attnwidget.errors import AttnWidgetError


@pytest.fixture
def index():
    ids = ["i2", "i10", "x-i1", "a\x00b", "I1"]
    titles = ["Camera", "Lens cap", "camera BAG", "Tripod", "Strap"]
    return TextIndex([ids, titles])


def test_prefix_matches_come_first_in_sorted_order_then_substrings_in_row_order(index):
    assert index.search("i1", 10) == ([4, 1, 2], False)  # "I1", "i10" (prefix), "x-i1"
    assert index.search("  CAM ") == ([0, 2], False)
    assert index.search("bag") == ([2], False)  # in a title, not at its start
    assert index.search("lens cap") == ([1], False)


def test_limit_and_more(index):
    assert index.search("i", 2) == ([4, 1], True)
    assert index.search("i", 0) == ([], True)
    assert index.search("i", 5) == ([4, 1, 0, 2, 3], False)  # "Tripod" holds an i too


def test_queries_are_plain_text_and_never_span_two_texts(index):
    assert index.search(".*") == ([], False)
    assert index.search("") == ([], False)
    assert index.search("i2\x00camera") == ([], False)  # the id, then the title: no match
    assert index.search("cap\x00x") == ([], False)  # across two rows
    assert index.search("a\x00b") == ([3], False)  # a NUL inside one text still matches
    assert index.search("\x00") == ([3], False)


@pytest.mark.parametrize(("query", "limit"), [(None, 5), (["a"], 5), ("a", "3"), ("a", -1)])
def test_bad_arguments_are_attnwidget_errors(index, query, limit):
    with pytest.raises(AttnWidgetError):
        index.search(query, limit)


def test_catalog_and_dataset_search_through_one_index_each():
    catalog = Catalog(["a1", "b2", "c3"], ["Red lens", "Blue bag", "red strap"], [], [[]] * 4)
    assert catalog.search("red") == ([1, 3], False)  # dense item indices
    assert catalog.search("b") == ([2], False)
    data = aw.Dataset(catalog, ["ann", 7, "hannah"], [[1], [2], [3]])
    assert data.search_users("an") == ([0, 2], False)
    assert data.search_users("7") == ([1], False)
