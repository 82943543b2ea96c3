import numpy as np
import pytest
import traitlets

from attnwidget import AttentionExplorer, Dashboard, explain_history
from attnwidget.widget.payload import decode_archive, decode_pack
from attnwidget.widget.standalone import trait_state


@pytest.fixture
def explorer(trained, shop):
    explorer = AttentionExplorer(trained, shop, users=shop.users[:20], k=5)
    explorer.wait()  # occlusion of the first user is computed in the background
    return explorer


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
    assert header["arrays"]["seq_attn"]["dtype"] == "log12"  # 12-bit codes, lower triangle
    assert header["arrays"]["seq_attn"]["layout"] == "lower"
    assert arrays["seq_attn"].shape == (2, 2, n, n)
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
        explorer.wait()  # the complete explanation is cached when occlusion is done
    assert explorer.session.cached_users() == shop.users[3:6]
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
    assert list(explorer.users) == shop.users[:20]


def test_archive_holds_one_pack_per_exported_user(explorer, shop, tmp_path):
    page = explorer.save_html(tmp_path / "x.html", users=shop.users[:3])
    seen = trait_state(page.read_text(encoding="utf-8"))
    packs = decode_archive(seen["archive"])
    assert [decode_pack(p)[0]["user"] for p in packs] == shop.users[:3]
    assert seen["users"] == shop.users[:3] and seen["payload"] == b""


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


def payloads_sent(explorer):
    """Record every payload the explorer sends, in order."""
    sent = []
    explorer.observe(lambda change: sent.append(decode_pack(change["new"])), names="payload")
    return sent


def test_the_why_panel_data_matches_the_explanation(explorer):
    header, arrays = decode_pack(explorer.payload)
    expl = explorer.explanation()
    importance = header["importance"]
    assert importance["methods"] == ["attention", "rollout", "gradient", "occlusion"]
    assert importance["pending"] == []
    np.testing.assert_allclose(arrays["importance"], expl.importance[importance["methods"]].T)
    agreement = {
        m: a["kendall_tau"] for m, a in importance["agreement"].items() if m != "occlusion"
    }
    assert importance["default"] == max(agreement, key=agreement.get)
    assert importance["n_users"] == 20  # all of the explorer's users (fewer than 30)
    assert header["target"]["id"] == header["recommendations"][0]["id"]
    assert header["editable"] is True and header["what_if"] is None


def test_the_explorer_shows_at_once_and_the_model_agreement_follows(trained, shop):
    explorer = AttentionExplorer(trained, shop, users=shop.users[:20], k=5, agreement_users=5)
    first = decode_pack(explorer.payload)[0]["importance"]
    assert "agreement" in first["pending"] and first["n_users"] == 1  # this user's own
    explorer.wait()
    done = decode_pack(explorer.payload)[0]["importance"]
    assert done["pending"] == [] and done["n_users"] == 5
    assert done["agreement"] == {
        m: {k: pytest.approx(v, nan_ok=True) for k, v in a.items()}
        for m, a in explorer.agreement.items()
    }
    sampled = [u for u in shop.users[:20] if explorer.session.cached(u) is not None]
    assert len(sampled) >= 5  # the sample's explanations are kept: switching to them is instant
    sent = payloads_sent(explorer)
    explorer.user = next(u for u in sampled if u != explorer.user)
    assert [p[0]["importance"]["pending"] for p in sent] == [[]]


