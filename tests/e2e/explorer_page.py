"""What a person sees of the AttentionExplorer in a page, read through its DOM hooks.

Hooks (js/src): ``.attnwidget`` root with ``data-redraw-ms``; ``canvas.aw-seq-heatmap`` and
``canvas.aw-feat-heatmap`` with ``data-draw-count``; ``.aw-recs .aw-rec`` (title in
``.aw-rec-title``); ``input.aw-head-slider`` / ``aw-layer-slider`` / ``aw-user-slider``;
``input.aw-user-input``; ``.aw-error``, ``.aw-warnings``, ``.aw-truncated``; ``svg.aw-graph``.

Every wait here is on DOM state (a draw count that moves, a text that changes), never a sleep.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

SEQ = "canvas.aw-seq-heatmap"
FEAT = "canvas.aw-feat-heatmap"
FEAT_OCCLUSION = "canvas.aw-featocc-heatmap"

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
    """The heatmap has clearly more coloured (non-background, non-text) pixels than its legend
    (waiting for its first draw: the feature heatmaps follow the sequence heatmap a frame later)."""
    canvas.page.wait_for_function(
        "el => el.dataset.drawCount !== undefined", arg=canvas.element_handle(), timeout=30_000
    )
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


# ---------------------------------------------------------------------- other front-end builds
def build_frontend(repo_root: Path, commit: str, out: Path) -> Path:
    """Bundle ``js/src`` as it was at ``commit`` into ``out`` (a .js file); return ``out``.

    Uses the checkout's own ``js/node_modules`` (esbuild and the d3 modules), the same options
    as ``js/build.mjs``; ~1 s. Lets a test load an older front end beside the current one
    (before/after screenshots, checking that a test fails on the old front end).
    """
    import subprocess

    src = out.parent / f"js-src-{commit}"
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", commit, "js/src/"],
        cwd=repo_root, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    src.mkdir(parents=True, exist_ok=True)
    for name in names:
        data = subprocess.run(
            ["git", "show", f"{commit}:{name}"], cwd=repo_root, check=True, capture_output=True
        ).stdout
        (src / Path(name).name).write_bytes(data)
    script = f"""
      const {{ build }} = require({json.dumps(str(repo_root / "js" / "node_modules" / "esbuild"))});
      build({{
        entryPoints: [{json.dumps(str(src / "widget.js"))}], bundle: true, format: "esm",
        minify: true, define: {{ "define.amd": "false" }}, outfile: {json.dumps(str(out))},
        nodePaths: [{json.dumps(str(repo_root / "js" / "node_modules"))}], logLevel: "warning",
      }}).catch((e) => {{ console.error(e); process.exit(1); }});
    """
    subprocess.run(["node", "-e", script], check=True, capture_output=True, text=True)
    return out


# ---------------------------------------------------------------- what a long history looks like
# The lower triangle of the sequence heatmap, cell by cell: the pixel at each cell's centre is
# matched to the nearest entry of the viridis table the front end uses (js/src/colors.js), so
# ``dark_share`` is the share of cells in the bottom 10% of the colour map and ``buckets`` how
# many of its ten tenths occur. Rows before ``skip_rows`` (a causal matrix's trivial first
# queries) are left out. Cell geometry: ``data-cells`` ("x0,y0,w,h" CSS px) when the canvas has
# it, else the layout every front end so far used (x0 = 128, y0 = 6, cell = min(22, 340 / n)).
_TRIANGLE_JS = """
(canvas, [n, skip]) => {
  const stops = ["#440154", "#482878", "#3e4a89", "#31688e", "#26828e",
                 "#1f9e89", "#35b779", "#6dcd59", "#b4de2c", "#fde725"]
    .map(s => [1, 3, 5].map(i => parseInt(s.slice(i, i + 2), 16)));
  const lut = [];
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * 9, k = Math.min(Math.floor(x), 8), f = x - k;
    lut.push([0, 1, 2].map(c => stops[k][c] * (1 - f) + stops[k + 1][c] * f));
  }
  const nearest = (r, g, b) => {
    let best = 0, dist = Infinity;
    for (let i = 0; i < 256; i++) {
      const d = (lut[i][0] - r) ** 2 + (lut[i][1] - g) ** 2 + (lut[i][2] - b) ** 2;
      if (d < dist) { dist = d; best = i; }
    }
    return best;
  };
  const cell = Math.min(22, Math.max(1, 340 / n));
  const fallback = `128,6,${cell * n},${cell * n}`;
  const [x0, y0, w] = (canvas.dataset.cells || fallback).split(",").map(Number);
  const size = w / n;
  const dpr = window.devicePixelRatio || 1;
  const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const counts = new Array(10).fill(0);
  let cells = 0, dark = 0;
  for (let r = skip; r < n; r++) {
    for (let c = 0; c < r; c++) {
      const x = Math.floor((x0 + (c + 0.5) * size) * dpr);
      const y = Math.floor((y0 + (r + 0.5) * size) * dpr);
      const i = (y * canvas.width + x) * 4;
      if (px[i + 3] < 255) continue;
      const t = nearest(px[i], px[i + 1], px[i + 2]);
      cells++;
      if (t < 26) dark++;
      counts[Math.min(9, Math.floor(t / 25.6))]++;
    }
  }
  const buckets = counts.filter(k => k > 0.01 * cells).length;
  return { cells, dark_share: cells ? dark / cells : 1, buckets, counts };
}
"""


def heatmap_triangle(canvas: Locator, n: int, skip_rows: int = 0) -> dict:
    """``{cells, dark_share, buckets, counts}`` of the lower triangle (see above)."""
    return canvas.evaluate(_TRIANGLE_JS, [n, skip_rows])


# Shown graph labels and the pairs of them whose boxes (getBoundingClientRect) overlap.
_LABELS_JS = """
svg => {
  const shown = [...svg.querySelectorAll(".aw-label")].filter(t => {
    const s = getComputedStyle(t);
    return s.display !== "none" && s.visibility !== "hidden" && Number(s.opacity) > 0.2
      && t.textContent.trim() && !t.closest(".aw-dim");
  });
  const boxes = shown.map(t => t.getBoundingClientRect())
    .map(b => ({x: b.x, y: b.y, w: b.width, h: b.height}));
  const pairs = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h)
      pairs.push([shown[i].textContent, shown[j].textContent]);
  }
  return { shown: shown.length, overlapping: pairs.length, pairs: pairs.slice(0, 10) };
}
"""


def graph_labels(svg: Locator) -> dict:
    """``{shown, overlapping, pairs}``: visible labels of the graph and overlapping pairs."""
    return svg.evaluate(_LABELS_JS)


def wait_graph_settled(page: Page, svg: Locator, timeout_ms: float = 60_000) -> None:
    """Wait until no graph node moves between two looks 400 ms apart (any front end)."""
    page.wait_for_function(
        """svg => {
            const now = [...svg.querySelectorAll(".aw-node")]
                .map(g => g.getAttribute("transform")).join();
            const t = performance.now();
            const prev = svg.__awLast;
            if (!prev || prev.now !== now) { svg.__awLast = { now, t }; return false; }
            return t - prev.t > 400;
        }""",
        arg=svg.element_handle(), timeout=timeout_ms, polling=100,
    )  # fmt: skip


def write_notebook(path: Path, cells: Sequence[str]) -> Path:
    """Write code ``cells`` as a notebook for the ``python3`` kernel; return its path."""
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def checkout_setup(repo_root: Path, bundle: Path | None = None) -> tuple[str, str]:
    """Code that imports attnwidget from ``repo_root`` (not another installed copy), and code
    that gives ``explorer`` the front end ``bundle`` when one is given ("" otherwise)."""
    setup = (
        "import sys\n"
        f"sys.path.insert(0, {str(repo_root)!r})  # this checkout, not another installed copy\n"
        "from pathlib import Path\n\n"
        "import attnwidget as aw\n"
    )
    show = f"explorer._esm = Path({str(bundle)!r}).read_text()\n" if bundle else ""
    return setup, show


DEMO_APP_TIMEOUT_MS = 120_000
"""Kernel start + the demo model's load (trained on a session's first run) + first draw."""
IMPORTANCE_BARS = ".aw-importance-bars"


def open_demo_app(page: Page, url: str, *, also: tuple[str, ...] = ()) -> Locator:
    """Load the Voila demo app; wait until the explorer and its why panel's bars (and each
    selector in ``also``) are drawn."""
    page.goto(url, timeout=DEMO_APP_TIMEOUT_MS)
    root = widget_root(page)
    wait_drawn(root, timeout_ms=DEMO_APP_TIMEOUT_MS)
    root.locator(f"{IMPORTANCE_BARS}[data-method]").wait_for(state="visible")
    for selector in also:
        root.locator(selector).wait_for(state="visible")
    return root


def back_to_original_history(page: Page, root: Locator) -> None:
    """Click the what-if banner's "Back to the original history"; wait until the kernel's
    answer is drawn and the banner is gone."""
    before = draw_count(root)
    root.locator(".aw-what-if .aw-reset-history").click()
    wait_for_kernel_answer(page, root, before)
    root.locator(".aw-what-if").wait_for(state="hidden")


def wait_for_kernel_answer(page: Page, root: Locator, before: int) -> None:
    """Wait until the kernel's answer to an edit is drawn (a new pack, no edit pending)."""
    wait_for_redraw(page, root, before)
    page.wait_for_function("el => !el.classList.contains('aw-pending')", arg=root.element_handle())
