"""Fixtures for browser end-to-end tests: headless Chromium, Voila and JupyterLab servers.

Recipe (see /work/shared/design.md, "Testing on this machine"): Debian's ``/usr/bin/chromium``
driven by Playwright's sync API, servers on free ports stopped by process group, Jupyter dirs in a
temp dir so ``$HOME`` is left alone, and waits on DOM state instead of sleeps.

Fixtures: ``jupyter_env``, ``browser``, ``page``, ``console_errors``, ``blocked_requests``,
``screenshot``, ``voila_server``, ``jupyterlab_server``, ``notebook7_server``, ``lab_root``,
``run_all_in_lab``, ``run_all_in_notebook7``, and for
the explorer ``demo_cache`` (demo model trained once per session) and ``voila_app`` (the Voila app
served once per session).
Every test under this folder gets the ``e2e`` marker; a failing test that used ``page`` leaves a
screenshot in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Route

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
FRESH_VENV_SUMMARY = REPO_ROOT / "test-artifacts" / "fresh-venv-summary.txt"
_SESSION_START = time.time()  # this conftest is imported once per pytest run
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SERVER_START_TIMEOUT_S = 60.0
LAB_KERNEL_NAME = "Python 3 (ipykernel)"
# Console errors that do not concern the widget, matched against "message (url)":
_HARMLESS_CONSOLE_ERRORS = [
    # Font Awesome CSS / web fonts the widget managers reference on a CDN (unreachable offline).
    re.compile(r"fontawesome|\.(woff2?|ttf|eot|otf)([?#][^)]*)?\)$", re.IGNORECASE),
    # Voila 0.5 loads every labextension, and notebook 7's lab-extension fails module federation
    # there ("RUNTIME-012 ... @jupyterlab/docregistry"); nothing on the page depends on it.
    re.compile(r"RUNTIME-012.*@jupyter-notebook/lab-extension", re.DOTALL),
    # Notebook 7.6's own shortcuts plugin, on opening any notebook (a one-cell "1+1" one too) with
    # this test env, before a widget exists: "Cannot read properties of undefined (reading
    # 'schema')" thrown from its settings registry's pluginChanged handler.
    re.compile(r"reading 'schema'\)\n\s+at \S+/static/notebook/notebook_core\.", re.DOTALL),
]
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


# ---------------------------------------------------------------------------------------- hooks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``e2e``; add a hard timeout when pytest-timeout is on."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)
            if config.pluginmanager.hasplugin("timeout") and not item.get_closest_marker("timeout"):
                item.add_marker(pytest.mark.timeout(180))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the item so the ``page`` finalizer can see failures."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the clean-venv demo test measured (CI's log is the proof it drew)."""
    if FRESH_VENV_SUMMARY.is_file() and FRESH_VENV_SUMMARY.stat().st_mtime >= _SESSION_START:
        terminalreporter.write_sep("-", "README install in a clean venv")
        terminalreporter.write_line(FRESH_VENV_SUMMARY.read_text().strip())


