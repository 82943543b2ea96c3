"""ExplorerSnapshot: a kernel-free copy of an explorer's view, written into standalone pages.

The live explorer is never touched by an export: the page gets a new widget holding the
chosen users' packs in ``archive`` (the front end then switches users locally) and the view
settings of the moment (layer, head, modes, method). Nothing links it back to the kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anywidget
import traitlets as t

from .bundle import CSS, bundle
from .payload import encode_archive


class ExplorerSnapshot(anywidget.AnyWidget):
    """The traits the front end reads, as plain values (no validation, no kernel work)."""

    _esm = bundle()
    _css = CSS

    user = t.Unicode("").tag(sync=True)
    users = t.List(t.Unicode()).tag(sync=True)
    layer = t.Int(0).tag(sync=True)
    head = t.Int(0).tag(sync=True)
    layer_mode = t.Unicode("layer").tag(sync=True)
    head_mode = t.Unicode("head").tag(sync=True)
    payload = t.Bytes(b"").tag(sync=True)
    archive = t.Bytes(b"").tag(sync=True)
    error = t.Unicode("").tag(sync=True)
    status = t.Unicode("").tag(sync=True)
    selection = t.List(t.Int()).tag(sync=True)
    history_edit = t.List(t.Unicode()).tag(sync=True)
    method = t.Unicode("").tag(sync=True)

    @classmethod
    def of(
        cls, users: Sequence[str], packs: Sequence[bytes], first: str, **view: Any
    ) -> ExplorerSnapshot:
        """A snapshot showing ``first`` of ``users`` (whose packs are ``packs``, in order)."""
        values, buffers = snapshot_state(users, packs, first, **view)
        return cls(**values, **buffers)


def snapshot_state(
    users: Sequence[str], packs: Sequence[bytes], first: str, **view: Any
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The traits of :meth:`ExplorerSnapshot.of` as plain values and bytes, for a page
    written without creating the widget (see :func:`.standalone.page_from_state`)."""
    traits = ExplorerSnapshot.class_traits(sync=True)
    own = set(traits) - set(anywidget.AnyWidget.class_trait_names(sync=True))
    values = {name: traits[name].default() for name in sorted(own) if not name.startswith("_")}
    values |= {"users": list(users), "user": first, **view}
    buffers = {name: values.pop(name) for name in ("payload", "archive")}
    buffers["archive"] = encode_archive(packs)
    return values, buffers
