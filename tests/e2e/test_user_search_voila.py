"""Finding users in a live explorer (Voila): the user box searches in the kernel (issue 10).

The browser holds only a window of 100 of the 250 users; typing into the user box with real
key presses asks the kernel for the ids that start with or contain the text, and Enter (or
the arrow keys, then Enter) shows one. ‹ › move the slider's window. An id that looks like
HTML is shown as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import REPO_ROOT, _start_voila
from explorer_page import (
    checkout_setup,
    draw_count,
    rec_titles,
    wait_drawn,
    wait_for_redraw,
    widget_root,
    write_notebook,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.timeout(300)
EVIL = "<img src=x onerror=window.__pwned=1>"
APP = f"""
shop = aw.synthetic_shop(n_users=250, n_items=120, seed=2)
users = [{EVIL!r} if u == "u00200" else u for u in shop.users]
data = aw.Dataset(shop.catalog, users, shop.sequences)
model = aw.SASRec(data, d_model=16, n_layers=2, n_heads=2, max_len=20, seed=0)  # untrained
explorer = aw.AttentionExplorer(model, data, agreement_users=0)
"""


@pytest.fixture(scope="module")
def app(jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("user-search")
    setup, _ = checkout_setup(REPO_ROOT)
    notebook = write_notebook(Path(folder) / "users.ipynb", [setup + APP + "explorer"])
    server, url = _start_voila(notebook, jupyter_env, folder)
    yield url
    server.stop()


def type_into_box(page: Page, root: Locator, text: str) -> None:
    """Click the user box, clear it and type ``text`` key by key."""
    root.locator("input.aw-user-input").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.type(text, delay=20)


def wait_for_results(root: Locator, first: str) -> list[str]:
    """Wait until the kernel's matches are listed, the first being ``first``; return them."""
    root.locator(".aw-user-result").first.wait_for(state="visible")
    results = root.locator(".aw-user-result")
    root.page.wait_for_function(
        "([el, want]) => el.querySelector('.aw-user-result')?.textContent === want",
        arg=[root.element_handle(), first],
    )
    return results.all_text_contents()


def wait_for_user(page: Page, root: Locator, user: str, before: int, label: str) -> None:
    """Wait until the views show ``user``, complete: the heatmap redrew since ``before``, the
    box holds the user, the slider says ``label`` and the status line is empty (gradient and
    occlusion drawn, so that no later pack of this user redraws during the next step)."""
    wait_for_redraw(page, root, before)
    page.wait_for_function(
        """([el, user, label]) =>
            el.querySelector("input.aw-user-input").value === user &&
            el.querySelector(".aw-control .aw-value").textContent === label &&
            el.querySelector(".aw-status").textContent === ''""",
        arg=[root.element_handle(), user, label],
    )


def slider_label(root: Locator) -> str:
    return root.locator(".aw-control").first.locator(".aw-value").text_content() or ""


def test_typing_a_user_in_the_search_box_switches_to_that_user(
    page: Page, app: str, console_errors: list[str], screenshot
) -> None:
    page.goto(app, timeout=120_000)
    root = widget_root(page)
    wait_drawn(root, timeout_ms=120_000)
    page.wait_for_function(
        "el => el.querySelector('.aw-status').textContent === ''", arg=root.element_handle()
    )
    assert slider_label(root) == "1 of 250"
    assert root.locator("input.aw-user-slider").get_attribute("max") == "99"  # a window of 100

    # a prefix: the kernel lists the ids starting with it, in order; ↓ ↓ Enter picks the second
    first_recs, before = rec_titles(root), draw_count(root)
    type_into_box(page, root, "u0014")
    results = wait_for_results(root, "u00140")
    assert results == [f"u0014{k}" for k in range(10)]
    screenshot("user-search-results")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    wait_for_user(page, root, "u00141", before, "141 of 250")
    assert rec_titles(root) != first_recs
    assert root.locator(".aw-user-result").count() == 0

    # a whole id and Enter at once, before any answer could come
    before = draw_count(root)
    type_into_box(page, root, "u00007")
    page.keyboard.press("Enter")
    wait_for_user(page, root, "u00007", before, "7 of 250")

    # › moves the slider's window; a step on the slider then shows a user from it
    root.locator("button.aw-user-page[data-dir='1']").click()
    page.wait_for_function(
        "el => el.querySelector('.aw-control .aw-value').textContent === '101–200 of 250'",
        arg=root.element_handle(),
    )
    before = draw_count(root)
    root.locator("input.aw-user-slider").focus()
    page.keyboard.press("ArrowRight")
    wait_for_user(page, root, "u00102", before, "102 of 250")

    # an id that looks like HTML is found by a substring and shown as text
    before = draw_count(root)
    type_into_box(page, root, "onerror")
    assert wait_for_results(root, EVIL) == [EVIL]
    page.keyboard.press("Enter")
    wait_for_user(page, root, EVIL, before, "200 of 250")
    assert root.locator("img").count() == 0 and page.evaluate("window.__pwned") is None
    assert root.locator(".aw-error").is_hidden()
    screenshot("user-search-evil-id")
    assert console_errors == []
