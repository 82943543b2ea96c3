"""`attnwidget demo`: checks what it needs before training, says how long training takes, and
opens the browser unless ``--no-browser`` (the Jupyter convention)."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess

import pytest

from attnwidget import app, requirements_check
from attnwidget.cli import main

demo_module = importlib.import_module("attnwidget.demo_model")  # the package re-exports a function


class FakeServer:
    url = "http://127.0.0.1:9999/"

    def wait(self, timeout=None):
        return 0


@pytest.fixture
def fake_demo(monkeypatch, tmp_path, shop, trained):
    """A demo on the small test shop that serves nothing; records training and browser calls."""
    calls = {"trained": 0, "opened": [], "served": 0}
    monkeypatch.setenv("ATTNWIDGET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(demo_module, "demo_dataset", lambda: shop)

    def train(dataset, *, retrain=False, progress=True):
        calls["trained"] += 1
        return trained, dataset

    def serve(notebook, port=None):
        calls["served"] += 1
        return FakeServer()

    monkeypatch.setattr(demo_module, "demo_model_on", train)
    monkeypatch.setattr(app, "serve", serve)
    monkeypatch.setattr("webbrowser.open", lambda url: calls["opened"].append(url))
    return calls


def test_demo_opens_the_browser_by_default(fake_demo, capsys):
    assert main(["demo"]) == 0
    assert fake_demo["opened"] == [FakeServer.url]
    assert f"serving at {FakeServer.url}" in capsys.readouterr().out


def test_demo_no_browser_prints_the_url_only(fake_demo, capsys):
    assert main(["demo", "--no-browser"]) == 0
    assert fake_demo["opened"] == []
    assert f"serving at {FakeServer.url}" in capsys.readouterr().out


def test_demo_says_how_long_the_first_training_takes_before_it_starts(fake_demo, capsys):
    assert main(["demo", "--no-browser"]) == 0
    out = capsys.readouterr().out
    assert "Training the demo model" in out and " s on 2 CPU cores" in out
    assert out.index("Training the demo model") < out.index("serving at")


def test_demo_with_a_cached_model_does_not_announce_training(fake_demo, shop, capsys):
    path = demo_module.demo_model_path(shop)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"cached")
    assert main(["demo", "--no-browser"]) == 0
    assert "Training the demo model" not in capsys.readouterr().out


@pytest.mark.parametrize("package", ["ipykernel", "voila", "anywidget"])
def test_demo_names_a_missing_package_in_one_line_before_training(
    package, fake_demo, monkeypatch, capsys
):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        requirements_check.importlib.util,
        "find_spec",
        lambda name, *a: None if name == package else real(name, *a),
    )
    assert main(["demo", "--no-browser"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnwidget demo: error:") and repr(package) in err and "\n" not in err
    assert fake_demo["trained"] == 0 and fake_demo["served"] == 0


def test_demo_without_a_python_kernel_says_so_before_training(fake_demo, monkeypatch, capsys):
    from jupyter_client.kernelspec import KernelSpecManager

    monkeypatch.setattr(KernelSpecManager, "find_kernel_specs", lambda self: {})
    assert main(["demo", "--no-browser"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no Jupyter kernel named 'python3'" in err and "ipykernel" in err
    assert fake_demo["trained"] == 0


def test_demo_without_the_js_bundle_says_how_to_build_it(fake_demo, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(requirements_check, "STATIC", tmp_path / "no-static")
    assert main(["demo", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "widget.js" in err and "npm run build" in err
    assert fake_demo["trained"] == 0


def test_train_refuses_a_directory_as_out_before_loading_data(tmp_path, capsys):
    code = main(["train", "--data", "/no/such/data", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "is a directory" in err and str(tmp_path) in err


def test_demo_help_documents_no_browser():
    result = subprocess.run(
        ["attnwidget", "demo", "--help"], capture_output=True, text=True, check=True
    )
    assert "--no-browser" in result.stdout
