"""Training speed and quality at the size of Amazon Games (SASRec paper), and on MovieLens-100k.

    flock /tmp/attnwidget-bench.lock python benchmarks/training_speed.py
    flock /tmp/attnwidget-bench.lock python benchmarks/training_speed.py --loss ce --loss sampled
    pip download --no-deps recbole==1.2.1 -d /tmp/recbole && unzip -q -o -d /tmp/recbole \\
        /tmp/recbole/recbole-1.2.1-py3-none-any.whl 'recbole/dataset_example/ml-100k/*'
    flock /tmp/attnwidget-bench.lock python benchmarks/training_speed.py \\
        --ml100k /tmp/recbole/recbole/dataset_example/ml-100k

The Games-size shop is ``synthetic_shop(n_users=31000, n_items=23700, min_len=5,
mean_len=9.3)`` (~289k interactions, like the 287k of Games). Each ``--loss`` trains a fresh
SASRec (max_len 50) for ``--epochs`` epochs (early stopping off: patience = epochs) and
prints seconds per epoch, the 20-epoch wall time (target ≤ 400 s on 2 cores) and the test
NDCG@10 / HR@10 under the sampled-100 protocol (the SASRec paper's) and full ranking, next
to the popularity baseline. ``--ml100k PATH`` reads RecBole's atomic files with
``load_recbole`` instead (the data is never committed).
"""

from __future__ import annotations

import argparse
import time

import torch

from attnwidget import SASRec, evaluate, fit, load_recbole, synthetic_shop
from attnwidget.models.training import resolve_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loss", action="append", help="auto, ce, sampled, gbce, bce (repeat)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--users", type=int, default=31000)
    parser.add_argument("--items", type=int, default=23700)
    parser.add_argument("--ml100k", metavar="PATH", help="RecBole's dataset_example/ml-100k")
    parser.add_argument("--negatives", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--max-len", type=int, default=None, help="default 50 (200 for ml-100k)")
    parser.add_argument("--patience", type=int, default=None, help="default: no early stop")
    args = parser.parse_args()

    start = time.perf_counter()
    if args.ml100k:
        dataset = load_recbole(args.ml100k)
        max_len = args.max_len or 200
    else:
        dataset = synthetic_shop(
            n_users=args.users, n_items=args.items, min_len=5, mean_len=9.3, seed=0
        )
        max_len = args.max_len or 50
    print(f"data: {dataset} (read in {time.perf_counter() - start:.1f} s)")
    print(f"torch {torch.__version__}, threads: {torch.get_num_threads()}")
    baseline = None
    for loss in args.loss or ["auto"]:
        model = SASRec(
            dataset,
            d_model=args.d_model,
            n_layers=args.layers,
            n_heads=args.heads,
            max_len=max_len,
            dropout=args.dropout,
            seed=0,
        )
        start = time.perf_counter()
        history = fit(
            model,
            dataset,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            loss=loss,
            n_negatives=args.negatives,
            patience=args.patience or args.epochs,
            progress=False,
        )
        trained = time.perf_counter() - start
        start = time.perf_counter()
        sampled = evaluate(model, dataset, k=(10,), protocol="sampled", baseline=baseline is None)
        full = evaluate(model, dataset, k=(10,), baseline=baseline is None)
        evaluated = time.perf_counter() - start
        if baseline is None:
            baseline = (sampled.loc["popularity"], full.loc["popularity"])
        name = f"{loss} ({resolve_loss(loss, dataset.n_items)})" if loss == "auto" else loss
        per_epoch = history["seconds"]
        print(
            f"\nloss={name} n_negatives={args.negatives} batch={args.batch_size} lr={args.lr} "
            f"d={args.d_model} layers={args.layers} dropout={args.dropout} max_len={max_len}"
        )
        print(
            f"  {len(history)} epochs in {trained:.1f} s: {per_epoch.median():.1f} s per epoch "
            f"(median; validation included), best epoch {history.attrs['best_epoch']}; "
            f"evaluation {evaluated:.1f} s"
        )
        print(
            "  valid NDCG@10 per epoch: "
            + " ".join(f"{v:.3f}" for v in history["valid_NDCG@10"].tolist())
        )
        for label, table, pop in (
            ("sampled-100", sampled, baseline[0]),
            ("full ranking", full, baseline[1]),
        ):
            row = table.loc["model"]
            print(
                f"  test {label:>12}: NDCG@10 {row['NDCG@10']:.4f} HR@10 {row['HR@10']:.4f}"
                f"   popularity NDCG@10 {pop['NDCG@10']:.4f} HR@10 {pop['HR@10']:.4f}"
            )


if __name__ == "__main__":
    main()
