"""Importance of each history item for one target item, by several methods.

Every method returns one weight per history position (oldest first); larger means
more important for the target's score.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..data.features import UNKNOWN
from ..models import SASRec
from ..sources import AttentionSource, can_rerun
from ..sources.base import model_lock
from .attention import attention_rollout

METHODS = ("attention", "rollout", "gradient", "occlusion")
SCORE_BATCH = 32  # histories per forward pass when scoring variants (bounds memory)


def attention_importance(attentions: np.ndarray) -> np.ndarray:
    """Attention from the prediction position, averaged over layers and heads."""
    return np.nan_to_num(attentions[:, :, -1, :]).mean(axis=(0, 1))


def rollout_importance(attentions: np.ndarray) -> np.ndarray:
    """Prediction-position row of the attention rollout through all layers."""
    return attention_rollout(np.nan_to_num(attentions))[-1, -1]


def target_scores(source: AttentionSource, histories: list[np.ndarray], target: int) -> np.ndarray:
    """The target item's score after each history.

    A source with ``score_items(histories, items)`` (the built-in SASRec) is asked for the
    target's scores alone, all histories in one call. Otherwise, in batches of
    ``SCORE_BATCH``: sources with a ``score(histories)`` method (the torch adapters) are
    asked for scores only, so no attention is captured or kept; others are run.
    """
    if callable(getattr(source, "score_items", None)):
        scores = np.asarray(source.score_items(histories, [target]))
        return np.asarray(scores[:, 0], dtype=np.float64)
    chunks = [histories[i : i + SCORE_BATCH] for i in range(0, len(histories), SCORE_BATCH)]
    if callable(getattr(source, "score", None)):  # the model's plain pass, no attention kept
        scores = [np.asarray(source.score(chunk))[:, target] for chunk in chunks]
    else:
        scores = [source.run(chunk).scores[:, target] for chunk in chunks]
    return np.asarray(np.concatenate(scores), dtype=np.float64)


def occlusion_importance(source: AttentionSource, history: np.ndarray, target: int) -> np.ndarray:
    """Drop of the target's score when each history item is left out (one batched pass).

    A one-item history has nothing left to score without it: its importance is NaN, and so
    is every item's for a source that cannot re-run histories (``can_rerun`` False).
    """
    n = len(history)
    if n == 1 or not can_rerun(source):
        return np.full(n, np.nan)
    full = target_scores(source, [history], target)[0]
    without = [np.delete(history, i) for i in range(n)]
    return full - target_scores(source, without, target)


def _holding_model_lock(function: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Run ``function(model, ...)`` holding the model's lock (see ``model_lock``)."""

    @functools.wraps(function)
    def locked(model: SASRec, *args: Any) -> np.ndarray:
        with model_lock(model):
            return function(model, *args)

    return locked


@_holding_model_lock
def gradient_importance(model: SASRec, history: np.ndarray, target: int) -> np.ndarray:
    """Gradient-weighted attention relevance (in the spirit of Chefer et al. 2021).

    Per layer, ``Ā = mean_heads((A ⊙ ∂score/∂A)⁺)``; relevance ``R = I`` is updated as
    ``R ← R + Ā R``; the prediction row of ``R``, without the self term, is returned.
    """
    was_training = model.training
    model.eval()
    try:
        batch = model.pad([history])
        hidden, attentions, _ = model.encode(batch)
        for attention in attentions:
            attention.retain_grad()
        score = hidden[0, -1] @ model.candidates()[target]
        score.backward()
        n = batch.shape[1]
        relevance = torch.eye(n, dtype=torch.float64)
        with torch.no_grad():
            for attention in attentions:
                cam = (attention.grad * attention)[0].clamp(min=0).mean(0).double()
                relevance = relevance + cam @ relevance
        row = relevance[-1].numpy().copy()
        row[-1] -= 1.0
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return row


@_holding_model_lock
def feature_occlusion(model: SASRec, history: np.ndarray, target: int) -> np.ndarray:
    """``[n, F]`` drop of the target's score when one field of one item becomes "unknown".

    Column ``f`` is the feature field ``f`` (the item id is not a replaceable field).
    """
    n, n_fields = len(history), model.item_features.shape[1]
    if n_fields == 0:
        return np.zeros((n, 0))
    batch = model.pad([history])
    base = model.item_features[batch]
    variants = [base]
    for i in range(n):
        for f in range(n_fields):
            changed = base.clone()
            changed[0, i, f] = UNKNOWN
            variants.append(changed)
    features = torch.cat(variants)
    with torch.no_grad():
        was_training = model.training
        model.eval()
        try:
            out = model(batch.expand(len(variants), -1), features, need_weights=False)
            scores = out.scores[:, target].double()
        finally:
            model.train(was_training)
    return (scores[0] - scores[1:]).numpy().reshape(n, n_fields)
