"""Size and speed of the explorer's static export: the light page vs. the html-manager page.

    python benchmarks/export_page.py [--runs 5] [--switch-users 5] [--loads 3]

On a 4-layer × 8-head SASRec explaining 200-item histories (untrained: speed only), prints

* page bytes of a one-user export, and what they are made of, for the light page that
  ``AttentionExplorer.save_html`` writes (``attnwidget.widget.standalone``) and for the same
  snapshot written by the generic ``attnwidget.save_html`` (require.js + the ipywidgets
  html-manager + anywidget's AMD build, the explorer's export before the light page);
* open → first heatmap, medians of ``--runs`` fresh pages: ``drawn`` = the sequence heatmap's
  first ``data-draw-count`` (s after navigation start, ``performance.now()`` in the page),
  ``painted`` = the first contentful paint, when that frame was presented (the page shows
  nothing before the widget's first render, which makes every view in one task, so that frame
  holds the heatmap), and ``graph built`` (histories over 60 items get their item–feature graph
  after that paint);
* user switch in a ``--switch-users`` export: the user slider focused and ArrowRight pressed
  (a real key press), from the keydown to the heatmap of the next user drawn, through all
  users and back (first visits decode a pack; visits back reuse it), over ``--loads`` loads.

Targets (issue 9): first heatmap ≥ 20× faster than BertViz's page (18.3 s, measured for the
issue) -> ≤ 0.9 s; page ≥ 20× smaller than BertViz's -> ≤ 1.7 MB (the issue's figure; 34 MB
for BertViz is what it implies, ``benchmarks/bertviz_side_by_side.py`` measures BertViz
itself); a switch ≤ 50 ms. Needs /usr/bin/chromium and playwright (the e2e recipe).
Every request that is not file:, data: or blob: is aborted (and would be reported).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

import attnwidget as aw
from attnwidget.widget import html_export
from attnwidget.widget.snapshot import ExplorerSnapshot
from attnwidget.widget.standalone import trait_state

SHOP = {"n_users": 60, "n_items": 2400, "min_len": 200, "max_len": 220, "seed": 0}
MODEL = {"d_model": 64, "n_layers": 4, "n_heads": 8, "max_len": 200, "seed": 0}
# BertViz at 4×8×200: 18.3 s as measured for issue 9; 34 MB = 20 × the 1.7 MB goal
BERTVIZ_S, BERTVIZ_MB = 18.3, 34.0
TARGET_FIRST_S, TARGET_MB, TARGET_SWITCH_MS = BERTVIZ_S / 20, BERTVIZ_MB / 20, 50.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
SEQ = "canvas.aw-seq-heatmap"

# Installed before any page script, all times on performance.now()'s clock (ms since navigation
# start): the first heatmap draw; the animation frame after it; the first contentful paint (its
# time is when the frame was presented; the page shows nothing before the widget's first render,
# which makes every view in one task, so that frame holds the heatmap); when the item–feature
# graph has its nodes (built after the first paint for long histories); every heatmap draw and
# keydown (switch timings).
PROBE = """
const aw = { drawn: null, frame: null, fcp: null, graph: null, draws: [], keys: [] };
window.__aw = aw;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.name === "first-contentful-paint") aw.fcp = e.startTime;
}).observe({ type: "paint", buffered: true });
new MutationObserver((records) => {
  if (aw.graph === null && document.querySelector("svg.aw-graph g.aw-node")) {
    aw.graph = performance.now();
  }
  // A heatmap drawn before its view is attached (the html-manager page) is first seen added.
  const drawn = (r) => r.type === "attributes"
    ? r.target.matches?.("canvas.aw-seq-heatmap")
    : aw.drawn === null
      && [...r.addedNodes].some((n) => n.querySelector?.("canvas.aw-seq-heatmap[data-draw-count]"));
  for (const r of records) {
    if (!drawn(r)) continue;
    aw.draws.push(performance.now());
    if (aw.drawn !== null) continue;
    aw.drawn = aw.draws[0];
    requestAnimationFrame(() => { aw.frame = performance.now(); });
  }
}).observe(document, {
  subtree: true, childList: true, attributes: true, attributeFilter: ["data-draw-count"],
});
addEventListener("keydown", (e) => aw.keys.push(e.timeStamp), true);
"""
# The probe's times once the heatmap is on screen and the graph built. "painted" is the first
# contentful paint when it came after the draw (it always did here), else the frame after it
# (after 5 s without a paint entry).
PAINTED = """() => {
  const aw = window.__aw;
  if (aw.drawn === null || aw.frame === null || aw.graph === null) return null;
  if (aw.fcp !== null && aw.fcp >= aw.drawn) return { ...aw, painted: aw.fcp, by: "FCP" };
  if (performance.now() - aw.frame < 5000) return null;
  return { ...aw, painted: aw.frame, by: "frame" };
}"""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "OVER"


def build_explorer() -> tuple[aw.AttentionExplorer, list[str]]:
    torch.set_num_threads(2)
    shop = aw.synthetic_shop(**SHOP)
    model = aw.SASRec(shop, **MODEL).eval()
    users = [u for u in shop.users if len(shop.sequence(u)) >= MODEL["max_len"]]
    return aw.AttentionExplorer(model, shop, users=users, agreement_users=3), users


def old_page(light: Path, out: Path) -> Path:
    """The same snapshot written the way the explorer's export did before the light page."""
    state = trait_state(light.read_text(encoding="utf-8"))
    snapshot = ExplorerSnapshot(**{k: v for k, v in state.items() if k != "payload"})
    try:
        return html_export.save_html(snapshot, out, title="attnwidget explorer")
    finally:
        snapshot.close()


