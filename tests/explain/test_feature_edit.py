"""Feature what-if: an edit to the original value changes nothing; planted features move the
scores the way the shop's customers do; edits by position and by value; importance re-runs
on the edited features; bad input and sources that cannot edit features."""

from __future__ import annotations

import numpy as np
import pytest

from attnwidget import ArgumentTypeError, ArgumentValueError, SASRec
from attnwidget.explain import FeatureEdit, FeatureWhatIf, explain_with_features, feature_values
from attnwidget.explain.explanation import explain_indices
from attnwidget.sources import as_source

from .handmade import LinearSource, shop_catalog

BRAND, CATEGORY = 1, 0  # columns of the synthetic shop's fields (category, brand, price)


def _history(shop, user=0):
    return shop.sequences[user][-20:]


def _absent(catalog, history, column):
    """A real value of field ``column`` that no item of ``history`` has."""
    present = set(catalog.features[history, column].tolist())
    return next(v for v in range(2, catalog.fields[column].size) if v not in present)


def _label(catalog, history, column, position):
    return catalog.fields[column].label(int(catalog.features[history[position], column]))


def test_an_edit_to_the_current_value_changes_nothing(trained, shop):
    history = _history(shop)
    category = _label(trained.catalog, history, CATEGORY, -1)
    edits = [
        FeatureEdit("brand", _label(trained.catalog, history, BRAND, 3), position=3),
        FeatureEdit("category", category, replaces=category),
    ]
    what_if = explain_with_features(trained, history, edits)
    before, after = what_if.original, what_if.explanation
    assert np.array_equal(before.scores, after.scores)
    assert np.array_equal(before.attentions, after.attentions)
    assert np.array_equal(before.feature_attention, after.feature_attention)
    assert np.array_equal(before.recommendations, after.recommendations)
    for method in ("gradient", "occlusion"):
        assert np.array_equal(before.method_importance(method), after.method_importance(method))
    assert what_if.summary["changed"] == [] and what_if.summary["unmatched"] == [0, 1]
    assert what_if.summary["entered"] == what_if.summary["left"] == []
    assert "changed no history item" in after.warnings[-1]


@pytest.mark.parametrize(("field", "column"), [("brand", BRAND), ("category", CATEGORY)])
def test_a_planted_feature_moves_the_scores_its_way(trained, shop, field, column):
    """Customers stay with a brand and in a department: giving the last purchase another
    brand (category) raises that brand's (category's) items and lowers the old one's,
    relative to the mean change of all items."""
    catalog = trained.catalog
    for user in range(5):
        history = _history(shop, user)
        new = _absent(catalog, history, column)
        old = catalog.features[history[-1], column]
        edit = FeatureEdit(field, catalog.fields[column].labels[new], position=len(history) - 1)
        what_if = explain_with_features(trained, history, edit)
        before, after = what_if.original.scores, what_if.explanation.scores
        finite = np.isfinite(before) & np.isfinite(after)  # not the history's items
        change = np.where(finite, after, 0.0) - np.where(finite, before, 0.0)
        shift = change - change[finite].mean()
        values = catalog.features[:, column]
        assert shift[finite & (values == new)].mean() > 0, user
        assert shift[finite & (values == old)].mean() < 0, user


def test_edits_by_position_and_by_value(trained, shop):
    catalog = trained.catalog
    history = _history(shop)
    brands = catalog.fields[BRAND]
    position = 5
    old_label = _label(catalog, history, BRAND, position)
    new_label = brands.labels[_absent(catalog, history, BRAND)]
    by_position = explain_with_features(trained, history, FeatureEdit("brand", new_label, position))
    same_item = np.flatnonzero(history == history[position]).tolist()  # an item, not a slot
    assert [c["position"] for c in by_position.summary["changed"]] == same_item
    assert by_position.summary["changed"][0] == {
        "position": position,
        "id": catalog.item_id(int(history[position])),
        "title": catalog.title(int(history[position])),
        "field": "brand",
        "before": old_label,
        "after": new_label,
    }
    assert by_position.history_table()["brand"].iloc[position] == new_label
    assert not np.array_equal(by_position.explanation.scores, by_position.original.scores)

    by_value = explain_with_features(
        trained, history, FeatureEdit("brand", new_label, replaces=old_label)
    )
    had_it = catalog.features[history, BRAND] == catalog.features[history[position], BRAND]
    assert [c["position"] for c in by_value.summary["changed"]] == np.flatnonzero(had_it).tolist()
    assert (by_value.features[had_it, BRAND] == brands.labels.index(new_label)).all()
    assert np.array_equal(by_value.features[~had_it], catalog.features[history[~had_it]])

    everything = explain_with_features(trained, history, FeatureEdit("price", "<unknown>"))
    assert (everything.features[:, 2] == 1).all()
    # edits apply in order: the second sees the first's result
    chained = explain_with_features(
        trained,
        history,
        [
            FeatureEdit("brand", new_label, position),
            FeatureEdit("brand", old_label, replaces=new_label),
        ],
    )
    assert chained.summary["changed"] == [] and chained.summary["unmatched"] == []


def test_the_summary_says_what_changed(trained, shop):
    history = _history(shop)
    new = trained.catalog.fields[CATEGORY].labels[_absent(trained.catalog, history, CATEGORY)]
    what_if = explain_with_features(trained, history, FeatureEdit("category", new, replaces=None))
    summary = what_if.summary
    before = {r["id"] for r in summary["original_recommendations"]}
    after = {trained.catalog.item_id(int(i)) for i in what_if.explanation.recommendations}
    assert {r["id"] for r in summary["entered"]} == after - before
    assert {r["id"] for r in summary["left"]} == before - after
    assert summary["entered"], "changing every item's category changes the recommendations"
    target = summary["target"]
    assert target["id"] == trained.catalog.item_id(what_if.original.target)
    assert what_if.explanation.target == what_if.original.target
    assert target["rank_before"] == 1
    assert target["score_after"] == pytest.approx(
        what_if.explanation.scores[what_if.original.target]
    )
    assert summary["edits"] == [
        {"field": "category", "value": new, "position": None, "replaces": None}
    ]


