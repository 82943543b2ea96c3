"""PrecomputedSource: attention and recommendations computed elsewhere, shown without a model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attnwidget import (
    AttentionExplorer,
    DataError,
    Dataset,
    UnknownItemError,
    UnknownUserError,
    explain,
    explain_history,
)
from attnwidget.explain import faithfulness_report
from attnwidget.sources import PrecomputedSource, can_rerun
from attnwidget.widget.payload import decode_pack

from .tiny import catalog

N_ITEMS, D = 8, 3
HISTORIES = {"ann": [3, 1, 4, 1, 5], "bob": [2, 6, 5], "cy": [7, 8, 2, 6, 1, 4]}
MAX_LEN = 5


def users() -> Dataset:
    return Dataset(catalog(N_ITEMS), list(HISTORIES), [np.array(h) for h in HISTORIES.values()])


def by_hand(history: list[int]) -> np.ndarray:
    """``[2 layers, 2 heads, n, n]`` causal attention of a tiny model with fixed weights, the
    way a model outside torch would compute it."""
    embeddings = np.sin(np.arange((N_ITEMS + 1) * D).reshape(N_ITEMS + 1, D))
    x = embeddings[history]
    n = len(x)
    out = np.zeros((2, 2, n, n), dtype=np.float32)
    for layer in range(2):
        for head in range(2):
            wq = np.cos(np.arange(D * D).reshape(D, D) + layer + 2 * head)
            logits = (x @ wq) @ x.T / np.sqrt(D)
            logits[np.triu_indices(n, 1)] = -np.inf
            weights = np.exp(logits - logits.max(-1, keepdims=True))
            out[layer, head] = weights / weights.sum(-1, keepdims=True)
        x = np.tanh(out[layer].mean(0) @ x)
    return out


def arrays() -> dict[str, np.ndarray]:
    return {u: by_hand(h[-MAX_LEN:]) for u, h in HISTORIES.items()}


RECS = {"ann": ["i8", "i2", "i7"], "bob": ["i1", "i3"], "cy": ["i5", "i3"]}
SCORES = {"ann": [2.5, 1.0, -0.5], "bob": [0.3, 0.2], "cy": [9.0, 8.0]}


def long_table(data: dict[str, np.ndarray], drop_zeros: bool = False) -> pd.DataFrame:
    rows = [
        (u, layer, head, q, k, float(a[layer, head, q, k]))
        for u, a in data.items()
        for layer, head, q, k in np.ndindex(a.shape)
        if not drop_zeros or a[layer, head, q, k] != 0
    ]
    return pd.DataFrame(rows, columns=["user", "layer", "head", "query", "key", "weight"])


# ---------------------------------------------------------------------------- the happy path
def test_explanations_show_exactly_the_arrays_computed_by_hand():
    data = users()
    source = PrecomputedSource(data, arrays(), RECS, scores=SCORES)
    assert not can_rerun(source) and source.max_len == MAX_LEN
    assert source.users == ["ann", "bob", "cy"]
    for user, history in HISTORIES.items():
        expl = explain(source, data, user, k=3)
        np.testing.assert_array_equal(expl.attentions, by_hand(history[-MAX_LEN:]))
        assert list(expl.recommendation_table()["item_id"]) == RECS[user]
        assert list(expl.recommendation_table()["score"]) == SCORES[user]
    assert explain(source, data, "cy").truncated


def test_methods_that_rerun_the_model_are_nan_and_the_others_are_computed():
    data = users()
    expl = explain(PrecomputedSource(data, arrays(), RECS), data, "ann")
    table = expl.importance
    assert table["occlusion"].isna().all() and table["gradient"].isna().all()
    assert np.isfinite(table["attention"]).all() and np.isfinite(table["rollout"]).all()
    metrics = expl.metrics
    assert list(metrics.index) == ["attention", "rollout"]
    assert metrics.filter(like="comprehensiveness").isna().all().all()
    assert metrics["entropy"].notna().all()


def test_a_long_table_gives_the_same_explanations_as_the_arrays():
    data = users()
    from_arrays = PrecomputedSource(data, arrays(), RECS)
    for table in (long_table(arrays()), long_table(arrays(), drop_zeros=True)):
        from_table = PrecomputedSource(data, table, RECS)
        assert from_table.max_len == MAX_LEN
        for user in HISTORIES:
            np.testing.assert_allclose(
                explain(from_table, data, user).attentions,
                explain(from_arrays, data, user).attentions,
                atol=1e-7,
            )


def test_recommendations_from_a_table_with_scores_and_string_user_ids():
    histories = {7: [1, 2, 3], 9: [4, 5]}
    data = Dataset(catalog(N_ITEMS), list(histories), [np.array(h) for h in histories.values()])
    recs = pd.DataFrame(
        {"user": ["7", "7", "9"], "item": ["i4", "i5", "i1"], "score": [0.9, 0.4, 0.1]}
    )
    source = PrecomputedSource(data, {"7": np.eye(3), 9: np.eye(2)}, recs)
    expl = explain(source, data, 7)
    assert list(expl.recommendation_table()["item_id"]) == ["i4", "i5"]
    assert expl.attentions.shape == (1, 1, 3, 3)
    without_scores = PrecomputedSource(data, {7: np.eye(3), 9: np.eye(2)}, {7: ["i6"], 9: ["i1"]})
    assert explain(without_scores, data, 7).recommendation_table()["score"].tolist() == [1.0]


def test_feature_attention_travels_with_the_arrays():
    data = users()
    features = {u: np.full((min(len(h), MAX_LEN), 2), 0.5) for u, h in HISTORIES.items()}
    source = PrecomputedSource(
        data, arrays(), RECS, feature_attention=features, field_names=["item", "genre"]
    )
    expl = explain(source, data, "bob")
    assert expl.field_names == ["item", "genre"] and expl.feature_attention.shape == (3, 2)


def test_the_explorer_shows_precomputed_users_and_a_report_runs():
    data = users()
    source = PrecomputedSource(data, arrays(), RECS, scores=SCORES)
    explorer = AttentionExplorer(source, data, users=source.users, k=3, agreement_users=3)
    header, arrays_ = decode_pack(explorer.payload)
    assert header["user"] == "ann" and [r["id"] for r in header["recommendations"]] == RECS["ann"]
    np.testing.assert_allclose(arrays_["seq_attn"], by_hand(HISTORIES["ann"]), atol=1e-3)
    explorer.user = "cy"
    assert decode_pack(explorer.payload)[0]["user"] == "cy"
    report = faithfulness_report(source, data, progress=False)
    assert list(report.index) == ["attention", "rollout"] and report["kendall_tau"].isna().all()


# ---------------------------------------------------------------------------- clear errors
def test_a_history_it_does_not_hold_is_a_clear_error():
    data = users()
    source = PrecomputedSource(data, arrays(), RECS)
    with pytest.raises(DataError, match=r"no precomputed attention .* cannot run a model"):
        explain_history(source, data, ["i1", "i2"])


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"attentions": {"ann": np.ones((2, 2, 4, 4))}, "max_len": 5}, DataError,
         r"covers 4 positions.*last 5"),
        ({"attentions": {"ann": np.ones((2, 3, 4))}}, DataError, r"last two axes"),
        ({"attentions": {"ann": np.ones(5)}}, DataError, r"expected \[layers, heads, n, n\]"),
        ({"attentions": {"zed": np.ones((5, 5))}}, UnknownUserError, r"unknown user 'zed'"),
        ({"recommendations": {"ann": ["i99"]}}, UnknownItemError, r"'ann'.*unknown item 'i99'"),
        ({"recommendations": {"bob": ["i1"]}}, DataError, r"no recommendations for user 'ann'"),
        ({"scores": {"ann": [1.0]}}, DataError, r"'ann' has 1 scores for 3 recommendations"),
        ({"scores": {"ann": [1.0, np.nan, 2]}}, DataError, r"NaN or infinite"),
        ({"attentions": {}}, DataError, r"attentions is empty"),
        ({"attentions": [np.ones((5, 5))]}, TypeError, r"mapping user → array"),
    ],
)  # fmt: skip
def test_bad_inputs_are_clear_errors(change, error, message):
    data = users()
    kwargs = {"attentions": {"ann": arrays()["ann"]}, "recommendations": {"ann": RECS["ann"]}}
    kwargs.update(change)
    with pytest.raises(error, match=message):
        PrecomputedSource(data, **kwargs)


def test_nan_weights_are_a_clear_error_in_arrays_and_tables():
    data = users()
    bad = arrays()["ann"].copy()
    bad[0, 1, 2, 0] = np.nan
    with pytest.raises(DataError, match=r"user 'ann' has 1 NaN or infinite weights"):
        PrecomputedSource(data, {"ann": bad}, {"ann": RECS["ann"]})
    table = long_table({"ann": arrays()["ann"]})
    table.loc[3, "weight"] = np.nan
    with pytest.raises(DataError, match=r"'weight' has 1 NaN.*row 3"):
        PrecomputedSource(data, table, {"ann": RECS["ann"]})


def test_bad_tables_are_clear_errors():
    data = users()
    table = long_table({"ann": arrays()["ann"]})
    recs = {"ann": RECS["ann"]}
    with pytest.raises(DataError, match=r"missing column\(s\) \['key'\]"):
        PrecomputedSource(data, table.drop(columns="key"), recs)
    with pytest.raises(DataError, match=r"same cell twice"):
        PrecomputedSource(data, pd.concat([table, table.iloc[[5]]]), recs)
    with pytest.raises(DataError, match=r"'head' must hold integers ≥ 0, got -1 \(row 0\)"):
        PrecomputedSource(data, table.assign(head=table["head"] - 1), recs)
    with pytest.raises(DataError, match=r"position 5 for user 'ann'.*covers 5 history items"):
        PrecomputedSource(data, table.assign(query=table["query"] + 1), recs, max_len=5)
    with pytest.raises(DataError, match=r"missing column\(s\) \['item'\]"):
        PrecomputedSource(data, table, pd.DataFrame({"user": ["ann"], "items": ["i1"]}))
