"""Hostile input for the model, its training loop and evaluation."""

from __future__ import annotations

import warnings

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
    evaluate,
    fit,
    synthetic_shop,
)
from attnwidget.data import Catalog
from attnwidget.errors import NonFiniteScoresWarning
from attnwidget.evaluate import evaluate_scorer
from attnwidget.models import training
from attnwidget.models.training import (
    NoValidationWarning,
    TrainingDivergedError,
    TrainingDivergedWarning,
)
from tests.hostile.conftest import SMALL
from tests.hostile.expect import fails


def frame(histories: dict) -> Dataset:
    """A dataset from ``{user: [item, ...]}`` (timestamps in listed order)."""
    rows = [(u, i, t) for u, items in histories.items() for t, i in enumerate(items)]
    return Dataset.from_pandas(pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]))


def diverged(shop: Dataset) -> SASRec:
    broken = SASRec(shop, **SMALL)
    with torch.no_grad():
        for parameter in broken.parameters():
            parameter.fill_(float("nan"))
    return broken.eval()


# ------------------------------------------------------------------ SASRec(...) arguments
@pytest.mark.parametrize(
    ("options", "error", "fragments"),
    [
        ({"d_model": "64"}, TypeError, ("d_model", "'64'")),
        ({"d_model": 16.5}, TypeError, ("d_model", "16.5")),
        ({"n_layers": True}, TypeError, ("n_layers", "True")),
        ({"n_heads": "2"}, TypeError, ("n_heads", "'2'")),
        ({"d_model": 64, "n_heads": 3}, ValueError, ("d_model (64)", "n_heads (3)")),
        ({"max_len": 0}, ValueError, ("max_len", "0")),
        ({"n_layers": -2}, ValueError, ("n_layers", "-2")),
        ({"dropout": "0.1"}, TypeError, ("dropout", "'0.1'")),
        ({"dropout": 1.0}, ValueError, ("dropout", "1.0")),
        ({"dropout": float("nan")}, ValueError, ("dropout", "nan")),
        ({"dropout": None}, TypeError, ("dropout", "None")),
        ({"seed": "1"}, TypeError, ("seed", "'1'")),
        ({"max_len": 10**9}, ValueError, ("max_len=1000000000", "weights")),
    ],
)
def test_bad_model_arguments_name_the_parameter(shop, options, error, fragments):
    with fails(error, *fragments):
        SASRec(shop, **{**SMALL, **options})


def test_model_data_must_be_a_dataset_or_catalog():
    with fails(TypeError, "Dataset or Catalog", "str"):
        SASRec("shop.csv")


def test_a_catalogue_without_items_is_refused():
    with fails(DataError, "no items"):
        SASRec(Catalog([], [], [], np.zeros((1, 0))))


def test_numpy_integers_are_accepted_as_sizes(shop):
    built = SASRec(shop, d_model=np.int64(16), n_layers=np.int32(1), n_heads=2, max_len=10)
    assert built.config.d_model == 16 and type(built.config.d_model) is int


# ------------------------------------------------------------------------ pad / score
@pytest.mark.parametrize(
    ("histories", "error", "fragments"),
    [
        ([[3, -1]], DataError, ("history 0", "-1", "position 1")),
        ([[0, 4]], DataError, ("item index 0", "padding")),
        ([[5], [2, 999]], DataError, ("history 1", "999", "1..120")),
        ([np.array([1.0, np.nan])], DataError, ("nan", "position 1")),
        ([np.array([1.5, 2])], DataError, ("1.5",)),
        ([np.array([[1, 2]])], DataError, ("history 0", "shape (1, 2)")),
        ([["a", "b"]], DataError, ("'a'",)),
        ([np.array([True, False])], DataError, ("True",)),
        ([[1, None]], DataError, ("None", "position 1")),
        ([[1, [2, 3]]], DataError, ("history 0", "flat")),
        ([[4], []], EmptyHistoryError, ("history 1", "empty")),
        ([], EmptyHistoryError, ("no histories",)),
        (7, DataError, ("histories", "int")),
        (np.array([1, 2, 3]), DataError, ("history 0", "1-D sequence")),
    ],
)
def test_bad_dense_histories_are_named(model, histories, error, fragments):
    with fails(error, *fragments):
        model.pad(histories)


