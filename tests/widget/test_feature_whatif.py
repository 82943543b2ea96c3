"""Feature what-if in the explorer (issue 12, part 3): the ``feature_edit`` trait, the session's
feature view, the vocabulary the packs offer, and bad input from the browser refused."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import numpy as np
import pytest
import traitlets

from attnwidget import AttentionExplorer
from attnwidget.explain import FeatureEdit, explain_with_features, feature_values
from attnwidget.sources import PrecomputedSource, as_source
from attnwidget.widget import feature_whatif
from attnwidget.widget.feature_whatif import feature_vocabulary, parse_feature_edits
from attnwidget.widget.payload import decode_pack
from attnwidget.widget.session import ExplorerSession
from attnwidget.widget.users import UserList

SCHEMA = json.loads(
    resources.files("attnwidget.widget").joinpath("pack_header.schema.json").read_text()
)


@pytest.fixture
def explorer(trained, shop):
    explorer = AttentionExplorer(trained, shop, users=shop.users[:20], k=5, agreement_users=0)
    explorer.wait()
    return explorer


def header(explorer):
    head = decode_pack(explorer.payload)[0]
    jsonschema.validate(head, SCHEMA)
    return head


def other_value(head, field, position):
    """A value of ``field`` that the history item at ``position`` does not have."""
    current = head["history"][position]["features"][field]
    return next(v for v in head["feature_values"][field][1:] if v != current)


def test_packs_offer_each_fields_vocabulary_when_the_model_can_edit_features(explorer, trained):
    head = header(explorer)
    assert head["editable"] is True
    assert set(head["feature_values"]) == {"category", "brand", "price"}
    for field, values in head["feature_values"].items():
        assert values == feature_values(trained, field) and values[0] == "<unknown>"


def test_a_field_with_a_large_vocabulary_is_not_sent(trained, monkeypatch):
    sizes = {f: len(feature_values(trained, f)) for f in ("category", "brand", "price")}
    monkeypatch.setattr(feature_whatif, "FEATURE_VALUES_LIMIT", sizes["category"])
    vocabulary = feature_vocabulary(as_source(trained))
    assert vocabulary["category"] == feature_values(trained, "category")
    assert vocabulary["brand"] is None  # 20 brands > the limit: no select in the browser
    assert (vocabulary["price"] is None) == (sizes["price"] > sizes["category"])


def test_a_source_that_cannot_edit_features_offers_none_and_refuses_an_edit(trained, shop):
    user = shop.users[0]
    attention = np.tril(np.ones((1, 1, 3, 3), dtype=np.float32))
    seen = {shop.catalog.item_id(int(i)) for i in shop.sequence(user)}
    top = next(i for i in shop.catalog.item_ids if i not in seen)
    explorer = AttentionExplorer(
        PrecomputedSource(shop, {user: attention}, {user: [top]}), shop, users=[user]
    )
    assert header(explorer)["feature_values"] is None
    before = explorer.payload
    explorer.set_state({"feature_edit": [{"field": "brand", "value": "Aperta", "position": 0}]})
    assert "cannot edit features" in explorer.error and explorer.payload == before
    assert explorer.feature_edit == []


def test_a_position_edit_shows_the_edited_features_and_what_changed(explorer, trained, shop):
    original = header(explorer)
    last = len(original["history"]) - 1
    new = other_value(original, "brand", last)
    edit = {"field": "brand", "value": new, "position": last}
    explorer.set_state({"feature_edit": [edit]})  # as the browser sends it
    assert explorer.error == "" and explorer.feature_edit == [edit]
    explorer.wait()
    head = header(explorer)
    assert [h["id"] for h in head["history"]] == [h["id"] for h in original["history"]]
    assert head["history"][last]["features"]["brand"] == new
    assert head["history"][0]["features"] == original["history"][0]["features"]
    what_if = head["what_if"]
    title = original["history"][last]["title"]
    assert what_if["feature_edits"] == [
        {"field": "brand", "value": new, "position": last, "replaces": None, "title": title}
    ]
    before = original["history"][last]["features"]["brand"]
    changes = [
        (c["position"], c["field"], c["before"], c["after"]) for c in what_if["feature_changes"]
    ]
    # every occurrence of the edited item changes (here, at least the last position)
    assert (last, "brand", before, new) in changes
    assert all(c[1:] == ("brand", before, new) for c in changes)
    assert what_if["original_history"] == [h["id"] for h in original["history"]]
    # the same figures as the Python API's
    expected = explain_with_features(
        trained, shop.sequence(explorer.user), FeatureEdit("brand", new, position=last), k=5
    ).explanation
    assert np.allclose(explorer.edited.scores, expected.scores, atol=1e-5)
    assert [r["id"] for r in head["recommendations"]] == [
        shop.catalog.item_id(int(i)) for i in expected.recommendations
    ]
    old = [r["id"] for r in what_if["original_recommendations"]]
    new_ids = [r["id"] for r in head["recommendations"]]
    assert [r["id"] for r in what_if["entered"]] == [i for i in new_ids if i not in old]
    assert head["importance"]["pending"] == []  # completed in the background, on the edit
    assert not np.allclose(
        explorer.edited.method_importance("occlusion"),
        explorer.explanation().method_importance("occlusion"),
    )


def test_every_item_of_a_brand_and_back_to_the_original(explorer):
    original = header(explorer)
    brands = [h["features"]["brand"] for h in original["history"]]
    brand = max(set(brands), key=brands.count)
    new = next(v for v in original["feature_values"]["brand"][1:] if v not in brands)
    explorer.feature_edit = [{"field": "brand", "value": new, "replaces": brand}]
    head = header(explorer)
    after = [h["features"]["brand"] for h in head["history"]]
    assert after == [new if b == brand else b for b in brands]
    assert len(head["what_if"]["feature_changes"]) == brands.count(brand)
    explorer.feature_edit = []  # back to the user's own history
    head = header(explorer)
    assert head["what_if"] is None and explorer.edited is None
    assert [h["features"] for h in head["history"]] == [h["features"] for h in original["history"]]


def test_feature_edits_apply_on_top_of_a_history_edit_and_a_new_one_drops_them(explorer):
    original = header(explorer)
    ids = [h["id"] for h in original["history"]]
    explorer.history_edit = ids[1:]
    edited = header(explorer)
    edit = {"field": "category", "value": other_value(edited, "category", 0), "position": 0}
    explorer.feature_edit = [edit]
    head = header(explorer)
    assert [h["id"] for h in head["history"]] == ids[1:]  # the edited history, features changed
    assert head["history"][0]["features"]["category"] == edit["value"]
    assert head["what_if"]["original_history"] == ids
    assert head["what_if"]["feature_edits"][0]["title"] == original["history"][1]["title"]
    explorer.history_edit = ids[2:]  # a new history edit: the feature edits go
    head = header(explorer)
    assert explorer.feature_edit == [] and head["what_if"]["feature_edits"] == []
    explorer.feature_edit = [edit]
    explorer.history_edit = []  # "Back to the original history"
    assert explorer.feature_edit == [] and header(explorer)["what_if"] is None


def test_edits_accumulate_and_a_user_switch_drops_them(explorer, shop):
    original = header(explorer)
    first = {"field": "brand", "value": other_value(original, "brand", 0), "position": 0}
    second = {"field": "price", "value": other_value(original, "price", 1), "position": 1}
    explorer.feature_edit = [first, second]
    head = header(explorer)
    assert [e["field"] for e in head["what_if"]["feature_edits"]] == ["brand", "price"]
    assert head["history"][1]["features"]["price"] == second["value"]
    explorer.user = shop.users[4]
    assert explorer.feature_edit == [] and header(explorer)["what_if"] is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("brand", "must be a list"),
        (["brand"], "feature_edit[0] must be an object"),
        ([{"field": "colour", "value": "red", "position": 0}], "unknown feature field 'colour'"),
        ([{"field": "item", "value": "x", "position": 0}], "unknown feature field 'item'"),
        ([{"field": "brand", "value": "Nope", "position": 0}], "'Nope' is not a value of field"),
        ([{"field": "brand", "value": 3, "position": 0}], "value must be a string"),
        ([{"field": "brand", "value": "Aperta", "position": 99}], "position 99 is outside"),
        ([{"field": "brand", "value": "Aperta", "position": -1}], "position -1 is outside"),
        ([{"field": "brand", "value": "Aperta", "position": True}], "must be an integer"),
        ([{"field": "brand", "value": "Aperta", "replaces": "Nope"}], "replaces 'Nope' is not"),
        ([{"field": "brand", "value": "Aperta", "position": 0, "replaces": "Mako"}], "give one"),
        ([{"field": "brand", "value": "Aperta", "position": 0, "html": "<b>"}], "unknown key"),
        ([{"field": "brand", "value": "Aperta"}] * 65, "at most 64"),
    ],
)
def test_bad_input_from_the_browser_is_refused_and_nothing_changes(explorer, value, message):
    good = header(explorer)
    edit = {"field": "brand", "value": other_value(good, "brand", 0), "position": 0}
    explorer.feature_edit = [edit]
    before = explorer.payload
    explorer.set_state({"feature_edit": value})
    assert message in explorer.error, explorer.error
    assert explorer.payload == before and explorer.feature_edit == [edit]
    with pytest.raises(traitlets.TraitError, match="feature_edit"):
        explorer.feature_edit = value if isinstance(value, list) else [value]
    explorer.set_state({"feature_edit": []})  # the explorer keeps working
    assert explorer.error == "" and header(explorer)["what_if"] is None


def test_parse_keeps_plain_dicts_and_makes_feature_edits(trained):
    catalog = as_source(trained).catalog
    plain, edits = parse_feature_edits(
        [
            {"field": "brand", "value": "Aperta", "position": np.int64(2)},
            {"field": "brand", "value": "Kestrel", "replaces": "Aperta"},
            {"field": "price", "value": "<unknown>"},
        ],
        catalog,
        5,
    )
    assert plain[0] == {"field": "brand", "value": "Aperta", "position": 2}
    assert type(plain[0]["position"]) is int
    assert edits == (
        FeatureEdit("brand", "Aperta", position=2),
        FeatureEdit("brand", "Kestrel", replaces="Aperta"),
        FeatureEdit("price", "<unknown>"),
    )


def test_the_session_makes_a_feature_view_compared_with_the_users_own(trained, shop):
    source = as_source(trained)
    session = ExplorerSession(
        source, shop.aligned_to(source.catalog), lambda *_: None, k=5, agreement_users=0
    )
    session.users = UserList(session.dataset, shop.users[:5])
    user = str(shop.users[2])
    original = session.explanation(user)
    edit = FeatureEdit("category", "coffee", replaces=None)
    view = session.feature_view(original, user, np.array([], dtype=np.int64), [edit])
    head = decode_pack(view.pack)[0]
    jsonschema.validate(head, SCHEMA)
    assert view.user is None and not view.complete  # an edit: not cached, completed later
    assert {h["features"]["category"] for h in head["history"]} == {"coffee"}
    assert head["what_if"]["feature_edits"][0]["replaces"] is None
    assert head["timing"]["kernel_ms"] >= 0
    same = session.feature_view(original, user, np.array([], dtype=np.int64), [])
    assert decode_pack(same.pack)[0]["what_if"] is None
