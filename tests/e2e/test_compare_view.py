"""CompareExplorer in the browser. Two models: its standalone page, opened from file:// with
the network blocked, draws both models' attention and the difference, marks what only one
model recommends, switches heads with the keyboard and links hover across both halves. Two
users (served by Voila, with a kernel): typing another user into the user-B box redraws side
B, hover links an item both users bought, and an unknown user is named with the pair kept."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from explorer_page import (
    assert_heatmap_drawn,
    draw_count,
    pixels,
    wait_for_redraw,
    wait_for_text,
    widget_root,
    write_notebook,
)

import attnwidget as aw
from attnwidget.widget.standalone import save_html

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

HOSTILE = "<img src=x onerror=window.__pwned=1>"
DIFF = "canvas.aw-compare-diff"

OVERLAY_INK = """el => {
  const c = el.parentElement.querySelector("canvas.aw-overlay");
  const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 3; i < data.length; i += 4) ink += data[i] > 0;
  return ink;
}"""


@pytest.fixture(scope="module")
def compare_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    n_items = 80
    items = pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(n_items)],
            "title": [f"{HOSTILE} #{k}" if k % 2 == 0 else f"Item {k}" for k in range(n_items)],
            "brand": [f"b{k % 5}" for k in range(n_items)],
        }
    )
    rng = np.random.default_rng(0)
    rows = [(f"u{u}", f"i{rng.integers(n_items)}", t) for u in range(12) for t in range(15)]
    interactions = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    shop = aw.Dataset.from_pandas(interactions, items, feature_cols=["brand"], title_col="title")
    a = aw.SASRec(shop, d_model=32, n_layers=2, n_heads=2, max_len=20, seed=0)
    b = aw.SASRec(shop, d_model=32, n_layers=2, n_heads=2, max_len=20, seed=1)
    widget = aw.CompareExplorer(a, b, shop, labels=["before", "after"])
    try:
        return save_html(widget, tmp_path_factory.mktemp("compare") / "compare.html")
    finally:
        widget.close()


def diff_sub(root: Locator) -> str:
    return root.locator(".aw-compare-diff-card .aw-sub").text_content() or ""


def test_compare_view_draws_marks_differences_and_links_hover(
    page: Page, blocked_requests: list[str], console_errors: list[str], screenshot, compare_page
) -> None:
    page.goto(compare_page.as_uri())
    root = widget_root(page)
    root.locator(f"{DIFF}[data-draw-count]").wait_for()
    for name in ("canvas.aw-compare-a", "canvas.aw-compare-b"):
        assert_heatmap_drawn(root.locator(name))
    diff = root.locator(DIFF)
    assert_heatmap_drawn(diff, min_cells_css_px=20)  # red/blue cells where attention moved
    assert "after − before" in diff_sub(root)

    lists = root.locator("ol.aw-compare-recs")
    only_a = lists.nth(0).locator(".aw-rec-only").count()
    only_b = lists.nth(1).locator(".aw-rec-only").count()
    assert only_a == only_b  # two full top-10s: as many leave as enter
    titles = lists.nth(0).locator(".aw-rec-title").all_text_contents()
    assert any(t.startswith(HOSTILE) for t in titles), titles  # markup shows as text
    assert root.locator("img").count() == 0 and page.evaluate("() => window.__pwned") is None
    screenshot("compare-view")

    # head 1 by keyboard: every heatmap redraws from the packs in the page
    before = pixels(diff).digest
    root.locator("input.aw-head-slider").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "el => el.textContent.includes('head 1')",
        arg=root.locator(".aw-compare-diff-card .aw-sub").element_handle(),
    )
    assert pixels(diff).digest != before

    # hover a cell of model A's heatmap: the same row and column light up in the difference
    assert diff.evaluate(OVERLAY_INK) == 0
    root.locator("canvas.aw-compare-a").scroll_into_view_if_needed()
    box = root.locator("canvas.aw-compare-a").bounding_box()
    cells = [
        float(v) for v in root.locator("canvas.aw-compare-a").get_attribute("data-cells").split(",")
    ]
    page.mouse.move(box["x"] + cells[0] + cells[2] * 0.3, box["y"] + cells[1] + cells[3] * 0.8)
    page.wait_for_function(f"() => ({OVERLAY_INK})(document.querySelector('{DIFF}')) > 0")

    # hover a recommendation both models make: it lights in the other list too
    shared = lists.nth(0).locator(".aw-rec:not(.aw-rec-only)").first
    item = shared.get_attribute("data-id")
    shared.hover()
    assert "aw-lit" in (
        lists.nth(1).locator(f'.aw-rec[data-id="{item}"]').get_attribute("class") or ""
    )
    assert blocked_requests == [] and console_errors == []


# --- two users through one model, in Voila ----------------------------------------------
HOSTILE_USER = "<img src=x onerror=window.__pwned=2>"
B_MAP = "canvas.aw-compare-b"
TWO_USERS_NOTEBOOK = f"""\
import numpy as np
import pandas as pd

