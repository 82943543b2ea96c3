"""Notebook 7: arrow keys move the explorer's sliders, not the active cell (issue 13, item 2).

Same notebook as test_ux_lab.py (the explorer between two cells), run from Notebook 7's Run
menu; then real key presses on the head slider. ``ATTNWIDGET_UX_FRONTEND=<commit>`` runs it
on an older front end (see test_ux_long.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from explorer_page import SEQ, pixels, wait_drawn, widget_root
from test_ux_lab import (
    _NOTEBOOK_STATE_JS,
    KEY_WAIT_MS,
    click_head_slider,
    lab_notebook,  # noqa: F401 (the fixture, shared)
    press_on_slider,
)
from test_ux_long import PHASE

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.mark.timeout(400)
def test_notebook7_arrow_keys_move_the_head_slider_not_the_active_cell(
    page: Page,
    notebook7_server,
    run_all_in_notebook7,
    lab_notebook: Path,  # noqa: F811 (the fixture imported above)
    console_errors: list[str],
    screenshot,
) -> None:
    run_all_in_notebook7(page, notebook7_server(lab_notebook.parent), lab_notebook)
    root = widget_root(page.locator(".jp-OutputArea-output"))
    wait_drawn(root, timeout_ms=120_000)
    root.scroll_into_view_if_needed()

    slider = click_head_slider(root)
    state = page.evaluate(_NOTEBOOK_STATE_JS)
    assert state["active"] == 1, f"clicking the explorer did not make its cell active: {state}"
    before = pixels(root.locator(SEQ))
    count = before.draw_count
    presses = [("ArrowRight", "1"), ("ArrowUp", "2"), ("ArrowDown", "1")]
    press_on_slider(page, root, slider, presses, state, count)
    assert root.locator(".aw-seq .aw-sub").text_content() == "layer 0 · head 1"
    screenshot(f"ux-nb7-keys-{PHASE}")

    # the notebook's other shortcuts still work from inside the widget: Ctrl+S saves
    dirty = "() => window.jupyterapp.shell.currentWidget.context.model.dirty"
    if page.evaluate(dirty):
        page.keyboard.press("Control+s")
        page.wait_for_function(f"() => !({dirty})()", timeout=KEY_WAIT_MS)
    assert console_errors == []
