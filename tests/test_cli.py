"""The attnwidget command line: train, export and the one-line errors."""

import subprocess
import sys

import pytest

from attnwidget import SASRec
from attnwidget.cli import guess_format, main

TINY = ["--epochs", "2", "--d-model", "16", "--layers", "1", "--heads", "1", "--max-len", "10"]


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
        ["train", "--data", str(tmp_path), "--format", "movielens", "--out", str(out), *TINY]
    )
    captured = capsys.readouterr()
    printed = captured.out
    assert "training" in captured.err  # the progress bar
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


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A MovieLens-format directory and a small model trained on it by ``attnwidget train``."""
    root = tmp_path_factory.mktemp("ml")
    write_movielens(root)
    out = root / "model.pt"
    args = ["train", "--data", str(root), "--out", str(out), "--no-progress", *TINY]
    assert main(args) == 0  # --format guessed from u.data
    return root, out


def test_export_writes_a_page_with_the_chosen_users(checkpoint, tmp_path, capsys):
    data, model = checkpoint
    out = tmp_path / "pages" / "report.html"
    args = ["export", "--model", str(model), "--data", str(data), "--format", "movielens"]
    assert main([*args, "--users", "3, 7", "--out", str(out), "--k", "5"]) == 0
    assert f"saved {out} (2 users)" in capsys.readouterr().out
    page = out.read_text()
    assert out.stat().st_size > 100_000 and "attnwidget explorer" in page
    assert '"users": ["3", "7"]' in page or '"users":["3","7"]' in page


def test_export_reads_data_with_other_items_in_the_models_catalogue(checkpoint, tmp_path, capsys):
    data, model = checkpoint
    other = tmp_path / "ml"
    other.mkdir()
    rows = (data / "u.data").read_text().splitlines()
    # A different item order (so dense indices differ) and an item the model never saw.
    (other / "u.data").write_text("\n".join([*reversed(rows), "3\t999\t5\t890000000"]) + "\n")
    out = tmp_path / "report.html"
    args = ["export", "--model", str(model), "--data", str(other), "--users", "3"]
    assert main([*args, "--out", str(out)]) == 0
    assert "1 interactions with items the model does not know were left out" in (
        capsys.readouterr().out
    )
    assert out.is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--users", "3,nobody"], "unknown user 'nobody'"),
        (["--users", " , "], "--users is empty"),
        (["--users", "3", "--k", "0"], "k must be ≥ 1"),
    ],
)
def test_export_errors_are_one_line(checkpoint, tmp_path, capsys, extra, message):
    data, model = checkpoint
    args = ["export", "--model", str(model), "--data", str(data), "--out", str(tmp_path / "r.html")]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnwidget export: error:") and message in err
    assert "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "missing.pt", "--data", "ml"], "checkpoint 'missing.pt' does not exist"),
        (["--model", "model.pt", "--data", "nowhere"], "no such file or directory: nowhere"),
        (["--model", "model.pt", "--data", "notes.md"], "cannot tell the format of notes.md"),
        (["--model", "u.item", "--data", "ml"], "is not a readable attnwidget checkpoint"),
    ],
)
def test_export_bad_paths_give_one_line_of_error(
    checkpoint, args, message, tmp_path, monkeypatch, capsys
):
    data, model = checkpoint
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ml").symlink_to(data)
    (tmp_path / "model.pt").symlink_to(model)
    (tmp_path / "u.item").symlink_to(data / "u.item")
    (tmp_path / "notes.md").write_text("hello")
    assert main(["export", *args, "--users", "1", "--out", "r.html"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnwidget export: error:") and message in err, err
    assert "\n" not in err and "Traceback" not in err


def test_formats_are_guessed_from_the_path(tmp_path):
    (tmp_path / "ml").mkdir()
    (tmp_path / "ml" / "u.data").write_text("")
    (tmp_path / "rb").mkdir()
    (tmp_path / "rb" / "shop.inter").write_text("")
    (tmp_path / "x.csv").write_text("")
    assert guess_format(str(tmp_path / "ml")) == "movielens"
    assert guess_format(str(tmp_path / "ml" / "u.data")) == "movielens"
    assert guess_format(str(tmp_path / "rb")) == "recbole"
    assert guess_format(str(tmp_path / "rb" / "shop.inter")) == "recbole"
    assert guess_format(str(tmp_path / "x.csv")) == "csv"


def test_train_reads_csv_with_an_item_table(tmp_path, capsys):
    (tmp_path / "events.csv").write_text(
        "user_id,item_id,timestamp\n"
        + "".join(f"u{u},p{(u * 3 + t) % 12},{t}\n" for u in range(30) for t in range(6))
    )
    (tmp_path / "items.csv").write_text(
        "item_id,name,kind\n" + "".join(f"p{i},Product {i},k{i % 3}\n" for i in range(12))
    )
    out = tmp_path / "m.pt"
    args = ["train", "--data", str(tmp_path / "events.csv"), "--items", str(tmp_path / "items.csv")]
    args += ["--title-col", "name", "--feature-cols", "kind", "--out", str(out), "--no-progress"]
    assert main([*args, *TINY]) == 0
    assert "features: kind" in capsys.readouterr().out
    assert SASRec.load(out).catalog.title(1).startswith("Product")


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("train", ["checkpoint", "progress bar", "popularity baseline", "--format", "example:"]),
        ("export", ["--model", "--users ID[,ID...]", "offline", "example:"]),
    ],
)
def test_help_says_what_each_command_does(command, words, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert all(w in text for w in words), text


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