import attnwidget as aw

n_items = 60
items = pd.DataFrame({{
    "item_id": [f"i{{k}}" for k in range(n_items)],
    "title": [f"{HOSTILE} #{{k}}" if k % 2 == 0 else f"Item {{k}}" for k in range(n_items)],
    "brand": [f"b{{k % 5}}" for k in range(n_items)],
}})
rng = np.random.default_rng(0)
users = [f"u{{u}}" for u in range(10)] + [{HOSTILE_USER!r}]
# every history starts with i1 ("Item 1"): an item both users of any pair bought
rows = [
    (u, "i1" if t == 0 else f"i{{rng.integers(2, n_items)}}", t) for u in users for t in range(12)
]
interactions = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
shop = aw.Dataset.from_pandas(interactions, items, feature_cols=["brand"], title_col="title")
model = aw.SASRec(shop, d_model=32, n_layers=2, n_heads=2, max_len=20, seed=0)
compare = aw.CompareExplorer.two_users(model, shop, "u0", "u1")
compare
"""


def rec_card_titles(root: Locator) -> list[str]:
    return root.locator(".aw-recs-card .aw-card-title").all_text_contents()


def test_two_users_side_b_follows_the_user_b_box(
    page: Page, voila_server, console_errors: list[str], screenshot, tmp_path: Path
) -> None:
    url = voila_server(write_notebook(tmp_path / "two-users.ipynb", [TWO_USERS_NOTEBOOK]))
    page.set_viewport_size({"width": 1280, "height": 1600})  # the screenshot holds both halves
    page.goto(url, timeout=120_000)
    root = widget_root(page)
    root.locator(f"{B_MAP}[data-draw-count]").wait_for(timeout=120_000)
    for name in ("canvas.aw-compare-a", B_MAP):
        assert_heatmap_drawn(root.locator(name))
    box_b = root.locator("input.aw-user-b-input")
    assert box_b.input_value() == "u1" and root.locator("input.aw-user-input").input_value() == "u0"
    assert rec_card_titles(root) == ["u0: recommendations", "u1: recommendations"]
    # different histories: no difference heatmap, and the view says why
    assert root.locator(".aw-compare-diff-card").is_hidden()
    note = root.locator(".aw-note").text_content() or ""
    assert "u0 and u1 have different histories" in note and "not defined" in note, note

    lists = root.locator("ol.aw-compare-recs")
    recs_a = lists.nth(0).locator(".aw-rec-title").all_text_contents()
    digest_a = pixels(root.locator("canvas.aw-compare-a")).digest
    digest_b = pixels(root.locator(B_MAP)).digest
    before = draw_count(root, B_MAP)

    # type another user into the user-B box like a person: side B changes, side A stays
    box_b.fill(HOSTILE_USER)
    box_b.press("Enter")
    wait_for_redraw(page, root, before, B_MAP, timeout_ms=60_000)
    wait_for_text(
        page, root.locator(".aw-recs-card .aw-card-title").nth(1), "(t, u) => t.startsWith(u)",
        HOSTILE_USER,
    )  # fmt: skip
    assert rec_card_titles(root) == ["u0: recommendations", f"{HOSTILE_USER}: recommendations"]
    assert pixels(root.locator(B_MAP)).digest != digest_b
    assert pixels(root.locator("canvas.aw-compare-a")).digest == digest_a
    assert lists.nth(0).locator(".aw-rec-title").all_text_contents() == recs_a
    assert HOSTILE_USER in (root.locator(".aw-note").text_content() or "")  # ids as text
    assert root.locator("img").count() == 0 and page.evaluate("() => window.__pwned") is None

    # hover the oldest item of u0's history (i1, bought by both): it lights in B's heatmap
    b_map = root.locator(B_MAP)
    assert b_map.evaluate(OVERLAY_INK) == 0
    a_map = root.locator("canvas.aw-compare-a")
    a_map.scroll_into_view_if_needed()
    box = a_map.bounding_box()
    x0, y0, _, height = (float(v) for v in a_map.get_attribute("data-cells").split(","))
    page.mouse.move(box["x"] + x0 + 2, box["y"] + y0 + height - 2)  # last query, first key
    page.wait_for_function(f"() => ({OVERLAY_INK})(document.querySelector('{B_MAP}')) > 0")
    screenshot("compare-two-users")

    # an unknown user is named in the error; the shown pair stays
    shown_b = pixels(b_map).digest
    box_b.fill("nobody")
    box_b.press("Enter")
    error = wait_for_text(page, root.locator(".aw-error"), "t => t.includes('nobody')")
    assert "user B" in error and root.locator(".aw-error").is_visible()
    page.wait_for_function(
        "([el, u]) => el.value === u", arg=[box_b.element_handle(), HOSTILE_USER]
    )
    assert rec_card_titles(root)[1] == f"{HOSTILE_USER}: recommendations"
    assert pixels(b_map).digest == shown_b
    assert console_errors == []
