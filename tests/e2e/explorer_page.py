"""What a person sees of the AttentionExplorer in a page, read through its DOM hooks.

Hooks (js/src): ``.attnwidget`` root with ``data-redraw-ms``; ``canvas.aw-seq-heatmap`` and
``canvas.aw-feat-heatmap`` with ``data-draw-count``; ``.aw-recs .aw-rec`` (title in
``.aw-rec-title``); ``input.aw-head-slider`` / ``aw-layer-slider`` / ``aw-user-slider``;
``input.aw-user-input``; ``.aw-error``, ``.aw-warnings``, ``.aw-truncated``; ``svg.aw-graph``.

Every wait here is on DOM state (a draw count that moves, a text that changes), never a sleep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

SEQ = "canvas.aw-seq-heatmap"
FEAT = "canvas.aw-feat-heatmap"

# Pixels of a heatmap canvas. The canvas is transparent where nothing is drawn (the page shows
# through); axis labels are grey text. A heatmap cell is an opaque, clearly coloured pixel (every
# viridis colour has max(r,g,b) - min(r,g,b) > 60; text and the NaN grey have ~0), so "colored"
# counts cells and the colour legend (at most 120 x 8 CSS px). ``digest`` hashes every pixel.
_PIXELS_JS = """
canvas => {
  const ctx = canvas.getContext("2d");
  const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let colored = 0, painted = 0, grey = 0, hash = 2166136261;
  for (let i = 0; i < px.length; i += 4) {
    const r = px[i], g = px[i + 1], b = px[i + 2], a = px[i + 3];
    if (a === 0) continue;
    painted++;
    const spread = Math.max(r, g, b) - Math.min(r, g, b);
    if (a === 255 && spread > 40) colored++;
    if (a === 255 && r === 154 && g === 154 && b === 154) grey++;
    hash = Math.imul(hash ^ (r | (g << 8) | (b << 16) | (a << 24)), 16777619) >>> 0;
  }
  const dpr = window.devicePixelRatio || 1;
  return {
    width: canvas.width, height: canvas.height, dpr, painted, colored, grey,
    colored_css: colored / (dpr * dpr), digest: hash.toString(16),
    draw_count: Number(canvas.dataset.drawCount || 0),
  };
}
"""
LEGEND_CSS_PX = 120 * 8


@dataclass(frozen=True)
class Pixels:
    """Summary of a canvas: sizes, painted/coloured pixel counts, a digest of all pixels."""

    width: int
    height: int
    dpr: float
    painted: int
    colored: int
    grey: int
    colored_css: float
    digest: str
    draw_count: int


def pixels(canvas: Locator) -> Pixels:
    """Read ``canvas``'s pixels in the page (getImageData) and summarise them."""
    return Pixels(**canvas.evaluate(_PIXELS_JS))


def assert_heatmap_drawn(canvas: Locator, min_cells_css_px: float = 2 * LEGEND_CSS_PX) -> Pixels:
    """The heatmap has clearly more coloured (non-background, non-text) pixels than its legend."""
    px = pixels(canvas)
    assert px.draw_count >= 1, "heatmap never drew (no data-draw-count)"
    assert px.width > 0 and px.height > 0, f"heatmap canvas has no size: {px}"
    assert px.colored_css >= min_cells_css_px, f"heatmap is (nearly) all background: {px}"
    return px


def widget_root(page: Page | Locator, index: int = 0) -> Locator:
    """The ``index``-th explorer on the page (or inside a locator)."""
    return page.locator(".attnwidget").nth(index)


def wait_drawn(root: Locator, timeout_ms: float = 30_000) -> Locator:
    """Wait until the sequence heatmap has drawn once; return the canvas locator."""
    canvas = root.locator(f"{SEQ}[data-draw-count]")
    canvas.wait_for(state="visible", timeout=timeout_ms)
    return canvas


def draw_count(root: Locator, selector: str = SEQ) -> int:
    return int(root.locator(selector).get_attribute("data-draw-count") or 0)


def wait_for_redraw(
    page: Page, root: Locator, before: int, selector: str = SEQ, timeout_ms: float = 30_000
) -> int:
    """Wait until the canvas's ``data-draw-count`` differs from ``before``; return the new count."""
    handle = root.locator(selector).element_handle()
    page.wait_for_function(
        "([c, n]) => Number(c.dataset.drawCount || 0) !== n", arg=[handle, before],
        timeout=timeout_ms,
    )  # fmt: skip
    return draw_count(root, selector)


def wait_for_text(
    page: Page, locator: Locator, predicate_js: str, arg: object = None, timeout_ms: float = 30_000
) -> str:
    """Wait until ``predicate_js`` (``(text, arg) => bool``) holds for ``locator``'s textContent."""
    handle = locator.element_handle()
    page.wait_for_function(
        f"([el, arg]) => ({predicate_js})(el.textContent, arg)", arg=[handle, arg],
        timeout=timeout_ms,
    )  # fmt: skip
    return locator.text_content() or ""


def set_slider(root: Locator, selector: str, value: int) -> None:
    """Move a range input like a person: set its value, fire ``input`` then ``change``."""
    root.locator(selector).evaluate(
        """(el, v) => {
            el.value = String(v);
            el.dispatchEvent(new Event("input", { bubbles: true }));
            el.dispatchEvent(new Event("change", { bubbles: true }));
        }""",
        value,
    )


def type_user(root: Locator, user: str) -> None:
    """Type an id into the user box and press Enter (the box commits on change)."""
    box = root.locator("input.aw-user-input")
    box.fill(user)
    box.press("Enter")


def rec_titles(root: Locator) -> list[str]:
    return root.locator(".aw-recs .aw-rec .aw-rec-title").all_text_contents()


def visible_text(root: Locator, selector: str) -> str:
    """Text of the first ``selector`` element when shown, "" when hidden or absent."""
    return root.locator(selector).first.evaluate("el => (el.hidden ? '' : el.textContent)")
