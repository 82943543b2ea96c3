"""Occlusion importance of one history: the old scoring path against the current one.

    python benchmarks/occlusion_speed.py [--repeats 7] [--skip-demo]

Occlusion re-scores the history with each item left out (n leave-one-out variants). For
n = 50, 200 and 1000 (lengths above the model's ``max_len`` are skipped) it prints the median
and the fastest of ``--repeats`` runs of

  * old: what ``occlusion_importance`` did before — every variant scored for every item by
    the forward pass that materialises the attention weights, in batches of 32
    (``SCORE_BATCH``), the target's column kept;
  * new: ``occlusion_importance(SASRecSource(model), history, target)`` as it is now (the
    fused attention kernel, the target's score only, leading items shared by a batch of
    variants computed once);

and the largest difference between the two importance vectors. Models: the reference config
(4 layers x 8 heads, d_model=64, max_len=200, a 600-item synthetic shop, untrained: speed
only; as in benchmarks/widget_speed.py) and the demo model (trained and cached on first use,
~75 s). Histories are random item draws (speed does not depend on which items). Target:
≤ 0.5 s at n = 200 for the reference config. The machine's load average is printed: other
processes on a shared machine slow every figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

import attnwidget as aw
from attnwidget.explain.importance import occlusion_importance
from attnwidget.sources import SASRecSource

SHOP = {"n_users": 40, "n_items": 600, "seed": 0}
MODEL = {"d_model": 64, "n_layers": 4, "n_heads": 8, "max_len": 200, "seed": 0}
LENGTHS = (50, 200, 1000)
TARGET_N = 200
TARGET_SECONDS = 0.5
OLD_BATCH = 32


def old_occlusion(model: aw.SASRec, history: np.ndarray, target: int) -> np.ndarray:
    """The path before: the weights-materialising forward, all items scored, batches of 32."""

    def target_scores(histories: list[np.ndarray]) -> np.ndarray:
        parts = []
        with torch.no_grad():
            for i in range(0, len(histories), OLD_BATCH):
                out = model(model.pad(histories[i : i + OLD_BATCH]), need_weights=True)
                parts.append(out.scores[:, target].double().numpy())
        return np.concatenate(parts)

    model.eval()
    full = target_scores([history])[0]
    return full - target_scores([np.delete(history, i) for i in range(len(history))])


def timed(function, repeats: int) -> tuple[float, float, np.ndarray]:
    """Median and fastest wall time of ``repeats`` calls (after one warm-up call), and the
    last result."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def measure(name: str, model: aw.SASRec, repeats: int) -> dict[int, float]:
    """Print old and new timings for each history length; the new medians by length."""
    model.eval()
    source = SASRecSource(model)
    rng = np.random.default_rng(0)
    config = model.config
    print(
        f"\n{name}: {config.n_layers} layers x {config.n_heads} heads, d_model={config.d_model}, "
        f"max_len={config.max_len}, {model.catalog.n_items} items"
    )
    print(
        f"{'n':>6} {'old median':>11} {'old min':>8} {'new median':>11} {'new min':>8} "
        f"{'speed-up':>9} {'max |diff|':>11}"
    )
    medians = {}
    for n in LENGTHS:
        if n > config.max_len:
            print(f"{n:>6}  skipped: longer than max_len={config.max_len}")
            continue
        history = rng.integers(1, model.catalog.n_items + 1, n)
        target = int(np.argmax(model.score([history])[0]))
        new_median, new_min, new = timed(
            lambda h=history, t=target: occlusion_importance(source, h, t), repeats
        )
        old_median, old_min, old = timed(
            lambda h=history, t=target: old_occlusion(model, h, t), repeats
        )
        medians[n] = new_median
        print(
            f"{n:>6} {old_median:>10.3f}s {old_min:>7.3f}s {new_median:>10.3f}s {new_min:>7.3f}s "
            f"{old_median / new_median:>8.1f}x {np.abs(old - new).max():>11.2e}"
        )
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per figure (median)")
    parser.add_argument("--skip-demo", action="store_true", help="only the reference config")
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error("--repeats must be at least 5")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    shop = aw.synthetic_shop(**SHOP)
    medians = measure("reference config", aw.SASRec(shop, **MODEL), args.repeats)
    if not args.skip_demo:
        from attnwidget.demo_model import demo_model

        model, _ = demo_model(progress=False)
        measure("demo model", model, args.repeats)
    median = medians[TARGET_N]
    verdict = "met" if median <= TARGET_SECONDS else "NOT met"
    print(
        f"\ntarget: occlusion of a {TARGET_N}-item history (reference config) ≤ "
        f"{TARGET_SECONDS} s: {median:.3f} s median — {verdict} "
        f"(load average now {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
