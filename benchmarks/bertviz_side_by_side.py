"""Side by side with BertViz: page bytes and open -> first draw for the same attention.

    pip install --no-deps bertviz==1.4.1   # for this benchmark only, not a project dependency
    python benchmarks/bertviz_side_by_side.py [--runs 5] [--json PATH] [--lib-dir DIR]

One user of ``synthetic_shop`` with a 200-item history, an untrained ``SASRec`` with 4 layers x 8
heads (``max_len=200``), so both pages hold the same ``[4, 8, 200, 200]`` attention:

* attnwidget: ``AttentionExplorer(model, shop, users=[user]).save_html(path)`` -- the public API
  only, so it measures the export as the code is at run time;
* BertViz 1.4.1: ``head_view(attention, tokens=item titles, html_action="return")`` written to a
  file. Its page loads require.js, jQuery and d3 from cdnjs. This machine has no internet, so the
  script installs those libraries from npm (``npm install --prefix DIR``, cached in ``--lib-dir``)
  and serves each CDN URL from the local file through a Playwright route. jQuery 2.0.0, which
  BertViz asks for, is not on npm: 2.1.0 (the first 2.x there) stands in. npm's requirejs ships
  only the unminified ``require.js``; it is served for ``require.min.js``.

Page bytes: the HTML file's size. The libraries BertViz fetches are reported on their own line;
the ratio against the goal uses the HTML file alone (the smaller BertViz figure, so the ratio
does not flatter attnwidget), and the ratio with the libraries is printed next to it.

Open -> first draw: each page is opened from ``file://`` in a fresh browser context of headless
Chromium (the e2e launch arguments; every request other than the routed CDN files is aborted).
An init script records ``performance.now()`` (milliseconds since navigation start,
``performance.timeOrigin``) when the first view is in the DOM -- attnwidget: the
``canvas.aw-seq-heatmap`` has a ``data-draw-count``; BertViz: ``#vis svg #attention line`` exists
(its ``renderVis`` draws every line of the first layer in one task) -- and after the next painted
frame (``requestAnimationFrame`` then ``setTimeout``). The figure compared is the painted one.
Each page's own first view is what is timed: attnwidget's is layer 0, head 0 as a canvas heatmap
(with its other views); BertViz's is layer 0 with all 8 heads as 8·n·n = 320,000 SVG lines.
Median of ``--runs`` runs, interleaved (attnwidget, BertViz, attnwidget, ...).

Goals (issue 9): the attnwidget page ≥ 20x smaller and ≥ 20x faster to first draw.
Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import attnwidget as aw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from widget_speed import CHROMIUM, CHROMIUM_ARGS  # the launch flags of the e2e recipe

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError:  # the e2e extra
    sys.exit("playwright is needed: pip install -e .[test] (and /usr/bin/chromium)")

SHOP = {"n_users": 40, "n_items": 2400, "min_len": 200, "max_len": 220, "seed": 0}
MODEL = {"d_model": 64, "n_layers": 4, "n_heads": 8, "max_len": 200, "seed": 0}
N = 200
AGREEMENT_USERS = 3  # users explained for the why panel's default method (as widget_speed.py)
GOAL_SMALLER = 20.0
GOAL_FASTER = 20.0
BERTVIZ_VERSION = "1.4.1"
CDN = "https://cdnjs.cloudflare.com/ajax/libs/"
# Every URL BertViz's head_view page loads -> (npm package spec, file inside node_modules).
CDN_LIBS = {
    CDN + "require.js/2.3.6/require.min.js": ("requirejs@2.3.6", "requirejs/require.js"),
    CDN + "jquery/2.0.0/jquery.min.js": ("jquery@2.1.0", "jquery/dist/jquery.min.js"),
    CDN + "d3/5.7.0/d3.min.js": ("d3@5.7.0", "d3/dist/d3.min.js"),
}
ATTNWIDGET_DRAWN = "canvas.aw-seq-heatmap[data-draw-count]"
BERTVIZ_DRAWN = "#vis svg #attention line"

# Runs in every document before its own scripts. Records when the first view is in the DOM and
# when the frame after it was painted, in ms since navigation start. The observers are kept
# cheap: attnwidget's DOM is small; for BertViz (320,000 <line>s) only #vis's own children are
# watched once the parser has made #vis, so the SVG it builds costs one mutation record.
PROBE_JS = """
(() => {
  const mode = %(mode)s;
  const bench = (window.__awBench = { drawn: null, painted: null, domContentLoaded: null });
  document.addEventListener("DOMContentLoaded", () => {
    bench.domContentLoaded = performance.now();
  });
  const drawn = () => {
    if (bench.drawn !== null) return true;
    if (!document.querySelector(%(selector)s)) return false;
    bench.drawn = performance.now();
    requestAnimationFrame(() => setTimeout(() => { bench.painted = performance.now(); }, 0));
    return true;
  };
  // A fallback should an observer miss it: look once per frame (no frame runs inside a long task).
  const poll = () => drawn() || requestAnimationFrame(poll);
  requestAnimationFrame(poll);
  if (mode === "attnwidget") {
    const observer = new MutationObserver(() => drawn() && observer.disconnect());
    observer.observe(document, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["data-draw-count"],
    });
    return;
  }
  const vis = new MutationObserver(() => drawn() && vis.disconnect());
  const parse = new MutationObserver(() => {
    const el = document.getElementById("vis");
    if (!el) return;
    parse.disconnect();
    vis.observe(el, { childList: true });
    drawn();
  });
  parse.observe(document, { subtree: true, childList: true });
})();
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median(values: list[float | None]) -> float:
    """The median of the runs that finished (NaN when none did)."""
    done = [v for v in values if v is not None]
    return statistics.median(done) if done else float("nan")