def test_a_new_user_draws_at_once_then_gets_the_model_runs_in_the_background(trained, shop):
    """Gradient, occlusion, feature occlusion, the reasons and the counterfactual follow."""
    explorer = AttentionExplorer(trained, shop, users=shop.users[:20], k=5, agreement_users=0)
    explorer.wait()
    sent = payloads_sent(explorer)
    explorer.user = shop.users[6]
    explorer.wait()
    (fast, _), (full, arrays) = sent
    assert fast["user"] == full["user"] == shop.users[6]
    pending = ["gradient", "occlusion", "feature_occlusion", "reasons", "counterfactual"]
    assert fast["importance"]["pending"] == pending  # no extra model pass
    assert full["importance"]["pending"] == []
    assert np.isfinite(arrays["importance"]).all()
    # the score drop without each field of each item, as the explanation has it
    expl = explorer.session.cached(shop.users[6])
    drops = expl.feature_importance[[f"occlusion:{f}" for f in expl.field_names[1:]]]
    np.testing.assert_allclose(arrays["feat_occlusion"], drops.to_numpy(), rtol=1e-6)
    # a sentence under each of the first recommendations, their titles as plain text
    reasons = full["reasons"]
    assert len(reasons) == 5 and all(r is not None for r in reasons[:3]) and reasons[3] is None
    assert all("".join(text for _, text in r["parts"]) == r["text"] for r in reasons[:3])
    # the counterfactual verifies: the history it offers takes the target out of the top-k
    cf = full["counterfactual"]
    if cf["found"]:
        edited = explain_history(trained, shop, cf["edited_history"], k=5)
        top = [edited.catalog.item_id(int(i)) for i in edited.recommendations]
        assert full["target"]["id"] not in top and cf["k"] == 5
        assert len(cf["edited_history"]) == len(expl.history) - len(cf["removed"])
    else:
        assert cf["message"].startswith("no set of")
    assert explorer.status == ""
    sent.clear()
    explorer.user = shop.users[0]  # cached: one complete pack
    assert [p[0]["importance"]["pending"] for p in sent] == [[]]


def test_the_users_next_to_the_shown_one_are_explained_ahead(trained, shop):
    explorer = AttentionExplorer(trained, shop, users=shop.users[:20], k=5, agreement_users=0)
    explorer.user = shop.users[10]
    explorer.wait()
    explorer.session.idle()  # the work queued behind the view is done
    ahead = explorer.session.ahead_users()
    assert set(ahead) >= {shop.users[i] for i in (8, 9, 11, 12)}  # 2 either side
    assert shop.users[14] not in ahead
    explained = []
    explorer.session.explain = lambda user: explained.append(user)  # called when not ahead
    sent = payloads_sent(explorer)
    explorer.user = shop.users[11]
    assert explained == [] and sent[0][0]["user"] == shop.users[11]
    assert sent[0][0]["importance"]["pending"] == [
        "gradient",
        "occlusion",
        "feature_occlusion",
        "reasons",
        "counterfactual",
    ]
    del explorer.session.explain
    explorer.wait()
    assert sent[-1][0]["user"] == shop.users[11] and sent[-1][0]["importance"]["pending"] == []


def test_late_occlusion_never_replaces_a_newer_view(trained, shop):
    explorer = AttentionExplorer(trained, shop, users=shop.users[:20], k=5, agreement_users=0)
    explorer.wait()
    sent = payloads_sent(explorer)
    explorer.user = shop.users[7]  # occlusion for u7 starts in the background
    explorer.user = shop.users[0]  # cached: shown at once
    explorer.wait()
    header = decode_pack(explorer.payload)[0]
    assert header["user"] == shop.users[0] and header["importance"]["pending"] == []
    assert sent[-1][0]["user"] == shop.users[0]
    assert all(p[0]["user"] != shop.users[7] or p[0]["importance"]["pending"] for p in sent)


def test_what_if_removing_an_item_shows_the_edited_history_and_the_change(explorer, trained):
    original = explorer.explanation()
    top = int(np.nanargmax(original.importance["occlusion"]))
    ids = list(original.importance["item_id"])
    explorer.history_edit = ids[:top] + ids[top + 1 :]
    explorer.wait()
    header, _ = decode_pack(explorer.payload)
    assert [h["id"] for h in header["history"]] == explorer.history_edit
    # the edited explanation keeps the original target's score change equal to occlusion
    before = original.scores[original.target]
    after = explorer.edited.scores[original.target]
    assert before - after == pytest.approx(original.importance["occlusion"][top], abs=1e-4)
    what_if = header["what_if"]
    assert what_if["original_history"] == ids
    old = [r["id"] for r in what_if["original_recommendations"]]
    new = [r["id"] for r in header["recommendations"]]
    assert [r["id"] for r in what_if["entered"]] == [i for i in new if i not in old]
    assert [r["id"] for r in what_if["left"]] == [i for i in old if i not in new]
    explorer.history_edit = []  # back to the user's own history
    assert explorer.edited is None
    assert decode_pack(explorer.payload)[0]["what_if"] is None


def test_what_if_adding_an_item_and_switching_user_resets_it(explorer, shop):
    ids = list(explorer.explanation().importance["item_id"])
    added = explorer.search_items("lens")[0]["id"]
    explorer.history_edit = [*ids, added]
    assert decode_pack(explorer.payload)[0]["history"][-1]["id"] == added
    explorer.user = shop.users[3]
    assert explorer.history_edit == [] and explorer.edited is None
    assert decode_pack(explorer.payload)[0]["what_if"] is None