def test_score_checks_histories_and_batch_size(model):
    with fails(DataError, "-3"):
        model.score([np.array([-3])])
    with fails(ValueError, "batch_size", "0"):
        model.score([np.array([3])], batch_size=0)
    with fails(TypeError, "batch_size", "'8'"):
        model.score([np.array([3])], batch_size="8")


def test_integral_floats_and_tensors_are_valid_histories(model):
    expected = model.score([np.array([3, 4])])
    np.testing.assert_array_equal(model.score([np.array([3.0, 4.0])]), expected)
    np.testing.assert_array_equal(model.score([torch.tensor([3, 4])]), expected)
    assert model.score([]).shape == (0, 121)


# ------------------------------------------------------------------------- recommend
@pytest.mark.parametrize(
    ("history", "error", "fragments"),
    [
        ([], EmptyHistoryError, ("empty",)),
        (["nope"], UnknownItemError, ("'nope'",)),
        ([0], UnknownItemError, ("unknown item 0",)),
        ([float("nan")], UnknownItemError, ("nan",)),
        ("i0063", DataError, ("'i0063'", "wrap")),
        (None, DataError, ("None",)),
        ({"i0063", "i0051"}, DataError, ("ordered", "set")),
        (np.array([["i0063", "i0051"]]), DataError, ("shape (1, 2)",)),
        ([["i0063", "i0051"]], DataError, ("flat", "i0063")),
    ],
)
def test_bad_histories_of_ids_are_named(model, history, error, fragments):
    with fails(error, *fragments):
        model.recommend(history)


@pytest.mark.parametrize(
    ("k", "error"),
    [
        ("3", TypeError),
        (2.5, TypeError),
        (True, TypeError),
        (None, TypeError),
        (0, ValueError),
        (-4, ValueError),
    ],
)
def test_bad_k_for_recommend(model, ids, k, error):
    with fails(error, "k", repr(k) if error is TypeError else str(k)):
        model.recommend(ids[:3], k=k)


def test_exclude_seen_must_be_a_bool(model, ids):
    with fails(TypeError, "exclude_seen", "'no'"):
        model.recommend(ids[:3], exclude_seen="no")


def test_a_history_covering_the_catalogue_has_nothing_to_recommend(model, ids):
    with fails(NothingToRecommendError, "all 120 items"):
        model.recommend(ids)
    assert len(model.recommend(ids, k=5, exclude_seen=False)) == 5  # nothing excluded


def test_k_beyond_what_is_left_returns_the_rest(model, ids):
    recs = model.recommend(ids[:115], k=50)
    assert sorted(recs["item_id"]) == sorted(ids[115:])


def test_a_diverged_model_has_nothing_to_recommend(shop, ids):
    with fails(NothingToRecommendError, "NaN", "diverged"):
        diverged(shop).recommend(ids[:3])


def test_nan_and_inf_scores_are_never_recommended_and_warned_about(model, ids, monkeypatch):
    def score(histories, batch_size=512):
        scores = np.linspace(0.0, 1.0, 121)[None, :].repeat(len(histories), 0)
        scores[:, 0] = -np.inf
        scores[:, 120] = np.nan  # would be the best
        scores[:, 119] = np.inf
        return scores

    monkeypatch.setattr(model, "score", score)
    with pytest.warns(NonFiniteScoresWarning, match="2 of 120 item scores"):
        recs = model.recommend(ids[:3], k=3)
    assert recs["item_id"].tolist() == [ids[117], ids[116], ids[115]]


def test_unseen_items_that_all_score_nan_or_minus_inf(model, ids, monkeypatch):
    def score(histories, batch_size=512):
        scores = np.full((len(histories), 121), -np.inf)
        scores[:, 1:4] = 1.0  # only the history's own items are finite
        scores[:, 60:] = np.nan
        return scores

    monkeypatch.setattr(model, "score", score)
    with fails(NothingToRecommendError, "117 item(s) not in it", "NaN or ±inf"):
        model.recommend(ids[:3])


