"""The explorer's built front end (``attnwidget/static/``), found at import time."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
# The views style themselves (js/src/styles.js); a widget.css, if a build makes one, is added.
# "" when there is none: anywidget turns a None _css into the text "None".
CSS: Path | str = STATIC / "widget.css" if (STATIC / "widget.css").is_file() else ""


def bundle() -> Path:
    """The JavaScript bundle; a clear error saying how to build it when it is missing."""
    path = STATIC / "widget.js"
    if not path.is_file():
        raise FileNotFoundError(
            f"the widget's JavaScript bundle {path} is missing: build it with "
            "`cd js && npm install && npm run build`, or reinstall attnwidget with pip"
        )
    return path
