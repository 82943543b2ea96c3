"""How long a notebook cell that opens an explorer on 200-item histories takes.

Prints, for ``AttentionExplorer(model, shop)`` (default settings: 30 users sampled for the
model-level agreement) on a shop whose histories hold 200+ items and an untrained SASRec with
``max_len=200`` (4 layers × 8 heads, as in the other widget benchmarks):

* ``cell``: the constructor's wall time, i.e. until the cell returns and the first pack is
  ready to draw (the browser then needs ~0.1–0.2 s to decode and draw it);
* ``agreement``: until the background work is done (``explorer.wait()``), when the why panel
  shows the model-level agreement.

Median of ``--repeat`` runs (default 3). Run from the repository root:
``python benchmarks/explorer_open.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import attnwidget as aw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    shop = aw.synthetic_shop(n_users=300, n_items=2400, min_len=200, max_len=220, seed=0)
    model = aw.SASRec(shop, d_model=64, n_layers=4, n_heads=8, max_len=200, seed=0).eval()
    cells, totals = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        explorer = aw.AttentionExplorer(model, shop)
        cells.append(time.perf_counter() - start)
        explorer.wait()
        totals.append(time.perf_counter() - start)
        explorer.close()
    print(f"history length {len(explorer.explanation().history)}, {aw.__file__}")
    print(f"cell (constructor, first pack ready): median {statistics.median(cells):.2f} s  {cells}")
    print(f"agreement ready (explorer.wait()):    median {statistics.median(totals):.2f} s")


if __name__ == "__main__":
    main()
