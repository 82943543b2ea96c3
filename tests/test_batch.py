"""explain_users on the local engine: one row per user, the figures of explain(), bad input."""

import numpy as np
import pandas as pd
import pytest
import torch

import attnwidget as aw
from attnwidget.errors import (
    ArgumentTypeError,
    ArgumentValueError,
    DataError,
    EmptyHistoryError,
    UnknownUserError,
)
from attnwidget.explain import distribution_stats
from attnwidget.explain.importance import METHODS


@pytest.fixture(scope="module")
def users(shop):
    return list(shop.users[:40])


@pytest.fixture(scope="module")
def table(trained, shop, users):
    return aw.explain_users(trained, shop, users, batch_size=16, progress=False)


def test_one_row_per_user_in_order_with_every_column(table, users, trained):
    assert list(table["user_id"]) == users
    layers, heads = trained.config.n_layers, trained.config.n_heads
    for method in METHODS:
        for suffix in ("top_item", "top_position", "top3_positions", "top3_weights", "entropy"):
            assert f"{method}_{suffix}" in table
    for method in ("attention", "rollout", "gradient"):
        assert f"{method}_kendall_tau" in table and f"{method}_top1_agreement" in table
    assert "occlusion_kendall_tau" not in table
    assert [c for c in table if c.startswith("entropy_L")] == [
        f"entropy_L{layer}H{h}" for layer in range(layers) for h in range(heads)
    ]
    assert [c for c in table if c.startswith("feature_attention_")] == [
        f"feature_attention_{f}" for f in trained.field_names
    ]
    assert table["recommended"].map(len).eq(10).all()
    assert table.attrs["methods"] == list(METHODS)


def test_rows_match_explain_for_each_user(table, trained, shop, users):
    ids = trained.catalog.item_ids
    for user in users[::7]:
        row = table.iloc[users.index(user)]
        expl = aw.explain(trained, shop, user)
        assert row["recommended"] == [ids[i - 1] for i in expl.recommendations]
        np.testing.assert_allclose(
            row["recommended_scores"], expl.scores[expl.recommendations], rtol=1e-5
        )
        for method in METHODS:
            weights = expl.method_importance(method)
            order = np.argsort(-weights, kind="stable")
            assert row[f"{method}_top_position"] == row[f"{method}_top3_positions"][0]
            np.testing.assert_allclose(
                row[f"{method}_top3_weights"], weights[order[:3]], rtol=1e-4, atol=1e-6
            )
            top = expl.history[row[f"{method}_top_position"]]
            assert row[f"{method}_top_item"] == ids[top - 1]
        agreement = expl.agreement()  # occlusion is computed above
        for method in ("attention", "rollout", "gradient"):
            assert row[f"{method}_kendall_tau"] == pytest.approx(
                agreement[method]["kendall_tau"], abs=1e-9
            )
            assert row[f"{method}_top1_agreement"] == agreement[method]["top1_agreement"]
        attention = expl.attentions[:, :, -1]
        for layer in range(attention.shape[0]):
            for head in range(attention.shape[1]):
                entropy = distribution_stats(attention[layer, head])["entropy"]
                assert row[f"entropy_L{layer}H{head}"] == pytest.approx(entropy, rel=1e-5)


def test_batch_size_does_not_change_the_table(trained, shop, users, table):
    other = aw.explain_users(trained, shop, users, batch_size=7, progress=False)
    for column in ("user_id", "recommended", "target", "occlusion_top_item", "warnings"):
        assert list(other[column]) == list(table[column])
    np.testing.assert_allclose(
        other["gradient_entropy"], table["gradient_entropy"], rtol=1e-4, atol=1e-6
    )


def test_methods_subset_and_full_importance(trained, shop, users):
    table = aw.explain_users(
        trained,
        shop,
        users[:5],
        methods=["rollout", "attention"],
        full_importance=True,
        progress=False,
    )
    assert table.attrs["methods"] == ["attention", "rollout"]
    assert "gradient_top_item" not in table and "attention_kendall_tau" not in table
    assert table["rollout_importance"].map(len).tolist() == table["seen_length"].tolist()


