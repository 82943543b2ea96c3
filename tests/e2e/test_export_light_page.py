"""The explorer's light static page (``attnwidget.widget.standalone``), opened from file://.

No widget manager, no require.js and no network: every request the page makes is file:, data:
or blob:. It draws, switches between the users of a 3-user export with real key presses and
clicks on the user slider, each switch redrawn within a bound, and text that could end a
script element (a ``</script>`` or ``<!--`` in an item title or a user id) stays text.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from explorer_page import (
    SEQ,
    assert_heatmap_drawn,
    pixels,
    rec_titles,
    visible_text,
    wait_drawn,
    widget_root,
)

import attnwidget as aw
from attnwidget.widget.payload import decode_archive, decode_pack
from attnwidget.widget.snapshot import ExplorerSnapshot
from attnwidget.widget.standalone import EXPLORER_HOST, page_html, save_html, trait_state

if TYPE_CHECKING:
    from playwright.sync_api import Page

# A keypress or click on the user control -> the next user's heatmap drawn. A switch is local
# (the pack is in the page): ~30 ms here at n <= 20, ~110 ms for the first one (cold code). The
# bound leaves room for a loaded 2-core machine and fails a switch that waits for something.
SWITCH_BOUND_MS = 1_000
# Page weight beyond the packs (base64) and the inline module (the widget's bundle, ~145 KB
# minified, with the ~3 KB host): the JSON state and the markup. The html-manager page
# carried ~3.7 MB of scripts.
OVERHEAD_BOUND_BYTES = 20_000

# Every draw of the sequence heatmap and every keydown/mousedown, on performance.now()'s clock.
PROBE = """
window.__aw = { draws: [], inputs: [], requests: [] };
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.matches?.("canvas.aw-seq-heatmap")) window.__aw.draws.push(performance.now());
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-draw-count"] });
for (const type of ["keydown", "mousedown"]) {
  addEventListener(type, (e) => window.__aw.inputs.push(e.timeStamp), true);
}
"""
NASTY = "</script><script>window.__pwned=1</script><!-- "


@pytest.fixture(scope="module")
def shop() -> aw.Dataset:
    return aw.synthetic_shop(n_users=60, n_items=150, seed=1)


@pytest.fixture(scope="module")
def export(shop: aw.Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = aw.SASRec(shop, d_model=32, n_layers=2, n_heads=2, max_len=20, seed=0)
    explorer = aw.AttentionExplorer(model, shop, agreement_users=2)
    out = tmp_path_factory.mktemp("light") / "explorer.html"
    return explorer.save_html(out, users=shop.users[:3])


def open_page(page: Page, path: Path) -> list[str]:
    """Open ``path`` with the probe installed; return the list every request's URL goes to."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(PROBE)
    page.goto(path.as_uri())
    return requests


def switch(page: Page, act) -> float:
    """Run ``act`` (a key press or click), wait for the next heatmap draw; input -> draw, in ms."""
    before = page.evaluate("() => [window.__aw.draws.length, window.__aw.inputs.length]")
    act()
    page.wait_for_function(
        "([d, i]) => window.__aw.draws.length > d && window.__aw.inputs.length > i", arg=before
    )
    return page.evaluate(
        "([d, i]) => window.__aw.draws[d] - window.__aw.inputs[window.__aw.inputs.length - 1]",
        before,
    )


# ------------------------------------------------------------------------------------ browser
def test_light_page_draws_offline_and_switches_users_by_keyboard_and_mouse(
    page: Page,
    blocked_requests: list[str],
    console_errors: list[str],
    screenshot,
    shop: aw.Dataset,
    export: Path,
) -> None:
    requests = open_page(page, export)
    root = widget_root(page)
    seq = wait_drawn(root)
    assert_heatmap_drawn(seq)
    assert page.title() == "attnwidget explorer"
    # none of the html-manager page's machinery is there
    assert page.evaluate("() => [typeof window.require, typeof window.define]") == ["undefined"] * 2
    text = export.read_text(encoding="utf-8")
    # the explorer's bundle and the host are one inline module: nothing to import
    module = EXPLORER_HOST.read_text(encoding="utf-8")
    assert f'<script type="module">{module}</script>' in text and 'id="aw-esm"' not in text
    assert "<style>None</style>" not in text  # no stray CSS block
    archive = len(trait_state(text)["archive"])
    assert len(text.encode()) - 4 / 3 * archive - len(module.encode()) < OVERHEAD_BOUND_BYTES

    box, slider = root.locator("input.aw-user-input"), root.locator("input.aw-user-slider")
    users, recs, times = [box.input_value()], [rec_titles(root)], []
    assert users == [shop.users[0]] and recs[0]

    def shown() -> None:
        users.append(box.input_value())
        recs.append(rec_titles(root))

    slider.focus()
    times.append(switch(page, lambda: page.keyboard.press("ArrowRight")))
    shown()
    times.append(switch(page, lambda: page.keyboard.press("ArrowRight")))
    shown()
    screenshot("light-page-third-user")
    times.append(switch(page, lambda: page.keyboard.press("Home")))
    shown()
    box_px = slider.bounding_box()
    assert box_px is not None
    at_end = (box_px["x"] + box_px["width"] - 2, box_px["y"] + box_px["height"] / 2)
    times.append(switch(page, lambda: page.mouse.click(*at_end)))
    shown()

    assert users == [shop.users[0], shop.users[1], shop.users[2], shop.users[0], shop.users[2]]
    assert len({tuple(r) for r in recs[:3]}) == 3, "another user shows the same recommendations"
    assert recs[3] == recs[0] and recs[4] == recs[2]
    assert root.locator(".aw-control").first.locator(".aw-value").text_content() == "3 of 3"
    assert all(t < SWITCH_BOUND_MS for t in times), f"switch times (ms): {times}"
    assert_heatmap_drawn(seq)
    assert visible_text(root, ".aw-error") == ""

    schemes = {re.match(r"[a-z]+:", url).group(0) for url in requests}
    assert schemes <= {"file:", "data:", "blob:"}, requests
    assert blocked_requests == []
    assert console_errors == []


