"""Hostile input for explanations: nothing to recommend, bad items, users, histories, k."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from attnwidget import (
    DataError,
    Dataset,
    EmptyHistoryError,
    NothingToRecommendError,
    SASRec,
    UnknownItemError,
    UnknownUserError,
    explain,
    explain_history,
    faithfulness_report,
    planted_cause_hits,
    synthetic_shop,
)
from attnwidget.errors import NothingToRecommendWarning
from attnwidget.explain import explain_indices
from attnwidget.sources import SASRecSource, SourceOutput
from tests.hostile.conftest import SMALL
from tests.hostile.expect import fails


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    """Four items; ``full`` has bought them all, ``one`` a single item."""
    histories = {"one": [1], "two": [1, 2], "three": [2, 3, 1], "full": [1, 2, 3, 4]}
    rows = [(u, i, t) for u, items in histories.items() for t, i in enumerate(items)]
    return Dataset.from_pandas(pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]))


@pytest.fixture(scope="module")
def tiny_model(tiny: Dataset) -> SASRec:
    return SASRec(tiny, d_model=8, n_layers=1, n_heads=1, max_len=5).eval()


class EditedScores:
    """The built-in model as a source whose scores pass through ``edit`` (e.g. to add NaN)."""

    def __init__(self, model: SASRec, edit) -> None:
        self.inner = SASRecSource(model)
        self.catalog, self.max_len = model.catalog, model.config.max_len
        self.field_names = list(model.field_names)
        self.edit = edit

    def run(self, histories):
        out = self.inner.run(histories)
        return SourceOutput(self.edit(out.scores.copy()), out.attentions, out.feature_attention)


def diverged(shop: Dataset) -> SASRec:
    broken = SASRec(shop, **SMALL)
    with torch.no_grad():
        for parameter in broken.parameters():
            parameter.fill_(float("nan"))
    return broken.eval()


# --------------------------------------------------------------- nothing to recommend
def test_a_user_who_bought_the_whole_catalogue(tiny_model, tiny):
    with fails(NothingToRecommendError, "user 'full'", "all 4 items"):
        explain(tiny_model, tiny, "full")


def test_a_history_covering_the_whole_catalogue(model, ids):
    with fails(NothingToRecommendError, "the history", "all 120 items"):
        explain_history(model, None, ids)


def test_a_diverged_model_explains_nothing(shop):
    with fails(NothingToRecommendError, f"user {shop.users[0]!r}", "NaN", "diverged"):
        explain(diverged(shop), shop, shop.users[0])


def test_a_report_on_a_diverged_model(shop):
    with fails(NothingToRecommendError, "none of the 3 user(s)", "NaN"):
        faithfulness_report(diverged(shop), shop, n_users=3, progress=False)


def test_unseen_items_all_nan_or_minus_inf(model, shop):
    def edit(scores):
        scores[:, 1:61] = np.nan
        scores[:, 61:] = -np.inf
        return scores

    with fails(NothingToRecommendError, "item(s) not in it all score NaN or ±inf"):
        explain(EditedScores(model, edit), shop, shop.users[0])


def test_nan_scored_items_are_never_recommended_and_a_warning_says_so(model, shop):
    def edit(scores):
        scores[:, 100:] = np.nan
        return scores

    expl = explain(EditedScores(model, edit), shop, shop.users[0], k=200)
    assert expl.recommendations.max() < 100 and np.isfinite(expl.scores[expl.recommendations]).all()
    assert any("21 item scores are NaN" in w for w in expl.warnings)


def test_k_beyond_what_is_left_gives_the_rest(tiny_model, tiny):
    expl = explain(tiny_model, tiny, "two", k=50)
    assert sorted(expl.recommendations.tolist()) == [3, 4]


def test_a_report_leaves_out_users_with_nothing_left_and_names_them(tiny_model, tiny):
    with pytest.warns(NothingToRecommendWarning, match="'full'"):
        table = faithfulness_report(tiny_model, tiny, progress=False)
    assert (table["users"] == 2).all()  # 'two' and 'three'; 'one' has a single item


# ------------------------------------------------------------------- the explained item
def test_an_item_already_in_the_history(model, shop):
    user = shop.users[0]
    bought = shop.history(user)["item_id"].iloc[0]
    with fails(DataError, repr(bought), f"history of user {user!r}"):
        explain(model, shop, user, item=bought)


def test_an_item_in_an_arbitrary_history(model, ids):
    with fails(DataError, repr(ids[1]), "already in the history"):
        explain_history(model, None, ids[:3], item=ids[1])


@pytest.mark.parametrize("item", ["zzz", 10**6, float("nan")])
def test_an_unknown_item(model, shop, item):
    with fails(UnknownItemError, "unknown item"):
        explain(model, shop, shop.users[0], item=item)


def test_an_item_for_a_user_who_bought_everything(tiny_model, tiny):
    with fails(DataError, "3", "user 'full'"):
        explain(tiny_model, tiny, "full", item=3)


@pytest.mark.parametrize(
    ("target", "error", "fragment"),
    [
        (0, UnknownItemError, "0"),
        (121, UnknownItemError, "121"),
        ("i0001", TypeError, "'i0001'"),
        (True, TypeError, "True"),
    ],
)
def test_a_bad_dense_target(model, target, error, fragment):
    with fails(error, "target", fragment):
        explain_indices(SASRecSource(model), np.array([1, 2]), target=target)


# ---------------------------------------------------------------------------- users
def test_an_unknown_user(model, shop):
    with fails(UnknownUserError, "'nobody'"):
        explain(model, shop, "nobody")


@pytest.mark.parametrize(
    ("users", "error", "fragments"),
    [
        (["nobody"], UnknownUserError, ("'nobody'",)),
        ([None], UnknownUserError, ("None",)),
        ("u00001", DataError, ("users", "'u00001'")),
        (42, DataError, ("users", "int")),
        ([], DataError, ("empty",)),
    ],
)
def test_bad_users_for_a_report(model, shop, users, error, fragments):
    with fails(error, *fragments):
        faithfulness_report(model, shop, users=users, progress=False)


@pytest.mark.parametrize(
    ("n_users", "error"), [(0, ValueError), (-1, ValueError), ("3", TypeError), (True, TypeError)]
)
def test_bad_n_users(model, shop, n_users, error):
    with fails(error, "n_users", repr(n_users) if error is TypeError else str(n_users)):
        faithfulness_report(model, shop, n_users=n_users, progress=False)
    with fails(error, "n_users"):
        planted_cause_hits(model, shop, n_users=n_users, progress=False)


def test_a_one_item_user_is_explained_without_occlusion(tiny_model, tiny):
    expl = explain(tiny_model, tiny, "one")
    table = expl.importance
    assert len(table) == 1 and table["attention"].iloc[0] == pytest.approx(1.0)
    assert table["occlusion"].isna().all()
    assert expl.target not in expl.history


def test_a_report_over_one_item_users_only(tiny_model, tiny):
    with fails(DataError, "2 or more items", "1 chosen"):
        faithfulness_report(tiny_model, tiny, users=["one"], progress=False)


def test_planted_causes_need_the_synthetic_metadata(tiny_model, tiny):
    with fails(DataError, "complements"):
        planted_cause_hits(tiny_model, tiny, progress=False)


# -------------------------------------------------------------------- histories and k
@pytest.mark.parametrize(
    ("history", "error", "fragments"),
    [
        ([], EmptyHistoryError, ("empty",)),
        (["not-an-item"], UnknownItemError, ("'not-an-item'",)),
        ([float("nan")], UnknownItemError, ("nan",)),
        ("i0001", DataError, ("'i0001'", "wrap")),
        ([["i0001"]], DataError, ("flat",)),
        (np.array([["i0001", "i0002"]]), DataError, ("shape (1, 2)",)),
        ({"i0001": 1}, DataError, ("ordered", "dict")),
        (None, DataError, ("None",)),
    ],
)
def test_bad_histories_of_ids(model, history, error, fragments):
    with fails(error, *fragments):
        explain_history(model, None, history)


@pytest.mark.parametrize(
    ("history", "fragments"),
    [
        ([0, 3], ("item index 0", "padding")),
        ([-2, 3], ("-2",)),
        ([3, 500], ("500", "1..120")),
        (np.array([1.0, np.nan]), ("nan",)),
        (np.array([[1, 2]]), ("shape (1, 2)",)),
        (["3"], ("'3'",)),
    ],
)
def test_bad_dense_histories(model, history, fragments):
    with fails(DataError, *fragments):
        explain_indices(SASRecSource(model), history, user="u1")


def test_a_bad_bought_before(model):
    with fails(DataError, "bought_before", "999"):
        explain_indices(SASRecSource(model), np.array([1, 2]), bought_before=np.array([999]))


@pytest.mark.parametrize(
    ("k", "error"), [("3", TypeError), (2.5, TypeError), (True, TypeError), (0, ValueError)]
)
def test_bad_k(model, shop, k, error):
    with fails(error, "k", repr(k) if error is TypeError else str(k)):
        explain(model, shop, shop.users[0], k=k)


def test_exclude_seen_must_be_a_bool(model):
    with fails(TypeError, "exclude_seen", "'yes'"):
        explain_indices(SASRecSource(model), np.array([1, 2]), exclude_seen="yes")


# ----------------------------------------------------- model and dataset that do not fit
def test_a_dataset_with_items_the_model_lacks(model):
    other = synthetic_shop(n_users=30, n_items=125, seed=2)
    with fails(UnknownItemError, "not in the model's catalogue", "'i0121'"):
        explain(model, other, other.users[0])
    with fails(UnknownItemError, "not in the model's catalogue"):
        faithfulness_report(model, other, n_users=2, progress=False)


def test_a_dataset_that_is_not_a_dataset(model, shop):
    with fails(TypeError, "dataset", "DataFrame"):
        explain(model, pd.DataFrame(), shop.users[0])
    with fails(TypeError, "dataset", "list"):
        faithfulness_report(model, [], progress=False)
    with fails(TypeError, "dataset", "str"):
        explain_history(model, "shop.csv", ["i0001"])


def test_a_source_with_scores_of_the_wrong_size(model, shop):
    source = EditedScores(model, lambda scores: scores[:, :50])
    with fails(DataError, "EditedScores", "(50,)", "(121,)"):
        explain(source, shop, shop.users[0])
