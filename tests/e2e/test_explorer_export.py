"""The explorer's static HTML export, opened from file:// with every network request aborted.

No kernel and no network: it draws, switches between the exported users locally, shows hostile
item text as text (never markup), and copes with odd data (a one-item history, a history far over
``max_len``, NaN attention) without freezing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from explorer_page import (
    FEAT,
    FEAT_OCCLUSION,
    SEQ,
    assert_heatmap_drawn,
    draw_count,
    pixels,
    rec_titles,
    set_slider,
    type_user,
    visible_text,
    wait_drawn,
    wait_for_redraw,
    widget_root,
)

import attnwidget as aw
from attnwidget.sources import SASRecSource, SourceOutput

if TYPE_CHECKING:
    from collections.abc import Sequence

    from playwright.sync_api import Page

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_FEATURE = '<svg onload=alert(2)>"&amp;'


# -------------------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def shop() -> aw.Dataset:
    return aw.synthetic_shop(n_users=60, n_items=150, seed=1)


@pytest.fixture(scope="module")
def shop_export(shop: aw.Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained SASRec's explorer exported for three users."""
    model = aw.SASRec(shop, d_model=32, n_layers=2, n_heads=2, max_len=20, seed=0)
    explorer = aw.AttentionExplorer(model, shop)
    out = tmp_path_factory.mktemp("export") / "explorer.html"
    return explorer.save_html(out, users=shop.users[:3])


def hostile_dataset() -> aw.Dataset:
    """Every title is markup (alternating an <img onerror> and a <script>, numbered), and one
    feature value is markup too."""
    n_items = 30
    items = pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(n_items)],
            "title": [(IMG if k % 2 else SCRIPT) + f" #{k}" for k in range(n_items)],
            "category": [HOSTILE_FEATURE if k % 3 == 0 else f"cat{k % 4}" for k in range(n_items)],
        }
    )
    rng = np.random.default_rng(0)
    rows = [
        (user, f"i{rng.integers(n_items)}", t)
        for user, length in (("alice", 8), ("bob", 6))
        for t in range(length)
    ]
    interactions = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    return aw.Dataset.from_pandas(interactions, items, feature_cols=["category"], title_col="title")


def odd_dataset() -> aw.Dataset:
    """Users "one" (a single item), "long" (1,000 items) and "plain" (12 items).

    The catalogue is larger than the long history: a history that holds every item leaves
    nothing to recommend (see the report: explain() then fails with an IndexError).
    """
    n_items = 1500
    titles = [f"Item {k}" for k in range(n_items)]
    items = pd.DataFrame({"item_id": range(n_items), "title": titles})
    rng = np.random.default_rng(1)
    rows = [
        (user, int(rng.integers(n_items)), t)
        for user, length in (("one", 1), ("long", 1000), ("plain", 12))
        for t in range(length)
    ]
    interactions = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    return aw.Dataset.from_pandas(interactions, items, title_col="title")


class NaNAttention:
    """A user's model as an AttentionSource: SASRec whose prediction-row attention has NaNs."""

    def __init__(self, model: aw.SASRec, n_missing: int = 3) -> None:
        self.inner = SASRecSource(model)
        self.catalog = self.inner.catalog
        self.max_len = self.inner.max_len
        self.field_names = self.inner.field_names
        self.n_missing = n_missing

    def run(self, histories: Sequence[np.ndarray]) -> SourceOutput:
        out = self.inner.run(histories)
        attentions = out.attentions.copy()
        attentions[:, 0, 0, -1, -self.n_missing :] = np.nan  # layer 0, head 0, last query
        return SourceOutput(out.scores, attentions, out.feature_attention)


def open_offline(page: Page, path: Path) -> None:
    page.goto(path.as_uri())


# ------------------------------------------------------------------------------------- tests
def test_export_draws_and_switches_users_offline(
    page: Page,
    blocked_requests: list[str],
    console_errors: list[str],
    screenshot,
    shop: aw.Dataset,
    shop_export: Path,
) -> None:
    """4. The export draws from file:// with the network blocked; the user slider and the id box
    switch between the exported users with no kernel, and head changes redraw the pixels."""
    open_offline(page, shop_export)
    root = widget_root(page)
    seq = wait_drawn(root)
    first = assert_heatmap_drawn(seq)
    assert_heatmap_drawn(root.locator(FEAT), min_cells_css_px=400)
    # beside it, the score drop without each field of each item (signed: blue to red)
    occlusion = root.locator(FEAT_OCCLUSION)
    assert_heatmap_drawn(occlusion, min_cells_css_px=100)
    occlusion.hover(position={"x": 140, "y": 12})
    tip = visible_text(root, ".aw-featocc .aw-tooltip")
    assert "score drop" in tip and any(f"{f}:" in tip for f in ("category", "brand", "price")), tip
    assert root.locator("svg.aw-graph circle").count() > 0, "the item–feature graph is empty"
    recs_first = rec_titles(root)
    assert len(recs_first) == 10
    screenshot("export-explorer")

    # Head slider: drawn from the data already in the page.
    set_slider(root, "input.aw-head-slider", 1)
    wait_for_redraw(page, root, first.draw_count)
    assert pixels(seq).digest != first.digest, "head 1 drew the same pixels as head 0"
    assert "head 1" in root.locator(".aw-seq .aw-sub").text_content()

    # User slider to the second exported user.
    before = draw_count(root)
    set_slider(root, "input.aw-user-slider", 1)
    wait_for_redraw(page, root, before)
    assert root.locator("input.aw-user-input").input_value() == shop.users[1]
    recs_second = rec_titles(root)
    assert recs_second != recs_first, "another user shows the same recommendations"
    assert_heatmap_drawn(seq)

    # Id box to the third one.
    before = draw_count(root)
    type_user(root, shop.users[2])
    wait_for_redraw(page, root, before)
    assert rec_titles(root) not in (recs_first, recs_second)
    assert visible_text(root, ".aw-error") == ""

    # A user that is not in the export: a message, and the page keeps working.
    before = draw_count(root)
    type_user(root, shop.users[10])
    error = visible_text(root, ".aw-error")
    assert shop.users[10] in error and "nknown" in error, error
    type_user(root, shop.users[0])
    wait_for_redraw(page, root, before)
    assert rec_titles(root) == recs_first
    assert visible_text(root, ".aw-error") == ""

    assert blocked_requests == []
    assert console_errors == []


