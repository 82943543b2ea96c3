"""Offline static HTML export: one self-contained page, no network, no kernel.

``ipywidgets.embed.embed_minimal_html`` loads require.js and the widget manager from CDNs and drops
the anywidget ``_esm`` state, so its pages are blank offline. Here the page inlines require.js, the
``@jupyter-widgets/html-manager`` AMD build and anywidget's AMD front end (shipped with the Python
``anywidget`` package, so it always matches the model version in the state), plus the full state.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from ipywidgets import DOMWidget
from ipywidgets.embed import dependency_state, embed_data, escape_script

from ..atomic_write import atomic_write
from ..errors import ArgumentTypeError, ArgumentValueError

_VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"

# Widget modules the inlined scripts can render; any other module would be fetched from a CDN.
_OFFLINE_MODULES = frozenset(
    {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output", "anywidget"}
)

# anywidget's AMD build calls an anonymous ``define(deps, factory)``, which require.js rejects in
# an inline script. Shadow ``define`` so the module registers under the name the html-manager asks
# require.js for ("anywidget"); its loader then never falls back to the CDN.
_NAMED_DEFINE = """(function () {{
var define = function () {{
  var args = Array.prototype.slice.call(arguments);
  if (typeof args[0] === "string") args.shift();
  return window.define.apply(null, ["anywidget"].concat(args));
}};
define.amd = window.define.amd;
{source}
}})();"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>{title}</title>
<script>{requirejs}</script>
<script>{anywidget}</script>
<script>{manager}</script>
</head>
<body>
<script type="application/vnd.jupyter.widget-state+json">
{state}
</script>
{views}
</body>
</html>
"""

_VIEW = '<script type="application/vnd.jupyter.widget-view+json">{spec}</script>'


def save_html(
    widgets: DOMWidget | Sequence[DOMWidget],
    path: str | os.PathLike[str],
    *,
    title: str = "attnwidget",
) -> Path:
    """Write the widgets' current state into one standalone HTML file.

    The page renders from ``file://`` with no network and no kernel. Bytes traits travel as
    base64 buffers, and every trait is kept (defaults included, so anywidget's ``_esm`` survives).

    Args:
        widgets: One widget or a sequence of widgets; each becomes a view, in order.
        path: Where to write the ``.html`` file (missing parent folders are created). The write
            is atomic: if it fails or is interrupted, a file already at ``path`` is kept as it was.
        title: The page title.

    Returns:
        The path written.

    Raises:
        TypeError: If an item of ``widgets`` is not an ipywidgets ``DOMWidget``.
        ValueError: If ``widgets`` is empty, or a widget needs a front-end module that is not
            inlined (it would be fetched from a CDN).
        FileNotFoundError: If the vendored JavaScript files from the front-end build are missing.
        IsADirectoryError: If ``path`` is a directory.
        NotADirectoryError: If a parent of ``path`` is a file.
        OSError: If the page cannot be written (e.g. the disk is full); the old file is kept.
    """
    views = [widgets] if isinstance(widgets, DOMWidget) else widgets
    if not isinstance(views, Sequence) or isinstance(views, str):
        raise ArgumentTypeError(
            f"save_html expects a DOMWidget or a sequence of them, got {views!r}"
        )
    for view in views:
        if not isinstance(view, DOMWidget):
            raise ArgumentTypeError(f"save_html expects ipywidgets DOMWidgets, got {view!r}")
    if not views:
        raise ArgumentValueError("save_html needs at least one widget, got an empty sequence")

    state = dependency_state(views, drop_defaults=False)
    for model_id, model in state.items():
        module = model["model_module"]
        if module not in _OFFLINE_MODULES:
            raise ArgumentValueError(
                f"widget {model_id} ({model['model_name']}) needs the front-end module {module!r}, "
                f"which an offline page cannot load; supported modules: {sorted(_OFFLINE_MODULES)}"
            )
    data = embed_data(views=views, drop_defaults=False, state=state)

    page = _PAGE.format(
        title=html.escape(title),
        requirejs=escape_script(_read_vendor("require.js")),
        anywidget=escape_script(_NAMED_DEFINE.format(source=_anywidget_amd_source())),
        manager=escape_script(_read_vendor("embed-amd.js")),
        state=escape_script(json.dumps(data["manager_state"])),
        views="\n".join(
            _VIEW.format(spec=escape_script(json.dumps(spec))) for spec in data["view_specs"]
        ),
    )
    with atomic_write(path) as file:
        file.write(page.encode("utf-8"))
    return Path(path)


def _read_vendor(name: str) -> str:
    file = _VENDOR_DIR / name
    if not file.is_file():
        raise FileNotFoundError(
            f"{file} is missing: the front-end build copies it there. Run `npm install && "
            "npm run build` in js/ (or reinstall attnwidget with `pip install -e .`)."
        )
    return file.read_text(encoding="utf-8")


def _anywidget_amd_source() -> str:
    source = resources.files("anywidget").joinpath("nbextension", "index.js")
    if not source.is_file():
        raise FileNotFoundError(
            "anywidget's AMD front end (anywidget/nbextension/index.js) is missing; "
            "reinstall anywidget with `pip install --force-reinstall anywidget`."
        )
    return source.read_text(encoding="utf-8")