def test_importance_reruns_on_the_edited_features(trained, shop):
    history = _history(shop)
    new = trained.catalog.fields[BRAND].labels[_absent(trained.catalog, history, BRAND)]
    what_if = explain_with_features(
        trained, history, FeatureEdit("brand", new, len(history) - 1), target=7
    )
    edited, source = what_if.explanation, what_if.explanation.source
    assert edited.target == 7
    # occlusion of the last item: the full edited history against the edited rest
    full, without = source.score_items([history, history[:-1]], [7])[:, 0]
    assert edited.method_importance("occlusion")[-1] == pytest.approx(full - without, abs=1e-5)
    assert edited.method_importance("occlusion")[-1] != pytest.approx(
        what_if.original.method_importance("occlusion")[-1], abs=1e-6
    )
    assert not np.allclose(
        edited.method_importance("gradient"), what_if.original.method_importance("gradient")
    )
    drops = edited.feature_importance.filter(like="occlusion:").to_numpy()
    original = what_if.original.feature_importance.filter(like="occlusion:").to_numpy()
    assert drops.shape == (len(history), 2 + 1) and not np.allclose(drops[-1], original[-1])
    # the explained histories stay the same items
    assert np.array_equal(edited.history, what_if.original.history)


def test_feature_values_list_a_fields_vocabulary(trained):
    values = feature_values(trained, "brand")
    assert values[0] == "<unknown>" and "Aperta" in values and "<pad>" not in values


def _bad(trained, history, edits, error, match):
    with pytest.raises(error, match=match):
        explain_with_features(trained, history, edits)


def test_bad_edits_are_refused(trained, shop):
    history = _history(shop)
    n = len(history)
    _bad(trained, history, FeatureEdit("colour", "red"), ArgumentValueError, "unknown feature")
    _bad(trained, history, FeatureEdit("item", "i0001"), ArgumentValueError, "not an editable")
    _bad(trained, history, FeatureEdit("brand", "Acme"), ArgumentValueError, "'Acme' is not a")
    _bad(trained, history, FeatureEdit("brand", "<pad>"), ArgumentValueError, "not a value")
    _bad(
        trained,
        history,
        FeatureEdit("brand", "Aperta", replaces="Acme"),
        ArgumentValueError,
        "replaces 'Acme'",
    )
    _bad(trained, history, FeatureEdit("brand", "Aperta", n), ArgumentValueError, f"0..{n - 1}")
    _bad(trained, history, ["brand"], ArgumentTypeError, r"edits\[0\] must be a FeatureEdit")
    _bad(trained, history, "brand", ArgumentTypeError, "a FeatureEdit or a list")
    with pytest.raises(ArgumentValueError, match="not both"):
        FeatureEdit("brand", "Aperta", position=1, replaces="Lumora")
    with pytest.raises(ArgumentValueError, match="position must be ≥ 0"):
        FeatureEdit("brand", "Aperta", position=-1)
    with pytest.raises(ArgumentTypeError, match="position must be an integer"):
        FeatureEdit("brand", "Aperta", position=True)
    with pytest.raises(ArgumentTypeError, match="value must be a str"):
        FeatureEdit("brand", 3)
    with pytest.raises(ArgumentTypeError, match="replaces must be a str or None"):
        FeatureEdit("brand", "Aperta", replaces=3)
    with pytest.raises(ArgumentValueError, match="unknown feature field"):
        feature_values(trained, "colour")


def test_a_source_that_cannot_edit_features_says_so():
    catalog = shop_catalog(["a", "b", "c", "d"])
    rng = np.random.default_rng(0)
    wrapped = LinearSource(catalog, rng.normal(size=(5, 5)), np.zeros(5))
    with pytest.raises(ArgumentTypeError, match="LinearSource cannot edit features"):
        explain_with_features(wrapped, [1, 2], FeatureEdit("category", "x"))
    # a SASRec whose catalogue has no feature fields can edit none
    plain = SASRec(catalog, d_model=8, n_layers=1, n_heads=1, max_len=5)
    with pytest.raises(ArgumentValueError, match="the catalogue has no feature fields"):
        explain_with_features(plain, [1, 2], FeatureEdit("category", "x"))
    # no edits: the original explanation, again
    what_if = explain_with_features(plain, [1, 2], [])
    assert isinstance(what_if, FeatureWhatIf)
    assert np.array_equal(
        what_if.explanation.scores, explain_indices(as_source(plain), [1, 2]).scores
    )


def test_reasons_read_the_edited_features(trained, shop):
    """A reason about a feature what-if cites the values the model read, not the catalogue's:
    the history's values seen by the reason are the edited ones (the original's unchanged)."""
    history = _history(shop)
    value = _absent(trained.catalog, history, CATEGORY)
    label = trained.catalog.fields[CATEGORY].label(value)
    edits = [FeatureEdit("category", label, position=p) for p in range(len(history))]
    what_if = explain_with_features(trained, history, edits)
    edited = what_if.explanation
    assert (edited.history_feature_table[edited.history][:, CATEGORY] == value).all()
    original = what_if.original.history_feature_table[what_if.original.history]
    assert np.array_equal(original, trained.catalog.features[history])
    reason = what_if.explanation.reason()
    if reason.feature is not None and reason.feature[0] == "category":
        assert reason.feature[1] == label
