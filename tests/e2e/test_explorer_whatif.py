"""The "why this recommendation" panel and what-if history editing in the Voila demo app.

Headless Chromium with a live kernel (``voila_app``): the panel shows importance bars by a
method (default: the one agreeing best with occlusion) with its agreement figure; switching the
method redraws the bars in the browser; removing a history item (``.aw-remove``) or adding one
found by a search (``.aw-add-input`` -> ``.aw-search-result``) makes the kernel answer with the
edited history's explanation, shown with the recommendations that entered or left the top-k;
``.aw-reset-history`` goes back to the original.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from explorer_page import (
    DEMO_APP_TIMEOUT_MS,
    IMPORTANCE_BARS,
    assert_heatmap_drawn,
    back_to_original_history,
    draw_count,
    open_demo_app,
    rec_titles,
    wait_for_kernel_answer,
    wait_for_text,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

# Training the demo model (first test of a session) takes ~1 min on 2 idle cores.
pytestmark = pytest.mark.timeout(600)
METHODS = ("attention", "rollout", "gradient", "occlusion")
BARS = IMPORTANCE_BARS


def bar_state(root: Locator) -> list[tuple[str, str, str]]:
    """(left, width, value text) of each importance bar, oldest history item first."""
    return root.locator(f"{BARS} .aw-imp-row").evaluate_all(
        """rows => rows.map(r => {
            const bar = r.querySelector(".aw-imp-bar");
            return [bar.style.left, bar.style.width, r.querySelector(".aw-imp-value").textContent];
        })"""
    )


def history_titles(root: Locator) -> list[str]:
    return root.locator(f"{BARS} .aw-imp-title").all_text_contents()


def test_why_panel_method_switch(
    page: Page, voila_app: str, console_errors: list[str], screenshot
) -> None:
    """The why panel shows a default method with its agreement figure; another method redraws
    the bars locally (no kernel round trip needed) and re-weights the graph's importance edges."""
    root = open_demo_app(page, voila_app)
    why = root.locator(".aw-why")
    assert why.is_visible()
    select = why.locator("select.aw-method")
    default = select.input_value()
    assert default in METHODS and default != "occlusion", default
    assert root.locator(BARS).get_attribute("data-method") == default
    # the figure over sampled users is computed in the background ("computing…" until then)
    agreement = wait_for_text(
        page,
        why.locator(".aw-agreement"),
        "t => !t.includes('computing')",
        timeout_ms=DEMO_APP_TIMEOUT_MS,
    )
    assert "Kendall τ vs occlusion" in agreement and "top-1 agreement" in agreement, agreement
    note = why.locator(".aw-note")
    if note.is_visible():
        assert "first" in (note.text_content() or "")
    assert len(history_titles(root)) == root.locator(".aw-remove").count() > 1
    before = bar_state(root)
    assert any(width not in ("", "0%") for _, width, _ in before), before

    other = "occlusion"
    select.select_option(other)
    wait_for_text(
        page, why.locator(".aw-agreement"), "t => t.includes('reference')"
    )  # occlusion is the reference the others are compared with
    assert root.locator(BARS).get_attribute("data-method") == other
    after = bar_state(root)
    assert after != before, "switching the method left the bars as they were"
    assert why.locator(".aw-why-top").text_content().startswith(f"Most important by {other}:")
    assert root.locator("svg.aw-graph .aw-link-why").count() >= 1

    select.select_option("attention")
    root.locator(f"{BARS}[data-method='attention']").wait_for()
    assert bar_state(root) != after
    screenshot("voila-why-panel")
    assert console_errors == []


