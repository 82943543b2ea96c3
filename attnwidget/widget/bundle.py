"""The explorer's built front end (``attnwidget/static/``), found at import time."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
CSS = STATIC / "widget.css" if (STATIC / "widget.css").is_file() else None


def bundle() -> Path:
    """The JavaScript bundle; a clear error saying how to build it when it is missing."""
    path = STATIC / "widget.js"
    if not path.is_file():
        raise FileNotFoundError(
            f"the widget's JavaScript bundle {path} is missing: build it with "
            "`cd js && npm install && npm run build`, or reinstall attnwidget with pip"
        )
    return path
