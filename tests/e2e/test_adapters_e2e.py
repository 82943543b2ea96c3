"""Models attnwidget did not train, shown in the browser: an adapter-wrapped nn.TransformerEncoder,
precomputed arrays, and the `attnwidget train` → `attnwidget export` command-line path.

Each page is a static export opened from file:// with every network request aborted.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch
from explorer_page import (
    assert_heatmap_drawn,
    draw_count,
    pixels,
    rec_titles,
    set_slider,
    visible_text,
    wait_drawn,
    wait_for_redraw,
    widget_root,
)
from torch import nn

import attnwidget as aw
from attnwidget.sources import MultiheadAttentionSource, PrecomputedSource

if TYPE_CHECKING:
    from playwright.sync_api import Page

MAX_LEN = 12


class EncoderRec(nn.Module):
    """A plain causal nn.TransformerEncoder next-item model (untrained: weights from a seed)."""

    def __init__(self, n_items: int, d_model: int = 16) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.items = nn.Embedding(n_items + 1, d_model)
        self.positions = nn.Embedding(MAX_LEN, d_model)
        layer = nn.TransformerEncoderLayer(d_model, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        n = items.shape[1]
        x = self.items(items) + self.positions(torch.arange(n))
        mask = nn.Transformer.generate_square_subsequent_mask(n)
        return self.encoder(x, mask=mask, is_causal=True)[:, -1] @ self.items.weight.T


@pytest.fixture(scope="module")
def shop() -> aw.Dataset:
    return aw.synthetic_shop(n_users=40, n_items=120, seed=2)


@pytest.fixture(scope="module")
def hooked(shop: aw.Dataset) -> MultiheadAttentionSource:
    return MultiheadAttentionSource(EncoderRec(shop.n_items), shop, max_len=MAX_LEN)


def check_page(page: Page, path: Path, n_recs: int = 10):
    """Open ``path`` offline; the sequence heatmap draws and ``n_recs`` recommendations show."""
    page.goto(path.as_uri())
    root = widget_root(page)
    seq = wait_drawn(root)
    drawn = assert_heatmap_drawn(seq)
    assert len(rec_titles(root)) == n_recs
    assert visible_text(root, ".aw-error") == ""
    return root, seq, drawn


def test_explorer_renders_a_hooked_transformer_encoder(
    page: Page, blocked_requests, console_errors, screenshot, shop, hooked, tmp_path
) -> None:
    explorer = aw.AttentionExplorer(hooked, shop, users=shop.users[:5], agreement_users=5)
    out = explorer.save_html(tmp_path / "hooked.html", users=shop.users[:2])
    root, seq, drawn = check_page(page, out)
    screenshot("adapter-hooked-encoder")

    set_slider(root, "input.aw-head-slider", 1)  # nn.MultiheadAttention's second head
    wait_for_redraw(page, root, drawn.draw_count)
    assert pixels(seq).digest != drawn.digest, "head 1 drew the same pixels as head 0"

    first = rec_titles(root)
    before = draw_count(root)
    set_slider(root, "input.aw-user-slider", 1)
    wait_for_redraw(page, root, before)
    assert rec_titles(root) != first
    assert_heatmap_drawn(seq)
    assert blocked_requests == [] and console_errors == []


def test_explorer_renders_precomputed_attention(
    page: Page, blocked_requests, console_errors, screenshot, shop, hooked, tmp_path
) -> None:
    """Arrays and recommendations from elsewhere (here: the hooked model, standing in)."""
    users = shop.users[:2]
    attentions, recommendations = {}, {}
    for user in users:
        expl = aw.explain(hooked, shop, user, k=5)
        attentions[user] = expl.attentions
        recommendations[user] = list(expl.recommendation_table()["item_id"])
    source = PrecomputedSource(shop, attentions, recommendations)
    explorer = aw.AttentionExplorer(source, shop, users=source.users, k=5, agreement_users=2)
    out = explorer.save_html(tmp_path / "precomputed.html", users=users)
    root, _seq, _drawn = check_page(page, out, n_recs=5)
    expected = [shop.catalog.title(shop.catalog.index_of(i)) for i in recommendations[users[0]]]
    assert rec_titles(root) == expected
    screenshot("adapter-precomputed")
    assert blocked_requests == [] and console_errors == []


def write_ml100k(root: Path, n_users: int = 30, n_items: int = 40, per_user: int = 10) -> None:
    """A MovieLens ml-100k directory: ``u.data`` (tab-separated) and ``u.item`` (``|``)."""
    rng = np.random.default_rng(0)
    rows = [
        f"{u}\t{i}\t{rng.integers(1, 6)}\t{881000000 + 1000 * u + step}"
        for u in range(1, n_users + 1)
        for step, i in enumerate(rng.choice(np.arange(1, n_items + 1), per_user, replace=False))
    ]
    (root / "u.data").write_text("\n".join(rows) + "\n")
    genres = lambda i: "|".join("1" if g == i % 19 else "0" for g in range(19))  # noqa: E731
    items = [
        f"{i}|Film number {i} ({1980 + i % 20})|01-Jan-1995||http://example.invalid|{genres(i)}"
        for i in range(1, n_items + 1)
    ]
    (root / "u.item").write_text("\n".join(items) + "\n", encoding="latin-1")


def cli(*args: str, cwd: Path) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "attnwidget.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_train_then_export_opens_and_draws(
    page: Page, blocked_requests, console_errors, screenshot, tmp_path
) -> None:
    data = tmp_path / "ml-100k"
    data.mkdir()
    write_ml100k(data)
    tiny = ["--epochs", "3", "--d-model", "16", "--layers", "2", "--heads", "2", "--max-len", "8"]
    trained = cli("train", "--data", str(data), "--format", "movielens", "--out", "model.pt",
                  "--no-progress", *tiny, cwd=tmp_path)  # fmt: skip
    assert "NDCG@10" in trained and "saved model.pt" in trained
    exported = cli("export", "--model", "model.pt", "--data", str(data), "--users", "4,9",
                   "--out", "report.html", cwd=tmp_path)  # fmt: skip
    assert "saved report.html (2 users)" in exported

    root, seq, drawn = check_page(page, tmp_path / "report.html")
    assert all(t.startswith("Film number") for t in rec_titles(root))
    assert root.locator("input.aw-user-input").input_value() == "4"
    screenshot("cli-export")

    set_slider(root, "input.aw-user-slider", 1)
    wait_for_redraw(page, root, drawn.draw_count)
    assert root.locator("input.aw-user-input").input_value() == "9"
    assert_heatmap_drawn(seq)
    assert blocked_requests == [] and console_errors == []
