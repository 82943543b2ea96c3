"""The light standalone page of an anywidget: its ESM bundle, its trait values, a 3 KB host.

The generic export (:mod:`.html_export`) inlines require.js and the ipywidgets widget manager
(3.6 MB) to render any widget. A page of one anywidget needs none of that: this writer puts in

* the trait values as JSON (``<script type="application/json" id="aw-state">``, every ``<``,
  ``>`` and ``&`` written as a ``\\u`` escape, so no text in it can end the script element),
* each bytes trait as base64 (``<script type="application/octet-stream" data-aw-buffer=NAME>``;
  the packs, with their item titles, only ever travel in there),
* the widget's ESM bundle as text (``<script type="text/plain" id="aw-esm">``, base64 with
  ``data-encoding="base64"`` if it held ``</script`` or ``<!--``), and its ``_css``, if any,
* the host (``attnwidget/static/standalone-host.js``, built from ``js/src/standalone-host.js``)
  as an inline module: a model over those values with anywidget's model interface, the bundle
  imported from a Blob URL, ``render({model, el})`` into ``<div id="aw-view">``.

The explorer's own page skips the Blob: its bundle and the host are one inline module
(``attnwidget/static/standalone-explorer.js``), which the page opens tens of milliseconds sooner.

The page opens from ``file://`` with no network and no kernel.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from pathlib import Path
from typing import Any

import anywidget

from ..atomic_write import atomic_write
from ..errors import ArgumentTypeError, ArgumentValueError
from .bundle import STATIC, bundle

HOST = STATIC / "standalone-host.js"
EXPLORER_HOST = STATIC / "standalone-explorer.js"  # the host with the explorer's bundle in it

# Traits every DOMWidget has (layout, tooltip, ...): the page has no widget manager to read them.
_WIDGET_TRAITS = frozenset(anywidget.AnyWidget.class_trait_names(sync=True))
# What would end a script element early (or switch the parser into its escaped states).
_UNSAFE_IN_SCRIPT = re.compile(r"</script|<!--|<script", re.IGNORECASE)
_BUFFER_BLOCK = re.compile(
    r'<script type="application/octet-stream" data-aw-buffer="([^"]*)">([^<]*)</script>'
)
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body {{ margin: 16px; }}</style>{css}
</head>
<body>
<div id="aw-view"></div>
<script type="application/json" id="aw-state">{state}</script>
{buffers}{esm}
<script type="module">{host}</script>
</body>
</html>
"""
_BUFFER = '<script type="application/octet-stream" data-aw-buffer="{name}">{data}</script>'


def page_html(widget: anywidget.AnyWidget, *, title: str = "attnwidget") -> str:
    """The standalone page of ``widget`` (its current trait values), as text.

    Raises:
        TypeError: If ``widget`` is not an anywidget.
        ValueError: If its ``_esm`` is a URL (an offline page cannot load it), or a trait
            value cannot be written as JSON (NaN, an object).
        FileNotFoundError: If the host from the front-end build is missing.
    """
    if not isinstance(widget, anywidget.AnyWidget):
        raise ArgumentTypeError(f"a standalone page shows an anywidget, got {widget!r}")
    values, buffers = {}, {}
    for name, value in widget.get_state().items():
        if name.startswith("_") or name in _WIDGET_TRAITS:
            continue
        if isinstance(value, bytes | bytearray | memoryview):
            buffers[name] = bytes(value)
        else:
            values[name] = value
    return page_from_state(
        values, buffers, esm=str(widget._esm), css=str(widget._css or ""), title=title
    )


def page_from_state(
    values: dict[str, Any],
    buffers: dict[str, bytes],
    *,
    esm: str,
    css: str = "",
    title: str = "attnwidget",
) -> str:
    """The standalone page of a widget given as its trait ``values`` (JSON), its bytes
    traits (``buffers``), its ESM bundle and CSS, with no widget object (one created in a
    live kernel opens a comm, and its front end starts a model that closing it aborts).

    Raises:
        ValueError: If ``esm`` is a URL, or a value cannot be written as JSON.
        FileNotFoundError: If the host from the front-end build is missing.
    """
    if re.fullmatch(r"\s*https?://\S*\s*", esm):  # anywidget imports such an _esm from there
        raise ArgumentValueError(
            f"the widget's _esm is a URL ({esm.strip()[:80]!r}): a page with no network "
            "cannot load it; give the widget its bundle's text or path"
        )
    try:
        state = json.dumps(values, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as err:
        raise ArgumentValueError(f"the widget's traits cannot be written as JSON: {err}") from None
    encoded = {k: base64.b64encode(v).decode("ascii") for k, v in buffers.items()}
    own = EXPLORER_HOST.is_file() and esm == _explorer_bundle()
    return _PAGE.format(
        title=html.escape(title),
        css=f"\n<style>{_escape_style(css)}</style>" if css.strip() else "",
        state=state.translate(_JSON_ESCAPES),
        buffers="\n".join(_BUFFER.format(name=html.escape(k), data=v) for k, v in encoded.items()),
        esm="" if own else _esm_block(esm),
        host=_inline_module(EXPLORER_HOST if own else HOST),
    )


def _esm_block(esm: str) -> str:
    """The widget's bundle as a text block the host imports (base64 if it is unsafe inline)."""
    if not _UNSAFE_IN_SCRIPT.search(esm):
        return f'\n<script type="text/plain" id="aw-esm">{esm}</script>'
    encoded = base64.b64encode(esm.encode("utf-8")).decode("ascii")
    return f'\n<script type="text/plain" id="aw-esm" data-encoding="base64">{encoded}</script>'


def _explorer_bundle() -> str:
    try:
        return bundle().read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def save_html(
    widget: anywidget.AnyWidget, path: str | os.PathLike[str], *, title: str = "attnwidget"
) -> Path:
    """Write :func:`page_html` of ``widget`` to ``path`` atomically (see ``atomic_write``).

    Raises:
        The errors of :func:`page_html`, and ``IsADirectoryError``, ``NotADirectoryError`` or
        ``OSError`` when ``path`` cannot be written (a file already there is then kept).
    """
    return write_page(page_html(widget, title=title), path)


def write_page(page: str, path: str | os.PathLike[str]) -> Path:
    """Write a page's text to ``path`` atomically; a file already there is kept on failure."""
    with atomic_write(path) as file:
        file.write(page.encode("utf-8"))
    return Path(path)


def _inline_module(path: Path) -> str:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the front-end build writes it. Run `npm install && npm run "
            "build` in js/ (or reinstall attnwidget with `pip install -e .`)."
        )
    source = path.read_text(encoding="utf-8")
    if _UNSAFE_IN_SCRIPT.search(source):  # esbuild escapes "</script" in strings; check anyway
        raise ArgumentValueError(f"{path} holds '</script' or '<!--' and cannot be inlined")
    return source


def _escape_style(css: str) -> str:
    """CSS that cannot end its <style> element (``\\3c`` is CSS's escape of ``<``)."""
    return re.sub(r"<(?=/style)", r"\\3c ", css, flags=re.IGNORECASE)


def trait_state(page: str) -> dict[str, Any]:
    """The trait values a page written by :func:`page_html` holds (bytes traits as bytes)."""
    found = re.search(r'<script type="application/json" id="aw-state">(.*?)</script>', page, re.S)
    if found is None:
        raise ArgumentValueError("not an attnwidget standalone page: no aw-state block")
    state = json.loads(found.group(1))
    for name, data in _BUFFER_BLOCK.findall(page):
        state[html.unescape(name)] = base64.b64decode(data)
    return state
