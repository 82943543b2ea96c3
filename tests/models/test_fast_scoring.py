"""The fast scoring paths (fused attention, target items only, shared prefixes) give the
numbers of the ordinary forward pass that materialises the attention weights."""

import copy

import numpy as np
import pytest
import torch

from attnwidget.datasets import synthetic_shop
from attnwidget.errors import DataError
from attnwidget.models import SASRec
from attnwidget.models.layers import AttentionBlock


@pytest.fixture(scope="module")
def wide():
    """4 layers x 8 heads (the reference shape of benchmarks/occlusion_speed.py), short max_len."""
    shop = synthetic_shop(n_users=20, n_items=120, seed=1)
    return SASRec(shop, d_model=64, n_layers=4, n_heads=8, max_len=70, seed=2).eval()


def reference_scores(model, histories):
    """One history at a time through the ordinary forward pass (attention materialised)."""
    with torch.no_grad():
        return np.concatenate([model(model.pad([h])).scores.numpy() for h in histories])


def mixed_histories(model, seed=0):
    rng = np.random.default_rng(seed)
    n_items, max_len = model.catalog.n_items, model.config.max_len
    lengths = [1, 2, 5, max_len - 1, max_len, max_len + 9, 33, 1]
    return [rng.integers(1, n_items + 1, n) for n in lengths]


@pytest.mark.parametrize("name", ["trained", "wide"])
def test_score_matches_the_forward_pass_on_a_padded_batch(name, request):
    model = request.getfixturevalue(name)
    histories = mixed_histories(model)
    got = model.score(histories, batch_size=3)
    expected = reference_scores(model, histories)
    assert np.isneginf(got[:, 0]).all()
    np.testing.assert_allclose(got[:, 1:], expected[:, 1:], rtol=1e-5, atol=1e-5)


def test_encode_without_weights_gives_the_same_hidden_states_and_no_attention(wide):
    batch = wide.pad(mixed_histories(wide))
    with torch.no_grad():
        hidden, attentions, features = wide.encode(batch)
        fast, none, fast_features = wide.encode(batch, need_weights=False)
        out = wide(batch, need_weights=False)
    assert len(attentions) == wide.config.n_layers and none == []
    assert out.attentions == ()
    valid = (batch > 0).unsqueeze(-1)
    torch.testing.assert_close(fast * valid, hidden * valid, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fast_features, features)
    torch.testing.assert_close(out.scores, wide(batch).scores, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 2, 5, 16, 1000])
def test_score_items_matches_score_for_leave_one_out_variants(wide, batch_size):
    history = np.random.default_rng(3).integers(1, wide.catalog.n_items + 1, 60)
    variants = [history, *(np.delete(history, i) for i in range(len(history)))]
    items = [7, 0, 7, wide.catalog.n_items]
    got = wide.score_items(variants, items, batch_size=batch_size)
    expected = reference_scores(wide, variants)[:, items]
    assert got.shape == (len(variants), len(items))
    assert np.isneginf(got[:, 1]).all()
    np.testing.assert_allclose(got[:, [0, 2, 3]], expected[:, [0, 2, 3]], rtol=1e-5, atol=1e-5)


def test_score_items_shares_prefixes_only_where_histories_share_them(wide):
    """Histories of one length whose shared starts are not nested, repeated histories,
    histories longer than max_len and mixed lengths in any order."""
    rng = np.random.default_rng(4)
    n_items = wide.catalog.n_items
    base = rng.integers(1, n_items + 1, 50)
    other = rng.integers(1, n_items + 1, 50)
    histories = []
    for i in range(0, 50, 5):
        changed = base.copy()
        changed[i:] = rng.integers(1, n_items + 1, 50 - i)
        histories.append(changed)
    histories += [other.copy(), other.copy(), other.copy(), base[:20], base[:1]]
    histories += [np.concatenate([other, base])]  # cut to the last max_len items
    histories += [np.concatenate([other[:10], h[10:]]) for h in histories[:6]]
    order = rng.permutation(len(histories))
    histories = [histories[i] for i in order]
    for batch_size in (2, 3, 4, 16):
        got = wide.score_items(histories, np.arange(n_items + 1), batch_size=batch_size)
        expected = reference_scores(wide, histories)
        np.testing.assert_allclose(got[:, 1:], expected[:, 1:], rtol=1e-5, atol=1e-5)


def test_score_items_runs_in_eval_mode_and_restores_training(wide):
    history = np.arange(1, 41)
    variants = [np.delete(history, i) for i in range(40)]
    expected = wide.score_items(variants, [3])
    wide.train()
    try:
        np.testing.assert_array_equal(wide.score_items(variants, [3]), expected)
        assert wide.training
    finally:
        wide.eval()


def test_score_items_checks_its_arguments(trained):
    assert trained.score_items([], [1, 2]).shape == (0, 2)
    assert trained.score_items([np.array([1, 2])], []).shape == (1, 0)
    for bad in ([-1], [trained.catalog.n_items + 1], [[1, 2]], [1.5], "12", 3):
        with pytest.raises(DataError, match="items"):
            trained.score_items([np.array([1, 2])], bad)
    with pytest.raises(DataError, match="history 1 of the batch"):
        trained.score_items([np.array([1, 2]), np.array([0])], [1])
    with pytest.raises(ValueError, match="batch_size"):
        trained.score_items([np.array([1, 2])], [1], batch_size=0)


def test_fused_block_with_past_keys_equals_the_whole_sequence():
    torch.manual_seed(0)
    block = AttentionBlock(32, 4, dropout=0.0).eval()
    x = torch.randn(3, 75, 32)
    causal = torch.ones(75, 75, dtype=torch.bool).tril()[None, None]
    with torch.no_grad():
        whole, weights = block(x, causal)
        _, past = block.fused(x[:1, :40], None)
        shared = x.clone()
        shared[:, :40] = x[:1, :40]
        whole_shared, _ = block(shared, causal)
        rest, _ = block.fused(shared[:, 40:], None, past=past)
        last, _ = block.fused(shared[:, 40:], None, past=past, last_only=True)
        plain, _ = block.fused(x, None)
    assert weights.shape == (3, 4, 75, 75)
    torch.testing.assert_close(plain, whole, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(rest, whole_shared[:, 40:], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(last, whole_shared[:, -1:], rtol=1e-5, atol=1e-5)


def test_pad_left_pads_mixed_lengths_and_stacks_equal_ones(trained):
    histories = [np.array([4, 5, 6]), np.array([7]), np.array([1, 2])]
    np.testing.assert_array_equal(trained.pad(histories).numpy(), [[4, 5, 6], [0, 0, 7], [0, 1, 2]])
    np.testing.assert_array_equal(trained.pad([[1, 2], [3, 4]]).numpy(), [[1, 2], [3, 4]])
    long = np.arange(1, 31)
    np.testing.assert_array_equal(trained.pad([long, [9]]).numpy()[0], long[-20:])


def test_the_catalogue_encoding_kept_for_scoring_follows_every_weight_change(trained, shop):
    model = copy.deepcopy(trained).eval()
    history = [shop.sequence(shop.users[0])[-20:]]
    before = model.score(history)
    assert np.array_equal(model.score(history), before)  # kept: the same scores
    with torch.no_grad():
        next(model.parameters()).add_(0.5)  # an in-place change, as an optimiser step makes
    changed = model.score(history)
    assert not np.allclose(changed, before)
    model.train()
    with torch.no_grad():
        model.eval()
        assert np.array_equal(model.score(history), changed)
