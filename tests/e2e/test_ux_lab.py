"""JupyterLab: the explorer works by keyboard and follows the theme (issue 13, items 2 and 4).

Real key presses and clicks only: arrow keys on the head slider move it (and not the active
notebook cell, which Lumino's command-mode shortcuts did), Tab reaches a heatmap cell and
Enter selects it, and Settings → Theme → JupyterLab Dark repaints the heatmap's labels.

``ATTNWIDGET_UX_FRONTEND=<commit>`` runs them on an older front end (see test_ux_long.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import REPO_ROOT
from explorer_page import (
    SEQ,
    checkout_setup,
    graph_labels,
    pixels,
    type_user,
    wait_drawn,
    wait_for_redraw,
    wait_graph_settled,
    widget_root,
    write_notebook,
)
from test_ux_long import PHASE, frontend_bundle

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

KEY_WAIT_MS = 8_000  # a key press redraws in milliseconds; the old front end never does
SMALL_SHOP = """
shop = aw.synthetic_shop(n_users=40, n_items=200, seed=0)
model = aw.SASRec(shop, n_layers=2, n_heads=4, seed=0)  # untrained: 4 heads to step through
explorer = aw.AttentionExplorer(model, shop, agreement_users=0)
"""
_NOTEBOOK_STATE_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return { active: panel.content.activeCellIndex, mode: panel.content.mode };
}"""
# Mean brightness of the row labels (text pixels left of the matrix) of a heatmap canvas.
_LABEL_BRIGHTNESS_JS = """canvas => {
  const [x0, y0, , h] = (canvas.dataset.cells || "128,6,0,300").split(",").map(Number);
  const dpr = window.devicePixelRatio || 1;
  const ctx = canvas.getContext("2d");
  const x = Math.round(18 * dpr), w = Math.round((x0 - 24) * dpr);
  const px = ctx.getImageData(x, Math.round(y0 * dpr), w, Math.max(1, Math.round(h * dpr))).data;
  let sum = 0, count = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] < 100) continue;
    sum += (px[i] + px[i + 1] + px[i + 2]) / 3;
    count++;
  }
  return count ? sum / count : -1;
}"""


@pytest.fixture(scope="module")
def lab_notebook(lab_root: Path) -> Path:
    """Three cells: the explorer between two others, so ↑/↓ in command mode would move."""
    folder = lab_root / f"ux-lab-{PHASE}"
    folder.mkdir(exist_ok=True)
    setup, show = checkout_setup(REPO_ROOT, frontend_bundle(folder))
    cells = ["before = 1", setup + SMALL_SHOP + show + "explorer", "after = 2"]
    return write_notebook(folder / "keys.ipynb", cells)


def press_on_slider(
    page: Page, root: Locator, slider: Locator, presses, state: dict, count: int
) -> None:
    """Press each key on the focused head slider: it moves to the expected head, the heatmap
    redraws, and the notebook's active cell and mode (``state``) stay as they were."""
    for key, head in presses:
        page.keyboard.press(key)
        try:
            count = wait_for_redraw(page, root, count, timeout_ms=KEY_WAIT_MS)
        except Exception:
            raise AssertionError(
                f"{key} on the head slider did not redraw the heatmap; notebook now "
                f"{page.evaluate(_NOTEBOOK_STATE_JS)}, slider at {slider.input_value()}"
            ) from None
        assert slider.input_value() == head, f"{key} left the head slider at {slider.input_value()}"
        assert page.evaluate(_NOTEBOOK_STATE_JS) == state, f"{key} moved the notebook's active cell"


def open_explorer(
    page: Page, jupyterlab_server, lab_root: Path, notebook: Path, run_all
) -> Locator:
    lab = jupyterlab_server(lab_root)
    run_all(page, lab, notebook, timeout_ms=120_000)
    root = widget_root(page.locator(".jp-OutputArea-output"))
    wait_drawn(root, timeout_ms=120_000)
    root.scroll_into_view_if_needed()
    return root


def click_head_slider(root: Locator) -> Locator:
    """Click the head slider at its left end (head 0, where it is): it has focus, nothing moved."""
    slider = root.locator("input.aw-head-slider")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None, "the head slider is not visible"
    slider.click(position={"x": 2, "y": box["height"] / 2})
    assert slider.input_value() == "0"
    return slider


@pytest.mark.timeout(400)
def test_arrow_keys_move_the_head_slider_not_the_active_cell(
    page: Page, jupyterlab_server, lab_root: Path, lab_notebook: Path, run_all_in_lab,
    console_errors: list[str], screenshot,
) -> None:  # fmt: skip
    root = open_explorer(page, jupyterlab_server, lab_root, lab_notebook, run_all_in_lab)
    slider = click_head_slider(root)
    state = page.evaluate(_NOTEBOOK_STATE_JS)
    assert state["active"] == 1, f"clicking the explorer did not make its cell active: {state}"
    before = pixels(root.locator(SEQ))
    count = before.draw_count

    press_on_slider(page, root, slider, [("ArrowRight", "1"), ("ArrowUp", "2")], state, count)
    assert page.evaluate("() => document.activeElement?.classList.contains('aw-head-slider')")
    assert pixels(root.locator(SEQ)).digest != before.digest, "the heatmap did not change"
    assert root.locator(".aw-seq .aw-sub").text_content() == "layer 0 · head 2"
    screenshot(f"ux-lab-keys-{PHASE}")

    # the notebook's other shortcuts still work from inside the widget: Ctrl+S saves
    dirty = "() => window.jupyterapp.shell.currentWidget.context.model.dirty"
    if page.evaluate(dirty):
        page.keyboard.press("Control+s")
        page.wait_for_function(f"() => !({dirty})()", timeout=KEY_WAIT_MS)
    assert console_errors == []


