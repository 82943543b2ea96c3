"""Turn an Explanation into the binary pack the front end draws (schema: js/README.md)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..explain import Explanation
from .payload import encode_pack


def _item(expl: Explanation, index: int) -> dict[str, Any]:
    item_id = expl.catalog.item_id(int(index))
    return {
        "id": item_id if isinstance(item_id, int | str) else str(item_id),
        "title": expl.catalog.title(int(index)),
        "features": expl.catalog.feature_labels(int(index)),
    }


def explanation_header(expl: Explanation) -> dict[str, Any]:
    """The JSON part of a pack: user, shapes, history and recommendations as text."""
    n_layers, n_heads = expl.attentions.shape[:2]
    recs = []
    for index in expl.recommendations:
        score = float(expl.scores[index])
        recs.append({**_item(expl, index), "score": score if math.isfinite(score) else None})
    return {
        "user": "" if expl.user is None else str(expl.user),
        "n_layers": int(n_layers),
        "n_heads": int(n_heads),
        "fields": list(expl.field_names),
        "history": [_item(expl, i) for i in expl.history],
        "truncated": (
            {"total": expl.total_length, "shown": len(expl.history)} if expl.truncated else None
        ),
        "recommendations": recs,
        "warnings": list(expl.warnings),
    }


def explanation_pack(expl: Explanation) -> bytes:
    """Header + float16 sequence attention and rollout + float32 feature attention."""
    n = len(expl.history)
    feature = expl.feature_attention
    if feature is None:
        feature = np.ones((n, 1), dtype=np.float32)
    arrays = {
        "seq_attn": expl.attentions.astype(np.float16),
        "rollout": expl.rollout.astype(np.float16),
        "feat_attn": feature.astype(np.float32),
    }
    return encode_pack(explanation_header(expl), arrays)
