"""Importance of each history item for one target item, by several methods.

Every method returns one weight per history position (oldest first); larger means
more important for the target's score.
"""

from __future__ import annotations

import numpy as np

from ..sources import AttentionSource, can_rerun
from ..sources.base import AttentionGradients, FeatureOcclusion, ScoresHistories, ScoresItems
from .attention import attention_rollout

METHOD_INFO = {
    "attention": "attention from the prediction position, mean over layers and heads",
    "rollout": "attention rollout through all layers (prediction position)",
    "gradient": "gradient-weighted attention relevance",
    "occlusion": "drop of the recommendation's score when the item is left out",
}
"""Each importance method and what it measures (the widget's method list reads it)."""
METHODS = tuple(METHOD_INFO)
FAST_METHODS = ("attention", "rollout")
"""The methods read off the attention alone, with no extra pass of the model."""
SCORE_BATCH = 32  # histories per forward pass when scoring variants (bounds memory)
OCCLUSION_CHUNK = 16
"""Occlusion variants per call of the source: the model is free between calls, so a user
switch answered while occlusion runs in the background waits for one chunk at most."""


def attention_importance(attentions: np.ndarray) -> np.ndarray:
    """Attention from the prediction position, averaged over layers and heads."""
    return np.nan_to_num(attentions[:, :, -1, :]).mean(axis=(0, 1))


def rollout_importance(attentions: np.ndarray) -> np.ndarray:
    """Prediction-position row of the attention rollout through all layers."""
    return attention_rollout(np.nan_to_num(attentions))[-1, -1]


def target_scores(source: AttentionSource, histories: list[np.ndarray], target: int) -> np.ndarray:
    """The target item's score after each history.

    A source that :class:`~attnwidget.sources.base.ScoresItems` (the built-in SASRec) is
    asked for the target's scores alone, all histories in one call. Otherwise, in batches of
    ``SCORE_BATCH``: a source that :class:`~attnwidget.sources.base.ScoresHistories` (the
    torch adapters) is asked for scores only, so no attention is captured or kept; others
    are run.
    """
    if isinstance(source, ScoresItems):
        scores = np.asarray(source.score_items(histories, [target]))
        return np.asarray(scores[:, 0], dtype=np.float64)
    chunks = [histories[i : i + SCORE_BATCH] for i in range(0, len(histories), SCORE_BATCH)]
    if isinstance(source, ScoresHistories):  # the model's plain pass, no attention kept
        scores = [np.asarray(source.score(chunk))[:, target] for chunk in chunks]
    else:
        scores = [source.run(chunk).scores[:, target] for chunk in chunks]
    return np.asarray(np.concatenate(scores), dtype=np.float64)


def occlusion_importance(source: AttentionSource, history: np.ndarray, target: int) -> np.ndarray:
    """Drop of the target's score when each history item is left out (batched passes of
    ``OCCLUSION_CHUNK`` variants).

    A one-item history has nothing left to score without it: its importance is NaN, and so
    is every item's for a source that cannot re-run histories (``can_rerun`` False).
    """
    n = len(history)
    if n == 1 or not can_rerun(source):
        return np.full(n, np.nan)
    full = target_scores(source, [history], target)[0]
    without = [np.delete(history, i) for i in range(n)]
    chunks = range(0, n, OCCLUSION_CHUNK)
    drops = [target_scores(source, without[i : i + OCCLUSION_CHUNK], target) for i in chunks]
    return full - np.concatenate(drops)


def gradient_importance(source: AttentionSource, history: np.ndarray, target: int) -> np.ndarray:
    """Gradient-weighted attention relevance (in the spirit of Chefer et al. 2021).

    Per layer, ``Ā = mean_heads((A ⊙ ∂score/∂A)⁺)``; relevance ``R = I`` is updated as
    ``R ← R + Ā R``; the prediction row of ``R``, without the self term, is returned. NaN
    for a source that gives no gradient (see :class:`~attnwidget.sources.base.AttentionGradients`).
    """
    n = len(history)
    if not (isinstance(source, AttentionGradients) and can_rerun(source)):
        return np.full(n, np.nan)
    found = source.attention_gradients(history, target)
    if found is None:
        return np.full(n, np.nan)
    return gradient_relevance(*found)


def gradient_relevance(attentions: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """The prediction row of :func:`gradient_importance`'s relevance from one history's
    ``[L, H, n, n]`` attention and ``∂ score / ∂ attention`` (e.g. of a batched pass)."""
    attentions, gradients = (np.asarray(a, dtype=np.float64) for a in (attentions, gradients))
    relevance = np.eye(attentions.shape[-1])
    for cam in np.clip(attentions * gradients, 0.0, None).mean(axis=1):
        relevance = relevance + cam @ relevance
    row = relevance[-1].copy()
    row[-1] -= 1.0
    return row


def feature_occlusion(
    source: AttentionSource, history: np.ndarray, target: int
) -> np.ndarray | None:
    """``[n, F - 1]`` drop of the target's score when one feature field of one item becomes
    "unknown", or ``None`` for a source without feature fields to replace
    (see :class:`~attnwidget.sources.base.FeatureOcclusion`)."""
    if not isinstance(source, FeatureOcclusion):
        return None
    return np.asarray(source.feature_occlusion(history, target), dtype=np.float64)
