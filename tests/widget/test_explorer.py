import numpy as np
import pytest
import traitlets

from attnwidget import AttentionExplorer, Dashboard
from attnwidget.widget.payload import decode_archive, decode_pack


@pytest.fixture
def explorer(trained, shop):
    return AttentionExplorer(trained, shop, users=shop.users[:20], k=5)


def test_payload_carries_the_users_attention_as_binary_arrays(explorer, trained, shop):
    header, arrays = decode_pack(explorer.payload)
    expl = explorer.explanation()
    n = len(expl.history)
    assert header["user"] == shop.users[0] == explorer.user
    assert header["fields"] == ["item", "category", "brand", "price"]
    assert [h["title"] for h in header["history"]] == list(expl.history_table()["title"])
    assert [r["id"] for r in header["recommendations"]] == list(
        expl.recommendation_table()["item_id"]
    )
    assert arrays["seq_attn"].dtype == np.float16 and arrays["seq_attn"].shape == (2, 2, n, n)
    np.testing.assert_allclose(arrays["seq_attn"], expl.attentions, atol=1e-3)
    np.testing.assert_allclose(arrays["rollout"], expl.rollout, atol=1e-3)
    np.testing.assert_allclose(arrays["feat_attn"], expl.feature_attention, atol=1e-6)


def test_setting_attributes_moves_the_views(explorer, shop):
    first = explorer.payload
    explorer.user = shop.users[4]
    assert explorer.payload != first
    assert decode_pack(explorer.payload)[0]["user"] == shop.users[4]
    explorer.layer, explorer.head = 1, 1
    with pytest.raises(traitlets.TraitError, match=r"layer must be in 0..1, got 5"):
        explorer.layer = 5
    with pytest.raises(traitlets.TraitError):
        explorer.head_mode = "max"


def test_unknown_user_is_a_key_error_and_a_message_and_the_widget_keeps_working(explorer, shop):
    with pytest.raises(KeyError, match="unknown user 'zz'"):
        explorer.user = "zz"
    assert explorer.user == shop.users[0]
    assert "unknown user 'zz'" in explorer.error
    explorer.user = shop.users[2]
    assert explorer.error == "" and decode_pack(explorer.payload)[0]["user"] == shop.users[2]


def test_a_bad_user_from_the_browser_becomes_a_message(explorer, shop):
    explorer.set_state({"user": "nobody"})  # what a comm message from the front end does
    assert explorer.user == shop.users[0]
    assert "unknown user 'nobody'" in explorer.error
    explorer.set_state({"user": shop.users[1], "head": 1})
    assert explorer.user == shop.users[1] and explorer.head == 1


def test_explanations_are_cached_per_user_with_a_bound(trained, shop):
    explorer = AttentionExplorer(trained, shop, users=shop.users[:10], cache_size=3)
    for user in shop.users[:6]:
        explorer.user = user
    assert list(explorer._cache) == shop.users[3:6]
    cached = explorer.explanation(shop.users[5])
    assert explorer.explanation(shop.users[5]) is cached


def test_constructor_errors_name_the_problem(trained, shop):
    with pytest.raises(KeyError, match="unknown user 'ghost'"):
        AttentionExplorer(trained, shop, users=["ghost"])
    with pytest.raises(ValueError, match="users is empty"):
        AttentionExplorer(trained, shop, users=[])
    with pytest.raises(TypeError, match="SASRec or an AttentionSource"):
        AttentionExplorer(object(), shop)
    with pytest.raises(TypeError, match="Dataset"):
        AttentionExplorer(trained, shop.sequences)


def test_save_html_embeds_the_chosen_users_and_restores_the_widget(explorer, shop, tmp_path):
    explorer.user = shop.users[1]
    page = explorer.save_html(tmp_path / "report.html", users=shop.users[2:5])
    text = page.read_text()
    assert page.stat().st_size > 10_000 and "ATW" not in text[:100]
    assert all(user in text for user in shop.users[2:5])
    assert explorer.archive == b"" and explorer.user == shop.users[1]
    assert explorer.users == shop.users[:20]


def test_archive_holds_one_pack_per_exported_user(explorer, shop, monkeypatch, tmp_path):
    seen = {}

    def fake_save(widget, path, title):
        seen["archive"], seen["users"] = widget.archive, list(widget.users)
        return path

    monkeypatch.setattr("attnwidget.widget.explorer.save_html", fake_save)
    explorer.save_html(tmp_path / "x.html", users=shop.users[:3])
    packs = decode_archive(seen["archive"])
    assert [decode_pack(p)[0]["user"] for p in packs] == shop.users[:3]
    assert seen["users"] == shop.users[:3]


def test_dashboard_grid_click_moves_the_explorer_and_bars_follow(explorer):
    board = Dashboard(explorer, n_users=5)
    assert board.entropy.shape == (2, 2) and np.isfinite(board.entropy).all()
    assert board.children[0] is explorer
    bars_before = list(board.bars.y)
    assert len(bars_before) > 0 and max(bars_before) <= 1.0 + 1e-6
    board.grid.selected = np.array([[1, 0]])
    assert (explorer.layer, explorer.head) == (1, 0)
    explorer.head_mode = "mean"
    assert list(board.bars.y) != bars_before or explorer.n_heads == 1
