import numpy as np
import pytest

from attnwidget.errors import EmptyHistoryError, UnknownItemError
from attnwidget.explain import attention_rollout, distribution_stats, explain, explain_history


def test_rollout_of_identity_attention_is_identity():
    eye = np.broadcast_to(np.eye(5), (3, 4, 5, 5))
    np.testing.assert_allclose(attention_rollout(eye), np.broadcast_to(np.eye(5), (3, 5, 5)))


def test_rollout_multiplies_residual_adjusted_layers():
    rng = np.random.default_rng(0)
    raw = rng.random((2, 3, 4, 4)) * np.tril(np.ones((4, 4)))
    attn = raw / raw.sum(-1, keepdims=True)
    out = attention_rollout(attn)
    adjusted = [0.5 * np.eye(4) + 0.5 * attn[layer].mean(0) for layer in range(2)]
    np.testing.assert_allclose(out[0], adjusted[0])
    np.testing.assert_allclose(out[1], adjusted[1] @ adjusted[0])
    np.testing.assert_allclose(out.sum(-1), 1.0)
    with pytest.raises(ValueError, match="layers, heads, n, n"):
        attention_rollout(np.ones((4, 4)))


def test_distribution_stats_on_uniform_peaked_and_nan_weights():
    uniform = distribution_stats(np.full(4, 0.25))
    assert uniform["entropy"] == pytest.approx(np.log(4))
    assert uniform["normalized_entropy"] == pytest.approx(1.0)
    assert uniform["mse"] == 0 and uniform["std"] == 0
    peaked = distribution_stats(np.array([1.0, 0.0, 0.0, 0.0]))
    assert peaked["entropy"] == 0
    assert peaked["mse"] == pytest.approx(np.mean((np.array([1, 0, 0, 0]) - 0.25) ** 2))
    with_nan = distribution_stats(np.array([0.5, np.nan, 0.5]))
    assert with_nan["entropy"] == pytest.approx(np.log(2))


def test_explanation_of_a_user(trained, shop):
    user = shop.users[5]
    expl = explain(trained, shop, user, k=7)
    seq = shop.sequence(user)[-trained.config.max_len :]
    n = len(seq)
    assert np.array_equal(expl.history, seq)
    assert expl.attentions.shape == (2, 2, n, n) and expl.feature_attention.shape == (n, 4)
    assert expl.rollout.shape == (2, n, n)
    recs = expl.recommendation_table()
    assert len(recs) == 7 and not set(recs["item_id"]) & set(expl.history_table()["item_id"])
    history = shop.history(user)["item_id"].tolist()
    assert recs["item_id"].tolist() == trained.recommend(history, k=7)["item_id"].tolist()


def test_explanation_of_an_arbitrary_history_and_bad_ones(trained, shop):
    ids = shop.items["item_id"].tolist()
    expl = explain_history(trained, shop, ids[:70], k=3)
    assert expl.truncated and expl.total_length == 70 and len(expl.history) == 20
    with pytest.raises(EmptyHistoryError):
        explain_history(trained, shop, [])
    with pytest.raises(UnknownItemError):
        explain_history(trained, shop, ["not-an-item"])