def test_what_if_remove_reset_and_add(
    page: Page, voila_app: str, console_errors: list[str], screenshot
) -> None:
    """Removing a history item changes the recommendations and lists what entered/left the
    top-k; reset restores the original; an item found by part of its title can be added."""
    root = open_demo_app(page, voila_app)
    original_recs = rec_titles(root)
    original_history = history_titles(root)
    banner = root.locator(".aw-what-if")
    assert not banner.is_visible()
    assert not root.locator(".aw-entered").is_visible()

    # remove the newest item (the prediction position): the recommendations change
    before = draw_count(root)
    root.locator(".aw-remove").last.click()
    wait_for_kernel_answer(page, root, before)
    banner.wait_for(state="visible")
    assert "edited history (1 item removed, 0 items added" in (banner.text_content() or "")
    assert history_titles(root) == original_history[:-1]
    edited_recs = rec_titles(root)
    assert edited_recs != original_recs, "removing the newest item left the recommendations"
    entered = root.locator(".aw-entered li").all_text_contents()
    left = root.locator(".aw-left li").all_text_contents()
    assert root.locator(".aw-entered").is_visible() and root.locator(".aw-left").is_visible()
    if set(edited_recs) != set(original_recs):
        assert set(entered) == set(edited_recs) - set(original_recs), entered
        assert set(left) == set(original_recs) - set(edited_recs), left
    assert_heatmap_drawn(root.locator("canvas.aw-seq-heatmap"))
    screenshot("voila-what-if-removed")

    # back to the original history
    back_to_original_history(page, root)
    assert rec_titles(root) == original_recs
    assert history_titles(root) == original_history
    assert not root.locator(".aw-entered").is_visible()

    # add a recommended item found by part of its title: it joins the history and, now seen,
    # leaves the recommendations
    wanted = original_recs[2]
    query = " ".join(wanted.split()[:2])
    box = root.locator("input.aw-add-input")
    box.fill(query)
    result = root.locator(".aw-search-result", has_text=wanted).first
    result.wait_for(state="visible")
    before = draw_count(root)
    result.click()
    wait_for_kernel_answer(page, root, before)
    banner.wait_for(state="visible")
    assert "0 items removed, 1 item added" in (banner.text_content() or "")
    assert history_titles(root) == [*original_history, wanted]
    assert wanted not in rec_titles(root)
    assert wanted in root.locator(".aw-left li").all_text_contents()
    screenshot("voila-what-if-added")
    assert console_errors == []


def test_reasons_and_the_counterfactual_one_click_away(
    page: Page, voila_app: str, console_errors: list[str], screenshot
) -> None:
    """The first recommendations get a sentence a shopper can read, and the why panel says what
    would change the explained one; "Try it" (a real click) applies that counterfactual as a
    what-if edit, and the kernel's answer shows the item gone from the top-k."""
    root = open_demo_app(page, voila_app)
    reasons = root.locator(".aw-rec-reason")
    reasons.first.wait_for(state="visible", timeout=DEMO_APP_TIMEOUT_MS)  # the background pass
    texts = reasons.all_text_contents()
    assert len(texts) == 3, texts
    assert all(t.startswith(("Because you bought", "Popular with", "No single")) for t in texts)
    line = root.locator(".aw-counterfactual .aw-cf-text")
    wait_for_text(page, line, "t => t !== '' && t !== 'computing…'")
    screenshot("voila-reasons", root.locator(".aw-recs-card"))
    screenshot("voila-counterfactual", root.locator(".aw-why"))
    text = line.text_content() or ""
    apply = root.locator(".aw-cf-apply")
    if not apply.is_visible():  # no set of purchases moves it: the line says so
        assert text.startswith("no set of"), text
        return
    target = (root.locator(".aw-why .aw-card-head .aw-sub").text_content() or "").removeprefix(
        "of "
    )
    assert f"{target} drops from #1 to #" in text, text
    removed = len(text.split("' and '")) + text.count("', '")
    before = draw_count(root)
    apply.click()
    wait_for_kernel_answer(page, root, before)
    root.locator(".aw-what-if").wait_for(state="visible")
    assert f"({removed} item" in (root.locator(".aw-what-if").text_content() or "")
    assert target not in rec_titles(root), "the counterfactual left its item in the top-k"
    screenshot("voila-counterfactual-applied", root.locator(".aw-why"))
    assert console_errors == []