@pytest.mark.timeout(400)
def test_tab_reaches_a_heatmap_cell_and_enter_selects_it(
    page: Page, jupyterlab_server, lab_root: Path, lab_notebook: Path, run_all_in_lab,
    console_errors: list[str], screenshot,
) -> None:  # fmt: skip
    root = open_explorer(page, jupyterlab_server, lab_root, lab_notebook, run_all_in_lab)
    click_head_slider(root)
    state = page.evaluate(_NOTEBOOK_STATE_JS)
    canvas = root.locator(SEQ)
    on_canvas = "() => document.activeElement?.classList.contains('aw-seq-heatmap')"
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate(on_canvas):
            break
    else:
        screenshot(f"ux-lab-tab-{PHASE}")
        raise AssertionError("12 presses of Tab from the head slider never reached the heatmap")
    # the focused cell is visible: a focus ring on the canvas and the cell named
    assert canvas.evaluate("c => getComputedStyle(c).outlineStyle") != "none"
    cell = canvas.get_attribute("data-focus-cell")
    assert cell, "no focused cell"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowUp")
    moved = canvas.get_attribute("data-focus-cell")
    assert moved != cell, "arrow keys did not move the focused cell"
    col = int(moved.split(",")[1])
    assert page.evaluate(_NOTEBOOK_STATE_JS) == state, "arrow keys on the heatmap moved the cell"

    page.keyboard.press("Enter")  # = a click: pins the key item of the focused cell
    page.keyboard.press("Tab")  # focus leaves the heatmap: what stays lit is the pinned item
    why_row = root.locator(f'.aw-why .aw-imp-row[data-pos="{col}"]')
    assert "aw-lit" in (why_row.get_attribute("class") or ""), "Enter did not pin the item"
    assert root.locator("svg.aw-graph .aw-node.aw-lit").count() >= 1

    page.keyboard.press("Shift+Tab")
    assert page.evaluate(on_canvas)
    page.keyboard.press("Shift+Enter")  # = shift-click: the item joins the selection
    total = root.locator(".aw-selected-sum")
    assert total.text_content().startswith("Σ "), total.text_content()
    assert "aw-sel" in (why_row.get_attribute("class") or "")
    assert page.evaluate(_NOTEBOOK_STATE_JS) == state, "Enter reached the notebook"
    screenshot(f"ux-lab-tab-{PHASE}")
    assert console_errors == []


@pytest.mark.timeout(400)
def test_graph_labels_of_a_28_item_history_do_not_overlap(
    page: Page, jupyterlab_server, lab_root: Path, lab_notebook: Path, run_all_in_lab,
    console_errors: list[str], screenshot,
) -> None:  # fmt: skip
    """Issue 13 counted 33 overlapping label pairs in the graph of a 28-item history."""
    root = open_explorer(page, jupyterlab_server, lab_root, lab_notebook, run_all_in_lab)
    count = pixels(root.locator(SEQ)).draw_count
    type_user(root, "u00006")  # 28 items in this shop
    wait_for_redraw(page, root, count, timeout_ms=60_000)
    svg = root.locator("svg.aw-graph")
    svg.scroll_into_view_if_needed()
    page.mouse.move(2, 2)
    wait_graph_settled(page, svg)
    n = root.locator(".aw-why .aw-imp-row").count()
    assert n >= 25, f"expected a history of about 28 items, got {n}"
    labels = graph_labels(svg)
    screenshot(f"ux-lab-graph-28-{PHASE}")
    assert labels["overlapping"] == 0, f"overlapping graph labels (n = {n}): {labels}"
    assert labels["shown"] >= 8, f"too few graph labels (n = {n}): {labels}"
    assert console_errors == []


def choose_theme(page: Page, name: str) -> None:
    """Settings → Theme → ``name``, by mouse."""
    page.locator(".lm-MenuBar-item", has_text="Settings").click()
    page.locator(".lm-Menu-item", has_text="Theme").first.hover()
    page.get_by_role("menuitem", name=name, exact=True).click()
    page.wait_for_function("n => document.body.dataset.jpThemeName === n", arg=name)


@pytest.mark.timeout(400)
def test_switching_to_the_dark_theme_repaints_the_labels(
    page: Page, jupyterlab_server, lab_root: Path, lab_notebook: Path, run_all_in_lab,
    console_errors: list[str], screenshot,
) -> None:  # fmt: skip
    root = open_explorer(page, jupyterlab_server, lab_root, lab_notebook, run_all_in_lab)
    canvas = root.locator(SEQ)
    user = root.locator("input.aw-user-input").input_value()
    light = canvas.evaluate(_LABEL_BRIGHTNESS_JS)
    assert 0 <= light < 100, f"labels in the light theme are not dark: {light}"

    choose_theme(page, "JupyterLab Dark")
    handle = canvas.element_handle()
    try:
        page.wait_for_function(
            f"c => ({_LABEL_BRIGHTNESS_JS})(c) > 150", arg=handle, timeout=10_000
        )
    except Exception:
        screenshot(f"ux-lab-dark-{PHASE}")
        raise AssertionError(
            f"the heatmap's labels kept their colour in the dark theme "
            f"(brightness {canvas.evaluate(_LABEL_BRIGHTNESS_JS):.0f}, was {light:.0f})"
        ) from None
    screenshot(f"ux-lab-dark-{PHASE}")
    assert root.locator("input.aw-user-input").input_value() == user, "the theme changed the user"

    choose_theme(page, "JupyterLab Light")
    page.wait_for_function(f"c => ({_LABEL_BRIGHTNESS_JS})(c) < 100", arg=handle, timeout=10_000)
    assert root.locator("input.aw-user-input").input_value() == user
    assert console_errors == []
