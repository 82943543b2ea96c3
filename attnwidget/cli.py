"""Command line: ``attnwidget demo | train``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pandas as pd

from .errors import AttnWidgetError

LOADERS = ("recbole", "movielens", "csv")


def _print_metrics(table: pd.DataFrame) -> None:
    with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 160):
        print(table.to_string())


def _demo(args: argparse.Namespace) -> None:
    from .app import serve, write_app_notebook
    from .demo_model import cache_dir, demo_model
    from .evaluate import evaluate

    model, dataset = demo_model(retrain=args.retrain)
    print(dataset)
    if args.metrics:
        _print_metrics(evaluate(model, dataset))
        return
    notebook = write_app_notebook(cache_dir() / "app" / "attnwidget_app.ipynb")
    process = serve(notebook, port=args.port)
    print(f"attnwidget demo is serving at {process.url}  (Ctrl+C stops it)", flush=True)
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)


def _load(path: str, fmt: str):
    from .data import load_csv, load_movielens, load_recbole

    return {"recbole": load_recbole, "movielens": load_movielens, "csv": load_csv}[fmt](path)


def _train(args: argparse.Namespace) -> None:
    from .evaluate import evaluate
    from .models import SASRec, fit

    dataset = _load(args.data, args.format)
    print(dataset)
    model = SASRec(
        dataset,
        d_model=args.d_model,
        n_layers=args.layers,
        n_heads=args.heads,
        max_len=args.max_len,
        dropout=args.dropout,
        seed=args.seed,
    )
    fit(model, dataset, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    path = model.save(args.out)
    _print_metrics(evaluate(model, dataset))
    print(f"saved {path}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attnwidget", description="Train and explain attention-based recommenders."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo",
        help="serve the explorer app (Voila) for a SASRec trained on the synthetic shop",
        description="Train (or load the cached) demo model on the synthetic shop and serve the "
        "explorer app with Voila on 127.0.0.1; prints the URL.",
    )
    demo.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    demo.add_argument("--retrain", action="store_true", help="ignore the cached demo model")
    demo.add_argument(
        "--metrics",
        action="store_true",
        help="print the test metrics next to a popularity baseline and exit",
    )
    demo.set_defaults(run=_demo)

    train = sub.add_parser("train", help="train SASRec on your data and save a checkpoint")
    train.add_argument("--data", required=True, help="data file or directory")
    train.add_argument("--format", required=True, choices=LOADERS, help="data format")
    train.add_argument("--out", required=True, help="checkpoint path to write, e.g. model.pt")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--d-model", type=int, default=64)
    train.add_argument("--layers", type=int, default=2)
    train.add_argument("--heads", type=int, default=2)
    train.add_argument("--max-len", type=int, default=50)
    train.add_argument("--dropout", type=float, default=0.2)
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(run=_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``attnwidget`` console script."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (AttnWidgetError, OSError, ValueError) as err:
        print(f"attnwidget {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
