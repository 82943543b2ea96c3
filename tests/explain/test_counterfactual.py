"""Counterfactuals: every reported set verifies by re-scoring the edited history; the search's
honesty (not found, proven minimal); bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from attnwidget import (
    ArgumentTypeError,
    ArgumentValueError,
    UnknownItemError,
    explain,
    explain_history,
)
from attnwidget.explain.explanation import explain_indices
from attnwidget.sources import MultiheadAttentionSource, as_source

from .handmade import LinearSource, shop_catalog

N = 8  # hand-made catalogue: i1..i8


class EncoderRec(nn.Module):
    """Item embeddings → causal nn.TransformerEncoder → last position · item embeddings."""

    def __init__(self, n_items: int, d: int = 16) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.items = nn.Embedding(n_items + 1, d)
        layer = nn.TransformerEncoderLayer(d, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        n = items.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(n)
        h = self.encoder(self.items(items), mask=mask, is_causal=True)
        return h[:, -1] @ self.items.weight.T


@pytest.fixture(scope="module")
def wrapped(shop):
    return MultiheadAttentionSource(EncoderRec(shop.catalog.n_items), shop, max_len=20)


def linear(target_weights, bias_others=1.0):
    """History i1..i4, target i5 scored by ``target_weights`` of i1..i4; i6 a fixed
    competitor at ``bias_others``; the others never compete."""
    weights = np.zeros((N + 1, N + 1))
    weights[1:5, 5] = target_weights
    bias = np.full(N + 1, -10.0)
    bias[5], bias[6] = 0.0, bias_others
    source = LinearSource(shop_catalog([f"item {k}" for k in range(1, N + 1)]), weights, bias)
    return source, explain_history(source, None, ["i1", "i2", "i3", "i4"], k=1)


def rescored_rank(source, user_history, cut_off, edited_ids, item, k):
    """The item's rank in the top-k after the edited history, as the explorer's what-if
    edit computes it (an independent path: explain_indices), or None when it is not in."""
    edited = source.catalog.encode(edited_ids)
    expl = explain_indices(source, edited, k=k, bought_before=cut_off)
    recs = [source.catalog.item_id(int(i)) for i in expl.recommendations]
    return recs.index(item) + 1 if item in recs else None


def check_verifies(source, shop, user, cf):
    full = shop.aligned_to(source.catalog).sequence(user)
    expl = explain(source, shop, user, k=cf.k)
    cut_off = full[: len(full) - len(expl.history)]
    rank = rescored_rank(source, full, cut_off, cf.edited_history, cf.item, cf.k)
    if cf.found:
        assert rank is None, cf.message  # out of the top-k, as stated
        assert cf.rank_after > cf.k >= cf.rank_before
        kept = np.delete(np.arange(len(expl.history)), list(cf.positions))
        assert list(cf.edited_history) == [
            source.catalog.item_id(int(i)) for i in expl.history[kept]
        ]
        assert list(cf.item_ids) == [
            source.catalog.item_id(int(expl.history[p])) for p in cf.positions
        ]
    else:  # the original history stays; the closest attempt leaves the item at rank_after
        assert cf.positions == () and rank == cf.rank_before
        kept = np.delete(np.arange(len(expl.history)), list(cf.closest))
        closest = [source.catalog.item_id(int(i)) for i in expl.history[kept]]
        assert rescored_rank(source, full, cut_off, closest, cf.item, cf.k) == cf.rank_after
        assert cf.rank_after <= cf.k


@pytest.mark.parametrize("model_kind", ["sasrec", "torch"])
def test_every_reported_counterfactual_verifies(trained, wrapped, shop, model_kind):
    source = as_source(trained) if model_kind == "sasrec" else wrapped
    found = 0
    for user in shop.users[:12]:
        expl = explain(source, shop, user, k=5)
        cf = expl.counterfactual(max_size=4)
        check_verifies(source, shop, user, cf)
        found += cf.found
        assert cf.forward_passes > 0 and cf.seconds > 0
        assert cf.score_before == pytest.approx(float(expl.scores[expl.target]), abs=1e-4)
    assert found >= 6  # most top recommendations move with a few removals


def test_a_lower_recommendation_and_a_rank_threshold(trained, shop):
    source = as_source(trained)
    user = shop.users[3]
    expl = explain(source, shop, user, k=10)
    third = source.catalog.item_id(int(expl.recommendations[2]))
    cf = expl.counterfactual(third, k=5)
    assert cf.item == third and cf.rank_before == 3 and cf.k == 5
    check_verifies(source, shop, user, cf)


def test_the_smallest_set_is_found_and_proven_minimal():
    # i1 and i2 carry the target; removing both (2.6 → 0.6) puts it below i6 (1.0)
    _, expl = linear([1.0, 1.0, 0.3, 0.3], bias_others=1.0)
    cf = expl.counterfactual()
    assert cf.found and cf.positions == (0, 1) and cf.item_ids == ("i1", "i2")
    assert cf.titles == ("item 1", "item 2")
    assert cf.exhaustive and cf.rank_before == 1 and cf.rank_after == 2
    assert cf.score_after == pytest.approx(0.6)
    assert cf.edited_history == ("i3", "i4")
    assert "from rank 1 to rank 2" in cf.message


def test_pruning_puts_back_what_is_not_needed():
    # i4 alone suffices (weight 3.5 of 4.1, competitor at 1.0)
    _, expl = linear([0.2, 0.2, 0.2, 3.5], bias_others=1.0)
    cf = expl.counterfactual()
    assert cf.found and cf.positions == (3,) and cf.exhaustive


def test_not_found_says_so_and_that_every_set_was_checked():
    _, expl = linear([0.0, 0.0, 0.0, 0.0], bias_others=-1.0)  # nothing moves the target
    cf = expl.counterfactual(max_size=3)
    assert not cf.found and cf.positions == () and cf.item_ids == ()
    assert cf.message == "no set of ≤ 3 items found (all 14 such sets checked)"
    assert cf.exhaustive and cf.rank_after == 1 and len(cf.closest) == 3
    assert cf.edited_history == ("i1", "i2", "i3", "i4")


def test_not_found_without_the_exhaustive_check_says_it_was_greedy():
    _, expl = linear([0.0, 0.0, 0.0, 0.0], bias_others=-1.0)
    cf = expl.counterfactual(max_size=3, exhaustive_limit=0)
    assert not cf.found and not cf.exhaustive
    assert cf.message == "no set of ≤ 3 items found (greedy search; not every set was checked)"


def test_max_size_bounds_the_search():
    _, expl = linear([1.0, 1.0, 0.3, 0.3], bias_others=1.0)
    cf = expl.counterfactual(max_size=1)
    assert not cf.found and cf.max_size == 1 and "≤ 1 items" in cf.message


def test_removed_items_may_be_recommended_again_as_in_the_what_if():
    # i1 carries the target; without it i1 itself (scored 5 by its bias) is recommendable
    source, expl = linear([0.5, 0.0, 0.0, 0.0], bias_others=-1.0)
    source.bias[1] = 5.0
    cf = expl.counterfactual()
    assert cf.found and cf.positions == (0,) and cf.rank_after == 2


def test_what_would_add_finds_the_item_and_verifies(trained, shop):
    source = as_source(trained)
    checked = 0
    for user in shop.users[:6]:
        expl = explain(source, shop, user, k=10)
        order = np.argsort(-np.nan_to_num(expl.scores, neginf=-1e30), kind="stable")
        item = source.catalog.item_id(int(order[15]))
        add = expl.what_would_add(item, dataset=shop)
        assert add.rank_before == 16 and add.tried == add.candidates and add.complete
        if add.found:
            checked += 1
            full = shop.aligned_to(source.catalog).sequence(user)
            cut = full[: len(full) - len(expl.history)]
            rank = rescored_rank(source, full, cut, add.edited_history, item, 10)
            assert rank == add.rank_after <= 10
            assert add.edited_history[-1] == add.added
    assert checked >= 3


def test_what_would_add_is_bounded_in_time_and_pool(trained, shop):
    expl = explain(trained, shop, shop.users[0])
    order = np.argsort(-np.nan_to_num(expl.scores, neginf=-1e30), kind="stable")
    item = trained.catalog.item_id(int(order[40]))
    small = expl.what_would_add(item, pool=5)
    assert small.candidates == 5 and small.tried == 5
    hurried = expl.what_would_add(item, seconds=1e-9)
    assert not hurried.complete and hurried.tried < hurried.candidates
    assert "candidates tried in" in hurried.message


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda e, far: e.counterfactual(far), ArgumentValueError),  # not recommended
        (lambda e, far: e.counterfactual(k=0), ArgumentValueError),
        (lambda e, far: e.counterfactual(k="3"), ArgumentTypeError),
        (lambda e, far: e.counterfactual(k=10_000), ArgumentValueError),
        (lambda e, far: e.counterfactual(max_size=0), ArgumentValueError),
        (lambda e, far: e.counterfactual(exhaustive_limit=-1), ArgumentValueError),
        (lambda e, far: e.counterfactual("no such item"), UnknownItemError),
        (lambda e, far: e.counterfactual(e.history_table()["item_id"][0]), ArgumentValueError),
        (lambda e, far: e.what_would_add(None), ArgumentValueError),
        (
            lambda e, far: e.what_would_add(e.recommendation_table(0)["item_id"][0]),
            ArgumentValueError,
        ),
        (lambda e, far: e.what_would_add(far, pool=0), ArgumentValueError),
        (lambda e, far: e.what_would_add(far, seconds=float("nan")), ArgumentValueError),
        (lambda e, far: e.what_would_add(far, dataset="shop"), ArgumentTypeError),
    ],
)
def test_bad_input_is_refused_with_a_package_error(trained, shop, call, error):
    expl = explain(trained, shop, shop.users[1], k=5)
    order = np.argsort(-np.nan_to_num(expl.scores, neginf=-1e30), kind="stable")
    far = trained.catalog.item_id(int(order[30]))
    with pytest.raises(error):
        call(expl, far)


def test_a_nan_score_for_the_item_is_refused_and_nan_elsewhere_is_never_ranked():
    source, expl = linear([1.0, 1.0, 0.3, 0.3], bias_others=1.0)
    source.bias[7] = np.nan  # another item scoring NaN is never ranked
    cf = explain_history(source, None, ["i1", "i2", "i3", "i4"], k=1).counterfactual()
    assert cf.found and cf.positions == (0, 1)
    source.bias[5] = np.nan
    expl = explain_history(source, None, ["i1", "i2", "i3", "i4"], item="i5", k=1)
    with pytest.raises(ArgumentValueError, match="nan"):
        expl.counterfactual("i5")


def test_a_source_that_cannot_rerun_gets_a_clear_error():
    source, expl = linear([1.0, 1.0, 0.3, 0.3])
    source.can_rerun = False
    with pytest.raises(ArgumentTypeError, match="can_rerun = False"):
        expl.counterfactual()
    with pytest.raises(ArgumentTypeError, match="can_rerun = False"):
        expl.what_would_add("i6")
