"""Transfer size and speed of the AttentionExplorer for a 200-item history, 4 layers x 8 heads.

    python benchmarks/widget_speed.py [--users 40] [--heads 20] [--switches 10] [--skip-voila]

Prints:
  * payload bytes per user and per sequence-attention weight (L*H*n*n), and what else the pack
    holds (rollout L*n*n float16, feature attention n*F float32, the JSON header);
  * Python time to build one user's payload (``explanation_pack(explain(...))``, no cache);
  * browser redraw after a head change: median ``data-redraw-ms`` (the widget's own
    performance.now() around the redraw) and input -> next painted frame, over ~20 head changes,
    in the static export (no kernel) and in Voila;
  * end-to-end user switch in Voila: user slider moved -> new heatmap drawn (data-draw-count
    changed and the recommendation text changed), timed with performance.now() in the page, for
    users the kernel has not explained yet and for users it has cached.

Targets: redraw ≤ 16 ms, user switch ≤ 100 ms, payload ≤ 2 bytes per weight plus a small header.
Needs /usr/bin/chromium and playwright (the e2e test recipe); untrained model (speed only).
Jupyter/IPython dirs go to a temp dir, so $HOME is left alone.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import torch

import attnwidget as aw
from attnwidget.explain import FAST_METHODS
from attnwidget.widget.explanation_pack import explanation_pack
from attnwidget.widget.payload import decode_pack

SHOP = {"n_users": 40, "n_items": 2400, "min_len": 200, "max_len": 220, "seed": 0}
MODEL = {"d_model": 64, "n_layers": 4, "n_heads": 8, "max_len": 200, "seed": 0}
N = 200
# Users explained up front to pick the why-panel's default method: occlusion of a 200-item
# history is 200 forward passes, so the benchmark keeps this small (the default is 30).
AGREEMENT_USERS = 3
TARGET_REDRAW_MS = 16.0
TARGET_SWITCH_MS = 100.0
TARGET_BYTES_PER_WEIGHT = 2.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# In the page: move the head slider, time the widget's redraw and the next painted frame.
HEAD_CHANGE_JS = """
async ([value]) => {
  const root = document.querySelector(".attnwidget");
  const canvas = root.querySelector("canvas.aw-seq-heatmap");
  const slider = root.querySelector("input.aw-head-slider");
  const before = canvas.dataset.drawCount;
  const t0 = performance.now();
  slider.value = String(value);
  slider.dispatchEvent(new Event("input", { bubbles: true }));
  slider.dispatchEvent(new Event("change", { bubbles: true }));
  const sync = performance.now() - t0;
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const frame = performance.now() - t0;
  if (canvas.dataset.drawCount === before) throw new Error("head change did not redraw");
  return { redrawMs: Number(root.dataset.redrawMs), syncMs: sync, frameMs: frame };
}
"""

# In the page: move the user slider; resolve when the heatmap redrew and the recommendations
# changed (a MutationObserver on data-draw-count, so no polling delay), with the elapsed time.
USER_SWITCH_JS = """
([index, timeoutMs]) => new Promise((resolve, reject) => {
  const root = document.querySelector(".attnwidget");
  const canvas = root.querySelector("canvas.aw-seq-heatmap");
  const slider = root.querySelector("input.aw-user-slider");
  const recs = () =>
    [...root.querySelectorAll(".aw-recs .aw-rec-title")].map((e) => e.textContent).join("|");
  const count = canvas.dataset.drawCount;
  const text = recs();
  const t0 = performance.now();
  const done = () => {
    if (canvas.dataset.drawCount === count || recs() === text) return false;
    observer.disconnect();
    clearTimeout(timer);
    resolve({ ms: performance.now() - t0, user: root.querySelector("input.aw-user-input").value });
    return true;
  };
  const observer = new MutationObserver(done);
  observer.observe(root, { attributes: true, childList: true, subtree: true });
  const timer = setTimeout(() => {
    observer.disconnect();
    reject(new Error("no redraw"));
  }, timeoutMs);
  slider.value = String(index);
  slider.dispatchEvent(new Event("input", { bubbles: true }));
  slider.dispatchEvent(new Event("change", { bubbles: true }));
  done();
})
"""

VOILA_CODE = """\
import attnwidget as aw

