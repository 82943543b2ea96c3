"""An anonymised static export, opened offline: it draws, switches between pseudonymous users,
and nothing a person can see or select in the page names a real user or item (issue 13, 7)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from explorer_page import (
    assert_heatmap_drawn,
    draw_count,
    rec_titles,
    set_slider,
    wait_drawn,
    wait_for_redraw,
    widget_root,
)

import attnwidget as aw

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, aw.Dataset, list[str]]:
    shop = aw.synthetic_shop(n_users=60, n_items=150, seed=1)
    model = aw.SASRec(shop, d_model=32, n_layers=2, n_heads=2, max_len=20, seed=0)
    explorer = aw.AttentionExplorer(model, shop, agreement_users=5)
    users = shop.users[:3]
    out = tmp_path_factory.mktemp("anon") / "shared.html"
    explorer.save_html(out, users=users, anonymize=True, anonymize_items=True)
    return out, shop, users


def test_an_anonymised_export_draws_and_names_nobody(
    page: Page, blocked_requests: list[str], console_errors: list[str], screenshot, exported
) -> None:
    path, shop, users = exported
    page.goto(path.as_uri())
    root = widget_root(page)
    assert_heatmap_drawn(wait_drawn(root))
    assert root.locator("input.aw-user-input").input_value() == "user 1"
    titles = rec_titles(root)
    assert titles and all(re.fullmatch(r"item \d+", t) for t in titles), titles

    before = draw_count(root)
    set_slider(root, "input.aw-user-slider", 2)
    wait_for_redraw(page, root, before)
    assert root.locator("input.aw-user-input").input_value() == "user 3"
    screenshot("export-anonymized")

    text = page.locator("body").inner_text()
    svg = page.locator("svg.aw-graph").first.evaluate("el => el.textContent")
    shown = text + svg
    real_titles = {shop.catalog.title(int(i)) for u in users for i in shop.sequence(u)}
    leaked = sorted(n for n in {*users, *real_titles} if n in shown)
    assert leaked == []
    assert blocked_requests == []
    assert console_errors == []
