"""What the command line needs at run time, checked before any long work starts.

Each check returns ``None`` when the thing is there, or one line saying what is missing and how to
get it, so ``attnwidget demo`` can refuse in one line instead of training for a minute and then
serving a page that fails with "500: Internal Server Error".
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from .errors import MissingDependencyError
from .widget.bundle import STATIC

REINSTALL = (
    'reinstall attnwidget with `pip install "torch==2.13.0" -e .` (or `pip install attnwidget`)'
)


def _package(name: str) -> Callable[[], str | None]:
    def check() -> str | None:
        if importlib.util.find_spec(name) is None:
            return f"the Python package {name!r} is not installed: {REINSTALL}"
        return None

    check.__name__ = f"package_{name}"
    return check


def _optional(name: str, extra: str) -> Callable[[], str | None]:
    """A package of an optional extra (``pip install "attnwidget[EXTRA]"``)."""

    def check() -> str | None:
        if importlib.util.find_spec(name) is None:
            return (
                f"the Python package {name!r} is not installed: it comes with the {extra!r} "
                f'extra, `pip install "attnwidget[{extra}]"` (or `pip install -e ".[{extra}]"` '
                "in a checkout)"
            )
        return None

    check.__name__ = f"package_{name}"
    return check


def python_kernel() -> str | None:
    """A Jupyter kernel for Python that Voila can start for the app notebook."""
    if importlib.util.find_spec("jupyter_client") is None:
        return f"the Python package 'jupyter_client' is not installed: {REINSTALL}"
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if "python3" in specs:
        return None
    return (
        "no Jupyter kernel named 'python3' was found (Voila needs one to run the app): "
        "install ipykernel in this environment (`pip install ipykernel`) or "
        "`python -m ipykernel install --user`"
    )


def widget_bundle() -> str | None:
    """The explorer's built JavaScript bundle."""
    if not (STATIC / "widget.js").is_file():
        return (
            f"the widget's JavaScript bundle {STATIC / 'widget.js'} is missing: build it with "
            f"`cd js && npm install && npm run build`, or {REINSTALL}"
        )
    return None


def export_scripts() -> str | None:
    """The scripts an offline HTML page inlines: require.js, the widget manager, anywidget's AMD."""
    missing = [
        str(path)
        for path in (STATIC / "vendor" / "require.js", STATIC / "vendor" / "embed-amd.js")
        if not path.is_file()
    ]
    spec = importlib.util.find_spec("anywidget")
    if spec and spec.origin:
        amd = Path(spec.origin).parent / "nbextension" / "index.js"
        if not amd.is_file():
            missing.append(str(amd))
    if missing:
        return f"files the offline page inlines are missing ({', '.join(missing)}): {REINSTALL}"
    return None


WIDGET = (_package("anywidget"), _package("ipywidgets"), _package("bqplot"), widget_bundle)
NEEDS = {
    "demo": (_package("voila"), _package("ipykernel"), python_kernel, *WIDGET),
    "train": (),
    "export": (*WIDGET, export_scripts),
    "explain": (_optional("pyarrow", "parquet"),),
    "parquet": (_optional("pyarrow", "parquet"),),
    "ray": (_optional("ray", "ray"), _optional("pyarrow", "ray")),
}
"""What each command (or optional engine: ``parquet`` files, the ``ray`` engine) needs."""


def missing(command: str) -> list[str]:
    """One line per thing ``command`` needs that is not there (empty when all is well)."""
    return [line for check in NEEDS[command] if (line := check()) is not None]


def require(command: str) -> None:
    """Raise :class:`MissingDependencyError` naming, on one line, what ``command`` lacks."""
    problems = missing(command)
    if problems:
        raise MissingDependencyError("; ".join(problems))
