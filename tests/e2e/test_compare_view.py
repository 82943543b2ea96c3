"""CompareExplorer in the browser: its standalone page, opened from file:// with the network
blocked, draws both models' attention and the difference, marks what only one model
recommends, switches heads with the keyboard and links hover across both halves."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from explorer_page import assert_heatmap_drawn, pixels, widget_root

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
