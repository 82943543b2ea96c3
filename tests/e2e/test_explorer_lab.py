"""notebooks/quickstart.ipynb run top to bottom in JupyterLab draws the explorer."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import REPO_ROOT
from explorer_page import FEAT, assert_heatmap_drawn, rec_titles, wait_drawn, widget_root

if TYPE_CHECKING:
    from playwright.sync_api import Page

QUICKSTART = REPO_ROOT / "notebooks" / "quickstart.ipynb"


@pytest.mark.timeout(600)  # the notebook trains a small model (~1 min on 2 idle cores)
def test_quickstart_run_all_draws_explorer(
    page: Page,
    jupyterlab_server,
    lab_root: Path,
    run_all_in_lab,
    console_errors: list[str],
    screenshot,
) -> None:
    folder = lab_root / "quickstart"
    folder.mkdir()
    notebook = shutil.copy(QUICKSTART, folder / QUICKSTART.name)
    lab = jupyterlab_server(lab_root)
    run_all_in_lab(page, lab, notebook, timeout_ms=120_000)

    outputs = page.locator(".jp-OutputArea-output")
    root = widget_root(outputs)  # the explorer cell's view (the dashboard holds a second one)
    seq = wait_drawn(root, timeout_ms=60_000)
    root.scroll_into_view_if_needed()
    assert_heatmap_drawn(seq)
    assert_heatmap_drawn(root.locator(FEAT), min_cells_css_px=400)
    assert len(rec_titles(root)) == 10
    wait_drawn(widget_root(outputs, 1))  # the dashboard's view of the same explorer
    assert (folder / "quickstart_explorer.html").is_file(), "the save_html cell wrote no page"
    screenshot("jupyterlab-quickstart")
    assert console_errors == []