# ------------------------------------------------------------------------------- fit
@pytest.mark.parametrize(
    ("options", "error", "fragments"),
    [
        ({"epochs": "3"}, TypeError, ("epochs", "'3'")),
        ({"epochs": 0}, ValueError, ("epochs", "0")),
        ({"lr": "1e-3"}, TypeError, ("lr", "'1e-3'")),
        ({"lr": 0}, ValueError, ("lr", "> 0", "0")),
        ({"lr": -0.1}, ValueError, ("lr", "-0.1")),
        ({"lr": float("inf")}, ValueError, ("lr", "inf")),
        ({"batch_size": 0}, ValueError, ("batch_size", "0")),
        ({"batch_size": 32.0}, TypeError, ("batch_size", "32.0")),
        ({"loss": "xx"}, ValueError, ("loss", "'xx'")),
        ({"weight_decay": -1}, ValueError, ("weight_decay", "-1")),
        ({"patience": True}, TypeError, ("patience", "True")),
        ({"seed": -1}, ValueError, ("seed", "-1")),
        ({"progress": "yes"}, TypeError, ("progress", "'yes'")),
    ],
)
def test_bad_fit_arguments_name_the_parameter(shop, options, error, fragments):
    fresh = SASRec(shop, **SMALL)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    with fails(error, *fragments):
        fit(fresh, shop, **{"epochs": 1, "progress": False, **options})
    assert all(torch.equal(before[k], v) for k, v in fresh.state_dict().items())


def test_fit_needs_a_model_and_a_dataset(shop, model):
    with fails(TypeError, "model", "dict"):
        fit({}, shop, epochs=1, progress=False)
    with fails(TypeError, "dataset", "DataFrame"):
        fit(model, pd.DataFrame(), epochs=1, progress=False)


@pytest.mark.parametrize(
    "histories",
    [
        {u: [u % 7 + 1, u % 5 + 8] for u in range(30)},  # every user has 2 items
        {u: [u % 7 + 1, u % 5 + 8][: 1 + u % 2] for u in range(30)},  # users of 1 or 2 items
    ],
    ids=["two-items-each", "one-or-two-items"],
)
def test_training_without_a_validation_split_keeps_the_lowest_loss_epoch(histories):
    data = frame(histories)
    fresh = SASRec(data, d_model=8, n_layers=1, n_heads=1, max_len=5)
    with pytest.warns(NoValidationWarning, match="no validation split"):
        table = fit(fresh, data, epochs=3, progress=False)
    assert len(table) == 3 and table["valid_NDCG@10"].isna().all()
    assert table.attrs["selected_by"] == "training loss"
    assert table.attrs["best_epoch"] == int(table["loss"].idxmin())
    assert all(torch.isfinite(p).all() for p in fresh.parameters())


def test_a_dataset_without_training_pairs_is_a_clear_error():
    data = frame({u: [u % 5 + 1] for u in range(10)})
    with fails(DataError, "2 or more training interactions", "10"):
        fit(SASRec(data, d_model=8, n_layers=1, n_heads=1, max_len=5), data, progress=False)


def test_a_diverging_first_epoch_restores_the_initial_weights(shop):
    fresh = SASRec(shop, **SMALL)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    with fails(TrainingDivergedError, "lr=1e+09", "initial weights"):
        fit(fresh, shop, epochs=3, lr=1e9, progress=False)
    assert all(torch.equal(before[k], v) for k, v in fresh.state_dict().items())


