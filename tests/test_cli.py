"""The attnwidget command line: train and the one-line errors."""

import subprocess
import sys

import pytest

from attnwidget import SASRec
from attnwidget.cli import main


def write_movielens(root, n_users=40, n_items=30, per_user=8, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = [
        f"{u}\t{i}\t{rng.integers(1, 6)}\t{880000000 + 1000 * u + step}"
        for u in range(1, n_users + 1)
        for step, i in enumerate(rng.choice(np.arange(1, n_items + 1), per_user, replace=False))
    ]
    (root / "u.data").write_text("\n".join(rows) + "\n")
    genres = "|".join("0" * 19)
    items = [
        f"{i}|Movie {i} (199{i % 10})|01-Jan-1995||http://x|{genres}" for i in range(1, n_items + 1)
    ]
    (root / "u.item").write_text("\n".join(items) + "\n", encoding="latin-1")


def test_train_writes_a_checkpoint_and_prints_metrics(tmp_path, capsys):
    write_movielens(tmp_path)
    out = tmp_path / "model.pt"
    code = main(
        [
            "train",
            "--data",
            str(tmp_path),
            "--format",
            "movielens",
            "--out",
            str(out),
            "--epochs",
            "2",
            "--d-model",
            "16",
            "--layers",
            "1",
            "--heads",
            "1",
            "--max-len",
            "10",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0 and out.is_file()
    assert "NDCG@10" in printed and "popularity" in printed and f"saved {out}" in printed
    model = SASRec.load(out)
    assert model.catalog.n_items == 30 and model.config.max_len == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["train", "--data", "/no/such/dir", "--format", "movielens", "--out", "m.pt"],
            "/no/such/dir",
        ),
        (["train", "--data", ".", "--format", "recbole", "--out", "m.pt"], ".inter"),
    ],
)
def test_bad_paths_give_one_line_of_error(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnwidget train: error:") and message in err
    assert "\n" not in err and "Traceback" not in err


def test_help_and_bad_format_come_from_argparse():
    done = subprocess.run(
        [sys.executable, "-m", "attnwidget.cli", "train", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "--format {recbole,movielens,csv}" in done.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "attnwidget.cli",
            "train",
            "--data",
            "x",
            "--format",
            "parquet",
            "--out",
            "m.pt",
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "invalid choice: 'parquet'" in bad.stderr


def test_demo_metrics_prints_the_table(demo_cache, capsys):
    assert main(["demo", "--metrics"]) == 0
    printed = capsys.readouterr().out
    table = [line for line in printed.splitlines() if line.startswith(("model", "popularity"))]
    assert len(table) == 2
