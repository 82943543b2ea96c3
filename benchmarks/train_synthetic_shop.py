"""Train the demo SASRec on synthetic_shop defaults; print wall time and ranking quality.

    python benchmarks/train_synthetic_shop.py

Targets (issue 2, 2-core machine): training ≤ 180 s, NDCG@10 ≥ 3× the popularity baseline.
"""

import time

import torch

from attnwidget import SASRec, evaluate, fit, synthetic_shop
from attnwidget.demo_model import DEMO_SEED, DEMO_SETTINGS, DEMO_TRAINING

start = time.perf_counter()
dataset = synthetic_shop(seed=DEMO_SEED)
generated = time.perf_counter() - start
model = SASRec(dataset, seed=DEMO_SEED, **DEMO_SETTINGS)
start = time.perf_counter()
history = fit(model, dataset, seed=DEMO_SEED, progress=False, **DEMO_TRAINING)
trained = time.perf_counter() - start
table = evaluate(model, dataset, k=(10,))

print(f"data: {dataset}  (generated in {generated:.1f} s)")
print(f"torch threads: {torch.get_num_threads()}, epochs run: {len(history)}")
print(f"training wall time: {trained:.1f} s (target ≤ 180 s)")
for name in table.index:
    print(
        f"{name:>10}: NDCG@10 {table.loc[name, 'NDCG@10']:.4f}  "
        f"HR@10 {table.loc[name, 'HR@10']:.4f}"
    )
ratio = table.loc["model", "NDCG@10"] / table.loc["popularity", "NDCG@10"]
print(f"NDCG@10 model / popularity: {ratio:.1f}× (target ≥ 3×)")