# ------------------------------------------------------------------------------------- jupyter
@pytest.fixture(scope="session")
def jupyter_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for subprocesses with every Jupyter/IPython/XDG dir in a temp dir.

    A ``python3`` kernelspec that runs this interpreter (display name "Python 3 (ipykernel)") is
    written into the temp data dir, and JupyterLab's news/update toasts are switched off.
    ``ATTNWIDGET_CACHE`` points at a session temp dir too, so every server and kernel finds the
    demo model that :func:`demo_cache` trains once.
    """
    from ipykernel.kernelspec import write_kernel_spec

    root = tmp_path_factory.mktemp("jupyter-home")
    dirs = {
        "JUPYTER_CONFIG_DIR": root / "config",
        "JUPYTER_DATA_DIR": root / "data",
        "JUPYTER_RUNTIME_DIR": root / "runtime",
        "IPYTHONDIR": root / "ipython",
        "XDG_CONFIG_HOME": root / "xdg-config",
        "XDG_CACHE_HOME": root / "xdg-cache",
    }
    for path in dirs.values():
        path.mkdir(parents=True)
    write_kernel_spec(dirs["JUPYTER_DATA_DIR"] / "kernels" / "python3")

    settings = dirs["JUPYTER_CONFIG_DIR"] / "lab" / "user-settings" / "@jupyterlab"
    notification = settings / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.update({name: str(path) for name, path in dirs.items()})
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["ATTNWIDGET_CACHE"] = str(root / "attnwidget-cache")
    return env


# ------------------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def browser(jupyter_env: dict[str, str]) -> Iterator[Browser]:
    """Headless Debian Chromium; skipped when missing, except in CI (``CI=true``) where it fails."""
    in_ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: `apt-get install -y chromium` (never `playwright install`)"
        if in_ci:
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        if in_ci:
            pytest.fail(f"playwright is not installed: {err}")
        pytest.skip("playwright is not installed: pip install -e '.[test]'")

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=jupyter_env
        )
        yield chromium
        chromium.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors and uncaught exceptions seen by ``page`` (harmless font misses removed)."""
    return []


@pytest.fixture
def page(
    browser: Browser, console_errors: list[str], request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh page in its own context; screenshots itself if the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    new_page = context.new_page()
    new_page.set_default_timeout(30_000)

    def on_console(msg: ConsoleMessage) -> None:
        entry = f"{msg.text} ({msg.location.get('url', '')})"
        if msg.type == "error" and not any(p.search(entry) for p in _HARMLESS_CONSOLE_ERRORS):
            console_errors.append(entry)

    new_page.on("console", on_console)

    def on_page_error(exc: Exception) -> None:
        entry = f"uncaught: {getattr(exc, 'stack', None) or exc}"
        if not any(p.search(entry) for p in _HARMLESS_CONSOLE_ERRORS):
            console_errors.append(entry)

    new_page.on("pageerror", on_page_error)
    yield new_page

    reports = request.node.stash.get(_REPORTS, {})
    if any(r.failed for r in reports.values()):
        shot = _screenshot(new_page, f"FAILED-{request.node.name}")
        print(f"screenshot: {shot}\nconsole errors: {console_errors}")
    context.close()


@pytest.fixture
def blocked_requests(page: Page) -> list[str]:
    """Abort each request from ``page`` that is not file:, data: or blob:, and record its URL."""
    blocked: list[str] = []

    def abort(route: Route) -> None:
        blocked.append(route.request.url)
        route.abort()

    page.route(lambda url: not url.startswith(("file:", "data:", "blob:")), abort)
    return blocked


@pytest.fixture
def screenshot(page: Page) -> Callable[..., Path]:
    """``screenshot(name, target=page)`` saves a full-page PNG (or, for a Locator, one
    element's) to test-artifacts/screenshots/."""

    def save(name: str, target: Page | Locator | None = None) -> Path:
        return _screenshot(target or page, name)

    return save


def _screenshot(target: Page | Locator, name: str) -> Path:
    """A full-page PNG of a page, or a PNG of one element (a Locator)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    if isinstance(target, Locator):
        target.screenshot(path=str(path))
    else:
        target.screenshot(path=str(path), full_page=True)
    return path


# ------------------------------------------------------------------------------------- servers
@dataclass
class _Server:
    """A server subprocess in its own process group, logging to a file."""

    proc: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> _Server:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return cls(proc, log)

    def wait_ready(self, url: str, timeout: float = SERVER_START_TIMEOUT_S) -> None:
        """Poll ``url`` until the server answers with any HTTP status; fail with its log if not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)  # polling interval while the port is not open yet
        self.stop()
        raise TimeoutError(f"server not ready at {url} after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM the process group (servers shut their kernels down), SIGKILL after 15 s."""
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def voila_server(
    jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Path], str]]:
    """``voila_server(notebook) -> url``: serve one notebook with Voila; stopped after the test.

    The kernel runs in the notebook's folder, so helper modules placed beside it are importable.
    """
    servers: list[_Server] = []
    logs = tmp_path_factory.mktemp("voila-logs")

    def start(notebook: Path) -> str:
        server, url = _start_voila(notebook, jupyter_env, logs)
        servers.append(server)
        return url

    yield start
    for server in servers:
        server.stop()


