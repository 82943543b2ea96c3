"""Attention sources: the built-in model and adapters for models users bring."""

from __future__ import annotations

from typing import Any

from ..models import SASRec
from .base import AttentionSource, SourceOutput
from .sasrec import SASRecSource


def as_source(model: Any) -> AttentionSource:
    """The :class:`AttentionSource` for ``model`` (a SASRec or anything already a source)."""
    if isinstance(model, SASRec):
        return SASRecSource(model)
    if isinstance(model, AttentionSource):
        return model
    raise TypeError(
        f"expected an attnwidget SASRec or an AttentionSource (catalog, max_len, field_names, "
        f"run(histories)), got {type(model).__name__}"
    )


__all__ = ["AttentionSource", "SASRecSource", "SourceOutput", "as_source"]
