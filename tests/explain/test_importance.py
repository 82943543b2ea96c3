import numpy as np
import pytest

from attnwidget import Catalog, explain, explain_history
from attnwidget.explain import (
    eraser_scores,
    faithfulness_report,
    kendall_tau,
    planted_cause_hits,
    top1_agreement,
)
from attnwidget.sources import SASRecSource, SourceOutput


class AdditiveSource:
    """A hand-made model: the score of every item is the sum of fixed weights of the
    history items, and attention is those weights normalised. Its true importance of an
    item is its weight."""

    max_len = 10
    field_names = ("item",)

    def __init__(self, weights):
        self.weights = np.asarray(weights, dtype=float)  # index 0 = padding
        n = len(weights) - 1
        self.catalog = Catalog(
            [f"i{i}" for i in range(1, n + 1)],
            [f"item {i}" for i in range(1, n + 1)],
            [],
            np.zeros((n + 1, 0)),
        )

    def run(self, histories):
        n = max(len(h) for h in histories)
        scores, attn = [], []
        for h in histories:
            total = self.weights[h].sum()
            scores.append(np.full(len(self.weights), total))
            row = np.zeros(n)
            row[n - len(h) :] = self.weights[h] / max(total, 1e-9)
            attn.append(np.broadcast_to(row, (1, 1, n, n)))
        return SourceOutput(np.array(scores), np.array(attn), None)


def test_occlusion_equals_a_manual_leave_one_out_loop(trained, shop):
    user = shop.users[11]
    expl = explain(trained, shop, user)
    history = expl.history
    full = trained.score([history])[0, expl.target]
    manual = [
        full - trained.score([np.delete(history, i)])[0, expl.target] for i in range(len(history))
    ]
    np.testing.assert_allclose(expl.importance["occlusion"], manual, atol=1e-5)


def test_what_if_removing_the_occlusion_top_item_moves_the_score_by_its_occlusion(trained, shop):
    expl = explain(trained, shop, shop.users[2])
    top = int(np.argmax(expl.importance["occlusion"]))
    target_id = trained.catalog.item_id(expl.target)
    ids = expl.history_table()["item_id"].tolist()
    edited = explain_history(trained, shop, ids[:top] + ids[top + 1 :], item=target_id)
    assert edited.target == expl.target
    drop = expl.scores[expl.target] - edited.scores[expl.target]
    assert drop == pytest.approx(expl.importance["occlusion"].iloc[top], abs=1e-5)


def test_explanations_are_deterministic(trained, shop):
    a = explain(trained, shop, shop.users[4])
    b = explain(trained, shop, shop.users[4])
    np.testing.assert_array_equal(a.importance.to_numpy(), b.importance.to_numpy())
    np.testing.assert_array_equal(a.metrics.to_numpy(), b.metrics.to_numpy())


def test_importance_table_has_every_method_by_history_position(trained, shop):
    expl = explain(trained, shop, shop.users[7], item=shop.items["item_id"].iloc[0])
    table = expl.importance
    assert list(table.columns) == [
        "item_id",
        "title",
        "attention",
        "rollout",
        "gradient",
        "occlusion",
    ]
    assert table.index.name == "position" and len(table) == len(expl.history)
    assert np.isfinite(table[["attention", "rollout", "gradient", "occlusion"]]).all().all()
    assert (table["gradient"] >= -1e-12).all()  # positive parts only
    assert table["attention"].sum() == pytest.approx(1.0, abs=1e-5)
    assert expl.attention_heads.shape[1] == 2 + 2 * 2


def test_feature_occlusion_replaces_one_field_by_unknown(trained, shop):
    expl = explain(trained, shop, shop.users[1])
    drops = SASRecSource(trained).feature_occlusion(expl.history, expl.target)
    assert drops.shape == (len(expl.history), 3)
    import torch

    batch = trained.pad([expl.history])
    n = len(expl.history)
    # cells in the first chunk of variants and in later ones (FEATURE_OCCLUSION_CHUNK each)
    for position, field in [(2, 1), (n // 2, 0), (n - 1, 2)]:
        features = trained.item_features[batch].clone()
        features[0, position, field] = 1  # that field of that position → unknown
        with torch.no_grad():
            changed = trained(batch, features).scores[0, expl.target].item()
        expected = expl.scores[expl.target] - changed
        assert drops[position, field] == pytest.approx(expected, abs=1e-5)
    cols = expl.feature_importance.columns
    assert "attention:brand" in cols and "occlusion:brand" in cols


def test_eraser_on_a_model_with_a_known_answer():
    source = AdditiveSource([0, 5.0, 1.0, 3.0, 0.5, 2.0])
    history = np.array([1, 2, 3, 4, 5])
    truth = source.weights[history]  # 5, 1, 3, .5, 2
    perfect = eraser_scores(source, history, 1, truth)
    assert perfect["comprehensiveness@1"] == pytest.approx(5.0)
    assert perfect["sufficiency@1"] == pytest.approx(11.5 - 5.0)
    assert perfect["comprehensiveness@3"] == pytest.approx(10.0)
    assert perfect["sufficiency@3"] == pytest.approx(1.5)
    assert np.isnan(perfect["comprehensiveness@5"]) and perfect["sufficiency@5"] == 0
    worst = eraser_scores(source, history, 1, -truth)
    assert worst["comprehensiveness@1"] == pytest.approx(0.5)
    assert worst["sufficiency@1"] == pytest.approx(11.0)


def test_an_additive_model_is_explained_exactly_by_occlusion_and_attention():
    source = AdditiveSource([0, 5.0, 1.0, 3.0, 0.5, 2.0])
    from attnwidget.explain import explain_indices

    expl = explain_indices(source, np.array([1, 2, 3, 4, 5]), target=2, exclude_seen=False)
    np.testing.assert_allclose(expl.importance["occlusion"], [5.0, 1.0, 3.0, 0.5, 2.0])
    assert expl.importance["gradient"].isna().all()  # no gradients for a non-torch source
    metrics = expl.metrics
    assert "gradient" not in metrics.index
    assert metrics.loc["attention", "kendall_tau"] == pytest.approx(1.0)
    assert metrics.loc["attention", "top1_agreement"] == 1.0


def test_kendall_tau_and_top1_agreement_by_hand():
    assert kendall_tau(np.array([1, 2, 3]), np.array([10, 20, 30])) == pytest.approx(1.0)
    assert kendall_tau(np.array([1, 2, 3]), np.array([3, 2, 1])) == pytest.approx(-1.0)
    # pairs: (1,2) concordant, (1,3) concordant, (2,3) tie in b → tau-b = 2 / sqrt(3 * 2)
    assert kendall_tau(np.array([1, 2, 3]), np.array([1, 2, 2])) == pytest.approx(2 / np.sqrt(6))
    assert np.isnan(kendall_tau(np.array([1.0]), np.array([1.0])))
    assert top1_agreement(np.array([0.1, 0.9]), np.array([0, 3])) == 1.0
    assert top1_agreement(np.array([0.9, 0.1]), np.array([0, 3])) == 0.0


def test_reports_over_users(trained, shop):
    report = faithfulness_report(trained, shop, n_users=8, progress=False)
    assert list(report.index) == ["attention", "rollout", "gradient", "occlusion"]
    assert (report["users"] == 8).all()
    assert report.loc["occlusion", "kendall_tau"] == pytest.approx(1.0)
    hits = planted_cause_hits(trained, shop, n_users=150, progress=False)
    assert set(hits.index) == {"attention", "rollout", "gradient", "occlusion", "most recent item"}
    assert (hits["cases"] > 0).all() and hits["hit_rate"].between(0, 1).all()