def _start_voila(notebook: Path, env: dict[str, str], logs: Path) -> tuple[_Server, str]:
    notebook = Path(notebook).resolve()
    port = _free_port()
    cmd = [sys.executable, "-m", "voila", notebook.name, "--no-browser", f"--port={port}",
           "--Voila.ip=127.0.0.1", "--show_tracebacks=True"]  # fmt: skip
    server = _Server.start(cmd, notebook.parent, env, logs / f"{port}.log")
    url = f"http://127.0.0.1:{port}/"
    # Any path answers once the server listens; "/" itself would execute the notebook.
    server.wait_ready(f"{url}voila/static/ready-probe")
    return server, url


# ----------------------------------------------------------------------------------- attnwidget
@pytest.fixture(scope="session")
def demo_cache(jupyter_env: dict[str, str]) -> Path:
    """Train the demo model once per session into ``$ATTNWIDGET_CACHE`` of ``jupyter_env``.

    Runs ``attnwidget.demo_model(progress=False)`` in the test process with the variable set, so
    the Voila app's kernels (same env) load it from the cache instead of training (~1 min).
    """
    import attnwidget

    cache = Path(jupyter_env["ATTNWIDGET_CACHE"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTNWIDGET_CACHE", str(cache))
        attnwidget.demo_model(progress=False)
    assert any(cache.glob("*.pt")), f"demo_model() left no checkpoint in {cache}"
    return cache


@pytest.fixture(scope="session")
def voila_app(
    demo_cache: Path, jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of ``notebooks/voila_app.ipynb`` (copied to a temp dir) served by one Voila server.

    Each page load starts its own kernel, so tests do not share widget state.
    """
    folder = tmp_path_factory.mktemp("voila-app")
    notebook = folder / "voila_app.ipynb"
    shutil.copy(REPO_ROOT / "notebooks" / "voila_app.ipynb", notebook)
    server, url = _start_voila(notebook, jupyter_env, tmp_path_factory.mktemp("voila-app-logs"))
    yield url
    server.stop()


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab or Notebook 7: ``url`` is the base URL, ``token`` the auth token."""

    url: str
    token: str
    root_dir: Path
    route: str = "lab"  # "lab" (JupyterLab: /lab/tree/NB) or "notebooks" (Notebook 7)

    def relpath(self, notebook: str | Path) -> str:
        """``notebook`` (absolute, or relative to ``root_dir``) as a server path."""
        path = Path(notebook)
        if path.is_absolute():
            path = path.resolve().relative_to(self.root_dir)
        return path.as_posix()

    def notebook_url(self, notebook: str | Path) -> str:
        """URL that opens ``notebook`` (in a reset workspace, for JupyterLab)."""
        if self.route == "notebooks":
            return f"{self.url}/notebooks/{self.relpath(notebook)}?token={self.token}"
        return f"{self.url}/lab/tree/{self.relpath(notebook)}?token={self.token}&reset"


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root dir shared by tests so they can reuse one JupyterLab server."""
    return tmp_path_factory.mktemp("lab-root").resolve()


@pytest.fixture(scope="session")
def jupyterlab_server(
    jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Path], LabServer]]:
    """``jupyterlab_server(root_dir) -> LabServer``; one server per root, stopped at session end.

    Started with ``--LabApp.expose_app_in_browser=True`` so pages can use ``window.jupyterapp``.
    """
    with _jupyter_servers("jupyterlab", "LabApp", "lab", jupyter_env, tmp_path_factory) as start:
        yield start


@pytest.fixture(scope="session")
def notebook7_server(
    jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Path], LabServer]]:
    """``notebook7_server(root_dir) -> LabServer`` for Jupyter Notebook 7 (``/notebooks/...``)."""
    with _jupyter_servers(
        "notebook", "JupyterNotebookApp", "notebooks", jupyter_env, tmp_path_factory
    ) as start:
        yield start


@contextlib.contextmanager
def _jupyter_servers(
    module: str, app: str, route: str, env: dict[str, str], factory: pytest.TempPathFactory
) -> Iterator[Callable[[Path], LabServer]]:
    """Start ``python -m module`` servers on demand, one per root dir; stop them all at the end."""
    servers: dict[Path, tuple[_Server, LabServer]] = {}
    logs = factory.mktemp(f"{module}-logs")

    def start(root_dir: Path) -> LabServer:
        root = Path(root_dir).resolve()
        if root in servers:
            return servers[root][1]
        port, token = _free_port(), secrets.token_hex(16)
        cmd = [sys.executable, "-m", module, "--no-browser", "--allow-root",
               f"--IdentityProvider.token={token}", "--ip=127.0.0.1", f"--port={port}",
               f"--ServerApp.root_dir={root}", f"--{app}.expose_app_in_browser=True"]  # fmt: skip
        server = _Server.start(cmd, root, env, logs / f"{port}.log")
        lab = LabServer(f"http://127.0.0.1:{port}", token, root, route)
        servers[root] = (server, lab)
        server.wait_ready(f"{lab.url}/api/status?token={token}")
        return lab

    try:
        yield start
    finally:
        for server, _ in servers.values():
            server.stop()


def _run_all_in_lab(
    page: Page, lab: LabServer, notebook: str | Path, *, timeout_ms: float = 60_000
) -> None:
    """Open ``notebook`` in JupyterLab, wait for an idle kernel, run all cells to completion.

    Returns when every code cell has run; widget views may still be rendering, so wait on their
    DOM state afterwards.
    """
    page.goto(lab.notebook_url(notebook))
    page.locator("#jp-main-statusbar").get_by_text(f"{LAB_KERNEL_NAME} | Idle").wait_for(
        timeout=timeout_ms
    )
    page.wait_for_function(
        "path => window.jupyterapp?.shell.currentWidget?.context?.path === path",
        arg=lab.relpath(notebook),
        timeout=timeout_ms,
    )
    ok = page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    if ok is False:
        raise AssertionError(f"run-all in JupyterLab stopped on an error in {notebook}")


_KERNEL_IDLE_JS = """path => {
  const widget = window.jupyterapp?.shell.currentWidget;
  return widget?.context?.path === path
    && widget.sessionContext?.session?.kernel?.status === "idle";
}"""


def _run_all_in_notebook7(
    page: Page, server: LabServer, notebook: str | Path, *, timeout_ms: float = 120_000
) -> None:
    """Open ``notebook`` in Notebook 7, wait for an idle kernel, click Run ▸ Run All Cells.

    Notebook 7 has no status bar; the kernel's state is read through ``window.jupyterapp``.
    """
    page.goto(server.notebook_url(notebook))
    page.wait_for_function(_KERNEL_IDLE_JS, arg=server.relpath(notebook), timeout=timeout_ms)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator("li[data-command='runmenu:run-all']").click()


@pytest.fixture
def run_all_in_notebook7() -> Callable[..., None]:
    """``run_all_in_notebook7(page, server, notebook)``: see :func:`_run_all_in_notebook7`."""
    return _run_all_in_notebook7


@pytest.fixture
def run_all_in_lab() -> Callable[..., None]:
    """``run_all_in_lab(page, lab, notebook)``: see :func:`_run_all_in_lab`."""
    return _run_all_in_lab
