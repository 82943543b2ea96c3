"""Hostile input to the adapters (bring-your-own-model sources): what the explanation maths
needs is checked at the source boundary, and a model or adapter function that misbehaves
is a clear error naming the step, never a bare torch/numpy/pandas traceback.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from attnwidget import (
    DataError,
    Dataset,
    EmptyHistoryError,
    NothingToRecommendError,
    UnknownItemError,
    UnknownUserError,
    explain,
)
from attnwidget.sources import (
    AdapterError,
    AttentionNotFoundError,
    MultiheadAttentionSource,
    OutputAttentionsSource,
    PrecomputedSource,
)
from attnwidget.widget.explanation_pack import explanation_pack
from attnwidget.widget.payload import decode_pack
from tests.hostile.expect import fails
from tests.sources.tiny import catalog

N_ITEMS = 8
HISTORIES = {"ann": [3, 1, 4, 1, 5], "bob": [2, 6, 5]}
RECS = {"ann": ["i8", "i2"], "bob": ["i1", "i3"]}


def users() -> Dataset:
    return Dataset(catalog(N_ITEMS), list(HISTORIES), [np.array(h) for h in HISTORIES.values()])


def causal(n: int, layers: int = 2, heads: int = 2) -> np.ndarray:
    """``[layers, heads, n, n]`` rows of equal weight over keys ≤ query."""
    rows = np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]
    return np.broadcast_to(rows, (layers, heads, n, n)).astype(np.float32).copy()


def arrays() -> dict[str, np.ndarray]:
    return {u: causal(len(h)) for u, h in HISTORIES.items()}


def table(data: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    rows = [
        (u, layer, head, q, k, float(a[layer, head, q, k]))
        for u, a in (data or arrays()).items()
        for layer, head, q, k in np.ndindex(a.shape)
        if a[layer, head, q, k] != 0
    ]
    return pd.DataFrame(rows, columns=["user", "layer", "head", "query", "key", "weight"])


def changed(user: str = "ann", **cells: float) -> dict[str, np.ndarray]:
    """Arrays with cells (``c_l_h_q_k=value``) of one user replaced."""
    data = arrays()
    data[user] = data[user].astype(np.float64)  # float64 in: float32 overflow is ours to catch
    for where, value in cells.items():
        data[user][tuple(int(i) for i in where.split("_")[1:])] = value
    return data


# ------------------------------------------------------------ precomputed attention arrays
@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        (changed(c_0_0_2_1=-0.5), ("'ann'", "negative", "-0.5", "layer 0, head 0, query 2")),
        (changed(c_1_1_4_0=np.inf), ("'ann'", "NaN or infinite", "inf", "layer 1, head 1")),
        (changed(c_0_1_0_0=np.nan), ("'ann'", "NaN or infinite", "query 0")),
        (changed(c_0_0_3_3=1e39), ("'ann'", "infinite", "query 3, key 3")),  # float32 overflow
        (changed("bob", c_0_0_1_0=0.0, c_0_0_1_1=0.0), ("'bob'", "no weight", "query 1")),
    ],
)
def test_weights_the_maths_cannot_use_are_refused(data, fragments):
    with fails(DataError, *fragments):
        PrecomputedSource(users(), data, RECS)


def test_rows_that_do_not_sum_to_one_are_an_error_when_asked():
    data = arrays()
    data["bob"] = data["bob"] * 3
    with fails(DataError, "'bob'", "do not sum to 1", "3"):
        PrecomputedSource(users(), data, RECS, normalize=False)


def test_rows_that_do_not_sum_to_one_are_rescaled_with_a_warning_and_rollout_is_finite():
    data = arrays()
    data["ann"] = data["ann"] * 0.5  # e.g. a dropped [CLS] token's share
    with pytest.warns(
        UserWarning, match=r"rescaled 20 attention row\(s\) of 1 user\(s\) \('ann'\)"
    ):
        source = PrecomputedSource(users(), data, RECS)
    expl = explain(source, users(), "ann")
    np.testing.assert_allclose(expl.attentions.sum(-1), 1.0, rtol=1e-6)
    assert np.isfinite(expl.rollout).all()
    header, _ = decode_pack(explanation_pack(expl))
    assert header["nonfinite"] == {"importance": {"nan": 10, "posinf": 0, "neginf": 0}}


def test_negative_weights_can_no_longer_put_inf_into_a_pack():
    """The case from the issue: weights whose rows sum to ~0 made rollout divide by ~0."""
    data = arrays()
    data["ann"][:, :, :, 0] -= 1.0  # rows now sum to ~0
    with fails(DataError, "negative", "'ann'"):
        PrecomputedSource(users(), data, RECS)


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        (np.full((2, 2, 5, 5), "x"), ("'ann'", "not a numeric array")),
        ([[1.0, 0.0], [0.5]], ("'ann'", "not a numeric array")),
        (np.ones((2, 2, 6, 6)) / 6, ("'ann'", "covers 6 positions", "last 5")),
        (np.ones((1, 2, 2, 5, 5)), ("'ann'", "[layers, heads, n, n]")),
    ],
)
def test_attention_of_the_wrong_kind_or_shape_is_refused(value, fragments):
    with fails(DataError, *fragments):
        PrecomputedSource(users(), {"ann": value, "bob": causal(3)}, RECS)


def test_layers_and_heads_must_agree_across_users():
    data = {"ann": causal(5, layers=2), "bob": causal(3, layers=3)}
    with fails(DataError, "'bob'", "3 layers", "'ann' 2", "same layers and heads"):
        PrecomputedSource(users(), data, RECS)


def test_a_user_given_twice_under_two_spellings_is_refused():
    data = Dataset(catalog(N_ITEMS), [7, 9], [np.array([1, 2]), np.array([3])])
    with fails(DataError, "twice", "'7'", "7"):
        PrecomputedSource(data, {7: causal(2), "7": causal(2)}, {7: ["i5"]})


def test_a_user_with_an_empty_history_is_refused():
    data = Dataset(catalog(N_ITEMS), ["ann", "ghost"], [np.array([1, 2]), np.zeros(0, int)])
    with fails(EmptyHistoryError, "'ghost'"):
        PrecomputedSource(
            data, {"ann": causal(2), "ghost": np.ones((1, 1))}, {"ann": ["i8"], "ghost": ["i1"]}
        )


@pytest.mark.parametrize(
    ("max_len", "error", "fragment"),
    [("5", TypeError, "'5'"), (0, ValueError, "0"), (2.5, TypeError, "2.5")],
)
def test_max_len_must_be_a_positive_integer(max_len, error, fragment):
    with fails(error, "max_len", fragment):
        PrecomputedSource(users(), arrays(), RECS, max_len=max_len)


# ------------------------------------------------------------ precomputed long tables
def _without_rows(frame: pd.DataFrame, **where: object) -> pd.DataFrame:
    keep = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        keep &= (frame[column] == value).to_numpy()
    return frame[~keep]


@pytest.mark.parametrize(
    ("frame", "fragments"),
    [
        (
            _without_rows(table(), user="ann", layer=1, head=0, query=2),
            ("'ann'", "layer 1, head 0, query 2", "no rows for it in the table"),
        ),
        (_without_rows(table(), user="bob", layer=1), ("'bob'", "layer 1", "no rows")),
        (pd.concat([table(), table().iloc[[4]]]), ("same cell twice", "'ann'")),
        (
            table().assign(layer=table()["layer"].map({0: "L0", 1: "L1"})),
            ("'layer'", "'L0'", "row 0"),
        ),
        (table().assign(head=table()["head"] + 0.5), ("'head'", "0.5")),
        (table().assign(key=table()["key"] - 1), ("'key'", "-1")),
        (table().assign(query=table()["query"].astype(str) + "th"), ("'query'", "'0th'")),
        (
            table().assign(
                weight=table()["weight"].astype(object).where(table().index != 3, "heavy")
            ),
            ("'weight'", "'heavy'", "row 3"),
        ),
        (table().assign(weight=-table()["weight"]), ("'weight'", "negative", "row 0")),
        (
            table().assign(weight=table()["weight"].where(table().index != 2, np.inf)),
            ("'weight'", "infinite", "row 2"),
        ),
        (table().drop(columns="head"), ("missing column(s) ['head']",)),
        (table().iloc[:0], ("attention table is empty",)),
    ],
)
def test_bad_long_tables_are_refused(frame, fragments):
    with fails(DataError, *fragments):
        PrecomputedSource(users(), frame, RECS)


def test_a_table_weight_too_large_for_float32_is_refused():
    frame = table().assign(weight=table()["weight"].where(table().index != 5, 1e39))
    with fails(DataError, "'ann'", "NaN or infinite", "inf at layer 0"):
        PrecomputedSource(users(), frame, RECS)


def test_query_or_key_past_the_history_is_refused():
    frame = table().assign(key=table()["key"] + 3)
    with fails(DataError, "position 7", "'ann'", "covers 5 history items"):
        PrecomputedSource(users(), frame, RECS, max_len=5)


def test_a_table_user_unknown_to_the_dataset_is_refused():
    frame = table()
    frame.loc[0, "user"] = "zed"
    with fails(UnknownUserError, "'zed'"):
        PrecomputedSource(users(), frame, RECS)


# ------------------------------------------------------------ precomputed recommendations
@pytest.mark.parametrize(
    ("recs", "error", "fragments"),
    [
        (
            {"ann": ["i1", "i3"], "bob": ["i1"]},
            NothingToRecommendError,
            ("'ann'", "already in their history", "['i1', 'i3']"),
        ),
        ({"ann": ["i8", "i99"], "bob": ["i1"]}, UnknownItemError, ("'ann'", "'i99'")),
        ({"ann": [], "bob": ["i1"]}, DataError, ("'ann'", "no recommendations")),
        ({"ann": "i8", "bob": ["i1"]}, DataError, ("'ann'", "list of item ids", "'i8'")),
        ({"ann": 8, "bob": ["i1"]}, DataError, ("'ann'", "list of item ids", "int")),
        ({"ann": ["i8", "i8"], "bob": ["i1"]}, DataError, ("'ann'", "twice")),
        ({"bob": ["i1"]}, DataError, ("no recommendations for user 'ann'",)),
        ({"ann": ["i8"], "bob": ["i1"], "zed": ["i1"]}, UnknownUserError, ("'zed'",)),
    ],
)
def test_bad_recommendations_are_refused_naming_the_user(recs, error, fragments):
    with fails(error, *fragments):
        PrecomputedSource(users(), arrays(), recs)


def test_recommendations_partly_in_the_history_keep_the_others():
    source = PrecomputedSource(users(), arrays(), {"ann": ["i1", "i8", "i4"], "bob": ["i1"]})
    expl = explain(source, users(), "ann")
    assert list(expl.recommendation_table()["item_id"]) == ["i8"]


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"scores": {"ann": ["high", "low"]}}, ("scores for user 'ann'", "not a numeric array")),
        ({"scores": {"ann": [1.0, np.inf]}}, ("'ann'", "NaN or infinite")),
        ({"scores": {"ann": [1.0, 0.5, 0.2]}}, ("'ann' has 3 scores for 2 recommendations",)),
        ({"scores": {"cy": [1.0]}}, ("'cy'",)),
    ],
)
def test_bad_scores_are_refused(kwargs, fragments):
    data = Dataset(
        catalog(N_ITEMS),
        [*HISTORIES, "cy"],
        [np.array(h) for h in HISTORIES.values()] + [np.array([1])],
    )
    with fails(DataError, *fragments):
        PrecomputedSource(data, arrays(), RECS, **kwargs)


def test_a_recommendation_table_with_text_scores_is_refused():
    recs = pd.DataFrame({"user": ["ann", "bob"], "item": ["i8", "i1"], "score": ["1.0", "x"]})
    with fails(DataError, "scores for user 'bob'", "not a numeric array"):
        PrecomputedSource(users(), arrays(), recs)


# ------------------------------------------------------------ precomputed feature attention
@pytest.mark.parametrize(
    ("features", "fields", "fragments"),
    [
        (
            {"ann": -np.ones((5, 2)), "bob": np.full((3, 2), 0.5)},
            ["item", "genre"],
            ("'ann'", "negative", "position 0, field 0"),
        ),
        (
            {"ann": np.zeros((5, 2)), "bob": np.full((3, 2), 0.5)},
            ["item", "genre"],
            ("'ann'", "no weight", "position 0"),
        ),
        (
            {"ann": np.full((5, 3), 0.3), "bob": np.full((3, 2), 0.5)},
            ["item", "genre"],
            ("'ann'", "shape (5, 3)", "[5, 2]"),
        ),
        (
            {"bob": np.full((3, 2), 0.5)},
            ["item", "genre"],
            ("no feature attention for user 'ann'",),
        ),
        (None, "genre", ("field_names", "'genre'")),
        (None, ["item", "item"], ("field_names", "distinct")),
    ],
)
def test_bad_feature_attention_is_refused(features, fields, fragments):
    with fails(DataError, *fragments):
        PrecomputedSource(users(), arrays(), RECS, feature_attention=features, field_names=fields)


# ------------------------------------------------------------ torch adapters
D, HEADS = 4, 2


class TinyMHA(nn.Module):
    """Embeddings → one causal ``nn.MultiheadAttention`` → last position · embeddings."""

    def __init__(self, n_items: int = N_ITEMS) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.items = nn.Embedding(n_items + 1, D)
        self.attn = nn.MultiheadAttention(D, HEADS, batch_first=True)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        x = self.items(items)
        n = items.shape[1]
        mask = torch.ones(n, n, dtype=torch.bool).triu(1)
        h, _ = self.attn(x, x, x, attn_mask=mask)
        return h[:, -1] @ self.items.weight.T


def mha(**options) -> MultiheadAttentionSource:
    return MultiheadAttentionSource(TinyMHA(), users(), max_len=5, **options)


def test_scores_all_nan_leave_nothing_to_recommend_naming_the_user():
    source = mha(to_scores=lambda out: torch.full_like(out, float("nan")))
    with fails(NothingToRecommendError, "'ann'", "NaN"):
        explain(source, users(), "ann")


def test_scores_partly_nan_are_never_recommended_and_said_so():
    def some_nan(out):
        out = out.clone()
        out[:, 8] = float("nan")
        return out

    expl = explain(mha(to_scores=some_nan), users(), "ann")
    assert 8 not in expl.recommendations.tolist()
    assert any("NaN" in w for w in expl.warnings)


@pytest.mark.parametrize(
    ("to_scores", "error", "fragments"),
    [
        (lambda out: out[:, :-2], DataError, ("scores have shape (1, 7)", "[1, 9]")),
        (
            lambda out: out[:, None, :].expand(-1, 3, -1),
            DataError,
            ("scores have shape (1, 3, 9)",),
        ),
        (lambda out: out[0], DataError, ("scores have shape (9,)",)),
        (lambda out: None, AdapterError, ("to_scores(output)", "NoneType")),
        (lambda out: {"scores": out}, AdapterError, ("to_scores(output)", "dict")),
        (lambda out: [["a"] * 9], AdapterError, ("to_scores(output)", "not a numeric array")),
        (lambda out: np.array([["x"] * 9]), AdapterError, ("dtype <U1",)),
        (lambda out: 1 / 0, AdapterError, ("to_scores(output) raised ZeroDivisionError",)),
        (lambda out: out.to(torch.complex64), AdapterError, ("complex",)),
    ],
)
def test_to_scores_returning_the_wrong_thing_is_a_clear_error(to_scores, error, fragments):
    with fails(error, *fragments):
        mha(to_scores=to_scores).run([np.array([1, 2, 3])])


@pytest.mark.parametrize(
    "convert",
    [
        lambda out: out.numpy(),
        lambda out: out.tolist(),
        lambda out: list(out),
        lambda out: out.double(),
    ],
)
def test_scores_as_numpy_lists_or_float64_are_the_same_scores(convert):
    plain = mha().run([np.array([1, 2, 3])]).scores
    np.testing.assert_allclose(mha(to_scores=convert).run([np.array([1, 2, 3])]).scores, plain)


def test_to_input_that_raises_names_the_step_and_the_cause():
    def to_input(batch):
        return {"ids": batch}["input_ids"]

    with fails(AdapterError, "to_input(batch of shape [1, 3]) raised KeyError", "'input_ids'"):
        mha(to_input=to_input).run([np.array([1, 2, 3])])


def test_a_model_that_raises_names_the_model():
    small = MultiheadAttentionSource(TinyMHA(n_items=3), users(), max_len=5)
    with fails(AdapterError, "the model, called on a batch of shape [1, 3],", "IndexError"):
        small.run([np.array([1, 2, 7])])  # item 7 is past the model's embedding table


@pytest.mark.parametrize(
    ("to_attention", "error", "fragments"),
    [
        (
            lambda w: torch.nn.functional.pad(w, (1, 0, 1, 0)),
            AttentionNotFoundError,
            ("[1, heads, 3, 3]", "to_attention="),
        ),
        (lambda w: w[:, 0], AttentionNotFoundError, ("shape (1, 3, 3)",)),
        (lambda w: w - 1.0, DataError, ("attention of layer 0", "negative")),
        (lambda w: w * float("inf"), DataError, ("attention of layer 0", "infinite")),
        (lambda w: "weights", AdapterError, ("to_attention(weights)", "str")),
        (lambda w: w.nonexistent, AdapterError, ("to_attention(weights) raised AttributeError",)),
    ],
)
def test_attention_of_the_wrong_shape_or_values_is_a_clear_error(to_attention, error, fragments):
    with fails(error, *fragments):
        mha(to_attention=to_attention).run([np.array([1, 2, 3])])


def test_nan_attention_from_a_model_is_shown_as_missing_with_a_warning():
    expl = explain(mha(to_attention=lambda w: w.masked_fill(w > 0.4, float("nan"))), users(), "ann")
    assert any("NaN" in w for w in expl.warnings)
    header, _ = decode_pack(explanation_pack(expl))
    assert header["nonfinite"]["seq_attn"]["nan"] > 0
    assert any("sequence attention" in w for w in header["warnings"])


@pytest.mark.parametrize(
    ("kwargs", "error", "fragments"),
    [
        ({"max_len": 0}, ValueError, ("max_len", "0")),
        ({"max_len": "10"}, TypeError, ("max_len", "'10'")),
        ({"max_len": 2.5}, TypeError, ("max_len", "2.5")),
        ({"max_len": True}, TypeError, ("max_len", "True")),
        (
            {"max_len": 5, "to_input": "input_ids"},
            AdapterError,
            ("to_input must be callable", "str"),
        ),
        ({"max_len": 5, "to_scores": 3}, AdapterError, ("to_scores must be callable", "int")),
    ],
)
def test_constructor_arguments_are_checked(kwargs, error, fragments):
    with fails(error, *fragments):
        MultiheadAttentionSource(TinyMHA(), users(), **kwargs)


def test_a_cross_attention_model_whose_keys_are_not_the_history_is_a_clear_error():
    class Cross(TinyMHA):
        def forward(self, items):
            x = self.items(items)
            memory = torch.cat([x, x[:, :1]], dim=1)  # one extra key position
            h, _ = self.attn(x, memory, memory)
            return h[:, -1] @ self.items.weight.T

    source = MultiheadAttentionSource(Cross(), users(), max_len=5)
    with fails(AttentionNotFoundError, "shape (1, 2, 3, 4)", "[1, heads, 3, 3]"):
        source.run([np.array([1, 2, 3])])


def test_a_model_that_returns_no_attention_through_output_attentions_is_named():
    source = OutputAttentionsSource(
        lambda input_ids, attention_mask=None, output_attentions=False: {"logits": input_ids},
        users(),
        max_len=5,
    )
    with fails(AttentionNotFoundError, "has no 'attentions'"):
        source.run([np.array([1, 2])])


def test_a_model_that_is_not_callable_is_refused():
    with fails(AdapterError, "model must be callable", "str"):
        OutputAttentionsSource("bert-base-uncased", users(), max_len=5)
