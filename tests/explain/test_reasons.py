"""Reasons: templates, hostile titles stay literal text, honest fallbacks, the table column."""

from __future__ import annotations

import numpy as np
import pytest

from attnwidget import ArgumentTypeError, ArgumentValueError, explain, explain_history
from attnwidget.explain import REASON_TEMPLATES
from attnwidget.explain.reasons import TEMPLATE_FIELDS, checked_templates, render

from .handmade import LinearSource, shop_catalog

HOSTILE = [
    '<img src=x onerror="alert(1)">',
    "{first} {0} {__class__} {{braces}}",
    "\u202eשלום עולם\u202c مرحبا",
    "Long " * 2000,
    "%s %(x)s \\n <script>",
]


def handmade(titles, target_weights, categories=None, bias_target=0.0):
    """History = the first len(target_weights) items; target = the next item."""
    n = len(titles)
    h = len(target_weights)
    weights = np.zeros((n + 1, n + 1))
    weights[1 : h + 1, h + 1] = target_weights
    bias = np.full(n + 1, -10.0)
    bias[h + 1] = bias_target
    source = LinearSource(shop_catalog(titles, categories), weights, bias)
    ids = [f"i{k}" for k in range(1, h + 1)]
    return source, explain_history(source, None, ids, k=1)


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_stay_literal_text(title):
    titles = [title, "plain", "other", "target"]
    _, expl = handmade(titles, [5.0, 0.1, 0.1])
    reason = expl.reason()
    assert reason.key == "one_item"
    assert reason.text == "Because you bought " + title
    assert reason.parts == (("text", "Because you bought "), ("item", title))
    assert reason.evidence_titles == (title,) and reason.evidence_ids == ("i1",)


def test_two_items_are_cited_with_the_joint_score_drop():
    _, expl = handmade(["a", "b", "c", "target"], [2.0, 1.5, 0.1])
    reason = expl.reason(method="occlusion")
    assert reason.key == "two_items" and reason.text == "Because you bought a and b"
    assert reason.score_drop == pytest.approx(3.5)  # both removed together
    assert reason.share == pytest.approx(3.5 / 3.6)
    assert reason.method == "occlusion"


def test_flat_importance_falls_back_to_the_general_taste():
    categories = ["coffee machines"] * 8 + ["tea", "coffee machines", "coffee machines"]
    titles = [f"t{k}" for k in range(11)]
    _, expl = handmade(titles, [0.1] * 10, categories)  # each item 10 %
    reason = expl.reason()
    assert reason.key == "taste"
    assert reason.text == (
        "No single purchase explains this; it follows your general taste in coffee machines"
    )
    assert reason.feature == ("category", "coffee machines")
    assert reason.evidence_positions == () and reason.score_drop == pytest.approx(0.1)


def test_nan_importance_falls_back_honestly():
    source, _ = handmade(["a", "b", "c", "target"], [5.0, 0.1, 0.1])
    source.can_rerun = False  # like precomputed attention: occlusion is NaN
    expl = explain_history(source, None, ["i1", "i2", "i3"], k=1)
    reason = expl.reason()
    assert reason.key == "unexplained" and reason.text == "No single purchase explains this"
    assert np.isnan(reason.score_drop) and np.isnan(reason.share)
    with_categories, _ = handmade(
        ["a", "b", "c", "target"], [5.0, 0.1, 0.1], ["tea", "tea", "coffee", "tea"]
    )
    with_categories.can_rerun = False
    expl = explain_history(with_categories, None, ["i1", "i2", "i3"], k=1)
    assert expl.reason().key == "taste" and expl.reason().feature == ("category", "tea")


def test_a_one_item_history_has_no_evidence():
    _, expl = handmade(["a", "target"], [1.0])
    reason = expl.reason()
    assert reason.key == "unexplained" and np.isnan(reason.score_drop)


def test_every_default_template_formats_with_its_placeholders():
    assert set(REASON_TEMPLATES) == set(TEMPLATE_FIELDS)
    for key, template in REASON_TEMPLATES.items():
        values = {name: (kind, f"<{name}>") for name, kind in TEMPLATE_FIELDS[key].items()}
        text, parts = render(template, values, key)
        assert text == "".join(p for _, p in parts)
        inserted = [(kind, value) for kind, value in parts if kind != "text"]
        assert all(value in [v for _, v in values.values()] for _, value in inserted)
        assert bool(inserted) == (key != "unexplained")


def test_templates_can_be_translated():
    _, expl = handmade(["Kaffee", "b", "c", "target"], [5.0, 0.1, 0.1])
    reason = expl.reason(templates={"one_item": "Weil Sie {first} gekauft haben"})
    assert reason.text == "Weil Sie Kaffee gekauft haben"
    assert reason.parts[1] == ("item", "Kaffee")


@pytest.mark.parametrize(
    ("templates", "error"),
    [
        ({"one_item": "Because of {nope}"}, ArgumentValueError),
        ({"one_item": "Because of {0}"}, ArgumentValueError),
        ({"one_item": "Because of {first.__class__}"}, ArgumentValueError),
        ({"one_item": "Because of {first"}, ArgumentValueError),
        ({"unexplained": "{value}"}, ArgumentValueError),
        ({"no_such_key": "x"}, ArgumentValueError),
        ({"one_item": 3}, ArgumentTypeError),
        ("Because", ArgumentTypeError),
    ],
)
def test_bad_templates_are_refused(templates, error):
    with pytest.raises(error):
        checked_templates(templates)


def test_bad_arguments_are_refused(trained, shop):
    expl = explain(trained, shop, shop.users[0])
    with pytest.raises(ArgumentValueError):
        expl.reason(method="magic")
    with pytest.raises(ArgumentTypeError):
        expl.recommendation_table(reasons="3")


def test_the_recommendation_table_has_a_reason_column(trained, shop):
    expl = explain(trained, shop, shop.users[5], k=6)
    table = expl.recommendation_table()
    assert table["reason"].iloc[:3].map(lambda v: isinstance(v, str) and len(v) > 0).all()
    assert table["reason"].iloc[3:].isna().all()
    assert expl.recommendation_table(reasons=0)["reason"].isna().all()
    every = expl.recommendation_table(reasons=None)["reason"]
    assert every.notna().all() and every.iloc[0] == expl.reason().text


def test_a_reason_on_sasrec_states_a_real_score_drop(trained, shop):
    cited = 0
    for user in shop.users[:10]:
        expl = explain(trained, shop, user)
        for reason in expl.reasons(
            [trained.catalog.item_id(int(i)) for i in expl.recommendations[:3]]
        ):
            assert reason.text == "".join(text for _, text in reason.parts)
            if reason.key in ("one_item", "two_items"):
                cited += 1
                target = trained.catalog.index_of(reason.item)
                kept = np.delete(expl.history, list(reason.evidence_positions))
                scores = trained.score([expl.history, kept])[:, target]
                assert reason.score_drop == pytest.approx(scores[0] - scores[1], abs=1e-4)
    assert cited > 0
