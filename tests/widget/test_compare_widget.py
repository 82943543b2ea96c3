"""CompareExplorer: one history through two models, packs for both, refusals in ``error``."""

from __future__ import annotations

import pytest

import attnwidget as aw
from attnwidget.widget.payload import decode_pack


@pytest.fixture(scope="module")
def shop() -> aw.Dataset:
    return aw.synthetic_shop(n_users=30, n_items=120, seed=4)


@pytest.fixture(scope="module")
def models(shop):
    return (
        aw.SASRec(shop, d_model=16, n_layers=2, n_heads=2, max_len=10, seed=0),
        aw.SASRec(shop, d_model=16, n_layers=1, n_heads=4, max_len=6, seed=1),
    )


def test_both_models_explain_the_shown_users_history(shop, models) -> None:
    widget = aw.CompareExplorer(*models, shop, user=shop.users[3], labels=["before", "after"])
    header_a, arrays_a = decode_pack(widget.pack_a)
    header_b, arrays_b = decode_pack(widget.pack_b)
    assert header_a["user"] == header_b["user"] == shop.users[3] == widget.user
    assert arrays_a["seq_attn"].shape[:2] == (2, 2) and arrays_b["seq_attn"].shape[:2] == (1, 4)
    ids = [item["id"] for item in header_b["history"]]
    assert [item["id"] for item in header_a["history"]][-len(ids) :] == ids  # the same purchases
    widget.user = shop.users[7]
    assert (
        decode_pack(widget.pack_a)[0]["user"]
        == decode_pack(widget.pack_b)[0]["user"]
        == shop.users[7]
    )
    assert widget.error == ""


def test_a_user_that_cannot_be_shown_is_named_and_the_shown_one_stays(shop, models) -> None:
    widget = aw.CompareExplorer(*models, shop)
    before = widget.pack_a
    widget.user = "no such user"
    assert "no such user" in widget.error and widget.user == shop.users[0]
    assert widget.pack_a == before
    widget.user = shop.users[1]
    assert widget.error == ""


def test_bad_arguments_are_refused(shop, models) -> None:
    with pytest.raises(aw.ArgumentValueError, match="two non-empty names"):
        aw.CompareExplorer(*models, shop, labels=["only one"])
    with pytest.raises(aw.ArgumentTypeError, match="Dataset"):
        aw.CompareExplorer(*models, "shop")  # type: ignore[arg-type]
    with pytest.raises(aw.UnknownUserError):
        aw.CompareExplorer(*models, shop, user="nobody")
