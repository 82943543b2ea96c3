"""Hostile input to the explorer widget (traits, browser state, custom messages, construction)
and to its packs: a clear message in the widget's ``error``, the view left consistent.

"Consistent" means the pack shown, ``user`` and ``history_edit`` agree (see
:func:`assert_consistent`). From Python a refused change raises a ``TraitError`` that is
also the attnwidget error; from the browser (``set_state``, custom messages) nothing
raises and the controls are set back.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import traitlets

from attnwidget import (
    AttentionExplorer,
    Dashboard,
    DataError,
    Dataset,
    EmptyHistoryError,
    NothingToRecommendError,
    SASRec,
    UnknownUserError,
    explain,
)
from attnwidget.datasets import synthetic_shop
from attnwidget.errors import AttnWidgetError
from attnwidget.sources import PrecomputedSource, SASRecSource
from attnwidget.widget.explanation_pack import explanation_pack
from attnwidget.widget.payload import decode_pack
from attnwidget.widget.traits import (
    DataTraitError,
    UnknownItemTraitError,
    UnknownUserTraitError,
    trait_error_type,
)
from tests.hostile.expect import fails

MAX_LEN = 10


@pytest.fixture(scope="module")
def small():
    return synthetic_shop(n_users=60, n_items=120, seed=1)


@pytest.fixture(scope="module")
def model(small):
    return SASRec(small, d_model=16, n_layers=2, n_heads=2, max_len=MAX_LEN, seed=0)


@pytest.fixture
def explorer(model, small):
    widget = AttentionExplorer(model, small, users=small.users[:10], k=5, agreement_users=0)
    widget.wait()
    return widget


def shown(explorer):
    return decode_pack(explorer.payload)[0]


def assert_consistent(explorer):
    """The pack shows the current user, and the edited history when there is one."""
    header = shown(explorer)
    assert header["user"] == explorer.user
    ids = [h["id"] for h in header["history"]]
    if explorer.history_edit:
        assert ids == explorer.history_edit[-MAX_LEN:] and explorer.edited is not None
        assert header["what_if"] is not None
    else:
        own = explorer.dataset.sequence(explorer.user)[-MAX_LEN:]
        assert ids == [explorer.source.catalog.item_id(int(i)) for i in own]
        assert explorer.edited is None and header["what_if"] is None


def browser(explorer):
    """Record what the widget sends back to the front end instead of sending it."""
    sent = []
    explorer.send_state = lambda key=None: sent.append(key)
    explorer.send = sent.append
    return sent


# ------------------------------------------------------------------ user, from Python
@pytest.mark.parametrize(
    ("value", "error", "fragment"),
    [
        ("nobody", UnknownUserTraitError, "'nobody'"),
        (99999, UnknownUserTraitError, "99999"),
        (None, DataTraitError, "None"),
        (["u00001"], DataTraitError, "['u00001']"),
        (3.5, DataTraitError, "3.5"),
        (True, DataTraitError, "True"),
        ({"id": "u00001"}, DataTraitError, "{'id': 'u00001'}"),
    ],
)
def test_a_bad_user_is_refused_and_shown(explorer, value, error, fragment):
    before = explorer.payload
    with fails(error, fragment):
        explorer.user = value
    assert fragment in explorer.error
    assert explorer.user == "u00001" and explorer.payload == before
    assert_consistent(explorer)


def test_a_user_with_an_integer_id_given_as_int_is_shown(model, small):
    ids = {u: 1000 + i for i, u in enumerate(small.users[:3])}
    data = Dataset(small.catalog, list(ids.values()), [small.sequence(u) for u in ids])
    explorer = AttentionExplorer(model, data, k=5, agreement_users=0)
    explorer.user = 1002  # an int id: taken in its text form, as the browser sends it
    assert explorer.user == "1002" and explorer.error == ""
    assert_consistent(explorer)


def test_a_user_who_has_every_item_has_nothing_to_recommend(model, small):
    everything = np.arange(1, small.n_items + 1)
    data = Dataset(small.catalog, ["ok", "collector"], [small.sequence(small.users[0]), everything])
    explorer = AttentionExplorer(model, data, k=5, agreement_users=0)
    with fails(trait_error_type(NothingToRecommendError), "'collector'", "nothing to recommend"):
        explorer.user = "collector"
    assert "'collector'" in explorer.error and explorer.user == "ok"
    assert_consistent(explorer)


def test_a_source_that_fails_for_one_user_is_a_message_not_a_traceback(model, small):
    bad = small.sequence(small.users[1])[-MAX_LEN:].tolist()

    class Flaky(SASRecSource):
        def run(self, histories):
            if any(np.asarray(h).tolist() == bad for h in histories):
                raise RuntimeError("GPU fell off")
            return super().run(histories)

    explorer = AttentionExplorer(Flaky(model), small, users=small.users[:2], agreement_users=0)
    with fails(trait_error_type(AttnWidgetError), "RuntimeError", "GPU fell off", "u00002"):
        explorer.user = small.users[1]
    assert "GPU fell off" in explorer.error and explorer.user == small.users[0]
    assert_consistent(explorer)


# ------------------------------------------------------------------ layer, head, method
@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("layer", 99, "got 99"),
        ("layer", -1, "got -1"),
        ("head", 2, "0..1, got 2"),
        ("layer", "1", "'1'"),
        ("head", 0.5, "0.5"),
        ("head", None, "None"),
        ("layer", True, "True"),
        ("method", "magic", "'magic'"),
        ("layer_mode", "sideways", "'sideways'"),
        ("selection", [0, 99], "[99]"),
        ("selection", [1, 1], "twice"),
        ("selection", "0", "'0'"),
    ],
)
def test_a_bad_control_value_is_refused_and_shown(explorer, name, value, fragment):
    before = getattr(explorer, name)
    with fails(DataTraitError, fragment):
        setattr(explorer, name, value)
    assert fragment in explorer.error and getattr(explorer, name) == before
    explorer.head = 1  # the next good change works and clears the message
    assert explorer.error == ""
    assert_consistent(explorer)


# ------------------------------------------------------------------ history_edit
@pytest.mark.parametrize(
    ("value", "error", "fragment"),
    [
        (["nope"], UnknownItemTraitError, "'nope'"),
        ([1, 2], UnknownItemTraitError, "'1'"),
        ("i0063", DataTraitError, "'i0063'"),
        ([["i0063", "i0051"]], DataTraitError, "['i0063', 'i0051']"),
        (None, DataTraitError, "None"),
        ([None], DataTraitError, "None"),
        ([1.5], DataTraitError, "1.5"),
        ({"i0063": 1}, DataTraitError, "{'i0063': 1}"),
    ],
)
def test_a_bad_edit_is_refused_and_the_view_kept(explorer, value, error, fragment):
    before = explorer.payload
    with fails(error, fragment):
        explorer.history_edit = value
    assert fragment in explorer.error
    assert explorer.history_edit == [] and explorer.payload == before
    assert_consistent(explorer)


def test_an_edit_that_covers_the_catalogue_leaves_nothing_to_recommend(explorer, small):
    with fails(trait_error_type(NothingToRecommendError), "nothing to recommend", "'u00001'"):
        explorer.history_edit = list(small.catalog.item_ids)
    assert "nothing to recommend" in explorer.error and explorer.history_edit == []
    assert_consistent(explorer)


def test_an_edit_failing_in_the_model_keeps_the_previous_edit(model, small):
    poison = int(small.catalog.index_of("i0051"))

    class Picky(SASRecSource):
        def run(self, histories):
            if any(poison in np.asarray(h).tolist() for h in histories):
                raise IndexError("index 7 is out of bounds")
            return super().run(histories)

        def score(self, histories):
            return self.run(histories).scores

    explorer = AttentionExplorer(Picky(model), small, users=small.users[:3], agreement_users=0)
    first = [h["id"] for h in shown(explorer)["history"]][:-1]
    explorer.history_edit = first  # a good edit is shown
    explorer.wait()
    with fails(trait_error_type(AttnWidgetError), "IndexError", "edited history"):
        explorer.history_edit = [*first, "i0051"]
    assert explorer.history_edit == first and "IndexError" in explorer.error
    assert_consistent(explorer)


def test_a_ten_thousand_item_edit_shows_its_most_recent_items(explorer, small):
    ids = [small.catalog.item_ids[i % 50] for i in range(10_000)]
    start = time.perf_counter()
    explorer.history_edit = ids
    assert time.perf_counter() - start < 10
    header = shown(explorer)
    assert header["truncated"] == {"total": 10_000, "shown": MAX_LEN}
    assert explorer.error == ""
    assert_consistent(explorer)


def test_an_empty_edit_goes_back_to_the_own_history(explorer):
    ids = [h["id"] for h in shown(explorer)["history"]]
    explorer.history_edit = ids[1:]
    explorer.history_edit = []
    assert explorer.edited is None and explorer.error == ""
    assert_consistent(explorer)


def test_a_tuple_edit_is_taken_as_a_list(explorer):
    ids = [h["id"] for h in shown(explorer)["history"]]
    explorer.history_edit = tuple(ids[:-1])
    assert explorer.history_edit == ids[:-1]
    assert_consistent(explorer)


# ------------------------------------------------------------------ from the browser
@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        ({"user": "nobody"}, "'nobody'"),
        ({"user": None}, "None"),
        ({"user": ["u00002"]}, "['u00002']"),
        ({"layer": 99}, "got 99"),
        ({"head": "x"}, "'x'"),
        ({"method": "magic"}, "'magic'"),
        ({"history_edit": "i0063"}, "'i0063'"),
        ({"history_edit": [["i0063"]]}, "['i0063']"),
        ({"history_edit": ["nope"]}, "'nope'"),
        ({"selection": [-3]}, "[-3]"),
        ({"payload": b"garbage"}, "['payload']"),
        ({"user": "u00002", "layer": 99}, "got 99"),
    ],
)
def test_a_bad_browser_change_is_a_message_and_the_controls_are_set_back(explorer, state, fragment):
    before = (explorer.payload, explorer.user, explorer.layer, explorer.history_edit)
    sent = browser(explorer)
    explorer.set_state(state)  # what a comm message from the front end does: never raises
    assert fragment in explorer.error
    assert (explorer.payload, explorer.user, explorer.layer, explorer.history_edit) == before
    assert sent  # the front end is told (error, and the controls set back)
    assert_consistent(explorer)


def test_a_browser_state_that_is_not_an_object_is_a_message(explorer):
    explorer.set_state(["user", "u00002"])
    assert "list" in explorer.error and explorer.user == "u00001"
    assert_consistent(explorer)


# ------------------------------------------------------------------ custom messages
@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("search", "str"),
        (["search"], "list"),
        ({"type": "delete_everything"}, "'delete_everything'"),
        ({"query": "lens"}, "None"),
    ],
)
def test_a_message_that_is_not_a_search_is_a_message(explorer, content, fragment):
    sent = browser(explorer)
    explorer._on_message(explorer, content, [])
    assert fragment in explorer.error and "search" in explorer.error
    assert [m for m in sent if isinstance(m, dict)] == []
    assert_consistent(explorer)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [(None, "NoneType"), (["lens"], "list"), (42, "int")],
)
def test_a_search_query_that_is_not_text_is_answered_empty_with_a_message(
    explorer, query, fragment
):
    sent = browser(explorer)
    explorer._on_message(explorer, {"type": "search", "query": query}, [])
    reply = [m for m in sent if isinstance(m, dict)]
    assert reply == [{"type": "search_results", "query": query, "items": [], "more": False}]
    assert fragment in explorer.error


@pytest.mark.parametrize("query", ["(.*", "[", "i00[0-9]+", "\\", "^$", "%s%n", "\x00"])
def test_a_regex_like_query_is_searched_as_plain_text(explorer, query):
    found = explorer.search_items(query)
    assert all(query.lower() in f["title"].lower() or query in f["id"] for f in found)
    assert found == [] and explorer.error == ""


def test_a_huge_query_finds_nothing_quickly(explorer):
    sent = browser(explorer)
    start = time.perf_counter()
    explorer._on_message(explorer, {"type": "search", "query": "lens" * 250_000}, [])
    assert time.perf_counter() - start < 2
    assert sent[-1]["items"] == [] and explorer.error == ""


def test_search_items_refuses_a_bad_limit(explorer):
    with fails(TypeError, "'3'"):
        explorer.search_items("i00", limit="3")
    with fails(ValueError, "-1"):
        explorer.search_items("i00", limit=-1)


# ------------------------------------------------------------------ construction
@pytest.mark.parametrize(
    ("kwargs", "error", "fragments"),
    [
        ({"users": ["ghost"]}, UnknownUserError, ("'ghost'",)),
        ({"users": ["u00001", "u00001"]}, DataError, ("'u00001'", "twice")),
        ({"users": []}, ValueError, ("users is empty",)),
        ({"users": "u00001"}, TypeError, ("'u00001'",)),
        ({"users": 5}, TypeError, ("5",)),
        ({"k": 0}, ValueError, ("k", "0")),
        ({"k": "10"}, TypeError, ("k", "'10'")),
        ({"k": 2.5}, TypeError, ("2.5",)),
        ({"cache_size": 0}, ValueError, ("cache_size", "0")),
        ({"agreement_users": -1}, ValueError, ("agreement_users", "-1")),
    ],
)
def test_constructor_arguments_are_checked(model, small, kwargs, error, fragments):
    with fails(error, *fragments):
        AttentionExplorer(model, small, **{"agreement_users": 0, **kwargs})


def test_users_listed_twice_under_two_spellings_are_one_user(model, small):
    data = Dataset(small.catalog, [7, 8], [small.sequence(u) for u in small.users[:2]])
    with fails(DataError, "twice"):
        AttentionExplorer(model, data, users=[7, "7"], agreement_users=0)


def test_a_precomputed_source_refuses_users_it_holds_no_data_for(small):
    user = small.users[0]
    n = len(small.sequence(user)[-MAX_LEN:])
    other = next(
        i for i in small.catalog.item_ids if small.catalog.index_of(i) not in small.sequence(user)
    )
    source = PrecomputedSource(small, {user: np.eye(n)}, {user: [other]}, max_len=MAX_LEN)
    with fails(DataError, small.users[1], "holds no data"):
        AttentionExplorer(source, small, users=[user, small.users[1]])


def test_a_first_user_that_cannot_be_shown_is_a_clear_error_at_construction(model, small):
    everything = np.arange(1, small.n_items + 1)
    data = Dataset(small.catalog, ["collector"], [everything])
    with fails(trait_error_type(NothingToRecommendError), "'collector'"):
        AttentionExplorer(model, data, agreement_users=0)


def test_setting_users_to_unknown_or_repeated_ids_is_refused(explorer):
    with fails(trait_error_type(UnknownUserError), "'ghost'"):
        explorer.users = ["u00001", "ghost"]
    with fails(DataTraitError, "twice"):
        explorer.users = ["u00001", "u00001"]
    assert "twice" in explorer.error and list(explorer.users) == [f"u{i:05d}" for i in range(1, 11)]


def test_save_html_refuses_bad_users(explorer, tmp_path):
    with fails(UnknownUserError, "'ghost'"):
        explorer.save_html(tmp_path / "x.html", users=["ghost"])
    with fails(ValueError, "users is empty"):
        explorer.save_html(tmp_path / "x.html", users=[])
    assert not (tmp_path / "x.html").exists()


# ------------------------------------------------------------------ dashboard
@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"n_users": 0}, ValueError, "n_users"),
        ({"n_users": "5"}, TypeError, "'5'"),
        ({"top": 0}, ValueError, "top"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_dashboard_arguments_are_checked(explorer, kwargs, error, fragment):
    with fails(error, fragment):
        Dashboard(explorer, **kwargs)


def test_dashboard_needs_an_explorer(small):
    with fails(TypeError, "AttentionExplorer"):
        Dashboard(small)


def test_dashboard_follows_an_edit_and_a_bad_grid_cell_is_a_message(explorer):
    board = Dashboard(explorer, n_users=3)
    ids = [h["id"] for h in shown(explorer)["history"]]
    explorer.history_edit = ids[-2:]
    titles = {explorer.source.catalog.title(int(i)) for i in explorer.edited.history}
    assert len(board.bars.x) > 0 and titles  # the bars are of the edited history's items
    board.grid.selected = np.array([[9, 9]])  # not a cell of this model: refused, shown
    assert "9" in explorer.error and (explorer.layer, explorer.head) != (9, 9)


# ------------------------------------------------------------------ packs
def _explanation(model, small):
    return explain(model, small, small.users[0], k=5)


@pytest.mark.parametrize(
    ("where", "value", "kinds"),
    [
        ("attentions", np.inf, {"posinf": 1}),
        ("attentions", -np.inf, {"neginf": 1}),
        ("attentions", np.nan, {"nan": 1}),
    ],
)
def test_non_finite_attention_is_sent_as_nan_and_announced(model, small, where, value, kinds):
    expl = _explanation(model, small)
    expl.attentions = expl.attentions.copy()
    expl.attentions[1, 0, -1, 0] = value
    header, arrays = decode_pack(explanation_pack(expl))
    counts = header["nonfinite"]["seq_attn"]
    assert {k: v for k, v in counts.items() if v} == kinds
    assert np.isnan(arrays["seq_attn"][1, 0, -1, 0])
    assert np.isfinite(np.delete(arrays["seq_attn"].ravel(), 0)).sum() > 0
    assert any("sequence attention" in w and "not finite" in w for w in header["warnings"])


def test_values_too_large_for_float16_travel_intact(model, small):
    expl = _explanation(model, small)
    expl.attentions = expl.attentions.copy()
    expl.attentions[0, 0, -1, 0] = 1e6  # would overflow to inf in float16
    header, arrays = decode_pack(explanation_pack(expl))
    assert header["arrays"]["seq_attn"]["dtype"] == "log12"  # row maxima are float32
    assert arrays["seq_attn"][0, 0, -1, 0] == pytest.approx(1e6, rel=2e-3)
    assert "seq_attn" not in header["nonfinite"]
    expl.attentions[0, 0, -1, 1] = -1e6  # negative: no log codes, float32 (float16 overflows)
    header, arrays = decode_pack(explanation_pack(expl))
    assert header["arrays"]["seq_attn"]["dtype"] == "float32"
    assert arrays["seq_attn"][0, 0, -1, 0] == 1e6 and "seq_attn" not in header["nonfinite"]


def test_infinite_importance_is_announced_and_pending_nan_is_not(model, small):
    expl = _explanation(model, small)
    header, _ = decode_pack(explanation_pack(expl, methods=("attention",)))
    assert header["nonfinite"]["importance"]["nan"] > 0
    assert not any("importance" in w for w in header["warnings"])  # pending, as documented
    expl._importance["rollout"] = np.full(len(expl.history), np.inf)
    header, arrays = decode_pack(explanation_pack(expl, methods=("attention",)))
    assert header["nonfinite"]["importance"]["posinf"] == len(expl.history)
    assert any("importance scores" in w and "+inf" in w for w in header["warnings"])
    assert np.isnan(arrays["importance"][1]).all()


def test_a_clean_pack_says_it_has_no_non_finite_values(model, small):
    header, _ = decode_pack(explanation_pack(_explanation(model, small)))
    assert header["nonfinite"] == {} and header["warnings"] == []


def test_trait_errors_are_both_kinds():
    kind = trait_error_type(EmptyHistoryError)
    assert issubclass(kind, traitlets.TraitError) and issubclass(kind, EmptyHistoryError)
    assert trait_error_type(EmptyHistoryError) is kind
