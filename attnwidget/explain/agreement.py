"""Which importance method to trust: agreement with occlusion over users, the method to show
first, and a note when raw attention and occlusion blame different items."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .explanation import Explanation
from .faithfulness import Agreement
from .importance import METHODS


def method_agreement(explanations: Iterable[Explanation]) -> tuple[Agreement, int]:
    """Mean Kendall τ and top-1 agreement of each method with occlusion, and how many
    explanations were compared (those without a finite occlusion score are left out).

    Only the importance rankings are needed (no ERASER passes), so this is the cheap way to
    tell which method to trust on a model. Means are NaN when nothing could be compared.
    """
    values: dict[str, dict[str, list[float]]] = {
        m: {"kendall_tau": [], "top1_agreement": []} for m in METHODS
    }
    compared = 0
    for expl in explanations:
        if not np.isfinite(expl.method_importance("occlusion")).any():
            continue
        compared += 1
        for method, figures in expl.agreement().items():
            for key, value in figures.items():
                values[method][key].append(value)
    return {
        m: {key: _finite_mean(v) for key, v in per_key.items()} for m, per_key in values.items()
    }, compared


def _finite_mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def default_method(agreement: Agreement) -> str:
    """The method (other than occlusion itself) with the highest mean Kendall τ."""
    candidates = {
        m: a["kendall_tau"]
        for m, a in agreement.items()
        if m != "occlusion" and a["kendall_tau"] is not None and math.isfinite(a["kendall_tau"])
    }
    return max(candidates, key=candidates.get) if candidates else "attention"


def disagreement_note(expl: Explanation) -> str | None:
    """A sentence when raw attention and occlusion blame different history items."""
    if not expl.has_importance("occlusion"):
        return None
    attention = expl.method_importance("attention")
    occlusion = expl.method_importance("occlusion")
    if not (np.isfinite(attention).any() and np.isfinite(occlusion).any()):
        return None
    a, o = int(np.nanargmax(attention)), int(np.nanargmax(occlusion))
    if a == o:
        return None
    title = expl.catalog.title
    return (
        f"Raw attention ranks '{title(int(expl.history[a]))}' first, but removing "
        f"'{title(int(expl.history[o]))}' lowers the score of '{title(expl.target)}' most."
    )