def test_divergence_after_a_good_epoch_keeps_that_epoch_and_warns(shop, monkeypatch):
    real = training._batch_loss
    calls = {"n": 0}
    per_epoch = -(-len(shop.train_sequences()) // 64)

    def flaky(*args):
        calls["n"] += 1
        value = real(*args)
        return value * float("nan") if calls["n"] > per_epoch else value

    monkeypatch.setattr(training, "_batch_loss", flaky)
    fresh = SASRec(shop, **SMALL)
    with pytest.warns(TrainingDivergedWarning, match="kept epoch 1"):
        table = fit(fresh, shop, epochs=4, batch_size=64, progress=False)
    assert np.isfinite(table.loc[1, "loss"]) and np.isnan(table.loc[2, "loss"])
    assert all(torch.isfinite(p).all() for p in fresh.parameters())


def test_fit_on_a_dataset_with_other_items_names_them(shop):
    other = synthetic_shop(n_users=30, n_items=125, seed=2)
    with fails(UnknownItemError, "not in the model's catalogue", "'i0121'"):
        fit(SASRec(shop, **SMALL), other, epochs=1, progress=False)


# -------------------------------------------------------------------------- evaluate
@pytest.mark.parametrize(
    ("k", "error", "fragments"),
    [
        ("10", TypeError, ("k", "'10'")),
        (0, ValueError, ("k", "0")),
        (True, TypeError, ("k", "True")),
        (2.5, TypeError, ("k", "2.5")),
        ([], ValueError, ("k", "empty")),
        ([5, "10"], TypeError, ("k", "'10'")),
    ],
)
def test_bad_cutoffs_for_evaluate(model, shop, k, error, fragments):
    with fails(error, *fragments):
        evaluate(model, shop, k=k)


@pytest.mark.parametrize(
    ("options", "error", "fragments"),
    [
        ({"protocol": "sampled", "n_negatives": 0}, ValueError, ("n_negatives", "0")),
        ({"protocol": "sampled", "n_negatives": "5"}, TypeError, ("n_negatives", "'5'")),
        ({"exclude_seen": 1}, TypeError, ("exclude_seen", "1")),
        ({"baseline": "no"}, TypeError, ("baseline", "'no'")),
        ({"seed": 1.5}, TypeError, ("seed", "1.5")),
        ({"split": "train"}, ValueError, ("split", "'train'")),
    ],
)
def test_bad_evaluate_options(model, shop, options, error, fragments):
    with fails(error, *fragments):
        evaluate(model, shop, **options)


def test_evaluating_a_diverged_model_is_a_clear_error(shop):
    with fails(NothingToRecommendError, "NaN or infinite", "'test'"):
        evaluate(diverged(shop), shop)


def test_nan_target_scores_count_as_misses_not_hits(shop):
    def scorer(histories):
        return np.full((len(histories), 121), np.nan)  # NaN everywhere but one item

    def one_finite(histories):
        scores = scorer(histories)
        scores[:, 1] = 0.0
        return scores

    with pytest.warns(NonFiniteScoresWarning, match="NaN or \\+inf"):
        metrics = evaluate_scorer(one_finite, shop, k=(10,))
    targets_one = np.mean([ex.target == 1 for ex in shop.split("test")])
    assert metrics["HR@10"] == pytest.approx(targets_one)  # never 1.0 from NaN comparisons
    with fails(NothingToRecommendError, "NaN or infinite"):
        evaluate_scorer(scorer, shop)


def test_a_scorer_of_the_wrong_catalogue_size_is_named(shop):
    with fails(DataError, "shape (60, 131)", "(60, 121)"):
        evaluate_scorer(lambda h: np.zeros((len(h), 131)), shop)


def test_evaluate_on_a_dataset_with_other_items_names_them(model):
    other = synthetic_shop(n_users=30, n_items=125, seed=2)
    with fails(UnknownItemError, "not in the model's catalogue"):
        evaluate(model, other)


def test_evaluate_needs_a_scorer_and_a_test_split(model):
    with fails(TypeError, "score(histories)", "str"):
        evaluate("model", frame({"a": [1, 2, 3]}))
    two = frame({"a": [1, 2], "b": [2, 3]})
    with fails(DataError, "'test' split is empty"):
        evaluate(SASRec(two, d_model=8, n_layers=1, n_heads=1, max_len=5), two)


def test_more_negatives_than_items_left_ranks_among_distinct_candidates(model, shop):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = evaluate(model, shop, protocol="sampled", n_negatives=500, k=(10,))
    full = evaluate(model, shop, k=(10,), baseline=False)
    # every unseen item is a candidate, so the model (no tied scores) ranks as in "full"
    pd.testing.assert_frame_equal(table.loc[["model"]], full)
