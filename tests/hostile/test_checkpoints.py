"""Hostile checkpoints: every bad file is one ``CheckpointError`` naming the file and the problem.

Covers files that are not checkpoints (text, CSV, other binaries, zips, directories), truncated
files, checkpoints of another format or version, damaged catalogues, configs and weights (with
a valid checksum, as a buggy writer would leave them), weights damaged after saving (caught by
the checksum), version-1 files (no checksum, still load) and the CLI's one-line error.
"""

from __future__ import annotations

import fractions
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from attnwidget import cli
from attnwidget.data import Dataset
from attnwidget.errors import CheckpointError
from attnwidget.models import SASRec
from attnwidget.models.checkpoint import CHECKPOINT_FORMAT, content_hash
from tests.hostile.expect import fails

State = dict[str, Any]


@pytest.fixture(scope="module")
def model() -> SASRec:
    """An untrained SASRec over 10 items with a categorical and a numeric feature field."""
    rows = [(f"u{u}", f"i{(u + k) % 10}", k) for u in range(8) for k in range(5)]
    items = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(10)],
            "brand": list("ababababab"),
            "price": [float(i) for i in range(10)],
        }
    )
    dataset = Dataset.from_pandas(
        pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]),
        items,
        feature_cols=["brand", "price"],
    )
    return SASRec(dataset, d_model=8, n_layers=1, n_heads=1, max_len=5, seed=1)


@pytest.fixture(scope="module")
def good(model, tmp_path_factory) -> bytes:
    """The bytes of a good checkpoint of ``model``."""
    return model.save(tmp_path_factory.mktemp("good") / "model.pt").read_bytes()


def _state(good: bytes) -> State:
    return torch.load(io.BytesIO(good), weights_only=True)


def _write(path: Path, state: Any, *, sign: bool = False) -> Path:
    """Save ``state`` as a checkpoint; ``sign`` gives it a valid checksum of its new content."""
    if sign:
        state["sha256"] = content_hash(state["config"], state["catalog"], state["state_dict"])
    torch.save(state, path)
    return path


# --- files that are not (complete) checkpoints --------------------------------------------------
@pytest.mark.parametrize("where", [2, 10, 1000, 0.5, -22, -1], ids=lambda w: f"cut-at-{w}")
def test_a_truncated_checkpoint_is_refused(good, tmp_path, where):
    cut = int(len(good) * where) if isinstance(where, float) else where % len(good)
    path = tmp_path / "model.pt"
    path.write_bytes(good[:cut])
    with fails(CheckpointError, repr(str(path)), "truncated"):
        SASRec.load(path)


@pytest.mark.parametrize(
    ("name", "content", "fragments"),
    [
        ("events.csv", b"user_id,item_id,timestamp\n1,2,3\n", ["text file", "'user_id,item_id"]),
        ("config.json", b'{"d_model": 64}\n', ["text file", "'{\"d_model\": 64}'"]),
        ("weights.npy", None, ["binary file", "NUMPY"]),
        ("model.pt", b"", ["is empty (0 bytes)"]),
    ],
    ids=["csv", "json", "npy", "empty"],
)
def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, name, content, fragments):
    path = tmp_path / name
    if content is None:
        np.save(path, np.zeros(4))
    else:
        path.write_bytes(content)
    with fails(CheckpointError, repr(str(path)), *fragments):
        SASRec.load(path)


def test_a_zip_that_is_not_a_torch_checkpoint_is_refused(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.txt", "hello")
    with fails(CheckpointError, repr(str(path)), "not a torch checkpoint", "README.txt"):
        SASRec.load(path)


def test_a_directory_is_refused(tmp_path):
    with fails(CheckpointError, repr(str(tmp_path)), "is a directory"):
        SASRec.load(tmp_path)


def test_a_missing_file_is_refused(tmp_path):
    with fails(CheckpointError, repr(str(tmp_path / "nope.pt")), "does not exist"):
        SASRec.load(tmp_path / "nope.pt")


# --- torch files that are not attnwidget checkpoints ------------------------------------------
@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ([torch.zeros(2)], ["holds a list"]),
        ({"weights": torch.zeros(3)}, ["its format is None"]),
        ({"format": "other.model", "version": 1}, ["'other.model'"]),
        ({"format": CHECKPOINT_FORMAT, "version": 3}, ["has version 3", "reads versions 1, 2"]),
        ({"format": CHECKPOINT_FORMAT, "version": "2"}, ["has version '2'"]),
        ({"format": CHECKPOINT_FORMAT, "obj": fractions.Fraction(1, 2)}, ["fractions.Fraction"]),
    ],
    ids=["list", "no-format", "other-format", "newer-version", "text-version", "pickled-object"],
)
def test_a_torch_file_of_another_kind_is_refused(tmp_path, content, fragments):
    path = _write(tmp_path / "model.pt", content)
    with fails(CheckpointError, repr(str(path)), *fragments):
        SASRec.load(path)


# --- damaged contents (with a valid checksum, as a buggy writer would leave them) --------------
def _set(*keys: Any, value: Any) -> Callable[[State], None]:
    def mutate(state: State) -> None:
        target = state
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return mutate


