"""Hostile writes: a save that fails or is killed midway leaves the old file byte-identical.

``SASRec.save`` (so ``attnwidget train --out``) and ``save_html`` (so ``attnwidget export --out``)
write through :func:`attnwidget.atomic_write.atomic_write`. The cases below make the disk fail
halfway through the bytes, interrupt the save, break the rename or the fsync, kill the process
with SIGKILL in the middle of the write, and point the save at paths that cannot be files.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import ipywidgets
import pandas as pd
import pytest

import attnwidget.atomic_write as atomic_module
from attnwidget import cli
from attnwidget.atomic_write import atomic_write
from attnwidget.data import Dataset
from attnwidget.errors import CheckpointError
from attnwidget.models import SASRec
from attnwidget.widget import save_html
from tests.hostile.expect import fails

REPO = Path(__file__).resolve().parents[2]
DISK_FULL = "No space left on device"


@pytest.fixture(scope="module")
def tiny() -> tuple[SASRec, Dataset, pd.DataFrame]:
    """An untrained SASRec over 10 items, its dataset and the interactions as a table."""
    rows = [(f"u{u}", f"i{(u + k) % 10}", k) for u in range(8) for k in range(5)]
    table = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    dataset = Dataset.from_pandas(table)
    return SASRec(dataset, d_model=8, n_layers=1, n_heads=1, max_len=5), dataset, table


def _save_checkpoint(model: SASRec, path: Path) -> None:
    model.save(path)


def _save_page(_model: SASRec, path: Path) -> None:
    save_html(ipywidgets.IntSlider(value=3), path)


SAVERS: dict[str, Callable[[SASRec, Path], None]] = {
    "checkpoint": _save_checkpoint,
    "html": _save_page,
}


def _old_file(folder: Path, name: str) -> tuple[Path, bytes]:
    """A file with known content (what a user's good checkpoint or report stands for)."""
    path = folder / name
    content = b"the user's good file\n" * 500
    path.write_bytes(content)
    return path, content


class _FailingDisk:
    """A temporary file whose ``write`` stores half the bytes and then raises ``error``."""

    def __init__(self, file, error: BaseException) -> None:
        self._file = file
        self._error = error
        self.name = file.name

    def write(self, data) -> int:
        data = bytes(data)
        self._file.write(data[: len(data) // 2])
        self._file.flush()
        raise self._error

    def __getattr__(self, name: str):
        return getattr(self._file, name)

    def __enter__(self) -> _FailingDisk:
        self._file.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._file.__exit__(*exc)


def _break_disk(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    real = atomic_module.tempfile.NamedTemporaryFile

    def failing(*args, **kwargs):
        return _FailingDisk(real(*args, **kwargs), error)

    monkeypatch.setattr(atomic_module.tempfile, "NamedTemporaryFile", failing)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- a failure midway through the bytes -------------------------------------------------------
@pytest.mark.parametrize("saver", SAVERS)
@pytest.mark.parametrize(
    ("make_error", "fragment"),
    [
        (lambda: OSError(errno.ENOSPC, DISK_FULL), DISK_FULL),
        (KeyboardInterrupt, ""),
    ],
    ids=["disk-full", "ctrl-c"],
)
def test_a_write_failing_halfway_keeps_the_old_file(
    tiny, tmp_path, monkeypatch, saver, make_error, fragment
):
    path, before = _old_file(tmp_path, "model.pt" if saver == "checkpoint" else "report.html")
    error = make_error()
    _break_disk(monkeypatch, error)
    with fails(type(error), fragment, repr(str(path)) if fragment else ""):
        SAVERS[saver](tiny[0], path)
    assert path.read_bytes() == before
    assert _names(tmp_path) == [path.name]


@pytest.mark.parametrize("saver", SAVERS)
def test_a_failed_first_save_leaves_nothing_behind(tiny, tmp_path, monkeypatch, saver):
    _break_disk(monkeypatch, OSError(errno.ENOSPC, DISK_FULL))
    with fails(OSError, DISK_FULL, repr(str(tmp_path / "new.out"))):
        SAVERS[saver](tiny[0], tmp_path / "new.out")
    assert _names(tmp_path) == []


def test_torch_save_failing_halfway_keeps_the_old_checkpoint(tiny, tmp_path, monkeypatch):
    path, before = _old_file(tmp_path, "model.pt")

    def half_then_fail(obj, file, *args, **kwargs):
        file.write(b"PK\x03\x04" + b"\0" * 100)
        raise MemoryError("cannot allocate 512 MiB for tensor storage")

    monkeypatch.setattr("attnwidget.models.checkpoint.torch.save", half_then_fail)
    with fails(MemoryError, "512 MiB"):
        tiny[0].save(path)
    assert path.read_bytes() == before
    assert _names(tmp_path) == ["model.pt"]


def test_a_page_whose_state_cannot_be_serialised_keeps_the_old_page(tmp_path, monkeypatch):
    path, before = _old_file(tmp_path, "report.html")

    def broken_dumps(value, *args, **kwargs):
        raise TypeError("Object of type Tensor is not JSON serializable")

    monkeypatch.setattr("attnwidget.widget.html_export.json.dumps", broken_dumps)
    with fails(TypeError, "not JSON serializable"):
        save_html(ipywidgets.IntSlider(), path)
    assert path.read_bytes() == before
    assert _names(tmp_path) == ["report.html"]


@pytest.mark.parametrize(
    ("step", "make_error"),
    [
        ("os.replace", lambda: PermissionError(errno.EACCES, "Permission denied")),
        ("os.fsync", lambda: OSError(errno.EIO, "Input/output error")),
    ],
    ids=["rename-refused", "fsync-failed"],
)
def test_a_failing_rename_or_fsync_keeps_the_old_file(
    tiny, tmp_path, monkeypatch, step, make_error
):
    path, before = _old_file(tmp_path, "model.pt")
    error = make_error()

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(f"attnwidget.atomic_write.{step}", fail)
    with fails(type(error), error.strerror, repr(str(path))):
        tiny[0].save(path)
    assert path.read_bytes() == before
    assert _names(tmp_path) == ["model.pt"]


# --- a process killed in the middle of the write ----------------------------------------------
_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import ipywidgets
    import attnwidget.atomic_write as atomic
    from attnwidget.models import SASRec
    from attnwidget.widget import save_html

    kind, target, checkpoint = sys.argv[1:4]
    real = atomic.tempfile.NamedTemporaryFile

    class Stalling:
        def __init__(self, file):
            self._file = file
        def write(self, data):
            data = bytes(data)
            self._file.write(data[: len(data) // 2])
            self._file.flush()
            print(self._file.name, flush=True)   # the parent kills us now
            time.sleep(600)
        def __getattr__(self, name):
            return getattr(self._file, name)
        def __enter__(self):
            self._file.__enter__()
            return self
        def __exit__(self, *exc):
            self._file.__exit__(*exc)

    atomic.tempfile.NamedTemporaryFile = lambda *a, **k: Stalling(real(*a, **k))
    if kind == "checkpoint":
        SASRec.load(checkpoint).save(target)
    else:
        save_html(ipywidgets.IntSlider(), target)
    """
)


@pytest.mark.parametrize("kind", ["checkpoint", "html"])
def test_a_save_killed_midway_leaves_the_old_file_byte_identical(tiny, tmp_path, kind):
    checkpoint = tiny[0].save(tmp_path / "source.pt")
    path, before = _old_file(tmp_path, "model.pt" if kind == "checkpoint" else "report.html")
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, kind, str(path), str(checkpoint)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        temp = Path(child.stdout.readline().strip())
        assert temp.parent == tmp_path and temp.stat().st_size > 0, "the child wrote nothing"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    assert path.read_bytes() == before
    assert temp.name.startswith(f".{path.name}.") and temp.name.endswith(".tmp")
    assert _names(tmp_path) == sorted([temp.name, path.name, "source.pt"])


# --- targets that cannot be files ------------------------------------------------------------
def test_saving_a_checkpoint_onto_a_directory_is_refused(tiny, tmp_path):
    folder = tmp_path / "runs"
    (folder / "keep.txt").parent.mkdir()
    (folder / "keep.txt").write_text("kept")
    with fails(CheckpointError, repr(str(folder)), "is a directory"):
        tiny[0].save(folder)
    assert _names(folder) == ["keep.txt"]


def test_saving_a_page_onto_a_directory_is_refused(tmp_path):
    with fails(IsADirectoryError, repr(str(tmp_path)), "is a directory"):
        save_html(ipywidgets.IntSlider(), tmp_path)


def test_a_checkpoint_under_a_file_is_refused(tiny, tmp_path):
    blocker, before = _old_file(tmp_path, "notes.txt")
    with fails(CheckpointError, "notes.txt", "is a file, not a folder"):
        tiny[0].save(blocker / "sub" / "model.pt")
    assert blocker.read_bytes() == before


def test_a_page_under_a_file_is_refused(tmp_path):
    blocker, before = _old_file(tmp_path, "notes.txt")
    with fails(NotADirectoryError, "notes.txt", "is a file, not a folder"):
        save_html(ipywidgets.IntSlider(), blocker / "report.html")
    assert blocker.read_bytes() == before


def test_a_folder_that_cannot_be_created_is_refused(tiny, tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    target = tmp_path / "locked" / "model.pt"
    with fails(CheckpointError, repr(str(target)), "cannot be created", "Permission denied"):
        tiny[0].save(target)


# --- correct handling: what a successful atomic write leaves -----------------------------------
def test_missing_parent_folders_are_created(tiny, tmp_path):
    path = tmp_path / "a" / "b" / "model.pt"
    tiny[0].save(path)
    assert SASRec.load(path).catalog.item_ids == tiny[0].catalog.item_ids
    save_html(ipywidgets.IntSlider(), tmp_path / "c" / "report.html")
    assert (tmp_path / "c" / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE")


def test_an_existing_file_keeps_its_permissions(tiny, tmp_path):
    path, _ = _old_file(tmp_path, "model.pt")
    path.chmod(0o640)
    tiny[0].save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "new.bin") as file:
            file.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.bin").stat().st_mode) == 0o640


def test_a_symlink_survives_and_its_target_is_replaced(tiny, tmp_path):
    real, _ = _old_file(tmp_path, "real.pt")
    link = tmp_path / "latest.pt"
    link.symlink_to(real)
    tiny[0].save(link)
    assert link.is_symlink() and link.resolve() == real
    assert SASRec.load(link).config == tiny[0].config


# --- the command line ------------------------------------------------------------------------
def test_export_onto_a_directory_prints_one_line_and_exits_2(tiny, tmp_path, capsys):
    model, _, table = tiny
    data = tmp_path / "events.csv"
    table.to_csv(data, index=False)
    checkpoint = model.save(tmp_path / "model.pt")
    out = tmp_path / "pages"
    out.mkdir()
    argv = ["export", "--model", str(checkpoint), "--data", str(data), "--users", "u1"]
    assert cli.main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnwidget export: error: ") and "\n" not in err
    assert repr(str(out)) in err and "is a directory" in err
    assert _names(out) == []


def test_train_with_the_disk_full_keeps_the_old_checkpoint(tiny, tmp_path, monkeypatch, capsys):
    data = tmp_path / "events.csv"
    tiny[2].to_csv(data, index=False)
    path, before = _old_file(tmp_path, "model.pt")
    _break_disk(monkeypatch, OSError(errno.ENOSPC, DISK_FULL))
    argv = ["train", "--data", str(data), "--out", str(path), "--epochs", "1", "--no-progress"]
    assert cli.main([*argv, "--d-model", "8", "--layers", "1", "--heads", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnwidget train: error: ") and "\n" not in err
    assert DISK_FULL in err and repr(str(path)) in err
    assert path.read_bytes() == before
    assert _names(tmp_path) == ["events.csv", "model.pt"]