def test_all_users_by_default_and_ids_as_the_dataset_has_them():
    shop = aw.synthetic_shop(n_users=30, n_items=120, seed=1)
    model = aw.SASRec(shop, d_model=16, n_layers=1, n_heads=2, max_len=8, seed=0)
    table = aw.explain_users(model, shop, progress=False)
    assert list(table["user_id"]) == list(shop.users)
    assert table["warnings"].map(lambda w: any("cut to its last 8" in x for x in w)).any()


def test_a_one_item_history_and_nothing_to_recommend_are_rows_with_warnings():
    interactions = pd.DataFrame({"user_id": ["a", "b", "b", "c", "c"], "item_id": [1, 1, 2, 1, 2]})
    data = aw.Dataset.from_pandas(interactions, None, time_col=None)
    model = aw.SASRec(data, d_model=8, n_layers=1, n_heads=1, max_len=5, seed=0)
    table = aw.explain_users(model, data, k=3, progress=False)
    one = table.set_index("user_id").loc["a"]
    assert one["recommended"] == [2] and np.isnan(one["occlusion_top3_weights"]).all()
    assert any("one-item history" in w for w in one["warnings"])
    full = table.set_index("user_id").loc["b"]  # both items bought: nothing left
    assert full["recommended"] == [] and full["target"] is None
    assert full["occlusion_top_position"] == -1
    assert any("nothing to recommend" in w for w in full["warnings"])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"users": ["u00001", "nobody"]}, UnknownUserError, "unknown user 'nobody'"),
        ({"users": []}, ArgumentValueError, "users is an empty list"),
        ({"users": "u00001"}, ArgumentTypeError, "users must be a list"),
        ({"engine": "spark"}, ArgumentValueError, "unknown engine 'spark'"),
        ({"engine": 1}, ArgumentTypeError, "engine must be"),
        ({"methods": ["attention", "shap"]}, ArgumentValueError, "unknown importance method"),
        ({"methods": []}, ArgumentValueError, "methods is empty"),
        ({"methods": "attention"}, ArgumentTypeError, "methods must be a list"),
        ({"batch_size": 0}, ArgumentValueError, "batch_size must be ≥ 1"),
        ({"k": "10"}, ArgumentTypeError, "k must be an integer"),
        ({"device": "gpu0"}, ArgumentValueError, "'gpu0' is not a torch device"),
        ({"device": 0}, ArgumentTypeError, "device must be a str"),
        ({"threads": 0}, ArgumentValueError, "threads must be ≥ 1"),
        ({"engine": "ray", "num_gpus": -1}, ArgumentValueError, "num_gpus must be a number"),
    ],
)
def test_bad_arguments_are_named(trained, shop, kwargs, error, message):
    with pytest.raises(error, match=message) as caught:
        aw.explain_users(trained, shop, **{"users": ["u00001"], **kwargs}, progress=False)
    assert isinstance(caught.value, aw.AttnWidgetError)


def test_an_empty_history_is_named():
    interactions = pd.DataFrame({"user_id": ["a", "b"], "item_id": [1, 2]})
    data = aw.Dataset.from_pandas(interactions, None, time_col=None)
    model = aw.SASRec(data, d_model=8, n_layers=1, n_heads=1, max_len=5, seed=0)
    only_a = aw.Dataset.from_pandas(interactions[:1], None, time_col=None).catalog  # item 1
    dropped = data.aligned_to(only_a, unknown="drop")  # user b loses its only item
    model = aw.SASRec(only_a, d_model=8, n_layers=1, n_heads=1, max_len=5, seed=0)
    with pytest.raises(EmptyHistoryError, match="user 'b' has an empty history"):
        aw.explain_users(model, dropped, ["a", "b"], progress=False)
    with pytest.warns(UserWarning, match="left out 1 user"):
        table = aw.explain_users(model, dropped, progress=False)
    assert list(table["user_id"]) == ["a"]


def test_not_a_model_or_dataset(trained, shop):
    with pytest.raises(ArgumentTypeError, match="expected an attnwidget SASRec"):
        aw.explain_users(object(), shop)
    with pytest.raises(ArgumentTypeError, match="dataset must be an attnwidget Dataset"):
        aw.explain_users(trained, shop.sequences)


