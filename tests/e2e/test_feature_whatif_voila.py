"""Feature what-if in the Voila demo app (issue 12, part 3): change a history item's brand
with real clicks and ``select_option`` on the why panel's form (``button.aw-feature-edit`` on
a row, ``select.aw-feature-field`` / ``select.aw-feature-value``, ``button.aw-feature-apply``),
wait for the kernel's answer, see the recommendations or importance change and the banner
name the change in words; "Back to the original history" restores the original.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from explorer_page import (
    IMPORTANCE_BARS,
    assert_heatmap_drawn,
    back_to_original_history,
    draw_count,
    open_demo_app,
    rec_titles,
    wait_for_kernel_answer,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.timeout(600)
BARS = IMPORTANCE_BARS
FORM = ".aw-feature-editor"


def bar_values(root: Locator) -> list[tuple[str, str]]:
    """(width, value text) of each importance bar, oldest history item first."""
    return root.locator(f"{BARS} .aw-imp-row").evaluate_all(
        """rows => rows.map(r => [
            r.querySelector(".aw-imp-bar").style.width,
            r.querySelector(".aw-imp-value").textContent,
        ])"""
    )


def test_change_a_brand_and_go_back(
    page: Page, voila_app: str, console_errors: list[str], screenshot
) -> None:
    root = open_demo_app(page, voila_app, also=(FORM,))
    banner = root.locator(".aw-what-if")
    assert not banner.is_visible()
    form = root.locator(FORM)
    rows = root.locator(f"{BARS} .aw-imp-row")
    original_recs = rec_titles(root)
    original_bars = bar_values(root)
    titles = root.locator(f"{BARS} .aw-imp-title").all_text_contents()
    n = len(titles)
    assert n > 1 and rows.locator(".aw-feature-edit").count() == n

    # the newest item's ✎ points the form at it and focuses the field select
    rows.last.locator(".aw-feature-edit").click()
    field = form.locator("select.aw-feature-field")
    assert field.evaluate("el => el === document.activeElement")
    assert form.locator("select.aw-feature-item").input_value() == str(n - 1)
    field.select_option("brand")
    value = form.locator("select.aw-feature-value")
    current = value.input_value()
    brands = value.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert current in brands and len(brands) > 2, brands
    new = next(b for b in brands if b not in (current, "<unknown>"))
    apply = form.locator("button.aw-feature-apply")
    assert apply.is_disabled()  # the item's own value changes nothing
    value.select_option(new)
    assert apply.is_enabled()

    before = draw_count(root)
    apply.click()
    wait_for_kernel_answer(page, root, before)
    banner.wait_for(state="visible")
    text = banner.locator(".aw-what-if-text").text_content() or ""
    assert f"brand of '{titles[-1]}' → {new}" in text, text
    assert "(1 history item changed)" in text, text
    assert "edited" in (rows.last.get_attribute("class") or "")
    assert rows.last.locator(".aw-imp-title").text_content() == titles[-1]
    # the form shows the item's new value as its present one
    assert value.input_value() == new
    edited_recs, edited_bars = rec_titles(root), bar_values(root)
    assert edited_recs != original_recs or edited_bars != original_bars, (
        "changing the brand left the recommendations and the importance as they were"
    )
    assert_heatmap_drawn(root.locator("canvas.aw-seq-heatmap"))
    assert not root.locator(".aw-error").is_visible()
    screenshot("voila-feature-edit")

    # back to the original history
    back_to_original_history(page, root)
    assert rec_titles(root) == original_recs
    assert "edited" not in (rows.last.get_attribute("class") or "")
    form.locator("select.aw-feature-item").select_option(str(n - 1))
    form.locator("select.aw-feature-field").select_option("brand")
    assert value.input_value() == current
    assert console_errors == []