# ------------------------------------------------------------------------------- the pages
def build() -> tuple[aw.Dataset, aw.SASRec, str]:
    shop = aw.synthetic_shop(**SHOP)
    users = [u for u in shop.users if len(shop.sequence(u)) >= N]
    if not users:
        sys.exit(f"no user with ≥ {N} items in synthetic_shop({SHOP})")
    return shop, aw.SASRec(shop, **MODEL), str(users[0])


def attnwidget_page(shop: aw.Dataset, model: aw.SASRec, user: str, out: Path):
    """The static export through the public API, and the explanation it shows."""
    explorer = aw.AttentionExplorer(model, shop, users=[user], agreement_users=AGREEMENT_USERS)
    try:
        path = explorer.save_html(out / "attnwidget.html")
        return path, explorer.explanation(user)
    finally:
        explorer.close()


def bertviz_page(attentions: np.ndarray, tokens: list[str], out: Path) -> Path:
    try:
        version = importlib.metadata.version("bertviz")
    except importlib.metadata.PackageNotFoundError:
        sys.exit(f"bertviz is not installed: pip install --no-deps bertviz=={BERTVIZ_VERSION}")
    if version != BERTVIZ_VERSION:
        sys.exit(f"bertviz {version} is installed; this benchmark is for {BERTVIZ_VERSION}")
    from bertviz import head_view

    # head_view takes one [1, H, n, n] tensor per layer, as a transformers model returns them.
    layers = [torch.from_numpy(np.ascontiguousarray(a))[None] for a in attentions]
    page = head_view(layers, tokens, html_action="return").data
    asked = set(re.findall(r'<script src="([^"]+)"', page))
    asked |= {url + ".js" for url in re.findall(r"\w+: '(https://[^']+)'", page)}
    if asked != set(CDN_LIBS):
        sys.exit(f"BertViz's page asks for {sorted(asked)}, this script serves {sorted(CDN_LIBS)}")
    path = out / "bertviz_head_view.html"
    path.write_text(page, encoding="utf-8")
    return path


def cdn_files(lib_dir: Path) -> dict[str, Path]:
    """The npm copies of BertViz's CDN libraries, installed into ``lib_dir`` if missing."""
    files = {url: lib_dir / "node_modules" / file for url, (_, file) in CDN_LIBS.items()}
    if not all(path.is_file() for path in files.values()):
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm is needed to install BertViz's libraries (require.js, jQuery, d3)")
        specs = sorted({spec for spec, _ in CDN_LIBS.values()})
        log(f"npm install --prefix {lib_dir} {' '.join(specs)}")
        lib_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(lib_dir), "--no-audit", "--no-fund", *specs],
            check=True,
            stdout=sys.stderr,
        )
    return files


