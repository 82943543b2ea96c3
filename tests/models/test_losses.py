import math

import numpy as np
import pytest

from attnwidget import evaluate
from attnwidget.models import SASRec, fit
from attnwidget.models.training import AUTO_CE_MAX_ITEMS, gbce_beta, resolve_loss


def _mean_valid_rank(model, shop):
    cases = shop.split("valid")
    scores = model.score([ex.history for ex in cases])
    targets = np.array([ex.target for ex in cases])
    return (scores > scores[np.arange(len(targets)), targets][:, None]).sum(1).mean()


@pytest.mark.parametrize("loss", ["sampled", "gbce"])
def test_sampled_losses_train_the_model(shop, loss):
    model = SASRec(shop, d_model=32, n_layers=1, n_heads=2, max_len=20, seed=0)
    before = _mean_valid_rank(model, shop)
    history = fit(
        model, shop, epochs=3, batch_size=64, lr=3e-3, loss=loss, n_negatives=50, progress=False
    )
    assert history.attrs["loss"] == loss
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    # gBCE down-weights the positive (beta < 1) and learns more slowly in 3 epochs
    assert _mean_valid_rank(model, shop) < (0.7 if loss == "sampled" else 0.98) * before


def test_auto_loss_is_full_ce_for_small_catalogues_and_sampled_softmax_for_large():
    assert resolve_loss("auto", 600) == "ce"
    assert resolve_loss("auto", AUTO_CE_MAX_ITEMS) == "ce"
    assert resolve_loss("auto", AUTO_CE_MAX_ITEMS + 1) == "sampled"
    assert resolve_loss("gbce", 10**6) == "gbce"


def test_auto_loss_trains_the_small_shop_with_full_ce(shop):
    model = SASRec(shop, d_model=16, n_layers=1, n_heads=1, max_len=10)
    assert fit(model, shop, epochs=1, progress=False).attrs["loss"] == "ce"


def test_gbce_beta_follows_the_paper():
    # t = 0: plain BCE (beta 1); t = 1: beta is the sampling rate; all items sampled: 1.
    assert gbce_beta(256, 10_001, 0.0) == pytest.approx(1.0)
    assert gbce_beta(256, 10_001, 1.0) == pytest.approx(256 / 10_000)
    assert gbce_beta(256, 10_001, 0.75) == pytest.approx(1 - 0.75 * (1 - 256 / 10_000))
    assert gbce_beta(5000, 101, 0.75) == pytest.approx(1.0)


def test_validation_figures_are_evaluates_figures(shop):
    model = SASRec(shop, d_model=16, n_layers=1, n_heads=1, max_len=10, seed=1)
    history = fit(model, shop, epochs=2, batch_size=64, patience=5, progress=False)
    kept = history.loc[history.attrs["best_epoch"]]
    table = evaluate(model, shop, "valid", k=10, baseline=False)
    assert kept["valid_NDCG@10"] == pytest.approx(table.loc["model", "NDCG@10"], abs=1e-9)
    assert kept["valid_HR@10"] == pytest.approx(table.loc["model", "HR@10"], abs=1e-9)


def test_validation_on_a_sample_of_users(shop):
    model = SASRec(shop, d_model=16, n_layers=1, n_heads=1, max_len=10, seed=1)
    history = fit(model, shop, epochs=1, valid_users=40, progress=False)
    hr = history["valid_HR@10"].iloc[0]
    assert math.isclose(hr * 40, round(hr * 40))  # a share of 40 cases


def test_bad_loss_options_are_named(shop):
    model = SASRec(shop, d_model=16, n_layers=1, n_heads=1, max_len=10)
    with pytest.raises(ValueError, match="n_negatives"):
        fit(model, shop, loss="sampled", n_negatives=0, progress=False)
    with pytest.raises(ValueError, match="gbce_t must be between 0 and 1"):
        fit(model, shop, loss="gbce", gbce_t=1.5, progress=False)
    with pytest.raises(TypeError, match="valid_users"):
        fit(model, shop, valid_users="all", progress=False)
