"""The shipped notebooks run top to bottom in a fresh kernel."""

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from attnwidget.app import app_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run(name: str, workdir: Path) -> nbformat.NotebookNode:
    shutil.copy(NOTEBOOKS / name, workdir / name)
    nb = nbformat.read(workdir / name, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    ).execute()
    return nb


def outputs(nb, kind="application/vnd.jupyter.widget-view+json"):
    return [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if kind in o.get("data", {})
    ]


def test_voila_app_notebook_is_the_one_the_demo_serves():
    shipped = nbformat.read(NOTEBOOKS / "voila_app.ipynb", as_version=4)
    assert [c.source for c in shipped.cells] == [c.source for c in app_notebook().cells]


def test_voila_app_runs(demo_cache, tmp_path):
    assert os.environ["ATTNWIDGET_CACHE"] == str(demo_cache)
    nb = run("voila_app.ipynb", tmp_path)
    assert len(outputs(nb)) == 1


@pytest.mark.slow
def test_quickstart_runs_and_writes_the_shared_page(tmp_path):
    nb = run("quickstart.ipynb", tmp_path)
    assert len(outputs(nb)) >= 2  # the explorer and the dashboard
    assert (tmp_path / "quickstart_explorer.html").stat().st_size > 100_000
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.slow
def test_bring_your_own_model_wraps_a_plain_transformer(tmp_path, monkeypatch):
    # A tiny model: one thread each is fastest, and avoids oversubscribing 2 shared cores.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = run("bring_your_own_model.ipynb", tmp_path)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert len(outputs(nb)) == 1  # the explorer on the wrapped model
    assert (tmp_path / "bring_your_own_model.html").stat().st_size > 100_000

    def text_of(prefix: str) -> str:
        (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(prefix)]
        return "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)

    rows = {line.split()[0]: line.split() for line in text_of("aw.evaluate").splitlines() if line}
    assert float(rows["model"][1]) > float(rows["popularity"][1])  # HR@10 beats popularity
    assert "occlusion" in text_of("explanation.importance")
    precomputed = text_of("users = shop.users[:3]")
    assert "occlusion" in precomputed and "NaN" in precomputed