def test_text_that_could_end_a_script_stays_text(
    page: Page, blocked_requests: list[str], console_errors: list[str], tmp_path: Path
) -> None:
    """A ``</script>`` / ``<!--`` in item titles and in a user id: the page parses into exactly
    the script elements written, draws, shows the text as typed, and nothing in it runs."""
    n_items = 24
    items = pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(n_items)],
            "title": [f"{NASTY}#{k}" if k % 2 else f"<!-- Item {k}" for k in range(n_items)],
        }
    )
    odd_user = f"u{NASTY}"
    rows = [(u, f"i{(k * 5 + j) % n_items}", k) for j, u in enumerate(["plain", odd_user])
            for k in range(9)]  # fmt: skip
    data = aw.Dataset.from_pandas(
        pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]), items, title_col="title"
    )
    model = aw.SASRec(data, d_model=16, n_layers=1, n_heads=2, max_len=10, seed=0)
    explorer = aw.AttentionExplorer(model, data, agreement_users=0)
    explorer.user = odd_user
    out = explorer.save_html(tmp_path / "nasty.html", users=["plain", odd_user])

    text = out.read_text(encoding="utf-8")
    # state, archive, payload, the bundle with its host
    assert text.lower().count("<script") == text.lower().count("</script") == 4
    open_page(page, out)
    assert page.locator("script").count() == 4
    root = widget_root(page)
    assert_heatmap_drawn(wait_drawn(root))
    assert root.locator("input.aw-user-input").input_value() == odd_user
    titles = rec_titles(root)
    catalogue = set(items["title"])
    assert titles and set(titles) <= catalogue, titles
    assert any(t.startswith(NASTY) for t in titles) or any(t.startswith("<!--") for t in titles)
    assert page.evaluate("() => window.__pwned") is None
    assert root.locator("script").count() == 0
    assert blocked_requests == []
    assert console_errors == []


def test_a_page_title_is_escaped(page: Page, blocked_requests: list[str], tmp_path: Path) -> None:
    title = "</title><script>window.__pwned=1</script> & <b>"
    snapshot = ExplorerSnapshot(user="u", users=["u"])
    try:
        out = save_html(snapshot, tmp_path / "t.html", title=title)
    finally:
        snapshot.close()
    assert f"<title>{html.escape(title)}</title>" in out.read_text(encoding="utf-8")
    page.goto(out.as_uri())
    assert page.title() == title
    assert page.evaluate("() => window.__pwned") is None
    assert blocked_requests == []


# ---------------------------------------------------------------------------- page writer only
def test_the_page_holds_each_trait_once_and_reads_back(export: Path, shop: aw.Dataset) -> None:
    state = trait_state(export.read_text(encoding="utf-8"))
    assert state["users"] == shop.users[:3] and state["user"] == shop.users[0]
    assert state["payload"] == b""
    packs = decode_archive(state["archive"])
    assert [decode_pack(p)[0]["user"] for p in packs] == shop.users[:3]
    assert not {"layout", "tooltip", "_esm", "_css", "_model_name"} & set(state)


def test_an_unsafe_bundle_travels_as_base64_and_a_url_is_refused(tmp_path: Path) -> None:
    snapshot = ExplorerSnapshot(user="u")
    try:
        snapshot._esm = 'export default { render({ el }) { el.textContent = "</script><!--"; } };'
        text = page_html(snapshot)
        assert 'id="aw-esm" data-encoding="base64">' in text
        assert text.count("</script") == text.count("<script")
        snapshot._esm = "https://cdn.example.org/widget.js"
        with pytest.raises(ValueError, match="is a URL"):
            page_html(snapshot)
    finally:
        snapshot.close()
    with pytest.raises(TypeError, match="anywidget"):
        page_html(object())  # type: ignore[arg-type]


def test_a_failed_write_keeps_the_old_page(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "report.html"
    path.write_text("old page")
    snapshot = ExplorerSnapshot(user="u")
    monkeypatch.setattr(
        "attnwidget.widget.standalone.json.dumps",
        lambda *a, **k: (_ for _ in ()).throw(TypeError("not JSON serializable")),
    )
    try:
        with pytest.raises(ValueError, match="cannot be written as JSON"):
            save_html(snapshot, path)
    finally:
        snapshot.close()
    assert path.read_text() == "old page"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_draw_from_the_light_page_matches_the_html_manager_page(
    page: Page, blocked_requests: list[str], export: Path, tmp_path: Path
) -> None:
    """The same snapshot through the generic export draws the same heatmap pixels."""
    from attnwidget.widget import html_export

    state = trait_state(export.read_text(encoding="utf-8"))
    snapshot = ExplorerSnapshot(**{k: v for k, v in state.items() if k != "payload"})
    try:
        old = html_export.save_html(snapshot, tmp_path / "old.html")
    finally:
        snapshot.close()
    digests = []
    for path in (export, old):
        page.goto(path.as_uri())
        digests.append(pixels(wait_drawn(widget_root(page))).digest)
    assert digests[0] == digests[1]
    assert page.locator(SEQ).count() == 1
    assert blocked_requests == []