# ----------------------------------------------------------------------------- the browser
def open_once(browser, page_path: Path, mode: str, libs: dict[str, bytes], timeout_s: float):
    """Open ``page_path`` in a fresh context; times (ms since navigation start) and checks."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    served, blocked, errors = [], [], []

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith("file:"):
            request_route.continue_()
        elif mode == "bertviz" and url in libs:
            served.append(url)
            request_route.fulfill(
                status=200, body=libs[url], headers={"content-type": "application/javascript"}
            )
        else:
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    selector = ATTNWIDGET_DRAWN if mode == "attnwidget" else BERTVIZ_DRAWN
    context.add_init_script(PROBE_JS % {"mode": json.dumps(mode), "selector": json.dumps(selector)})
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        t0 = time.perf_counter()
        try:
            page.goto(page_path.as_uri(), wait_until="commit", timeout=timeout_s * 1e3)
            page.wait_for_function(
                "() => window.__awBench && window.__awBench.painted !== null",
                timeout=timeout_s * 1e3,
            )
        except PlaywrightError as exc:  # a timeout or a crash: report it, keep the other runs
            shot = Path(tempfile.gettempdir()) / f"bertviz_side_by_side-{mode}-failed.png"
            with contextlib.suppress(PlaywrightError):
                page.screenshot(path=shot)
            return {"painted": None, "drawn": None, "domContentLoaded": None, "wall_ms": None,
                    "check": f"FAILED ({str(exc).splitlines()[0]}; screenshot {shot})",
                    "served": served, "blocked": blocked, "errors": errors}  # fmt: skip
        wall_ms = (time.perf_counter() - t0) * 1e3
        times = page.evaluate("() => window.__awBench")
        if mode == "attnwidget":
            check = page.evaluate(
                "s => { const c = document.querySelector(s);"
                " return `draw-count ${c.dataset.drawCount}, canvas ${c.width}x${c.height}`; }",
                ATTNWIDGET_DRAWN,
            )
        else:
            check = page.evaluate(
                "() => `${document.querySelectorAll('#vis #attention line').length} lines in "
                "${document.querySelectorAll('#vis #attention g.headAttention').length} heads`"
            )
    finally:
        context.close()
    return {**times, "wall_ms": wall_ms, "check": check, "served": served, "blocked": blocked,
            "errors": errors}  # fmt: skip


# ---------------------------------------------------------------------------------- report
def code_version() -> str:
    """The checkout measured: ``git describe --always --dirty`` (uncommitted work shows)."""
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def ratio(theirs: float, ours: float) -> float:
    return theirs / ours if ours > 0 else float("nan")


def goal(value: float, target: float) -> str:
    return f"≥ {target:g}x: {'met' if value >= target else 'NOT met'}"


def report(result: dict[str, Any]) -> None:
    ours, theirs = result["attnwidget"], result["bertviz"]
    libs = theirs["lib_bytes"]
    size_ratio = result["ratios"]["bytes_html"]
    size_ratio_libs = result["ratios"]["bytes_with_libs"]
    speed = result["ratios"]["painted"]
    runs = result["runs"]
    print(
        f"\nattnwidget vs BertViz {BERTVIZ_VERSION} head_view: one user, {N}-item history, "
        f"{MODEL['n_layers']} layers x {MODEL['n_heads']} heads (untrained SASRec); "
        f"code {result['code']}; {result['chromium']}, {os.cpu_count()} cpus; "
        f"median of {runs} interleaved runs"
    )
    rows = [
        ("", "attnwidget", "BertViz", "BertViz/ours", "goal"),
        (
            "page bytes (HTML file)",
            f"{ours['bytes']:,}",
            f"{theirs['bytes']:,}",
            f"{size_ratio:.1f}x",
            f"smaller {goal(size_ratio, GOAL_SMALLER)}",
        ),
        ("  libs fetched from CDN", "0", f"{sum(libs.values()):,}", "", "(not in the ratio)"),
        (
            "  page + libs",
            f"{ours['bytes']:,}",
            f"{theirs['bytes'] + sum(libs.values()):,}",
            f"{size_ratio_libs:.1f}x",
            "",
        ),
        (
            "open -> first draw painted",
            f"{ours['painted_ms']:,.0f} ms",
            f"{theirs['painted_ms']:,.0f} ms",
            f"{speed:.1f}x",
            f"faster {goal(speed, GOAL_FASTER)}",
        ),
        (
            "  open -> view in the DOM",
            f"{ours['drawn_ms']:,.0f} ms",
            f"{theirs['drawn_ms']:,.0f} ms",
            f"{result['ratios']['drawn']:.1f}x",
            "",
        ),
        (
            "  open -> DOMContentLoaded",
            f"{ours['dcl_ms']:,.0f} ms",
            f"{theirs['dcl_ms']:,.0f} ms",
            "",
            "(HTML parsed)",
        ),
        (
            "  goto -> seen by Python",
            f"{ours['wall_ms']:,.0f} ms",
            f"{theirs['wall_ms']:,.0f} ms",
            "",
            "(wall clock, incl. polling)",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        cells = [
            row[0].ljust(widths[0]),
            *(c.rjust(w) for c, w in zip(row[1:4], widths[1:4], strict=True)),
        ]
        print("  ".join([*cells, row[4]]).rstrip())
    print(
        "ratios are BertViz / attnwidget; the size goal uses the HTML file alone (BertViz's "
        "smaller figure)."
    )
    print(
        "BertViz's libs as served here: "
        + ", ".join(f"{url.removeprefix(CDN)} {n:,} B" for url, n in libs.items())
        + " (from npm: "
        + ", ".join(spec for spec, _ in CDN_LIBS.values())
        + "; fulfilled locally, so no CDN latency is counted)"
    )
    print(f"first view drawn -- attnwidget: {ours['check']}; BertViz: {theirs['check']}")
    for name, side in (("attnwidget", ours), ("BertViz", theirs)):
        if side["failed"]:
            print(f"{name}: {side['failed']} of {runs} opens never drew (left out of the median)")
        if side["blocked"] or side["errors"]:
            print(f"{name}: blocked requests {side['blocked']}, page errors {side['errors'][:3]}")


# ------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="opens of each page (≥ 3 advised)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--lib-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "attnwidget-bertviz-libs",
        help="where npm installs BertViz's CDN libraries (reused when present)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per page open")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")

    libs = {url: path.read_bytes() for url, path in cdn_files(args.lib_dir).items()}
    with tempfile.TemporaryDirectory(prefix="aw-bertviz-") as tmp:
        out = Path(tmp)
        log(f"building synthetic_shop({SHOP}) and SASRec({MODEL}) ...")
        shop, model, user = build()
        log(f"attnwidget: AttentionExplorer(..., users=[{user!r}]).save_html ...")
        ours_path, expl = attnwidget_page(shop, model, user, out)
        attentions = np.asarray(expl.attentions, dtype=np.float32)
        expected = (MODEL["n_layers"], MODEL["n_heads"], N, N)
        if attentions.shape != expected:
            sys.exit(f"the explanation's attention is {attentions.shape}, expected {expected}")
        tokens = [str(t) for t in expl.history_table()["title"]]
        log("BertViz: head_view(..., html_action='return') ...")
        theirs_path = bertviz_page(attentions, tokens, out)
        pages = {"attnwidget": ours_path, "bertviz": theirs_path}
        sizes = {mode: path.stat().st_size for mode, path in pages.items()}
        log(", ".join(f"{mode} page {n:,} B" for mode, n in sizes.items()))

        rows: dict[str, list[dict[str, Any]]] = {"attnwidget": [], "bertviz": []}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            chromium = f"Chromium {browser.version}"
            try:
                for i in range(args.runs):
                    for mode, path in pages.items():
                        row = open_once(browser, path, mode, libs, args.timeout)
                        rows[mode].append(row)
                        head = f"run {i + 1}/{args.runs} {mode:<10}:"
                        if row["painted"] is None:
                            log(f"{head} {row['check']}, page errors {row['errors'][:3]}")
                            continue
                        log(
                            f"{head} painted {row['painted']:8.0f} ms, in DOM {row['drawn']:8.0f}"
                            f" ms, DOMContentLoaded {row['domContentLoaded']:8.0f} ms "
                            f"({row['check']})"
                        )
            finally:
                browser.close()

    def side(mode: str) -> dict[str, Any]:
        runs = rows[mode]
        return {
            "page": pages[mode].name,
            "bytes": sizes[mode],
            "painted_ms": median([r["painted"] for r in runs]),
            "drawn_ms": median([r["drawn"] for r in runs]),
            "dcl_ms": median([r["domContentLoaded"] for r in runs]),
            "wall_ms": median([r["wall_ms"] for r in runs]),
            "check": next((r["check"] for r in runs if r["painted"] is not None), "never drawn"),
            "failed": sum(r["painted"] is None for r in runs),
            "blocked": sorted({u for r in runs for u in r["blocked"]}),
            "errors": sorted({e for r in runs for e in r["errors"]}),
            "runs": runs,
        }

    result: dict[str, Any] = {
        "runs": args.runs,
        "code": code_version(),
        "chromium": chromium,
        "shop": SHOP,
        "model": MODEL,
    }
    result["attnwidget"] = side("attnwidget")
    result["bertviz"] = side("bertviz") | {
        "version": BERTVIZ_VERSION,
        "lib_bytes": {url: len(body) for url, body in libs.items()},
        "lib_npm": {url: spec for url, (spec, _) in CDN_LIBS.items()},
    }
    ours, theirs = result["attnwidget"], result["bertviz"]
    result["ratios"] = {
        "bytes_html": ratio(theirs["bytes"], ours["bytes"]),
        "bytes_with_libs": ratio(
            theirs["bytes"] + sum(theirs["lib_bytes"].values()), ours["bytes"]
        ),
        "painted": ratio(theirs["painted_ms"], ours["painted_ms"]),
        "drawn": ratio(theirs["drawn_ms"], ours["drawn_ms"]),
    }
    result["goals"] = {
        "smaller": {"target": GOAL_SMALLER, "met": result["ratios"]["bytes_html"] >= GOAL_SMALLER},
        "faster": {"target": GOAL_FASTER, "met": result["ratios"]["painted"] >= GOAL_FASTER},
    }
    report(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