def parts(page: Path) -> str:
    """What the bytes of a page are: its largest <script> blocks, by kind."""
    text = page.read_text(encoding="utf-8")
    blocks: dict[str, int] = {}
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", text, re.S):
        kind = re.search(r'(?:id|data-aw-buffer|type)="([^"]+)"', attrs)
        name = kind.group(1) if kind else "inline script"
        blocks[name] = blocks.get(name, 0) + len(body.encode("utf-8"))
    rest = len(text.encode("utf-8")) - sum(blocks.values())
    shown = sorted(blocks.items(), key=lambda kv: -kv[1])[:4]
    return ", ".join(f"{k} {v / 1e6:.3f} MB" for k, v in shown) + f", rest {rest:,} B"


def new_page(browser, blocked: list[str]):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.route(
        lambda url: not url.startswith(("file:", "data:", "blob:")),
        lambda route: (blocked.append(route.request.url), route.abort()),
    )
    page.add_init_script(PROBE)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    return context, page, errors


def opened(page) -> dict:
    """Wait until the heatmap is painted and the graph built; the probe's times (ms)."""
    return page.wait_for_function(PAINTED, timeout=120_000).json_value()


def first_draw(browser, path: Path, runs: int, blocked: list[str]) -> dict[str, float]:
    """Medians (s) over ``runs`` fresh pages: heatmap drawn, painted, graph built."""
    runs_seen = []
    for _ in range(runs):
        context, page, errors = new_page(browser, blocked)
        page.goto(path.as_uri())
        runs_seen.append(opened(page))
        if errors:
            sys.exit(f"{path.name}: errors in the page: {errors}")
        context.close()
    figures = {k: median([r[k] / 1e3 for r in runs_seen]) for k in ("drawn", "painted", "graph")}
    figures["by"] = "/".join(sorted({r["by"] for r in runs_seen}))
    return figures


