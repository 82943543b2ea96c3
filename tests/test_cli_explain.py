"""`attnwidget explain`: a checkpoint and data in, a Parquet table of explanations out."""

import pytest

import attnwidget as aw
from attnwidget.cli import main

from .test_cli import TINY, write_movielens


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A MovieLens-format directory and a small model trained on it by ``attnwidget train``."""
    root = tmp_path_factory.mktemp("ml")
    write_movielens(root)
    out = root / "model.pt"
    assert main(["train", "--data", str(root), "--out", str(out), "--no-progress", *TINY]) == 0
    return root, out


def test_explain_writes_one_row_per_user_with_a_progress_bar(checkpoint, tmp_path, capsys):
    data, model = checkpoint
    out = tmp_path / "tables" / "explanations.parquet"
    args = ["explain", "--model", str(model), "--data", str(data), "--out", str(out)]
    assert main([*args, "--k", "5", "--batch-size", "16"]) == 0
    captured = capsys.readouterr()
    assert "explaining" in captured.err  # the progress bar
    assert f"saved {out} (40 users in" in captured.out and "engine local" in captured.out
    assert "gradient: mean Kendall τ with occlusion" in captured.out
    table = aw.read_explanations(out)
    assert table["user_id"].tolist() == list(range(1, 41))  # MovieLens ids are integers
    assert table["recommended"].map(len).eq(5).all()
    direct = aw.explain_users(aw.SASRec.load(model), aw.load_movielens(data), k=5, progress=False)
    assert table["occlusion_top_item"].tolist() == direct["occlusion_top_item"].tolist()


def test_explain_some_users_and_methods(checkpoint, tmp_path, capsys):
    data, model = checkpoint
    out = tmp_path / "some.parquet"
    args = ["explain", "--model", str(model), "--data", str(data), "--out", str(out)]
    assert (
        main([*args, "--users", "3, 7", "--methods", "attention,occlusion", "--no-progress"]) == 0
    )
    captured = capsys.readouterr()
    assert "explaining" not in captured.err
    assert "attention: mean Kendall τ" in captured.out and "(2 users in" in captured.out
    table = aw.read_explanations(out)
    assert table["user_id"].tolist() == [3, 7]
    assert "gradient_top_item" not in table and "attention_kendall_tau" in table


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--users", "3,999"], "unknown user '999'"),
        (["--users", " , "], "--users is empty"),
        (["--methods", "attention,shap"], "unknown importance method 'shap'"),
        (["--batch-size", "0"], "batch_size must be ≥ 1"),
        (["--device", "gpu0"], "gpu0"),
    ],
)
def test_bad_arguments_give_one_line_of_error(checkpoint, tmp_path, capsys, extra, message):
    data, model = checkpoint
    out = tmp_path / "x.parquet"
    args = ["explain", "--model", str(model), "--data", str(data), "--out", str(out)]
    assert main([*args, "--no-progress", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnwidget explain: error:") and message in err
    assert "\n" not in err and "Traceback" not in err
    assert not out.exists()


def test_bad_paths_give_one_line_of_error(checkpoint, tmp_path, capsys):
    data, model = checkpoint
    cases = [
        (["--model", str(tmp_path / "none.pt"), "--data", str(data)], "none.pt"),
        (["--model", str(model), "--data", str(tmp_path / "nodata")], "nodata"),
    ]
    for args, message in cases:
        assert main(["explain", *args, "--out", str(tmp_path / "x.parquet")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("attnwidget explain: error:") and message in err, err
        assert "\n" not in err
    assert (
        main(["explain", "--model", str(model), "--data", str(data), "--out", str(tmp_path)]) == 2
    )
    assert "is a directory" in capsys.readouterr().err


def test_the_engine_is_one_of_the_choices(checkpoint, capsys):
    data, model = checkpoint
    with pytest.raises(SystemExit):
        main(["explain", "--model", str(model), "--data", str(data), "--out", "x", "--engine", "x"])
    assert "invalid choice: 'x'" in capsys.readouterr().err
