"""Does ``torch.compile`` pay for training SASRec on CPU? (issue 10: "torch.compile or SDPA
where it pays (measure)").

    flock /tmp/attnwidget-bench.lock python benchmarks/torch_compile.py [--steps 40]

Times training steps (sampled softmax, 3000 shared negatives, batch 128, d 64, 2 layers,
max_len 50, a 23,700-item catalogue: the Games-size configuration of training_speed.py) with
the encoder as it is (SDPA in training) and under ``torch.compile(dynamic=True)``. Batches
cycle through the padded lengths that length-bucketed training produces (12, 20, 35, 50).
Prints the wall time of all steps (compilation included) and the median step after warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import attnwidget as aw
from attnwidget.models.training import _batch_loss

LENGTHS = (12, 20, 35, 50)
WARM_UP = 8


def steps(shop: aw.Dataset, n_steps: int, compiled: bool) -> tuple[float, float]:
    """(wall seconds of ``n_steps`` steps, median seconds of a step after warm-up)."""
    model = aw.SASRec(shop, d_model=64, n_layers=2, n_heads=2, dropout=0.2, max_len=50, seed=0)
    model.train()
    if compiled:
        model.encode = torch.compile(model.encode, dynamic=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    options = {"loss": "sampled", "n_negatives": 3000, "gbce_t": 0.75}
    times = []
    start = time.perf_counter()
    for step in range(n_steps):
        width = LENGTHS[step % len(LENGTHS)] + 1
        rows = torch.randint(1, shop.n_items + 1, (128, width), generator=generator)
        t0 = time.perf_counter()
        loss = _batch_loss(model, rows, options, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - t0)
    return time.perf_counter() - start, statistics.median(times[WARM_UP:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    shop = aw.synthetic_shop(n_users=3000, n_items=23700, seed=0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.steps} steps")
    for compiled in (False, True):
        wall, step = steps(shop, args.steps, compiled)
        name = "torch.compile(dynamic=True)" if compiled else "eager (SDPA)"
        print(f"{name:28s} {wall:7.1f} s for all steps, {step * 1e3:7.1f} ms median step")


if __name__ == "__main__":
    main()