def test_what_if_with_an_unknown_item_is_a_message_and_keeps_the_view(explorer):
    before = explorer.payload
    with pytest.raises(KeyError, match="unknown item 'nope'"):
        explorer.history_edit = ["nope"]
    assert "unknown item 'nope'" in explorer.error and explorer.payload == before
    explorer.set_state({"history_edit": ["nope", "neither"]})  # from the browser
    assert explorer.history_edit == [] and explorer.payload == before


def test_item_search_by_title_or_id_for_the_add_box(explorer, shop):
    found = explorer.search_items("LENS", limit=3)
    assert 0 < len(found) <= 3 and all("lens" in f["title"].lower() for f in found)
    first = shop.items["item_id"].iloc[0]
    assert {"id": first, "title": shop.items["title"].iloc[0]} in explorer.search_items(first)
    assert explorer.search_items("   ") == [] and explorer.search_items("zzzz-none") == []
    sent = []
    explorer.send = sent.append  # what the kernel would send back to the browser
    explorer._on_message(explorer, {"type": "search", "query": "lens"}, [])
    assert sent[0]["type"] == "search_results" and sent[0]["query"] == "lens"
    assert sent[0]["items"] == explorer.search_items("lens")


def test_method_is_validated_and_static_exports_are_not_editable(explorer, tmp_path):
    explorer.method = "occlusion"
    with pytest.raises(traitlets.TraitError):
        explorer.method = "magic"
    page = explorer.save_html(tmp_path / "page.html").read_text(encoding="utf-8")
    state = trait_state(page)
    assert state["method"] == "occlusion"
    assert [decode_pack(p)[0]["editable"] for p in decode_archive(state["archive"])] == [False]


def test_exporting_opens_no_widget_in_the_kernel(explorer, tmp_path, monkeypatch):
    """A widget made for the page would open a comm; its front end would start a model that
    the export then aborts ("Failed to initialize model" in Notebook 7)."""
    opened = []
    monkeypatch.setattr(
        "ipywidgets.Widget.open", lambda self: opened.append(type(self).__name__), raising=True
    )
    explorer.save_html(tmp_path / "page.html")
    assert opened == []


def test_what_if_on_a_long_history_keeps_the_older_items_as_seen(trained, shop):
    long_user = next(u for u in shop.users if len(shop.sequence(u)) > trained.config.max_len)
    explorer = AttentionExplorer(trained, shop, users=[long_user], k=5, agreement_users=0)
    header, _ = decode_pack(explorer.payload)
    assert header["truncated"]["shown"] == trained.config.max_len
    explorer.history_edit = [h["id"] for h in header["history"]]  # the same visible items
    explorer.wait()
    what_if = decode_pack(explorer.payload)[0]["what_if"]
    assert what_if["entered"] == [] and what_if["left"] == []


def shown_user_and_history(explorer):
    header = decode_pack(explorer.payload)[0]
    return header["user"], [h["id"] for h in header["history"]]


def test_browser_changes_of_user_and_edit_are_shown(explorer, shop):
    """What a comm message does (set_state holds notifications: validators run after every
    trait of the message is set, so the trait already holds the new value)."""
    explorer.set_state({"user": shop.users[4]})
    assert explorer.error == "" and explorer.user == shop.users[4]
    user, history = shown_user_and_history(explorer)
    assert user == shop.users[4] and len(history) > 1

    explorer.set_state({"history_edit": history[1:]})
    explorer.wait()
    assert explorer.error == "" and shown_user_and_history(explorer)[1] == history[1:]
    assert explorer.edited is not None

    explorer.set_state({"user": shop.users[5], "history_edit": [], "selection": []})
    assert explorer.error == "" and explorer.history_edit == []
    user, history5 = shown_user_and_history(explorer)
    assert user == shop.users[5] and history5 != history
    assert explorer.edited is None


def test_a_browser_click_on_the_entropy_grid_reaches_the_explorer(explorer):
    """What the comm does with a click: bqplot sends the cell as a list of lists."""
    board = Dashboard(explorer, n_users=5)
    board.grid.set_state({"selected": [[1, 1]]})
    assert (explorer.layer, explorer.head) == (1, 1)
    assert board.grid.selected.dtype.kind == "i"
