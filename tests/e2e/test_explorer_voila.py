"""The Voila demo app (notebooks/voila_app.ipynb) in headless Chromium, with a live kernel.

The app shows a Label ``.aw-python-state`` whose text the kernel writes from ``explorer.user``,
``layer`` and ``head``, so it proves the Python attributes followed the browser controls.
The demo model is trained once per session (``demo_cache``); each page load has its own kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from explorer_page import (
    FEAT,
    assert_heatmap_drawn,
    draw_count,
    pixels,
    rec_titles,
    set_slider,
    type_user,
    visible_text,
    wait_drawn,
    wait_for_redraw,
    wait_for_text,
    widget_root,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

# Training the demo model (first test) takes ~1 min on 2 idle cores, far more on a busy machine.
pytestmark = pytest.mark.timeout(600)
APP_TIMEOUT_MS = 120_000  # kernel start + demo model load + dashboard's entropy grid


def open_app(page: Page, url: str) -> tuple[Locator, Locator]:
    """Load the app and wait for the explorer's first draw; return (explorer root, state label)."""
    page.goto(url, timeout=APP_TIMEOUT_MS)
    root = widget_root(page)
    wait_drawn(root, timeout_ms=APP_TIMEOUT_MS)
    state = page.locator(".aw-python-state")
    wait_for_text(page, state, "t => t.includes('Python side: user')")
    return root, state


def python_state_has(page: Page, state: Locator, text: str) -> str:
    """Wait until the kernel-written label contains ``text``."""
    return wait_for_text(page, state, "(t, want) => t.includes(want)", text)


def test_voila_app_draws(page: Page, voila_app: str, console_errors: list[str], screenshot) -> None:
    """1. The app's sequence and feature heatmaps have painted cells, the graph has nodes."""
    root, state = open_app(page, voila_app)
    assert_heatmap_drawn(root.locator("canvas.aw-seq-heatmap"))
    assert_heatmap_drawn(root.locator(FEAT), min_cells_css_px=400)
    assert root.locator("svg.aw-graph circle").count() > 0
    assert len(rec_titles(root)) == 10
    assert "user u00001, layer 0, head 0" in state.text_content()
    screenshot("voila-app")
    assert console_errors == []


def test_voila_head_and_layer_sliders(
    page: Page, voila_app: str, console_errors: list[str], screenshot
) -> None:
    """2. Moving the head slider redraws other pixels in the browser and the kernel's
    ``explorer.head`` follows; the layer slider likewise."""
    root, state = open_app(page, voila_app)
    seq = root.locator("canvas.aw-seq-heatmap")
    head0 = pixels(seq)

    set_slider(root, "input.aw-head-slider", 1)
    wait_for_redraw(page, root, head0.draw_count)
    head1 = assert_heatmap_drawn(seq)
    assert head1.digest != head0.digest, "head 1 drew the same pixels as head 0"
    python_state_has(page, state, "layer 0, head 1")

    root.locator("input.aw-layer-slider").focus()
    page.keyboard.press("ArrowRight")
    wait_for_redraw(page, root, head1.draw_count)
    assert pixels(seq).digest not in (head0.digest, head1.digest)
    python_state_has(page, state, "layer 1, head 1")
    screenshot("voila-app-layer1-head1")
    assert console_errors == []


def test_voila_user_switch_and_unknown_user(
    page: Page, voila_app: str, console_errors: list[str], screenshot
) -> None:
    """3. Another user (id box + Enter, or the user slider) shows other recommendations and the
    kernel's ``explorer.user`` follows; an unknown id gives a clear message in ``.aw-error`` and
    the widget keeps working afterwards."""
    root, state = open_app(page, voila_app)
    recs_first = rec_titles(root)

    before = draw_count(root)
    type_user(root, "u00005")
    wait_for_redraw(page, root, before)
    recs_typed = rec_titles(root)
    assert recs_typed != recs_first, "user u00005 shows user u00001's recommendations"
    python_state_has(page, state, "user u00005,")
    assert_heatmap_drawn(root.locator("canvas.aw-seq-heatmap"))

    before = draw_count(root)
    set_slider(root, "input.aw-user-slider", 7)
    wait_for_redraw(page, root, before)
    python_state_has(page, state, "user u00008,")
    assert root.locator("input.aw-user-input").input_value() == "u00008"
    recs_slid = rec_titles(root)
    assert recs_slid != recs_typed

    type_user(root, "nobody")
    error = wait_for_text(page, root.locator(".aw-error"), "t => t.includes('nobody')")
    assert "unknown user" in error.lower(), error
    assert root.locator(".aw-error").is_visible()
    screenshot("voila-app-unknown-user")
    python_state_has(page, state, "user u00008,")  # the kernel kept the last valid user

    before = draw_count(root)
    type_user(root, "u00012")
    wait_for_redraw(page, root, before)
    python_state_has(page, state, "user u00012,")
    assert rec_titles(root) not in (recs_slid, recs_first)
    wait_for_text(page, root.locator(".aw-error"), "t => t === ''")
    assert visible_text(root, ".aw-error") == ""
    assert_heatmap_drawn(root.locator("canvas.aw-seq-heatmap"))
    assert console_errors == []
