"""JupyterLab, real clicks: the Dashboard's entropy grid moves the explorer, an export leaves the
live view alone, and the explorer is drawn before the model-level agreement is known.

Issue 13 items 1, 5 and 6, each seen in JupyterLab: a click on a bqplot grid cell used to fail
in the kernel (bqplot's object array could not be echoed back), ``save_html`` swapped the live
widget's traits (the view jumped and a what-if edit was lost), and the explorer waited for
occlusion of 30 sampled users before its first draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from explorer_page import SEQ, rec_titles, wait_drawn, wait_for_text, widget_root, write_notebook

if TYPE_CHECKING:
    from playwright.sync_api import Page

SETUP = """\
import attnwidget as aw

shop = aw.synthetic_shop(n_users=200, n_items=150, seed=3)
model = aw.SASRec(shop, d_model=32, n_layers=2, n_heads=2, max_len=30, seed=0)
explorer = aw.AttentionExplorer(model, shop, k=5)
board = aw.Dashboard(explorer, n_users=10)
board"""
EDIT = """\
history = list(explorer.explanation().importance["item_id"])
explorer.history_edit = history[1:]  # what if the oldest item were not there?
explorer.wait()"""
EXPORT = """\
changes = []
explorer.observe(lambda change: changes.append(change["name"]), names=None)
explorer.save_html("report.html", users=shop.users[5:8])
print("export changed:", changes or "nothing")"""


def grid_cell(page: Page, row: int, column: int):
    """The entropy grid's cell for ``row`` (layer) and ``column`` (head), as bqplot draws it
    (one ``g.heatmaprow`` per row, in row order, holding one ``rect.heatmapcell`` per column)."""
    rows = page.locator(".jp-OutputArea-output svg g.heatmaprow")
    rows.first.wait_for(timeout=60_000)
    return rows.nth(row).locator("rect.heatmapcell").nth(column)


@pytest.mark.timeout(300)
def test_a_click_on_the_entropy_grid_moves_the_explorer(
    page: Page, jupyterlab_server, lab_root: Path, run_all_in_lab, console_errors, screenshot
) -> None:
    notebook = write_notebook(lab_root / "dashboard-click" / "dashboard.ipynb", [SETUP])
    lab = jupyterlab_server(lab_root)
    run_all_in_lab(page, lab, notebook)
    root = widget_root(page.locator(".jp-OutputArea-output"))
    wait_drawn(root, timeout_ms=60_000)
    sub = root.locator(".aw-sub").first
    assert "layer 0 · head 0" in (sub.text_content() or "")

    figure = page.locator(".jp-OutputArea-output .bqplot.figure").first
    title = figure.locator("text.mainheading").first
    fig_box, title_box = figure.bounding_box(), title.bounding_box()
    assert fig_box["x"] <= title_box["x"] and (
        title_box["x"] + title_box["width"] <= fig_box["x"] + fig_box["width"]
    ), f"the grid's title is clipped: {title_box} in {fig_box}"
    assert figure.locator("g.ColorBar").count() == 1, "the entropy grid has no colour bar"
    grid_cell(page, 1, 1).click()
    wait_for_text(page, sub, "t => t.includes('layer 1 · head 1')")
    assert root.locator("input.aw-layer-slider").input_value() == "1"
    assert root.locator("input.aw-head-slider").input_value() == "1"
    screenshot("lab-dashboard-click")
    assert console_errors == []


@pytest.mark.timeout(300)
def test_an_export_leaves_the_live_view_and_its_what_if_edit_alone(
    page: Page, jupyterlab_server, lab_root: Path, run_all_in_lab, console_errors, screenshot
) -> None:
    folder = lab_root / "dashboard-export"
    notebook = write_notebook(folder / "dashboard.ipynb", [SETUP, EDIT])
    lab = jupyterlab_server(lab_root)
    run_all_in_lab(page, lab, notebook)
    root = widget_root(page.locator(".jp-OutputArea-output"))
    canvas = wait_drawn(root, timeout_ms=60_000)
    what_if = root.locator(".aw-what-if")
    wait_for_text(page, what_if, "t => t.length > 0")
    titles, user = rec_titles(root), root.locator("input.aw-user-input").input_value()
    draws = int(canvas.get_attribute("data-draw-count") or 0)

    # A new cell below holding the export, run with Shift+Enter (the editor would re-indent
    # and close brackets of typed code, so the source is set through the cell's model).
    page.evaluate(
        """async code => {
            await window.jupyterapp.commands.execute('notebook:insert-cell-below');
            window.jupyterapp.shell.currentWidget.content.activeCell.model.sharedModel.setSource(code);
        }""",
        EXPORT,
    )
    page.keyboard.press("Shift+Enter")
    printed = page.locator(".jp-OutputArea-output", has_text="export changed:")
    printed.wait_for(timeout=60_000)
    assert "export changed: nothing" in (printed.text_content() or "")
    assert (folder / "report.html").is_file()
    assert rec_titles(root) == titles and root.locator("input.aw-user-input").input_value() == user
    assert int(canvas.get_attribute("data-draw-count") or 0) == draws  # the view never jumped
    assert what_if.text_content()
    screenshot("lab-export-keeps-view")
    assert console_errors == []


@pytest.mark.timeout(300)
def test_the_explorer_draws_before_the_model_agreement_is_known(
    page: Page, jupyterlab_server, lab_root: Path, run_all_in_lab, console_errors
) -> None:
    slow = SETUP.replace("k=5)", "k=5, agreement_users=200)")  # every user: ~20 s of occlusion
    notebook = write_notebook(lab_root / "dashboard-agreement" / "dashboard.ipynb", [slow])
    lab = jupyterlab_server(lab_root)
    run_all_in_lab(page, lab, notebook)
    root = widget_root(page.locator(".jp-OutputArea-output"))
    wait_drawn(root, timeout_ms=60_000)
    model_line = root.locator(".aw-agreement-model")
    first = model_line.text_content() or ""
    assert "computing" in first, first  # drawn while the agreement is still being computed
    wait_for_text(page, model_line, "t => t.includes('mean over')", timeout_ms=120_000)
    assert root.locator(SEQ).count() == 1
    assert console_errors == []