SHOP = {shop!r}
MODEL = {model!r}
shop = aw.synthetic_shop(**SHOP)
users = [u for u in shop.users if len(shop.sequence(u)) >= {n}]
model = aw.SASRec(shop, **MODEL)
aw.AttentionExplorer(model, shop, users=users, agreement_users={agreement})"""


# --------------------------------------------------------------------------------- helpers
def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "OVER"


def build(n_users: int) -> tuple[aw.Dataset, aw.SASRec, list[str]]:
    shop = aw.synthetic_shop(**{**SHOP, "n_users": n_users})
    users = [u for u in shop.users if len(shop.sequence(u)) >= N]
    if len(users) < 3:
        sys.exit(f"only {len(users)} users with ≥ {N} items; raise --users")
    return shop, aw.SASRec(shop, **MODEL), users


def payload_figures(shop: aw.Dataset, model: aw.SASRec, users: list[str], reps: int) -> None:
    pack = explanation_pack(aw.explain(model, shop, users[0]))
    header, arrays = decode_pack(pack)
    (json_len,) = struct.unpack_from("<I", pack, 4)
    L, H, n, _ = arrays["seq_attn"].shape
    weights = L * H * n * n
    print(f"\n== payload (one user, n={n}, {L} layers x {H} heads) ==")
    print(f"pack size               {len(pack):>10,} bytes ({len(pack) / 2**20:.2f} MiB)")
    print(f"sequence weights        {weights:>10,} (L·H·n·n)")
    print(f"bytes per weight        {len(pack) / weights:>10.3f} (whole pack / sequence weights)")
    for name, spec in header["arrays"].items():
        print(f"  {name:<10} {spec['dtype']:<8} {spec['shape']!s:<20} {spec['nbytes']:>10,} bytes")
    print(
        f"  header JSON                                   {json_len:>10,} bytes "
        f"({len(header['history'])} history items, "
        f"{len(header['recommendations'])} recommendations)"
    )
    seq_only = header["arrays"]["seq_attn"]["nbytes"] / weights
    over = len(pack) - header["arrays"]["seq_attn"]["nbytes"]
    print(
        f"sequence attention alone: {seq_only:.2f} bytes/weight; everything else adds "
        f"{over:,} bytes ({over / weights:.3f} bytes/weight)"
    )
    print(
        f"target: ≤ {TARGET_BYTES_PER_WEIGHT:g} bytes/weight plus a small header -> "
        f"{verdict(seq_only, TARGET_BYTES_PER_WEIGHT)} for the attention; the rollout adds "
        f"1/H = {1 / H:.3f} bytes/weight"
    )

    default_threads = torch.get_num_threads()
    print(
        f"\n== Python: build one user's payload (median of {reps}, no cache) ==\n"
        "the explorer first sends a fast pack (attention and rollout importance), then "
        "the complete one once gradient and occlusion (n forward passes) are computed"
    )
    for threads in dict.fromkeys((default_threads, 1)):
        torch.set_num_threads(threads)
        explain_ms, fast_ms, full_ms = [], [], []
        for i in range(reps):
            user = users[i % len(users)]
            t0 = time.perf_counter()
            expl = aw.explain(model, shop, user)
            t1 = time.perf_counter()
            explanation_pack(expl, methods=FAST_METHODS)
            t2 = time.perf_counter()
            explanation_pack(expl)
            explain_ms.append((t1 - t0) * 1e3)
            fast_ms.append((t2 - t1) * 1e3)
            full_ms.append((time.perf_counter() - t2) * 1e3)
        first = median([a + b for a, b in zip(explain_ms, fast_ms, strict=True)])
        print(
            f"torch threads {threads}: explain() {median(explain_ms):7.1f} ms (forward pass) + "
            f"fast pack {median(fast_ms):6.1f} ms = first payload {first:7.1f} ms; "
            f"occlusion + complete pack {median(full_ms):7.1f} ms more"
        )
    torch.set_num_threads(default_threads)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def jupyter_env(root: Path) -> dict[str, str]:
    from ipykernel.kernelspec import write_kernel_spec

    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    for name in (
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_DATA_DIR",
        "JUPYTER_RUNTIME_DIR",
        "IPYTHONDIR",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
    ):
        path = root / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    write_kernel_spec(Path(env["JUPYTER_DATA_DIR"]) / "kernels" / "python3")
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    return env


def start_voila(notebook: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (notebook.parent / "voila.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voila",
            notebook.name,
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
        ],
        cwd=notebook.parent,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"voila exited with {proc.returncode}; see {log.name}")
        try:
            urllib.request.urlopen(f"{url}voila/static/ready-probe", timeout=2)
            return proc, url
        except urllib.error.HTTPError:
            return proc, url
        except OSError:
            time.sleep(0.1)  # polling while the port is not open yet
    stop(proc)
    sys.exit("voila did not start within 60 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def head_changes(page, n_changes: int, n_heads: int) -> dict[str, float]:
    rows = [page.evaluate(HEAD_CHANGE_JS, [(i + 1) % n_heads]) for i in range(n_changes)]
    return {key: median([r[key] for r in rows]) for key in ("redrawMs", "syncMs", "frameMs")}


def print_redraw(where: str, figures: dict[str, float], n_changes: int) -> None:
    print(f"\n== browser redraw after a head change, {where} (median of {n_changes}) ==")
    redraw = figures["redrawMs"]
    print(
        f"data-redraw-ms          {redraw:8.2f} ms  (widget's own timing) "
        f"target ≤ {TARGET_REDRAW_MS:g} ms: {verdict(redraw, TARGET_REDRAW_MS)}"
    )
    print(f"input handler total     {figures['syncMs']:8.2f} ms  (slider events dispatched)")
    print(f"input -> next frame     {figures['frameMs']:8.2f} ms  (incl. layout and paint)")


# ------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=SHOP["n_users"], help="users generated")
    parser.add_argument("--reps", type=int, default=15, help="payload builds timed")
    parser.add_argument("--heads", type=int, default=20, help="head changes timed")
    parser.add_argument("--switches", type=int, default=10, help="user switches timed (each)")
    parser.add_argument("--skip-voila", action="store_true", help="no Voila measurements")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    print(
        "attnwidget widget speed: SASRec(d_model=64, n_layers=4, n_heads=8, max_len=200), "
        f"untrained; synthetic_shop({SHOP | {'n_users': args.users}})"
    )
    print(
        f"targets: redraw ≤ {TARGET_REDRAW_MS:g} ms, user switch ≤ {TARGET_SWITCH_MS:g} ms, "
        f"payload ≤ {TARGET_BYTES_PER_WEIGHT:g} bytes/weight + a small header"
    )
    t0 = time.perf_counter()
    shop, model, users = build(args.users)
    print(
        f"data: {shop}; {len(users)} users with ≥ {N} items (built in "
        f"{time.perf_counter() - t0:.1f} s); cpus: {os.cpu_count()}"
    )
    payload_figures(shop, model, users, args.reps)

    with tempfile.TemporaryDirectory(prefix="aw-bench-") as tmp, sync_playwright() as pw:
        tmp_dir = Path(tmp)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        # Static export: the same widget, no kernel.
        explorer = aw.AttentionExplorer(model, shop, users=users, agreement_users=AGREEMENT_USERS)
        html = explorer.save_html(tmp_dir / "bench.html", users=users[:3])
        print(
            f"\nstatic export of 3 users: {html.stat().st_size / 2**20:.1f} MiB "
            "(packs as base64 inside the page)"
        )
        t0 = time.perf_counter()
        page.goto(html.as_uri())
        page.wait_for_selector("canvas.aw-seq-heatmap[data-draw-count]", timeout=60_000)
        print(f"export opened and drawn in {time.perf_counter() - t0:.2f} s")
        n_heads = MODEL["n_heads"]
        print_redraw("static export", head_changes(page, args.heads, n_heads), args.heads)

        if not args.skip_voila:
            voila_section(page, tmp_dir, users, args)
        browser.close()


def voila_section(page, tmp_dir: Path, users: list[str], args: argparse.Namespace) -> None:
    notebook = tmp_dir / "bench.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    code = VOILA_CODE.format(
        shop=SHOP | {"n_users": args.users}, model=MODEL, n=N, agreement=AGREEMENT_USERS
    )
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, notebook)
    proc, url = start_voila(notebook, jupyter_env(tmp_dir / "jupyter"))
    try:
        t0 = time.perf_counter()
        page.goto(url, timeout=180_000)
        page.wait_for_selector("canvas.aw-seq-heatmap[data-draw-count]", timeout=180_000)
        print(
            f"\nVoila page drawn {time.perf_counter() - t0:.1f} s after goto "
            "(kernel start, data, first explanation)"
        )
        print_redraw("Voila", head_changes(page, args.heads, MODEL["n_heads"]), args.heads)

        n = min(args.switches, len(users) - 1)
        fresh = [page.evaluate(USER_SWITCH_JS, [i, 30_000]) for i in range(1, n + 1)]
        cached = [page.evaluate(USER_SWITCH_JS, [i, 30_000]) for i in (*range(n - 1, 0, -1), 0)]
        assert [r["user"] for r in fresh] == users[1 : n + 1], fresh
        print(
            f"\n== user switch in Voila: slider moved -> new heatmap and recommendations drawn "
            f"(median of {n}) =="
        )
        for label, rows in (("not yet explained", fresh), ("cached in the kernel", cached)):
            ms = [r["ms"] for r in rows]
            mid = median(ms)
            print(
                f"{label:<22} {mid:8.1f} ms  (min {min(ms):.1f}, max {max(ms):.1f}) "
                f"target ≤ {TARGET_SWITCH_MS:g} ms: {verdict(mid, TARGET_SWITCH_MS)}"
            )
        print(
            "(the whole pack for the new user crosses the websocket each time; the browser "
            "decodes it and redraws every view)"
        )
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