def _drop(*keys: Any) -> Callable[[State], None]:
    def mutate(state: State) -> None:
        target = state
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return mutate


def _repeat_first_id(state: State) -> None:
    state["catalog"]["item_ids"][3] = state["catalog"]["item_ids"][0]


DAMAGE = {
    # the top level
    "no-catalog": (_drop("catalog"), ["no 'catalog' entry"]),
    "no-state-dict": (_drop("state_dict"), ["no 'state_dict' entry"]),
    # the config
    "config-list": (_set("config", value=[64, 2]), ["config is a list"]),
    "config-missing-key": (_drop("config", "n_heads"), ["config lacks ['n_heads']"]),
    "config-unknown-key": (_set("config", "width", value=3), ["unknown keys ['width']"]),
    "config-text-int": (_set("config", "d_model", value="8"), ["'d_model' is '8' (str)"]),
    "config-bool": (_set("config", "n_layers", value=True), ["'n_layers' is True (bool)"]),
    "config-text-float": (_set("config", "dropout", value="0.2"), ["'dropout' is '0.2'"]),
    "config-out-of-range": (_set("config", "n_heads", value=0), ["n_heads"]),
    # the catalogue
    "catalog-text": (_set("catalog", value="items"), ["catalogue is a str"]),
    "catalog-no-ids": (_drop("catalog", "item_ids"), ["catalogue has no 'item_ids'"]),
    "catalog-ids-dict": (_set("catalog", "item_ids", value={"a": 1}), ["item_ids of type dict"]),
    "catalog-no-items": (_set("catalog", "item_ids", value=[]), ["has no items"]),
    "catalog-ids-not-unique": (_repeat_first_id, ["not unique", "'i0' appears twice"]),
    "catalog-id-none": (_set("catalog", "item_ids", 2, value=None), ["item id None"]),
    "catalog-titles-short": (_set("catalog", "titles", value=["a"]), ["1 titles for 10 items"]),
    "catalog-title-int": (_set("catalog", "titles", 0, value=7), ["title 0 is 7 (int)"]),
    "field-not-dict": (_set("catalog", "fields", 0, value="brand"), ["field 0 is a str"]),
    "field-no-labels": (_drop("catalog", "fields", 0, "labels"), ["field 0 has no 'labels'"]),
    "field-name-int": (_set("catalog", "fields", 1, "name", value=5), ["has name 5"]),
    "field-kind": (_set("catalog", "fields", 0, "kind", value="text"), ["kind 'text'"]),
    "field-one-label": (_set("catalog", "fields", 0, "labels", value=["<pad>"]), ["'brand'"]),
    "field-edges-count": (
        _set("catalog", "fields", 1, "bin_edges", value=[0.0, 1.0]),
        ["'price'", "needs 6 numeric bin_edges", "[0.0, 1.0]"],
    ),
    "field-edges-order": (
        _set("catalog", "fields", 1, "bin_edges", value=[9.0, 1.8, 3.6, 5.4, 7.2, 0.0]),
        ["'price'", "out of order"],
    ),
    "field-edges-categorical": (
        _set("catalog", "fields", 0, "bin_edges", value=[1.0]),
        ["'brand' is categorical but has bin_edges"],
    ),
    "field-names-repeat": (
        _set("catalog", "fields", 1, "name", value="brand"),
        ["same name", "['brand', 'brand']"],
    ),
    "features-rows": (_set("catalog", "features", value=[[0, 0]]), ["need 11 rows", "got 1"]),
    "features-row-width": (_set("catalog", "features", 4, value=[2]), ["row 4 has 1 values"]),
    "features-float": (_set("catalog", "features", 2, 0, value=2.5), ["hold 2.5"]),
    "features-out-of-range": (
        _set("catalog", "features", 5, 0, value=9),
        ["field 0", "outside 0..3", "[9]"],
    ),
    # the weights
    "weights-list": (_set("state_dict", value=[1, 2]), ["state_dict is a list"]),
    "weights-not-tensor": (
        _set("state_dict", "position.weight", value=[0.0] * 40),
        ["'position.weight' is a list"],
    ),
    "weights-missing": (_drop("state_dict", "final_norm.bias"), ["lack ['final_norm.bias']"]),
    "weights-extra": (_set("state_dict", "head.bias", value=torch.zeros(2)), ["['head.bias']"]),
    "weights-shape": (
        _set("state_dict", "position.weight", value=torch.zeros(7, 8)),
        ["'position.weight' has shape (7, 8)", "need (5, 8)"],
    ),
    "weights-dtype": (
        _set("state_dict", "final_norm.bias", value=torch.zeros(8, dtype=torch.float64)),
        ["'final_norm.bias' has dtype torch.float64"],
    ),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_a_damaged_checkpoint_is_refused(good, tmp_path, case):
    mutate, fragments = DAMAGE[case]
    state = _state(good)
    mutate(state)
    signable = isinstance(state.get("state_dict"), dict) and all(
        isinstance(v, torch.Tensor) for v in state["state_dict"].values()
    )
    path = _write(tmp_path / "model.pt", state, sign=signable and "catalog" in state)
    with fails(CheckpointError, repr(str(path)), "is damaged", *fragments):
        SASRec.load(path)


# --- damage after saving: the checksum -------------------------------------------------------
def _flip_a_weight_byte(good: bytes) -> bytes:
    """Flip one byte inside the largest tensor's storage: the zip still opens."""
    archive = zipfile.ZipFile(io.BytesIO(good))
    tensors = [i for i in archive.infolist() if "/data/" in i.filename]
    member = max(tensors, key=lambda i: i.file_size)
    header = good[member.header_offset : member.header_offset + 30]
    name_len = int.from_bytes(header[26:28], "little")
    extra_len = int.from_bytes(header[28:30], "little")
    start = member.header_offset + 30 + name_len + extra_len
    damaged = bytearray(good)
    damaged[start + member.file_size // 2] ^= 0x40
    return bytes(damaged)


def _change_a_weight(state: State) -> None:
    state["state_dict"]["position.weight"][0, 0] += 1.0


def _change_a_title(state: State) -> None:
    state["catalog"]["titles"][0] = "Something else"


def _change_the_dropout(state: State) -> None:
    state["config"]["dropout"] = 0.5


@pytest.mark.parametrize(
    "mutate", [_change_a_weight, _change_a_title, _change_the_dropout], ids=lambda f: f.__name__
)
def test_content_changed_after_saving_fails_the_checksum(good, tmp_path, mutate):
    state = _state(good)
    mutate(state)
    path = _write(tmp_path / "model.pt", state)
    with fails(CheckpointError, repr(str(path)), "do not match their checksum"):
        SASRec.load(path)


def test_a_flipped_byte_in_the_weights_fails_the_checksum(good, tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(_flip_a_weight_byte(good))
    torch.load(path, weights_only=True)  # still loads in torch: only the checksum can tell
    with fails(CheckpointError, repr(str(path)), "do not match their checksum"):
        SASRec.load(path)


@pytest.mark.parametrize("stored", [None, 1234], ids=["missing", "not-text"])
def test_a_version_2_checkpoint_without_a_checksum_is_refused(good, tmp_path, stored):
    state = _state(good)
    state["sha256"] = stored
    path = _write(tmp_path / "model.pt", state)
    with fails(CheckpointError, repr(str(path)), "has no checksum"):
        SASRec.load(path)


# --- version 1 (before the checksum): still loads, still checked -------------------------------
def _version_1(good: bytes) -> State:
    state = _state(good)
    state["version"] = 1
    del state["sha256"]
    return state


def test_a_version_1_checkpoint_still_loads(model, good, tmp_path):
    path = _write(tmp_path / "old.pt", _version_1(good))
    loaded = SASRec.load(path)
    batch = model.pad([[1, 2, 3], [4, 5]])
    model.eval()
    with torch.no_grad():
        assert torch.equal(loaded(batch).scores, model(batch).scores)


def test_a_damaged_version_1_checkpoint_is_still_refused(good, tmp_path):
    state = _version_1(good)
    _repeat_first_id(state)
    path = _write(tmp_path / "old.pt", state)
    with fails(CheckpointError, repr(str(path)), "not unique"):
        SASRec.load(path)


def test_a_loaded_checkpoint_saves_to_the_same_checksum(model, good, tmp_path):
    path = tmp_path / "again.pt"
    path.write_bytes(good)
    SASRec.load(path).save(path)
    assert _state(path.read_bytes())["sha256"] == _state(good)["sha256"]


# --- the command line ------------------------------------------------------------------------
def _truncated(good: bytes, path: Path) -> Path:
    path.write_bytes(good[: len(good) // 3])
    return path


def _csv(good: bytes, path: Path) -> Path:
    path.with_suffix(".csv").write_text("user_id,item_id\n1,2\n")
    return path.with_suffix(".csv")


def _folder(good: bytes, path: Path) -> Path:
    path.mkdir()
    return path


def _flipped(good: bytes, path: Path) -> Path:
    path.write_bytes(_flip_a_weight_byte(good))
    return path


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (_truncated, "truncated"),
        (_csv, "text file"),
        (_folder, "is a directory"),
        (_flipped, "checksum"),
    ],
    ids=lambda v: getattr(v, "__name__", v).strip("_"),
)
def test_export_with_a_bad_model_prints_one_line_and_exits_2(
    good, tmp_path, capsys, make, fragment
):
    bad = make(good, tmp_path / "model.pt")
    data = tmp_path / "events.csv"
    data.write_text("user_id,item_id,timestamp\nu1,i1,1\nu1,i2,2\n")
    argv = ["export", "--model", str(bad), "--data", str(data), "--users", "u1"]
    assert cli.main([*argv, "--out", str(tmp_path / "page.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnwidget export: error: ") and "\n" not in err
    assert repr(str(bad)) in err and fragment in err
    assert not (tmp_path / "page.html").exists()


def test_the_good_checkpoint_fixture_loads(model, good, tmp_path):
    """Guard: the damage cases above start from a checkpoint that loads."""
    path = tmp_path / "model.pt"
    path.write_bytes(good)
    assert SASRec.load(path).config == model.config
