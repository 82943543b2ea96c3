"""Command line: ``attnwidget demo | train | export | explain``."""

from __future__ import annotations

import argparse
import sys
import time
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .atomic_write import writable_target
from .errors import AttnWidgetError, DataError
from .requirements_check import require

if TYPE_CHECKING:
    from .data import Dataset

LOADERS = ("recbole", "movielens", "csv")
FORMATS_HELP = (
    "data format: recbole (a directory of NAME.inter [+ NAME.item] atomic files, or the .inter "
    "file), movielens (an ml-100k or ml-1m directory: u.data + u.item or ratings.dat + "
    "movies.dat), csv (an interactions file with a header row: user_id, item_id, timestamp). "
    "Default: guessed from PATH"
)


def _print_metrics(table: pd.DataFrame) -> None:
    with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 160):
        print(table.to_string())


def _demo(args: argparse.Namespace) -> None:
    from .app import serve, write_app_notebook
    from .demo_model import (
        DEMO_TRAINING_SECONDS_2_CORES,
        cache_dir,
        demo_dataset,
        demo_model_on,
        demo_model_path,
    )
    from .evaluate import evaluate

    if not args.metrics:
        require("demo")  # before a minute of training, not after it
    dataset = demo_dataset()
    path = demo_model_path(dataset)
    if args.retrain or not path.is_file():
        print(
            f"Training the demo model on the synthetic shop (first run only; about "
            f"{DEMO_TRAINING_SECONDS_2_CORES} s on 2 CPU cores). It is cached in {path}.",
            flush=True,
        )
    model, dataset = demo_model_on(dataset, retrain=args.retrain)
    print(dataset)
    if args.metrics:
        _print_metrics(evaluate(model, dataset))
        return
    notebook = write_app_notebook(cache_dir() / "app" / "attnwidget_app.ipynb")
    process = serve(notebook, port=args.port)
    print(f"attnwidget demo is serving at {process.url}  (Ctrl+C stops it)", flush=True)
    if not args.no_browser:
        webbrowser.open(process.url)
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)


