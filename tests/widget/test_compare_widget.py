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


# --- two users through one model -------------------------------------------------------
def history_ids(header: dict) -> list[str]:
    return [item["id"] for item in header["history"]]


def expected_history(model, shop, user) -> list[str]:
    expl = aw.explain(model, shop, user)
    return [expl.catalog.item_id(int(i)) for i in expl.history]


def test_two_users_explain_each_users_own_history(shop, models) -> None:
    model = models[0]
    u1, u2, u3 = shop.users[3], shop.users[7], shop.users[11]
    widget = aw.CompareExplorer.two_users(model, shop, u1, u2)
    assert widget.mode == "users" and (widget.user, widget.user_b) == (u1, u2)
    assert widget.labels == [u1, u2]  # the labels default to the two user ids
    header_a, arrays_a = decode_pack(widget.pack_a)
    header_b, arrays_b = decode_pack(widget.pack_b)
    assert (header_a["user"], header_b["user"]) == (u1, u2)
    assert history_ids(header_a) == expected_history(model, shop, u1)
    assert history_ids(header_b) == expected_history(model, shop, u2)
    assert history_ids(header_a) != history_ids(header_b)
    assert arrays_a["seq_attn"].shape[:2] == arrays_b["seq_attn"].shape[:2] == (2, 2)

    pack_a = widget.pack_a
    widget.user_b = u3  # side B moves, side A stays
    assert decode_pack(widget.pack_b)[0]["user"] == u3 and widget.pack_a == pack_a
    assert history_ids(decode_pack(widget.pack_b)[0]) == expected_history(model, shop, u3)
    assert widget.labels == [u1, u3] and widget.error == ""
    pack_b = widget.pack_b
    widget.user = u2  # side A moves, side B stays
    assert decode_pack(widget.pack_a)[0]["user"] == u2 and widget.pack_b == pack_b
    assert [str(e.user) for e in widget.explanations] == [u2, u3]


def test_two_users_through_two_models_with_own_labels(shop, models) -> None:
    u1, u2 = shop.users[1], shop.users[2]
    widget = aw.CompareExplorer(*models, shop, u1, user_b=u2, labels=["Ann", "Bo"])
    assert widget.mode == "users" and widget.labels == ["Ann", "Bo"]
    widget.user_b = shop.users[4]
    assert widget.labels == ["Ann", "Bo"]  # given labels are kept
    assert history_ids(decode_pack(widget.pack_b)[0]) == expected_history(
        models[1], shop, shop.users[4]
    )


def test_comparing_models_keeps_its_defaults(shop, models) -> None:
    widget = aw.CompareExplorer(*models, shop)
    assert (widget.mode, widget.user_b, widget.labels) == ("models", "", ["A", "B"])
    with pytest.raises(aw.DataError, match="compares two models"):
        widget.user_b = shop.users[2]
    assert widget.user_b == "" and "compares two models" in widget.error


def test_an_unknown_user_b_is_named_and_the_shown_pair_stays(shop, models) -> None:
    u1, u2 = shop.users[0], shop.users[5]
    with pytest.raises(aw.UnknownUserError, match="nobody"):
        aw.CompareExplorer.two_users(models[0], shop, u1, "nobody")
    widget = aw.CompareExplorer.two_users(models[0], shop, u1, u2)
    packs = (widget.pack_a, widget.pack_b)

    with pytest.raises(aw.UnknownUserError, match="nobody"):  # from Python: raised
        widget.user_b = "nobody"
    assert "nobody" in widget.error and "user B" in widget.error
    assert (widget.user, widget.user_b, widget.labels) == (u1, u2, [u1, u2])
    assert (widget.pack_a, widget.pack_b) == packs

    widget.error = ""
    widget.set_state({"user_b": "<b>nobody</b>"})  # from the browser: only named in error
    assert "<b>nobody</b>" in widget.error and widget.user_b == u2
    assert (widget.pack_a, widget.pack_b) == packs
    widget.set_state({"user_b": shop.users[6]})
    assert widget.error == "" and decode_pack(widget.pack_b)[0]["user"] == shop.users[6]
    widget.set_state({"mode": "models"})  # the browser cannot switch what is compared
    assert widget.mode == "users"