def test_export_shows_hostile_text_as_text(
    page: Page,
    blocked_requests: list[str],
    console_errors: list[str],
    screenshot,
    tmp_path: Path,
) -> None:
    """5. Titles and feature values that are markup show as those characters: no <img> or
    <script> element is created from them, no dialog opens, the script never runs."""
    data = hostile_dataset()
    model = aw.SASRec(data, d_model=16, n_layers=1, n_heads=2, max_len=10, seed=0)
    out = aw.AttentionExplorer(model, data).save_html(tmp_path / "hostile.html", users=["alice"])

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_offline(page, out)
    root = widget_root(page)
    assert_heatmap_drawn(wait_drawn(root))

    titles = rec_titles(root)
    assert titles, "no recommendations shown"
    catalogue = set(data.catalog.describe(np.arange(1, data.n_items + 1))["title"])
    assert set(titles) <= catalogue, f"titles were altered on the way: {titles}"
    assert any(t.startswith(IMG) for t in titles) and any(t.startswith(SCRIPT) for t in titles)
    chips = root.locator(".aw-recs .aw-chip").all_text_contents()
    assert f"category: {HOSTILE_FEATURE}" in chips, chips
    graph_text = " ".join(root.locator("svg.aw-graph text").all_text_contents())
    assert "<img src=x" in graph_text or "<script>" in graph_text, graph_text

    # Hover a history cell: the tooltip shows the title as text too.
    seq = root.locator(SEQ)
    box = seq.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 140, box["y"] + 12)
    tip = root.locator(".aw-seq .aw-tooltip")
    tip.wait_for(state="visible")
    assert "<img src=x" in tip.text_content() or "<script>" in tip.text_content()

    assert root.locator("img").count() == 0, "an <img> element was created from item text"
    assert page.locator("img[src=x]").count() == 0
    assert root.locator("script").count() == 0
    assert root.locator("svg.aw-graph svg, svg.aw-graph foreignObject").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    screenshot("export-hostile-text")
    assert blocked_requests == []
    assert console_errors == []


def test_export_odd_histories_draw(
    page: Page,
    blocked_requests: list[str],
    console_errors: list[str],
    screenshot,
    tmp_path: Path,
) -> None:
    """6a. A one-item history and a 1,000-item history (max_len 50, a truncation note) draw."""
    data = odd_dataset()
    model = aw.SASRec(data, d_model=32, n_layers=2, n_heads=2, max_len=50, seed=0)
    explorer = aw.AttentionExplorer(model, data)
    explorer.user = "plain"  # the page opens on the current user
    out = explorer.save_html(tmp_path / "odd.html", users=["plain", "one", "long"])
    open_offline(page, out)
    root = widget_root(page)
    seq = wait_drawn(root)
    assert_heatmap_drawn(seq)
    assert visible_text(root, ".aw-truncated") == ""

    before = draw_count(root)
    type_user(root, "long")
    wait_for_redraw(page, root, before, timeout_ms=10_000)
    note = visible_text(root, ".aw-truncated")
    assert "50" in note and "1000" in note.replace(",", ""), note
    assert_heatmap_drawn(seq)
    set_slider(root, "input.aw-layer-slider", 1)  # still responsive on the long history
    wait_for_redraw(page, root, before + 1, timeout_ms=10_000)
    screenshot("export-long-history")

    before = draw_count(root)
    type_user(root, "one")
    wait_for_redraw(page, root, before, timeout_ms=10_000)
    assert visible_text(root, ".aw-truncated") == ""
    assert visible_text(root, ".aw-error") == ""
    one = pixels(seq)
    assert one.colored_css >= 22 * 22, f"the single cell of a one-item history is missing: {one}"
    assert len(rec_titles(root)) == 10
    screenshot("export-one-item-history")

    assert blocked_requests == []
    assert console_errors == []


def test_export_nan_attention_draws_with_warning(
    page: Page,
    blocked_requests: list[str],
    console_errors: list[str],
    screenshot,
    shop: aw.Dataset,
    tmp_path: Path,
) -> None:
    """6b. NaN attention from a user's model: the page draws (NaN cells grey) and says so."""
    model = aw.SASRec(shop, d_model=32, n_layers=2, n_heads=2, max_len=20, seed=0)
    source = NaNAttention(model)
    out = aw.AttentionExplorer(source, shop).save_html(tmp_path / "nan.html", users=shop.users[:2])
    open_offline(page, out)
    root = widget_root(page)
    seq = wait_drawn(root)
    drawn = assert_heatmap_drawn(seq)
    assert drawn.grey > 0, "NaN cells are not drawn in the missing-value grey"
    assert "NaN" in visible_text(root, ".aw-warnings")
    assert visible_text(root, ".aw-error") == ""
    screenshot("export-nan-attention")

    # Other heads have no NaN and still draw; the page stays responsive.
    set_slider(root, "input.aw-head-slider", 1)
    wait_for_redraw(page, root, drawn.draw_count)
    assert pixels(seq).grey == 0
    assert blocked_requests == []
    assert console_errors == []