def guess_format(path: str) -> str:
    """The loader for ``path`` from the files it names or holds."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"no such file or directory: {p}")
    if p.is_dir():
        if (p / "u.data").is_file() or (p / "ratings.dat").is_file():
            return "movielens"
        if any(p.glob("*.inter")):
            return "recbole"
    elif p.name in ("u.data", "ratings.dat"):
        return "movielens"
    elif p.suffix == ".inter":
        return "recbole"
    elif p.suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise DataError(f"cannot tell the format of {p}: pass --format {'|'.join(LOADERS)}")


def _load(args: argparse.Namespace) -> Dataset:
    from .data import load_csv, load_movielens, load_recbole

    fmt = args.format or guess_format(args.data)
    if fmt == "csv":
        return load_csv(
            args.data,
            user_col=args.user_col,
            item_col=args.item_col,
            time_col=args.time_col or None,
            items_path=args.items,
            feature_cols=[c for c in (args.feature_cols or "").split(",") if c],
            title_col=args.title_col,
            sep=args.sep,
        )
    if args.items or args.feature_cols or args.title_col:
        raise DataError("--items, --feature-cols and --title-col are for --format csv")
    return {"recbole": load_recbole, "movielens": load_movielens}[fmt](args.data)


def _train(args: argparse.Namespace) -> None:
    from .evaluate import evaluate
    from .models import SASRec, fit

    writable_target(args.out)  # before any long work: not a directory, its folder made
    dataset = _load(args)
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
    fit(
        model,
        dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        patience=args.patience,
        seed=args.seed,
        progress=not args.no_progress,
    )
    path = model.save(args.out)
    _print_metrics(evaluate(model, dataset))
    print(f"saved {path}")


def _export(args: argparse.Namespace) -> None:
    from .models import SASRec

    require("export")
    writable_target(args.out)  # before any long work: not a directory, its folder made
    model = SASRec.load(args.model)
    dataset = _load(args).aligned_to(model.catalog, unknown="drop")
    if dropped := dataset.metadata.get("dropped_interactions"):
        print(f"note: {dropped} interactions with items the model does not know were left out")
    users = [u.strip() for u in args.users.split(",") if u.strip()]
    if not users:
        raise DataError("--users is empty: give one or more user ids, e.g. --users 1,2,3")
    from .widget import AttentionExplorer

    explorer = AttentionExplorer(model, dataset, users=users, k=args.k)
    if explorer.error:
        raise DataError(explorer.error)
    path = explorer.save_html(
        args.out,
        users=users,
        anonymize=args.anonymize or args.anonymize_items,
        anonymize_items=args.anonymize_items,
    )
    print(f"saved {path} ({len(users)} user{'s' if len(users) > 1 else ''})")


def _id_list(text: str | None, what: str) -> list[str] | None:
    """Comma-separated ids (``None`` stays ``None``); an empty list is an error."""
    if text is None:
        return None
    ids = [u.strip() for u in text.split(",") if u.strip()]
    if not ids:
        raise DataError(f"{what} is empty: give one or more ids, e.g. {what} 1,2,3")
    return ids


def _explain(args: argparse.Namespace) -> None:
    from .explain.batch import check_device, explain_users
    from .explain.batch_parquet import write_explanations
    from .models import SASRec

    require("explain")
    if args.engine == "ray":
        require("ray")
    device = check_device(args.device)
    writable_target(args.out)  # before any long work: not a directory, its folder made
    model = SASRec.load(args.model, map_location=device or "cpu")
    dataset = _load(args).aligned_to(model.catalog, unknown="drop")
    if dropped := dataset.metadata.get("dropped_interactions"):
        print(f"note: {dropped} interactions with items the model does not know were left out")
    users = _id_list(args.users, "--users")
    methods = _id_list(args.methods, "--methods")
    start = time.perf_counter()
    table = explain_users(
        model,
        dataset,
        users,
        methods=methods or ("attention", "rollout", "gradient", "occlusion"),
        k=args.k,
        engine=args.engine,
        batch_size=args.batch_size,
        device=device,
        full_importance=args.full_importance,
        progress=not args.no_progress,
        concurrency=args.concurrency,
        num_gpus=args.num_gpus,
        address=args.address,
    )
    seconds = time.perf_counter() - start
    path = write_explanations(table, args.out)
    for method in table.attrs["methods"]:
        if f"{method}_kendall_tau" in table:
            tau = table[f"{method}_kendall_tau"].mean()
            top1 = table[f"{method}_top1_agreement"].mean()
            print(f"{method}: mean Kendall τ with occlusion {tau:.3f}, top-1 agreement {top1:.3f}")
    warned = int(table["warnings"].map(len).gt(0).sum())
    print(
        f"saved {path} ({len(table)} users in {seconds:.1f} s, {len(table) / seconds:.1f} "
        f"users/s, engine {args.engine}; {warned} with warnings)"
    )


def _add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="PATH", help="data file or directory")
    parser.add_argument("--format", choices=LOADERS, default=None, help=FORMATS_HELP)
    csv = parser.add_argument_group("CSV options (--format csv)")
    csv.add_argument("--items", metavar="PATH", help="item table with the item id column")
    csv.add_argument(
        "--user-col", default="user_id", metavar="COL", help="user id column (default: user_id)"
    )
    csv.add_argument(
        "--item-col", default="item_id", metavar="COL", help="item id column (default: item_id)"
    )
    csv.add_argument(
        "--time-col",
        default="timestamp",
        metavar="COL",
        help="time column (default: timestamp; empty: keep the row order)",
    )
    csv.add_argument("--title-col", metavar="COL", help="item title column of --items")
    csv.add_argument("--feature-cols", metavar="A,B", help="feature columns of --items")
    csv.add_argument("--sep", default=",", metavar="SEP", help="field separator (default: ,)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attnwidget", description="Train and explain attention-based recommenders."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo",
        help="serve the explorer app (Voila) for a SASRec trained on the synthetic shop",
        description="Train (or load the cached) demo model on the synthetic shop, serve the "
        "explorer app with Voila on 127.0.0.1, print its URL and open it in the default browser.",
    )
    demo.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    demo.add_argument(
        "--no-browser", action="store_true", help="print the URL only; do not open a browser"
    )
    demo.add_argument("--retrain", action="store_true", help="ignore the cached demo model")
    demo.add_argument(
        "--metrics",
        action="store_true",
        help="print the test metrics next to a popularity baseline and exit",
    )
    demo.set_defaults(run=_demo)

    train = sub.add_parser(
        "train",
        help="train SASRec on your data and save a checkpoint",
        description="Train a SASRec on interaction data (a progress bar per epoch; the best "
        "validation epoch is kept), print its test metrics next to a popularity baseline, and "
        "save a checkpoint that `attnwidget export` and SASRec.load read.",
        epilog="example: attnwidget train --data ml-100k/ --format movielens --out model.pt",
    )
    _add_data_args(train)
    train.add_argument("--out", required=True, metavar="FILE", help="checkpoint to write")
    model_args = train.add_argument_group("model and training")
    model_args.add_argument(
        "--epochs", type=int, metavar="N", default=30, help="most epochs (default: 30)"
    )
    model_args.add_argument(
        "--patience",
        type=int,
        metavar="N",
        default=3,
        help="stop after N epochs without gain (default: 3)",
    )
    model_args.add_argument("--batch-size", type=int, metavar="N", default=128, help="default: 128")
    model_args.add_argument(
        "--lr", type=float, metavar="RATE", default=3e-3, help="learning rate (default: 3e-3)"
    )
    model_args.add_argument(
        "--d-model", type=int, metavar="N", default=64, help="width (default: 64)"
    )
    model_args.add_argument(
        "--layers", type=int, metavar="N", default=2, help="attention layers (default: 2)"
    )
    model_args.add_argument(
        "--heads", type=int, metavar="N", default=2, help="heads per layer (default: 2)"
    )
    model_args.add_argument(
        "--max-len", type=int, metavar="N", default=50, help="longest history read (default: 50)"
    )
    model_args.add_argument("--dropout", type=float, metavar="P", default=0.1, help="default: 0.1")
    model_args.add_argument(
        "--seed", type=int, metavar="N", default=0, help="random seed (default: 0)"
    )
    model_args.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=_train)

    export = sub.add_parser(
        "export",
        help="write a standalone HTML page of the explorer for some users",
        description="Load a checkpoint written by `attnwidget train`, explain the given users' "
        "recommendations and write the explorer as one HTML file that opens offline, with no "
        "kernel (switch between the exported users, layers and heads in the page).",
        epilog="example: attnwidget export --model model.pt --data ml-100k/ --users 1,2,3 "
        "--out report.html",
    )
    export.add_argument(
        "--model", required=True, metavar="FILE", help="checkpoint from `attnwidget train`"
    )
    _add_data_args(export)
    export.add_argument(
        "--users", required=True, metavar="ID[,ID...]", help="comma-separated user ids to export"
    )
    export.add_argument("--out", required=True, metavar="FILE", help="HTML page to write")
    export.add_argument(
        "--k", type=int, metavar="N", default=10, help="recommendations shown (default: 10)"
    )
    export.add_argument(
        "--anonymize",
        action="store_true",
        help="replace user ids with pseudonyms (user 1, user 2, … in --users order)",
    )
    export.add_argument(
        "--anonymize-items",
        action="store_true",
        help="also replace item ids and titles with pseudonyms (item N); implies --anonymize",
    )
    export.set_defaults(run=_export)
    _add_explain_parser(sub)
    return parser


def _add_explain_parser(sub: argparse._SubParsersAction) -> None:
    explain = sub.add_parser(
        "explain",
        help="explain many users' recommendations into a Parquet table (locally or on Ray)",
        description="Load a checkpoint written by `attnwidget train`, explain each user's top "
        "recommendation (recommended items, each importance method's top item, agreement "
        "with occlusion, attention entropy per layer and head, warnings) and write one row "
        "per user to a Parquet file (attnwidget.read_explanations reads it back).",
        epilog="example: attnwidget explain --model model.pt --data ml-100k/ "
        "--out explanations.parquet --engine ray",
    )
    explain.add_argument(
        "--model", required=True, metavar="FILE", help="checkpoint from `attnwidget train`"
    )
    _add_data_args(explain)
    explain.add_argument("--out", required=True, metavar="FILE", help="Parquet file to write")
    explain.add_argument(
        "--users", metavar="ID[,ID...]", help="comma-separated user ids (default: every user)"
    )
    explain.add_argument(
        "--methods",
        metavar="M[,M...]",
        help="importance methods out of attention,rollout,gradient,occlusion (default: all)",
    )
    explain.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local (this process) or ray (Ray Data actors; a local Ray unless --address)",
    )
    explain.add_argument(
        "--k", type=int, metavar="N", default=10, help="recommendations per user (default: 10)"
    )
    explain.add_argument(
        "--batch-size", type=int, metavar="N", default=64, help="users per batch (default: 64)"
    )
    explain.add_argument(
        "--device", metavar="DEV", help="cpu, cuda, mps (default: cpu; with --num-gpus: cuda)"
    )
    explain.add_argument(
        "--full-importance",
        action="store_true",
        help="also store each method's whole importance vector per user",
    )
    ray = explain.add_argument_group("Ray (--engine ray)")
    ray.add_argument(
        "--address", metavar="ADDR", help="a running Ray cluster, e.g. auto or ray://host:10001"
    )
    ray.add_argument("--concurrency", type=int, metavar="N", help="actors (default: one per CPU)")
    ray.add_argument(
        "--num-gpus", type=float, metavar="G", default=0, help="GPUs per actor (default: 0)"
    )
    explain.add_argument("--no-progress", action="store_true", help="no progress bar")
    explain.set_defaults(run=_explain)


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
