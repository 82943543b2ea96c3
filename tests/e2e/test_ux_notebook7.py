"""Notebook 7: arrow keys move the explorer's sliders, not the active cell (issue 13, item 2).

Same notebook as test_ux_lab.py (the explorer between two cells), run from Notebook 7's Run
menu; then real key presses on the head slider. ``ATTNWIDGET_UX_FRONTEND=<commit>`` runs it
on an older front end (see test_ux_long.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from explorer_page import SEQ, pixels, wait_drawn, wait_for_redraw, widget_root
from test_ux_lab import (
    _NOTEBOOK_STATE_JS,
    KEY_WAIT_MS,
    click_head_slider,
    lab_notebook,  # noqa: F401 (the fixture, shared)
)
from test_ux_long import PHASE

if TYPE_CHECKING:
    from playwright.sync_api import Page

_KERNEL_IDLE_JS = """path => {
  const widget = window.jupyterapp?.shell.currentWidget;
  return widget?.context?.path === path
    && widget.sessionContext?.session?.kernel?.status === "idle";
}"""


@pytest.mark.timeout(400)
def test_notebook7_arrow_keys_move_the_head_slider_not_the_active_cell(
    page: Page,
    notebook7_server,
    lab_notebook: Path,  # noqa: F811 (the fixture imported above)
    console_errors: list[str],
    screenshot,
) -> None:
    server = notebook7_server(lab_notebook.parent)
    page.goto(server.notebook_url(lab_notebook))
    page.wait_for_function(_KERNEL_IDLE_JS, arg=server.relpath(lab_notebook), timeout=120_000)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator("li[data-command='runmenu:run-all']").click()
    root = widget_root(page.locator(".jp-OutputArea-output"))
    wait_drawn(root, timeout_ms=120_000)
    root.scroll_into_view_if_needed()

    slider = click_head_slider(root)
    state = page.evaluate(_NOTEBOOK_STATE_JS)
    assert state["active"] == 1, f"clicking the explorer did not make its cell active: {state}"
    before = pixels(root.locator(SEQ))
    count = before.draw_count
    for key, head in (("ArrowRight", "1"), ("ArrowUp", "2"), ("ArrowDown", "1")):
        page.keyboard.press(key)
        try:
            count = wait_for_redraw(page, root, count, timeout_ms=KEY_WAIT_MS)
        except Exception:
            screenshot(f"ux-nb7-keys-{PHASE}")
            raise AssertionError(
                f"{key} on the head slider did not redraw the heatmap; notebook now "
                f"{page.evaluate(_NOTEBOOK_STATE_JS)}, slider at {slider.input_value()}"
            ) from None
        assert slider.input_value() == head, f"{key} left the head slider at {slider.input_value()}"
        assert page.evaluate(_NOTEBOOK_STATE_JS) == state, f"{key} moved the notebook's active cell"
    assert root.locator(".aw-seq .aw-sub").text_content() == "layer 0 · head 1"
    screenshot(f"ux-nb7-keys-{PHASE}")

    # the notebook's other shortcuts still work from inside the widget: Ctrl+S saves
    dirty = "() => window.jupyterapp.shell.currentWidget.context.model.dirty"
    if page.evaluate(dirty):
        page.keyboard.press("Control+s")
        page.wait_for_function(f"() => !({dirty})()", timeout=KEY_WAIT_MS)
    assert console_errors == []
