"""Turn an Explanation into the binary pack the front end draws (schema: js/README.md)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..data import Catalog
from ..explain import (
    METHOD_INFO,
    METHODS,
    Agreement,
    Explanation,
    default_method,
    disagreement_note,
)
from ..explain.counterfactual import Counterfactual
from ..explain.reasons import Reason
from ..sources import FeatureOcclusion, can_rerun
from . import log12
from .payload import encode_pack, mark_nonfinite

FLOAT16_MAX = float(np.finfo(np.float16).max)
ARRAY_LABELS = {
    "seq_attn": "The sequence attention",
    "rollout": "The attention rollout",
    "feat_attn": "The feature attention",
    "importance": "The importance scores",
    "feat_occlusion": "The feature occlusion scores",
}
"""Readable names of the pack's arrays, for the header's warnings about non-finite values."""


def _compact(array: np.ndarray) -> np.ndarray:
    """float32 for the 12-bit log codes when they can carry it, else float16 when every
    finite value fits it, else float32 (so nothing overflows to inf)."""
    if log12.can_encode(array):
        return array.astype(np.float32, copy=False)
    finite = np.abs(array[np.isfinite(array)])
    fits = finite.size == 0 or float(finite.max()) <= FLOAT16_MAX
    return array.astype(np.float16 if fits else np.float32)


def _item_id(catalog: Catalog, index: int) -> int | str:
    """An item id as JSON can carry it (ints and strings as they are, others as text)."""
    item_id = catalog.item_id(int(index))
    return item_id if isinstance(item_id, int | str) else str(item_id)


def _item(expl: Explanation, index: int, features: np.ndarray | None = None) -> dict[str, Any]:
    return {
        "id": _item_id(expl.catalog, index),
        "title": expl.catalog.title(int(index)),
        "features": expl.catalog.feature_labels(int(index), features),
    }


def _history(expl: Explanation) -> list[dict[str, Any]]:
    """The history's items with the features the model read (a feature what-if's edits)."""
    table = expl.history_feature_table
    return [_item(expl, i, table) for i in expl.history]


def _scored(expl: Explanation, index: int) -> dict[str, Any]:
    score = float(expl.scores[index])
    return {**_item(expl, index), "score": score if math.isfinite(score) else None}


def what_if_summary(
    original: Explanation, edited: Explanation, features: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The edited history's change from the original: which recommendations entered or left,
    and, for a feature what-if, ``features`` (``feature_edits`` and ``feature_changes``, see
    :func:`~attnwidget.widget.feature_whatif.feature_summary`; empty lists without)."""
    before = [int(i) for i in original.recommendations]
    after = [int(i) for i in edited.recommendations]

    catalog = original.catalog

    def described(indices: list[int]) -> list[dict[str, Any]]:
        return [{"id": _item_id(catalog, i), "title": catalog.title(i)} for i in indices]

    return {
        "original_history": [_item_id(catalog, i) for i in original.history],
        "original_recommendations": described(before),
        "entered": described([i for i in after if i not in before]),
        "left": described([i for i in before if i not in after]),
        "feature_edits": list((features or {}).get("feature_edits", [])),
        "feature_changes": list((features or {}).get("feature_changes", [])),
    }


def explanation_header(
    expl: Explanation,
    *,
    agreement: Agreement | None = None,
    agreement_users: int | None = None,
    agreement_pending: bool = False,
    editable: bool = False,
    what_if: Mapping[str, Any] | None = None,
    feature_values: Mapping[str, Sequence[str] | None] | None = None,
) -> dict[str, Any]:
    """The JSON part of a pack: user, shapes, items as text, importance summary.

    ``feature_values`` (sent only with ``editable``) are the values the browser offers for a
    feature what-if, per field (``None`` for a field with too many values to send); see
    :func:`~attnwidget.widget.feature_whatif.feature_vocabulary`. The history's items carry
    the features the model read them with (a feature what-if shows the edited values).

    ``agreement`` is the model-level agreement with occlusion per method (mean over
    ``agreement_users`` users); without it, this explanation's own agreement is used, and
    ``agreement_pending`` lists ``"agreement"`` in ``importance.pending`` (it is being
    computed: the why panel says so).
    """
    n_layers, n_heads = expl.attentions.shape[:2]
    mine = expl.agreement()
    model_level = dict(agreement) if agreement is not None else mine
    return {
        "user": "" if expl.user is None else str(expl.user),
        "n_layers": int(n_layers),
        "n_heads": int(n_heads),
        "fields": list(expl.field_names),
        "history": _history(expl),
        "truncated": (
            {"total": expl.total_length, "shown": len(expl.history)} if expl.truncated else None
        ),
        "recommendations": [_scored(expl, i) for i in expl.recommendations],
        "target": _scored(expl, expl.target),
        "importance": {
            "methods": list(METHODS),
            "descriptions": {m: METHOD_INFO[m] for m in METHODS},
            "default": default_method(model_level),
            "agreement": model_level,
            "n_users": agreement_users if agreement is not None else 1,
            "user_agreement": mine,
            "note": disagreement_note(expl),
            "pending": [m for m in METHODS if not expl.has_importance(m)]
            + (["agreement"] if agreement_pending and agreement is None else [])
            + (["feature_occlusion"] if _feature_occlusion_pending(expl) else [])
            + [part for part in ("reasons", "counterfactual") if _pending(expl, part)],
        },
        "editable": editable,
        "feature_values": (
            {k: None if v is None else list(v) for k, v in feature_values.items()}
            if editable and feature_values
            else None
        ),
        "what_if": dict(what_if) if what_if else None,
        "reasons": _reasons(expl),
        "counterfactual": _counterfactual(expl),
        "warnings": list(expl.warnings),
    }


