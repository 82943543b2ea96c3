import numpy as np
import pytest
import torch

from attnwidget.errors import CheckpointError, DataError, EmptyHistoryError, UnknownItemError
from attnwidget.models import SASRec, fit


@pytest.fixture
def batch(trained):
    """Two histories of different length, left-padded: the short one has padding."""
    return trained.pad([np.array([5, 9, 17, 3, 8, 21]), np.array([40, 2, 11])])


def test_attention_rows_sum_to_one_and_ignore_future_and_padding(trained, batch):
    with torch.no_grad():
        out = trained(batch)
    valid = batch > 0
    n = batch.shape[1]
    assert len(out.attentions) == trained.config.n_layers
    for attention in out.attentions:
        assert attention.shape == (2, trained.config.n_heads, n, n)
        torch.testing.assert_close(attention.sum(-1), torch.ones(2, trained.config.n_heads, n))
        future = torch.ones(n, n, dtype=torch.bool).triu(1)
        assert attention[..., future].abs().max() == 0
        real_rows = valid[:, None, :, None].expand_as(attention)
        pad_keys = (~valid)[:, None, None, :].expand_as(attention)
        assert attention[real_rows & pad_keys].abs().max() == 0


def test_feature_attention_sums_to_one_over_fields(trained, batch):
    with torch.no_grad():
        out = trained(batch)
    assert out.feature_attention.shape == (2, batch.shape[1], 4)  # item + 3 fields
    assert trained.field_names == ["item", "category", "brand", "price"]
    torch.testing.assert_close(out.feature_attention.sum(-1), torch.ones(2, batch.shape[1]))
    assert (out.feature_attention > 0).all()


def test_extra_left_padding_does_not_change_scores(trained):
    history = np.array([5, 9, 17, 3])
    short = trained.pad([history])
    padded = torch.cat([torch.zeros(1, 6, dtype=torch.long), short], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(trained(short).scores, trained(padded).scores)


def test_scores_exclude_padding(trained, batch):
    with torch.no_grad():
        scores = trained(batch).scores
    assert scores.shape == (2, trained.catalog.n_items + 1)
    assert torch.isneginf(scores[:, 0]).all() and torch.isfinite(scores[:, 1:]).all()


def test_recommend_returns_ranked_ids_and_can_exclude_history(trained, shop):
    history = shop.history(shop.users[0])["item_id"].tolist()
    recs = trained.recommend(history, k=10)
    assert len(recs) == 10 and list(recs.columns[:3]) == ["item_id", "title", "score"]
    assert recs["score"].is_monotonic_decreasing
    assert not set(recs["item_id"]) & set(history)
    with_seen = trained.recommend(history, k=trained.catalog.n_items, exclude_seen=False)
    assert set(history) <= set(with_seen["item_id"])


def test_long_history_is_cut_to_the_most_recent_max_len(trained, shop):
    ids = shop.items["item_id"].tolist()
    long = ids[:60]
    assert trained.pad([trained.catalog.encode(long)]).shape[1] == trained.config.max_len
    recent = trained.recommend(long[-trained.config.max_len :], k=5, exclude_seen=False)
    full = trained.recommend(long, k=5, exclude_seen=False)
    assert recent["item_id"].tolist() == full["item_id"].tolist()


def test_bad_histories_give_clear_errors(trained):
    with pytest.raises(EmptyHistoryError):
        trained.recommend([])
    with pytest.raises(UnknownItemError, match="unknown item 'nope'"):
        trained.recommend(["nope"])
    with pytest.raises(DataError, match=r"\[batch, length\]"):
        trained(torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="divisible"):
        SASRec(trained.catalog, d_model=30, n_heads=4)


def test_same_seed_gives_the_same_trained_model(shop):
    def train(seed):
        model = SASRec(shop, d_model=16, n_layers=1, n_heads=1, max_len=10, seed=seed)
        history = fit(model, shop, epochs=1, batch_size=64, seed=seed, progress=False)
        return model, history

    (a, ha), (b, hb), (c, _) = train(1), train(1), train(2)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    assert ha["loss"].tolist() == hb["loss"].tolist()
    assert not torch.equal(a.position.weight, c.position.weight)


def test_fit_reports_validation_metrics_and_improves_on_the_untrained_model(shop):
    model = SASRec(shop, d_model=32, n_layers=1, n_heads=2, max_len=20, seed=0)
    before = model.score([ex.history for ex in shop.split("valid")])
    history = fit(model, shop, epochs=4, batch_size=64, progress=False)
    assert {"loss", "valid_NDCG@10", "valid_HR@10", "seconds"} <= set(history.columns)
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    after = model.score([ex.history for ex in shop.split("valid")])
    targets = np.array([ex.target for ex in shop.split("valid")])
    rank = lambda s: (s > s[np.arange(len(targets)), targets][:, None]).sum(1).mean()  # noqa: E731
    assert rank(after) < rank(before)


def test_bce_loss_trains_too(shop):
    model = SASRec(shop, d_model=16, n_layers=1, n_heads=1, max_len=10)
    history = fit(model, shop, epochs=2, loss="bce", progress=False)
    assert np.isfinite(history["loss"]).all()
    with pytest.raises(ValueError, match="loss must be one of"):
        fit(model, shop, loss="hinge")


def test_save_load_round_trip_gives_identical_scores(trained, batch, tmp_path):
    path = trained.save(tmp_path / "model.pt")
    loaded = SASRec.load(path)
    assert loaded.config == trained.config
    assert loaded.catalog.item_ids == trained.catalog.item_ids
    assert loaded.catalog.titles == trained.catalog.titles
    assert [f.labels for f in loaded.catalog.fields] == [f.labels for f in trained.catalog.fields]
    trained.eval()
    with torch.no_grad():
        assert torch.equal(loaded(batch).scores, trained(batch).scores)


def test_wrong_or_damaged_checkpoints_give_clear_errors(trained, tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        SASRec.load(tmp_path / "missing.pt")
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(
        CheckpointError, match="not a readable attnwidget checkpoint: it is a text file"
    ):
        SASRec.load(text)
    good = trained.save(tmp_path / "good.pt").read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        SASRec.load(cut)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(CheckpointError, match="not an attnwidget SASRec checkpoint"):
        SASRec.load(other)


def test_a_dataset_without_features_gives_a_plain_sasrec(shop):
    import pandas as pd

    from attnwidget.data import Dataset

    rows = [
        (u, i, t)
        for u, seq in zip(shop.users[:50], shop.sequences, strict=False)
        for t, i in enumerate(seq)
    ]
    plain = Dataset.from_pandas(pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]))
    model = SASRec(plain, d_model=16, n_layers=1, n_heads=1, max_len=10)
    with torch.no_grad():
        out = model(model.pad([plain.sequences[0]]))
    assert model.field_names == ["item"]
    assert torch.equal(out.feature_attention, torch.ones_like(out.feature_attention))
