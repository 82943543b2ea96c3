"""The browser infrastructure works end to end with a toy anywidget.

(a) the offline HTML export renders from file:// with every network request blocked,
(b) a notebook served by Voila draws, (c) the same notebook run in JupyterLab draws.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest
from toy_widget import DEFAULT_TITLE, DEFAULT_VALUES, make_toy

from attnwidget.widget import html_export
from attnwidget.widget.html_export import save_html

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

TOY_MODULE = Path(__file__).with_name("toy_widget.py")


def write_toy_notebook(folder: Path, name: str = "toy.ipynb") -> Path:
    """A notebook that displays the toy widget, with toy_widget.py copied beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(TOY_MODULE, folder / TOY_MODULE.name)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell("from toy_widget import make_toy"),
        nbformat.v4.new_code_cell("make_toy()"),
    ]
    path = folder / name
    nbformat.write(nb, path)
    return path


def assert_drawn(scope: Locator | Page, title: str) -> None:
    """The canvas drew the toy values with non-background pixels; the title shows as plain text."""
    canvas = scope.locator("canvas.toy-canvas[data-draw-count]").first
    canvas.wait_for(state="visible")
    assert json.loads(canvas.get_attribute("data-values") or "[]") == list(DEFAULT_VALUES)
    painted = canvas.evaluate(
        """c => {
            const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < px.length; i += 4) {
                if (px[i] !== 255 || px[i + 1] !== 255 || px[i + 2] !== 255) n++;
            }
            return n / (px.length / 4);
        }"""
    )
    assert painted > 0.1, f"canvas is mostly background ({painted:.1%} painted)"
    assert scope.locator(".toy-title").first.text_content() == title


def test_save_html_renders_offline(
    page: Page, blocked_requests: list[str], console_errors: list[str], screenshot, tmp_path: Path
) -> None:
    title = "Offline </script><b>not bold</b> & co"
    out = save_html(make_toy(title=title), tmp_path / "toy.html", title="toy export")
    html = out.read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in html.split("<body>")[1]
    assert '"encoding": "base64"' in html  # the bytes trait travels as a buffer

    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(out.as_uri())
    assert_drawn(page, title)
    screenshot("export-offline-toy")

    assert blocked_requests == []
    assert all(url.startswith(("file:", "data:", "blob:")) for url in seen), seen
    assert console_errors == []


def test_save_html_rejects_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TypeError, match="DOMWidget"):
        save_html("not a widget", tmp_path / "x.html")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="DOMWidget"):
        save_html([make_toy(), 3], tmp_path / "x.html")  # type: ignore[list-item]
    with pytest.raises(ValueError, match="at least one"):
        save_html([], tmp_path / "x.html")
    monkeypatch.setattr(html_export, "_VENDOR_DIR", tmp_path / "no-vendor")
    with pytest.raises(FileNotFoundError, match="npm run build"):
        save_html(make_toy(), tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_voila_draws(
    page: Page, voila_server, console_errors: list[str], screenshot, tmp_path: Path
) -> None:
    url = voila_server(write_toy_notebook(tmp_path))
    page.goto(url)
    assert_drawn(page, DEFAULT_TITLE)
    screenshot("voila-toy")
    assert console_errors == []


def test_jupyterlab_run_all_draws(
    page: Page,
    jupyterlab_server,
    lab_root: Path,
    run_all_in_lab,
    console_errors: list[str],
    screenshot,
) -> None:
    notebook = write_toy_notebook(lab_root / "toy-infra")
    lab = jupyterlab_server(lab_root)
    run_all_in_lab(page, lab, notebook)
    assert_drawn(page.locator(".jp-OutputArea-output"), DEFAULT_TITLE)
    screenshot("jupyterlab-toy")
    assert console_errors == []
