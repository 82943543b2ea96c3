"""The command line under bad arguments and bad files: exit status 2 and one line naming the value.

Nothing is written when a command fails, and no traceback reaches the terminal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from attnwidget.cli import main

TINY = ["--epochs", "1", "--d-model", "16", "--layers", "1", "--heads", "1", "--max-len", "8"]


def write_csv_shop(root: Path) -> tuple[Path, Path]:
    """A small interactions CSV (user_id, item_id, timestamp) and its item table."""
    rows = ["user_id,item_id,timestamp"]
    for user in range(1, 31):
        rows += [f"u{user},i{(user * 7 + step) % 25},{1000 + step}" for step in range(6)]
    interactions = root / "inter.csv"
    interactions.write_text("\n".join(rows) + "\n")
    items = root / "items.csv"
    items.write_text(
        "item_id,title,category\n" + "".join(f"i{i},Item {i},c{i % 3}\n" for i in range(25))
    )
    return interactions, items


def one_line_error(capsys, command: str) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"attnwidget {command}: error:"), err
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--epochs", "0"], ["epochs", "0"]),
        (["--lr", "0"], ["lr", "0"]),
        (["--lr", "-0.1"], ["lr", "-0.1"]),
        (["--batch-size", "0"], ["batch_size", "0"]),
        (["--patience", "0"], ["patience", "0"]),
        (["--d-model", "16", "--heads", "3"], ["n_heads", "3"]),
        (["--max-len", "0"], ["max_len", "0"]),
        (["--dropout", "1.5"], ["dropout", "1.5"]),
        (["--layers", "0"], ["n_layers", "0"]),
        (["--seed", "-1"], ["seed", "-1"]),
    ],
)
def test_train_rejects_out_of_range_settings_without_writing(tmp_path, capsys, extra, fragments):
    interactions, items = write_csv_shop(tmp_path)
    out = tmp_path / "model.pt"
    args = ["train", "--data", str(interactions), "--items", str(items), "--out", str(out)]
    assert main([*args, "--no-progress", *TINY, *extra]) == 2
    err = one_line_error(capsys, "train")
    for fragment in fragments:
        assert fragment in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--feature-cols", "colour"], "colour"),
        (["--title-col", "name"], "name"),
        (["--time-col", "when"], "when"),
        (["--user-col", "item_id"], "item_id"),
        (["--sep", ";"], "inter.csv"),
        (["--feature-cols", "item_id"], "item_id"),
    ],
)
def test_train_names_a_bad_csv_option(tmp_path, capsys, extra, fragment):
    interactions, items = write_csv_shop(tmp_path)
    args = ["train", "--data", str(interactions), "--items", str(items), "--out", "m.pt"]
    assert main([*args, *TINY, *extra]) == 2
    assert fragment in one_line_error(capsys, "train")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "inter.csv"),
        (b"\x00\x01\x02\xff" * 64, "inter.csv"),
        (b"user_id,item_id,timestamp\n", "inter.csv"),
        (b"user_id,item_id,timestamp\nu1,i1,10\nu1,i2\n", "inter.csv"),
    ],
)
def test_train_names_a_damaged_data_file(tmp_path, capsys, content, fragment):
    data = tmp_path / "inter.csv"
    data.write_bytes(content)
    assert main(["train", "--data", str(data), "--out", "m.pt", *TINY]) == 2
    assert fragment in one_line_error(capsys, "train")


def test_train_with_a_missing_item_table_names_it(tmp_path, capsys):
    interactions, _ = write_csv_shop(tmp_path)
    missing = tmp_path / "nope.csv"
    args = ["train", "--data", str(interactions), "--items", str(missing), "--out", "m.pt"]
    assert main([*args, *TINY]) == 2
    assert "nope.csv" in one_line_error(capsys, "train")


def test_train_rejects_item_options_for_a_non_csv_format(tmp_path, capsys):
    (tmp_path / "u.data").write_text("1\t1\t5\t100\n")
    args = ["train", "--data", str(tmp_path), "--items", "x.csv", "--out", "m.pt"]
    assert main(args) == 2
    assert "--items" in one_line_error(capsys, "train")


@pytest.fixture(scope="module")
def csv_checkpoint(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("cli-shop")
    interactions, items = write_csv_shop(root)
    out = root / "model.pt"
    args = ["train", "--data", str(interactions), "--items", str(items), "--out", str(out)]
    assert main([*args, "--no-progress", *TINY]) == 0
    return interactions, items, out


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--users", "u1,ghost"], "'ghost'"),
        (["--users", ",,,"], "--users"),
        (["--users", "u1", "--k", "-3"], "-3"),
        (["--users", "u1", "--k", "0"], "0"),
    ],
)
def test_export_names_a_bad_user_or_k_and_writes_nothing(
    csv_checkpoint, tmp_path, capsys, extra, fragment
):
    interactions, items, model = csv_checkpoint
    out = tmp_path / "report.html"
    args = ["export", "--model", str(model), "--data", str(interactions), "--items", str(items)]
    assert main([*args, "--out", str(out), *extra]) == 2
    assert fragment in one_line_error(capsys, "export")
    assert not out.exists()


def test_export_over_an_existing_report_keeps_it_when_the_user_is_unknown(
    csv_checkpoint, tmp_path, capsys
):
    interactions, items, model = csv_checkpoint
    out = tmp_path / "report.html"
    out.write_text("<p>last week's report</p>")
    args = ["export", "--model", str(model), "--data", str(interactions), "--items", str(items)]
    assert main([*args, "--out", str(out), "--users", "nobody"]) == 2
    assert "'nobody'" in one_line_error(capsys, "export")
    assert out.read_text() == "<p>last week's report</p>"


def test_export_of_a_user_whose_items_the_model_does_not_know_says_so(
    csv_checkpoint, tmp_path, capsys
):
    _, _, model = csv_checkpoint
    other = tmp_path / "other.csv"
    other.write_text("user_id,item_id,timestamp\nu1,zz1,1\nu1,zz2,2\nu2,i1,1\n")
    args = ["export", "--model", str(model), "--data", str(other), "--users", "u1"]
    assert main([*args, "--out", str(tmp_path / "r.html")]) == 2
    captured = capsys.readouterr()
    assert "2 interactions with items the model does not know were left out" in captured.out
    err = captured.err.strip()
    assert err.startswith("attnwidget export: error:") and "'u1'" in err and "empty history" in err
