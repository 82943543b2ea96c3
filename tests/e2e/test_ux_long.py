"""A 200-item history in Voila stays readable: colours in the heatmap, labels in the graph.

Issue 13, item 3 (and the small items of 8 that show on the same page): with a 0–1 colour
scale the sequence heatmap of a 200-item history is one dark triangle, and the force graph's
labels pile on top of each other. The page here is a Voila app written to a temp dir: an
untrained SASRec (``max_len=200``) on a synthetic shop whose histories are 200–210 items long.

``ATTNWIDGET_UX_FRONTEND=<commit>`` runs the same tests against the front end of that commit
(bundled with :func:`explorer_page.build_frontend`), e.g. ``8b5859e`` for the one before this
work: the screenshots are then named ``...-before`` and the tests are expected to fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import REPO_ROOT, _start_voila
from explorer_page import (
    SEQ,
    build_frontend,
    checkout_setup,
    graph_labels,
    heatmap_triangle,
    wait_drawn,
    wait_graph_settled,
    widget_root,
    write_notebook,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

N = 200
OLD_FRONTEND = os.environ.get("ATTNWIDGET_UX_FRONTEND", "")
PHASE = "before" if OLD_FRONTEND else "after"


def frontend_bundle(tmp: Path) -> Path | None:
    """The bundle to load instead of the checkout's own (None = attnwidget/static/widget.js)."""
    if not OLD_FRONTEND:
        return None
    return build_frontend(REPO_ROOT, OLD_FRONTEND, tmp / f"widget-{OLD_FRONTEND}.js")


def explorer_notebook(path: Path, code: str, bundle: Path | None) -> Path:
    """A notebook that imports attnwidget from this checkout, runs ``code`` and shows
    ``explorer`` (with ``bundle`` as its front end when given)."""
    setup, show = checkout_setup(REPO_ROOT, bundle)
    return write_notebook(path, [setup + code + show + "explorer"])


LONG_HISTORIES = """
shop = aw.synthetic_shop(n_users=8, n_items=2600, min_len=200, max_len=210, seed=1)
model = aw.SASRec(shop, max_len=200, n_layers=2, n_heads=2, seed=0)  # untrained
explorer = aw.AttentionExplorer(model, shop, agreement_users=0)
"""


@pytest.fixture(scope="module")
def long_app(
    jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of a Voila app showing an explorer over 200-item histories."""
    folder = tmp_path_factory.mktemp("ux-long")
    notebook = explorer_notebook(folder / "long.ipynb", LONG_HISTORIES, frontend_bundle(folder))
    server, url = _start_voila(notebook, jupyter_env, folder)
    yield url
    server.stop()


def open_long(page: Page, url: str):
    page.goto(url)
    root = widget_root(page)
    wait_drawn(root, timeout_ms=120_000)
    root.locator(SEQ).scroll_into_view_if_needed()
    return root


@pytest.mark.timeout(300)
def test_long_history_heatmap_has_more_than_one_colour(
    page: Page, long_app: str, screenshot, console_errors: list[str]
) -> None:
    root = open_long(page, long_app)
    canvas = root.locator(SEQ)
    # leave out the first tenth of the rows: query 0 attends only to itself (weight 1)
    stats = heatmap_triangle(canvas, N, skip_rows=N // 10)
    screenshot(f"ux-long-heatmap-{PHASE}")
    assert stats["cells"] > 15_000, f"the lower triangle was not found: {stats}"
    assert stats["dark_share"] < 0.5, f"most cells are in the darkest tenth of the scale: {stats}"
    assert stats["buckets"] >= 4, f"the triangle uses fewer than 4 tenths of the scale: {stats}"
    # and the legend says which scale it is
    label = canvas.get_attribute("data-scale") or ""
    assert label.startswith("colour: 0–") and "(99th pct)" in label, label
    assert console_errors == []


@pytest.mark.timeout(300)
def test_long_history_graph_labels_do_not_overlap(
    page: Page, long_app: str, screenshot, console_errors: list[str]
) -> None:
    root = open_long(page, long_app)
    svg = root.locator("svg.aw-graph")
    svg.scroll_into_view_if_needed()
    page.mouse.move(2, 2)  # nothing hovered: only the labels the graph picks itself
    wait_graph_settled(page, svg)
    labels = graph_labels(svg)
    screenshot(f"ux-graph-200-{PHASE}")
    assert labels["overlapping"] == 0, f"overlapping graph labels: {labels}"
    assert labels["shown"] >= 10, f"too few graph labels to read the graph: {labels}"

    # the node under the mouse gets its label (whichever node is on top there)
    box = root.locator("svg.aw-graph .aw-node-hist circle").nth(37).bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    shown = page.evaluate(
        """([x, y]) => {
            const node = document.elementFromPoint(x, y)?.closest(".aw-node");
            if (!node) return "no node";
            const label = node.dataset.node  // labels live in their own layer, above the nodes
                ? node.ownerSVGElement.querySelector(`.aw-label[data-node="${node.dataset.node}"]`)
                : node.querySelector(".aw-label");
            return getComputedStyle(label).visibility;
        }""",
        [x, y],
    )
    assert shown == "visible", f"the hovered node's label is {shown}"
    assert graph_labels(svg)["overlapping"] <= 1  # only the hovered one may overlap (forced)
    assert console_errors == []


@pytest.mark.timeout(300)
def test_long_history_small_things(
    page: Page, long_app: str, screenshot, console_errors: list[str]
) -> None:
    """Issue 13, item 8: the "uniform" label sits off the bars; the CSV has a BOM."""
    root = open_long(page, long_app)
    bars = root.locator(".aw-bars-svg")
    bars.scroll_into_view_if_needed()
    hits = bars.evaluate(
        """svg => {
            const label = [...svg.querySelectorAll("text")].find(t => t.textContent === "uniform");
            const u = label.getBoundingClientRect();
            return [...svg.querySelectorAll(".aw-bar-rects rect")]
                .map(r => r.getBoundingClientRect())
                .filter(b => b.height > 0 && b.x < u.right && u.x < b.right
                             && b.y < u.bottom && u.y < b.bottom)
                .length;
        }"""
    )
    assert hits == 0, f"the 'uniform' label overlaps {hits} bars"

    button = root.locator(".aw-recs-card button.aw-export")
    with page.expect_download() as info:
        button.click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), f"the CSV has no UTF-8 BOM: {data[:40]!r}"
    assert data.decode("utf-8-sig").splitlines()[0].startswith("rank,id,title,score")
    assert console_errors == []