_COMPUTED = {"reasons": "top_reasons", "counterfactual": "target_counterfactual"}


def _pending(expl: Explanation, part: str) -> bool:
    """The model can re-run histories (of more than one item), and ``part`` is not
    computed yet."""
    rerun = can_rerun(expl.source) and len(expl.history) > 1
    return rerun and _COMPUTED[part] not in vars(expl)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _reason(reason: Reason) -> dict[str, Any]:
    return {
        "text": reason.text,
        "key": reason.key,
        "parts": [[kind, text] for kind, text in reason.parts],
        "evidence": [str(i) for i in reason.evidence_ids],
        "score_drop": _finite(reason.score_drop),
        "method": reason.method,
    }


def _reasons(expl: Explanation) -> list[dict[str, Any] | None]:
    """One entry per recommendation: its reason once computed (the first few), else null."""
    found = vars(expl).get("top_reasons") or []
    by_item = {str(r.item): _reason(r) for r in found}
    return [by_item.get(str(expl.catalog.item_id(int(i)))) for i in expl.recommendations]


def _counterfactual(expl: Explanation) -> dict[str, Any] | None:
    """The explained item's verified counterfactual, once computed (else null)."""
    found: Counterfactual | None = vars(expl).get("target_counterfactual")
    if found is None:
        return None
    removed = zip(found.positions, found.item_ids, found.titles, strict=True)
    return {
        "found": found.found,
        "k": found.k,
        "removed": [{"position": p, "id": str(i), "title": t} for p, i, t in removed],
        "rank_before": found.rank_before,
        "rank_after": found.rank_after,
        "exhaustive": found.exhaustive,
        "message": found.message,
        "edited_history": [str(i) for i in found.edited_history],
    }


def _feature_occlusion_pending(expl: Explanation) -> bool:
    """The source can replace feature fields, and the explanation has not done it yet."""
    fields = len(expl.field_names) > 1
    return fields and isinstance(expl.source, FeatureOcclusion) and not _has_feature_occlusion(expl)


def _has_feature_occlusion(expl: Explanation) -> bool:
    return "feature_importance" in vars(expl)  # the cached property was computed


def _feature_occlusion(expl: Explanation) -> np.ndarray | None:
    """``[n, F - 1]`` score drops without each item's field, once computed (else None)."""
    if not _has_feature_occlusion(expl):
        return None
    table = expl.feature_importance
    columns = [f"occlusion:{name}" for name in expl.field_names[1:]]
    if not columns or any(c not in table for c in columns):
        return None
    return table[columns].to_numpy(dtype=np.float32)


def explanation_pack(
    expl: Explanation, *, methods: Sequence[str] = METHODS, **header_options: Any
) -> bytes:
    """Header + sequence attention and rollout + float32 feature attention and importance
    (``[methods, n]``).

    Attention and rollout travel as 12-bit log codes (:mod:`.log12`: within 0.17 % of each
    weight, the lower triangle only when the model is causal), or, when they hold a negative
    value, as float16 (float32 when a value is too large for float16).

    Non-finite values are sent as NaN and announced in ``header["nonfinite"]`` and
    ``header["warnings"]`` (see :func:`~attnwidget.widget.payload.mark_nonfinite`); NaN
    importance ("no score", "not computed yet") is expected and not warned about.

    Only ``methods`` are computed for the pack (others already computed are included
    too); the rest are NaN and listed as ``importance.pending`` in the header, so a fast
    first pack can be followed by a complete one. The feature occlusion (``feat_occlusion``,
    ``[n, F - 1]``, see :attr:`Explanation.feature_importance`) travels once it is computed,
    and is listed as pending before that when the source can compute it.
    ``header_options`` go to :func:`explanation_header`.
    """
    n = len(expl.history)
    for method in methods:
        expl.method_importance(method)
    importance = np.full((len(METHODS), n), np.nan, dtype=np.float32)
    for row, method in enumerate(METHODS):
        if expl.has_importance(method):
            importance[row] = expl.method_importance(method)
    feature = expl.feature_attention
    if feature is None:
        feature = np.ones((n, 1), dtype=np.float32)
    arrays = {
        "seq_attn": _compact(expl.attentions),
        "rollout": _compact(expl.rollout),
        "feat_attn": feature.astype(np.float32),
        "importance": importance,
    }
    if (drops := _feature_occlusion(expl)) is not None:
        arrays["feat_occlusion"] = drops
    header, arrays = mark_nonfinite(
        explanation_header(expl, **header_options),
        arrays,
        nan_markers=("importance", "feat_occlusion"),
        labels=ARRAY_LABELS,
    )
    return encode_pack(header, arrays, quantized=("seq_attn", "rollout"))
