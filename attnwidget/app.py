"""The demo Voila app: a notebook that opens the explorer and dashboard on the demo model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat

APP_TITLE = "# attnwidget: why does the model recommend this?"
APP_INTRO = (
    "A SASRec recommender trained on the built-in synthetic shop. Pick a user, then move "
    "the layer and head sliders: every view follows. Hover an item to find it everywhere; "
    "shift-click history items to add up their attention. Click a cell of the entropy grid "
    "to jump to that layer and head."
)
APP_CODE = """\
import ipywidgets as widgets

import attnwidget as aw

model, shop = aw.demo_model(progress=False)  # trained once, then loaded from the cache
explorer = aw.AttentionExplorer(model, shop)
state = widgets.Label().add_class("aw-python-state")


def show_state(_change=None):
    state.value = f"Python side: user {explorer.user}, layer {explorer.layer}, head {explorer.head}"


explorer.observe(show_state, ["user", "layer", "head"])
show_state()
widgets.VBox([aw.Dashboard(explorer), state])"""


def app_notebook() -> nbformat.NotebookNode:
    """The Voila app as a notebook (also shipped as ``notebooks/voila_app.ipynb``)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"{APP_TITLE}\n\n{APP_INTRO}"),
        nbformat.v4.new_code_cell(APP_CODE),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    return nb


def write_app_notebook(path: str | Path) -> Path:
    """Write the app notebook to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(app_notebook(), path)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(notebook: Path, port: int | None = None, timeout: float = 60.0) -> subprocess.Popen:
    """Start Voila on 127.0.0.1 for ``notebook``; return once it accepts connections."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voila",
            str(notebook.name),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
        ],
        cwd=notebook.parent,
        env=os.environ.copy(),
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"voila exited with code {process.returncode} before serving")
        try:  # a plain connect: an HTTP request to "/" would start a kernel
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            process.url = url  # type: ignore[attr-defined]
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise TimeoutError(f"voila did not answer on {url} within {timeout:.0f} s")