def test_the_model_is_not_moved_and_keeps_its_mode(trained, shop):
    trained.train()
    try:
        aw.explain_users(trained, shop, ["u00001"], device="cpu", progress=False)
        assert trained.training
    finally:
        trained.eval()
    assert {p.device.type for p in trained.parameters()} == {"cpu"}


def test_parquet_round_trip(table, tmp_path):
    path = aw.write_explanations(table, tmp_path / "out" / "explanations.parquet")
    back = aw.read_explanations(path)
    pd.testing.assert_frame_equal(back, table, check_exact=True)
    assert back.attrs["methods"] == table.attrs["methods"]
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    assert str(schema.field("recommended").type.value_type) == "string"
    assert str(schema.field("occlusion_top_position").type) == "int64"
    assert str(schema.field("entropy_L0H0").type) == "double"


def test_parquet_keeps_integer_ids(tmp_path):
    interactions = pd.DataFrame(
        {"user_id": [7, 7, 7, 9, 9], "item_id": [1, 2, 3, 2, 4], "t": [1, 2, 3, 1, 2]}
    )
    data = aw.Dataset.from_pandas(interactions, None, time_col="t")
    model = aw.SASRec(data, d_model=8, n_layers=1, n_heads=1, max_len=5, seed=0)
    table = aw.explain_users(model, data, k=2, progress=False)
    back = aw.read_explanations(aw.write_explanations(table, tmp_path / "ids.parquet"))
    assert back["user_id"].tolist() == [7, 9] and back["user_id"].dtype == np.int64
    assert all(isinstance(i, int) for rec in back["recommended"] for i in rec)
    pd.testing.assert_frame_equal(back, table, check_exact=True)


def test_parquet_bad_paths_and_tables(table, tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        aw.write_explanations(table, tmp_path)
    with pytest.raises(DataError, match="lacks the column"):
        aw.write_explanations(pd.DataFrame({"a": [1]}), tmp_path / "x.parquet")
    with pytest.raises(ArgumentTypeError, match="must be a pandas DataFrame"):
        aw.write_explanations([1, 2], tmp_path / "x.parquet")
    with pytest.raises(DataError, match="no such Parquet file"):
        aw.read_explanations(tmp_path / "missing.parquet")
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        aw.read_explanations(tmp_path / "junk.parquet")
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "other.parquet")
    with pytest.raises(DataError, match="not written by attnwidget"):
        aw.read_explanations(tmp_path / "other.parquet")


def test_explain_users_on_a_torch_adapter(shop):
    from attnwidget.sources import MultiheadAttentionSource

    torch.manual_seed(0)

    class Tiny(torch.nn.Module):
        def __init__(self, n_items):
            super().__init__()
            self.embed = torch.nn.Embedding(n_items + 1, 16)
            layer = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
            self.encoder = torch.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)

        def forward(self, batch):
            hidden = self.encoder(self.embed(batch))
            return hidden[:, -1] @ self.embed.weight.T

    source = MultiheadAttentionSource(Tiny(shop.n_items), shop, max_len=10)
    users = list(shop.users[:6])
    table = aw.explain_users(source, shop, users, k=5, batch_size=4, progress=False)
    assert list(table["user_id"]) == users
    for user in users[:2]:
        expl = aw.explain(source, shop, user)
        row = table.set_index("user_id").loc[user]
        occlusion = expl.method_importance("occlusion")
        assert row["occlusion_top_position"] == int(np.argmax(occlusion))
        gradient = expl.method_importance("gradient")
        np.testing.assert_allclose(
            row["gradient_top3_weights"], np.sort(gradient)[::-1][:3], rtol=1e-4, atol=1e-7
        )


def test_a_missing_extra_is_named_with_the_install_command():
    from attnwidget.requirements_check import _optional, missing

    assert missing("ray") == [] and missing("parquet") == []  # the test extra has both
    line = _optional("attnwidget_no_such_package", "ray")()
    assert "'attnwidget_no_such_package' is not installed" in line
    assert 'pip install "attnwidget[ray]"' in line
