"""Jupyter Notebook 7: the quickstart, run from the Run menu, draws an explorer that responds.

Notebook 7 is built from JupyterLab's components but has its own shell, URLs (``/notebooks/NB``)
and no status bar, so it gets its own test: open the notebook, wait for an idle kernel, run every
cell by clicking the Run menu, then check the explorer draws and that clicking its head slider
redraws the heatmap with other pixels.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import REPO_ROOT
from explorer_page import (
    FEAT,
    SEQ,
    assert_heatmap_drawn,
    pixels,
    rec_titles,
    wait_drawn,
    wait_for_redraw,
    widget_root,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

QUICKSTART = REPO_ROOT / "notebooks" / "quickstart.ipynb"
_ALL_RAN_JS = """() => {
  const widget = window.jupyterapp?.shell.currentWidget;
  const cells = widget?.content?.widgets ?? [];
  return cells.length > 0
    && cells.every(c => c.model.type !== "code" || c.model.executionCount !== null)
    && widget.sessionContext?.session?.kernel?.status === "idle";
}"""


@pytest.mark.timeout(600)  # the notebook trains a small model (~1 min on 2 idle cores)
def test_quickstart_in_notebook7_draws_and_the_head_slider_redraws(
    page: Page,
    notebook7_server,
    run_all_in_notebook7,
    tmp_path_factory: pytest.TempPathFactory,
    console_errors: list[str],
    screenshot,
) -> None:
    root = tmp_path_factory.mktemp("nb7-root").resolve()
    notebook = Path(shutil.copy(QUICKSTART, root / QUICKSTART.name))
    server = notebook7_server(root)
    run_all_in_notebook7(page, server, notebook)

    outputs = page.locator(".jp-OutputArea-output")
    explorer = widget_root(outputs)
    page.wait_for_function(_ALL_RAN_JS, timeout=300_000)  # later cells move the explorer too
    seq = wait_drawn(explorer)
    explorer.scroll_into_view_if_needed()
    before = assert_heatmap_drawn(seq)
    assert_heatmap_drawn(explorer.locator(FEAT), min_cells_css_px=400)
    assert len(rec_titles(explorer)) == 10

    slider = explorer.locator("input.aw-head-slider")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None, "the head slider is not visible"
    count = before.draw_count
    slider.click(position={"x": box["width"] - 2, "y": box["height"] / 2})  # the last head
    wait_for_redraw(page, explorer, count)
    after = pixels(explorer.locator(SEQ))
    assert slider.input_value() != "0", "a click on the slider's right end did not move it"
    assert after.digest != before.digest, "the heatmap did not change with the head"
    screenshot("notebook7-quickstart")
    assert console_errors == []
