"""Attention sources: the built-in model and adapters for models users bring.

* :class:`SASRecSource`: the built-in :class:`~attnwidget.SASRec`.
* :class:`MultiheadAttentionSource`: any torch model built on ``nn.MultiheadAttention``
  (``nn.TransformerEncoder`` …), attention captured with forward hooks.
* :class:`OutputAttentionsSource`: models that return their attention, as Hugging Face
  models do with ``output_attentions=True``.
* :class:`PrecomputedSource`: attention and recommendations computed elsewhere.

Optional capabilities (:class:`ScoresHistories`, :class:`ScoresItems`,
:class:`AttentionGradients`, :class:`FeatureOcclusion`, :class:`ListsUsers`) are
protocols the explainer checks with ``isinstance``.
"""

from __future__ import annotations

from typing import Any

from ..errors import AdapterError, ArgumentTypeError, AttentionNotFoundError
from ..models import SASRec
from .base import (
    AttentionGradients,
    AttentionSource,
    FeatureOcclusion,
    ListsUsers,
    ScoresHistories,
    ScoresItems,
    SourceOutput,
    can_rerun,
)
from .output_attentions import OutputAttentionsSource, hf_inputs
from .precomputed import PrecomputedSource
from .sasrec import SASRecSource
from .tables import attention_table_to_arrays
from .torch_hooks import MultiheadAttentionSource, capture_attention, find_attention_modules


def as_source(model: Any) -> AttentionSource:
    """The :class:`AttentionSource` for ``model`` (a SASRec or anything already a source)."""
    if isinstance(model, SASRec):
        return SASRecSource(model)
    if isinstance(model, AttentionSource):
        return model
    raise ArgumentTypeError(
        f"expected an attnwidget SASRec or an AttentionSource (catalog, max_len, field_names, "
        f"run(histories)), got {type(model).__name__}; wrap your own model with "
        "MultiheadAttentionSource, OutputAttentionsSource or PrecomputedSource "
        "(attnwidget.sources)"
    )


__all__ = [
    "AdapterError",
    "AttentionGradients",
    "AttentionNotFoundError",
    "AttentionSource",
    "FeatureOcclusion",
    "ListsUsers",
    "MultiheadAttentionSource",
    "OutputAttentionsSource",
    "PrecomputedSource",
    "SASRecSource",
    "ScoresHistories",
    "ScoresItems",
    "SourceOutput",
    "as_source",
    "attention_table_to_arrays",
    "can_rerun",
    "capture_attention",
    "find_attention_modules",
    "hf_inputs",
]