def switches(browser, path: Path, n_users: int, loads: int, blocked: list[str]) -> dict:
    """Keydown -> next user's heatmap drawn (ms), for first visits and visits back."""
    first, back = [], []
    for _ in range(loads):
        context, page, errors = new_page(browser, blocked)
        page.goto(path.as_uri())
        opened(page)
        slider = page.locator("input.aw-user-slider")
        for key, into in (("ArrowRight", first), ("ArrowLeft", back)):
            for _ in range(n_users - 1):
                before = page.evaluate("() => window.__aw.draws.length")
                user = page.locator("input.aw-user-input").input_value()
                slider.focus()
                page.keyboard.press(key)
                page.wait_for_function(
                    "([n, u]) => window.__aw.draws.length > n && "
                    "document.querySelector('input.aw-user-input').value !== u",
                    arg=[before, user],
                )
                times = page.evaluate("() => window.__aw")
                into.append(times["draws"][before] - times["keys"][-1])
        if errors:
            sys.exit(f"{path.name}: errors in the page: {errors}")
        context.close()
    return {"first": first, "back": back}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="page loads per first-draw median")
    parser.add_argument("--switch-users", type=int, default=5)
    parser.add_argument("--loads", type=int, default=3, help="page loads for the switch timing")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    t0 = time.perf_counter()
    explorer, users = build_explorer()
    with tempfile.TemporaryDirectory(prefix="attnwidget-export-bench-") as tmp:
        folder = Path(tmp)
        light = explorer.save_html(folder / "light.html", users=users[:1])
        old = old_page(light, folder / "html-manager.html")
        many = explorer.save_html(folder / "switch.html", users=users[: args.switch_users])
        print(f"pages written in {time.perf_counter() - t0:.0f} s (model, explanations, packs)")
        expl = explorer.explanation(users[0])
        L, H = expl.attentions.shape[:2]
        print(f"\n== one-user export, {L} layers × {H} heads × n={len(expl.history)} ==")

        blocked: list[str] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            figures = {}
            for name, page in (("html-manager page (before)", old), ("light page (after)", light)):
                size = page.stat().st_size
                t = first_draw(browser, page, args.runs, blocked)
                figures[name] = (size, t["painted"])
                print(f"{name:<27} {size:>12,} bytes ({size / 1e6:.2f} MB)\n    open -> first "
                      f"heatmap drawn {t['drawn']:.3f} s, painted {t['painted']:.3f} s "
                      f"({t['by']}), graph built {t['graph']:.3f} s (medians of {args.runs})"
                      f"\n    {parts(page)}")  # fmt: skip
            (old_size, old_s), (new_size, new_s) = figures.values()
            print(
                f"light page: {old_size / new_size:.1f}× smaller, {old_s / new_s:.1f}× faster to "
                f"first heatmap than the html-manager page; vs BertViz ({BERTVIZ_MB:g} MB, "
                f"{BERTVIZ_S:g} s): {BERTVIZ_MB * 1e6 / new_size:.1f}× smaller, "
                f"{BERTVIZ_S / new_s:.1f}× faster"
            )
            print(
                f"targets: first heatmap ≤ {TARGET_FIRST_S:.2f} s -> "
                f"{verdict(new_s, TARGET_FIRST_S)}; page ≤ {TARGET_MB:.1f} MB -> "
                f"{verdict(new_size / 1e6, TARGET_MB)} (the pack is most of it)"
            )

            timed = switches(browser, many, args.switch_users, args.loads, blocked)
            every = timed["first"] + timed["back"]
            print(
                f"\n== user switch, {args.switch_users}-user light page "
                f"({many.stat().st_size / 1e6:.2f} MB), ArrowRight/ArrowLeft on the user slider "
                f"-> next heatmap drawn, {args.loads} loads ==\n"
                f"median {median(every):.1f} ms (first visit {median(timed['first']):.1f} ms, "
                f"n={len(timed['first'])}; back {median(timed['back']):.1f} ms, "
                f"n={len(timed['back'])}); max {max(every):.1f} ms; target ≤ "
                f"{TARGET_SWITCH_MS:g} ms -> {verdict(median(every), TARGET_SWITCH_MS)}"
            )
            browser.close()
        print(f"network requests: {blocked or 'none'}")


if __name__ == "__main__":
    main()
