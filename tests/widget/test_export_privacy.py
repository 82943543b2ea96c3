"""save_html leaves the live explorer alone, and an anonymised page holds no original name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import traitlets

from attnwidget import AttentionExplorer
from attnwidget.cli import main
from attnwidget.widget.payload import decode_archive, decode_pack
from attnwidget.widget.standalone import trait_state


def page_explorer(path: Path) -> tuple[dict, list[dict]]:
    """The explorer's state in a saved page and the headers of its archived packs (the
    archive must be the page's only non-empty buffer: each pack is in the page once)."""
    state = trait_state(path.read_text(encoding="utf-8"))
    assert state.get("payload", b"") == b"", "the page holds a pack twice (payload too)"
    packs = decode_archive(state["archive"])
    return state, [decode_pack(p)[0] for p in packs]


@pytest.fixture
def explorer(trained, shop):
    return AttentionExplorer(trained, shop, users=shop.users[:20], k=5, agreement_users=2)


def test_save_html_does_not_touch_the_live_view(explorer, shop, tmp_path):
    explorer.user = shop.users[3]
    history = [h["id"] for h in decode_pack(explorer.payload)[0]["history"]]
    explorer.history_edit = history[1:]  # a what-if edit: the first item removed
    explorer.wait()
    explorer.selection = [0, 2]
    explorer.layer, explorer.head = 1, 1
    before = {name: getattr(explorer, name) for name in explorer.trait_names(sync=True)}
    changes: list[str] = []
    explorer.observe(lambda change: changes.append(change["name"]), names=traitlets.All)

    explorer.save_html(tmp_path / "report.html", users=shop.users[5:8])

    assert changes == []
    assert {name: getattr(explorer, name) for name in before} == before
    assert explorer.history_edit == history[1:] and explorer.selection == [0, 2]


def test_the_page_opens_on_the_current_view(explorer, shop, tmp_path):
    explorer.user = shop.users[6]
    explorer.layer, explorer.head, explorer.head_mode = 1, 0, "mean"
    page = explorer.save_html(tmp_path / "report.html", users=shop.users[5:8])
    state, headers = page_explorer(page)
    assert state["user"] == shop.users[6] and state["users"] == shop.users[5:8]
    assert (state["layer"], state["head"], state["head_mode"]) == (1, 0, "mean")
    assert [h["user"] for h in headers] == shop.users[5:8]


def originals(explorer, users) -> set[str]:
    """Every user id, item id and title the exported users' packs name."""
    names = set(users)
    for user in users:
        header = decode_pack(explorer.session.pack(explorer.explanation(user), editable=False))[0]
        for item in [*header["history"], *header["recommendations"], header["target"]]:
            names |= {str(item["id"]), item["title"]}
    return names


def test_anonymised_page_holds_none_of_the_names(explorer, shop, tmp_path):
    users = shop.users[2:6]
    page = explorer.save_html(
        tmp_path / "a.html", users=users, anonymize=True, anonymize_items=True
    )
    text = page.read_text(encoding="utf-8")
    state, headers = page_explorer(page)
    decoded = json.dumps(headers, ensure_ascii=False)
    names = originals(explorer, users)
    assert len(names) > 20
    leaked = sorted(n for n in names if n in text or n in decoded)
    assert leaked == []
    assert state["users"] == ["user 1", "user 2", "user 3", "user 4"]
    assert [h["user"] for h in headers] == state["users"]
    assert all(re.fullmatch(r"item \d+", item["title"]) for item in headers[0]["history"])
    assert headers[0]["history"][0]["features"]  # product features are kept


def test_plain_page_names_them_so_the_check_above_can_fail(explorer, shop, tmp_path):
    users = shop.users[2:4]
    _, headers = page_explorer(explorer.save_html(tmp_path / "p.html", users=users))
    decoded = json.dumps(headers, ensure_ascii=False)
    assert all(name in decoded for name in originals(explorer, users))


def test_item_pseudonyms_are_the_same_on_every_page_of_one_model(explorer, shop, tmp_path):
    first = explorer.save_html(
        tmp_path / "1.html", users=shop.users[2:4], anonymize=True, anonymize_items=True
    )
    second = explorer.save_html(
        tmp_path / "2.html", users=shop.users[3:5], anonymize=True, anonymize_items=True
    )
    a, b = page_explorer(first)[1][1], page_explorer(second)[1][0]  # the same user's pack
    assert [i["title"] for i in a["history"]] == [i["title"] for i in b["history"]]
    assert a["user"] == "user 2" and b["user"] == "user 1"  # user pseudonyms follow the page


def test_only_users_can_be_anonymised_and_items_need_users(explorer, shop, tmp_path):
    page = explorer.save_html(tmp_path / "u.html", users=shop.users[2:4], anonymize=True)
    _, headers = page_explorer(page)
    assert headers[0]["user"] == "user 1"
    assert headers[0]["history"][0]["title"] == shop.catalog.title(shop.sequence(shop.users[2])[0])
    with pytest.raises(ValueError, match="anonymize_items=True needs anonymize=True"):
        explorer.save_html(tmp_path / "x.html", anonymize_items=True)


def test_export_cli_anonymize_items(tmp_path, capsys):
    from tests.hostile.test_cli import write_csv_shop

    interactions, items = write_csv_shop(tmp_path)
    model = tmp_path / "m.pt"
    data = ["--data", str(interactions), "--items", str(items)]
    tiny = ["--epochs", "1", "--d-model", "16", "--layers", "1", "--heads", "1", "--max-len", "8"]
    assert main(["train", *data, "--out", str(model), "--no-progress", *tiny]) == 0
    out = tmp_path / "shared.html"
    export = ["export", "--model", str(model), *data, "--users", "u3,u4", "--out", str(out)]
    assert main([*export, "--anonymize-items"]) == 0
    text = out.read_text(encoding="utf-8")
    _, headers = page_explorer(out)
    decoded = json.dumps(headers)
    assert not re.search(r"\bu[34]\b|Item \d+", text + decoded)
    assert [h["user"] for h in headers] == ["user 1", "user 2"]
