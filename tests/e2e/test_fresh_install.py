"""The README's first command, in a clean virtualenv, serves a demo page that draws.

This is what a newcomer meets: a copy of the repository without ``js/node_modules`` or a built
bundle, a new virtualenv that sees none of the test environment's packages, and the README's
install-and-run command, with ``--no-browser`` added so it prints the URL instead of opening a
browser. The demo then trains its model from scratch (nothing cached) and serves the Voila app,
and headless Chromium checks that the page draws a heatmap.

pip's and npm's download caches are shared with the machine, so a second run costs minutes, not
downloads; everything else (Jupyter dirs, the attnwidget cache, ``$HOME``) is a temp dir.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FRESH_VENV_SUMMARY, REPO_ROOT, SCREENSHOT_DIR, _Server
from explorer_page import SEQ, assert_heatmap_drawn

pytestmark = pytest.mark.timeout(1500)

INSTALL_TIMEOUT_S = 900
DEMO_TIMEOUT_S = 600
URL_LINE = re.compile(r"serving at (http://127\.0\.0\.1:\d+/)")


def readme_first_command() -> str:
    """The first shell command of the README's set-up section."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "README.md has no ```bash block"
    return blocks[0].strip()


def _copy_checkout(dest: Path) -> Path:
    """The repository's files as a fresh clone has them (tracked and new, never ignored ones)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        src = REPO_ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    assert not (dest / "js" / "node_modules").exists()
    assert not (dest / "attnwidget" / "static" / "widget.js").exists()
    return dest


def _clean_env(venv: Path, home: Path) -> dict[str, str]:
    """Only what a fresh shell has: PATH with the venv first, a temp HOME and Jupyter dirs.

    The machine's pip settings (``PIP_*``, e.g. where the CPU torch wheel lies) are kept, as a fresh
    machine has them; pip and npm caches point at the machine's, so nothing is downloaded twice.
    """
    pip_cache = subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True
    ).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k in ("LANG", "TERM")}
    env |= {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "VIRTUAL_ENV": str(venv),
        "HOME": str(home),
        "PIP_CACHE_DIR": pip_cache or str(Path.home() / ".cache" / "pip"),
        "npm_config_cache": str(Path.home() / ".npm"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    for name, sub in (
        ("JUPYTER_CONFIG_DIR", "jupyter-config"),
        ("JUPYTER_DATA_DIR", "jupyter-data"),
        ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"),
        ("IPYTHONDIR", "ipython"),
        ("XDG_CONFIG_HOME", "xdg-config"),
        ("XDG_CACHE_HOME", "xdg-cache"),
        ("ATTNWIDGET_CACHE", "attnwidget-cache"),
    ):
        env[name] = str(home / sub)
    node = shutil.which("node")
    if node and Path(node).parent not in (Path("/usr/bin"), Path("/usr/local/bin")):
        env["PATH"] += f":{Path(node).parent}"  # Node may live elsewhere (nvm); it is not Python
    return env


@pytest.fixture(scope="module")
def fresh_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Run the README's first command in a clean venv; yield the URL and what it printed."""
    FRESH_VENV_SUMMARY.unlink(missing_ok=True)  # only this run's result is reported
    root = tmp_path_factory.mktemp("fresh")
    checkout = _copy_checkout(root / "attnwidget")
    venv, home = root / "venv", root / "home"
    home.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = _clean_env(venv, home)
    command = f"{readme_first_command()} --no-browser"
    log = root / "demo.log"
    start = time.monotonic()
    server = _Server.start(["bash", "-c", command], checkout, env, log)
    try:
        url = _wait_for_url(server, log, INSTALL_TIMEOUT_S + DEMO_TIMEOUT_S)
        yield {
            "url": url,
            "venv": venv,
            "env": env,
            "log": log,
            "command": command,
            "seconds_to_url": time.monotonic() - start,
        }
    finally:
        server.stop()
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, SCREENSHOT_DIR.parent / "fresh-venv-demo.log")


def _wait_for_url(server: _Server, log: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = URL_LINE.search(log.read_text(errors="replace"))
        if match:
            return match.group(1)
        if server.proc.poll() is not None:
            pytest.fail(
                f"the README command exited with {server.proc.returncode}:\n{server.tail()}"
            )
        time.sleep(0.5)  # polling the log of a command that installs and trains for minutes
    pytest.fail(f"no URL printed within {timeout:.0f} s:\n{server.tail()}")


def test_readme_command_is_what_ci_runs():
    assert readme_first_command() == 'pip install "torch==2.13.0" -e . && attnwidget demo'


def test_clean_venv_has_no_test_packages_and_its_own_kernel(fresh_demo):
    python = fresh_demo["venv"] / "bin" / "python"
    for leaked in ("pytest", "playwright", "jupyterlab", "transformers"):
        probe = subprocess.run(
            [str(python), "-c", f"import {leaked}"], env=fresh_demo["env"], capture_output=True
        )
        assert probe.returncode != 0, f"{leaked} leaked into the clean venv"
    specs = subprocess.run(
        [str(fresh_demo["venv"] / "bin" / "jupyter"), "kernelspec", "list", "--json"],
        env=fresh_demo["env"],
        capture_output=True,
        text=True,
        check=True,
    )
    kernels = json.loads(specs.stdout)["kernelspecs"]
    assert "python3" in kernels, f"no python3 kernel in the clean venv: {kernels}"
    assert Path(kernels["python3"]["resource_dir"]).is_relative_to(fresh_demo["venv"])


def test_demo_trains_then_serves_a_page_that_draws_a_heatmap(fresh_demo, page, screenshot):
    printed = fresh_demo["log"].read_text(errors="replace")
    assert "Training the demo model" in printed and "first run only" in printed
    assert printed.index("Training the demo model") < printed.index("serving at")
    page.goto(fresh_demo["url"])
    heatmap = page.locator(SEQ).first
    heatmap.wait_for(timeout=120_000)
    page.wait_for_function(
        "el => Number(el.dataset.drawCount || 0) >= 1", arg=heatmap.element_handle(), timeout=60_000
    )
    drawn = assert_heatmap_drawn(heatmap)
    shot = screenshot("fresh-venv-demo")
    summary = (
        f"fresh venv: `{fresh_demo['command']}` printed its URL after "
        f"{fresh_demo['seconds_to_url']:.0f} s (install + first training); the page drew a "
        f"heatmap with {drawn.colored_css:.0f} coloured CSS px ({shot.name})"
    )
    FRESH_VENV_SUMMARY.write_text(summary + "\n")
