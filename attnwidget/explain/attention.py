"""Pure functions over attention arrays: head means, rollout, distribution figures."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError


def attention_rollout(attentions: np.ndarray, residual: float = 0.5) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020) through each layer.

    Args:
        attentions: ``[L, H, n, n]`` attention of one sequence.
        residual: weight of the identity standing in for the residual connection;
            each layer's head-mean ``A`` becomes ``residual·I + (1 - residual)·A``,
            rows renormalised.

    Returns:
        ``[L, n, n]``: entry ``l`` is the rollout through layers ``0..l``.
    """
    if attentions.ndim != 4 or attentions.shape[-1] != attentions.shape[-2]:
        raise DataError(f"attentions must be [layers, heads, n, n], got shape {attentions.shape}")
    # In torch: its matrix products follow the caller's thread setting (one thread in the
    # explorer's answers), where numpy's BLAS threads spin against a busy machine's load.
    n = attentions.shape[-1]
    head_means = torch.from_numpy(attentions.mean(axis=1, dtype=np.float64))
    eye = torch.eye(n, dtype=torch.float64)
    out = torch.empty((attentions.shape[0], n, n), dtype=torch.float64)
    current = eye
    for layer, head_mean in enumerate(head_means):
        mixed = residual * eye + (1.0 - residual) * head_mean
        mixed /= mixed.sum(dim=-1, keepdim=True)
        current = mixed @ current
        out[layer] = current
    return out.numpy()


def selected_attention(
    attentions: np.ndarray,
    rollout: np.ndarray,
    *,
    layer: int,
    head: int,
    layer_mode: str = "layer",
    head_mode: str = "head",
) -> np.ndarray:
    """The ``[n, n]`` matrix the views show for a layer and head choice, as the front end
    picks it (``js/src/explanation.js``, ``matrix``; both are tested on
    ``js/tests/fixtures/view_cases.json``): the rollout through ``layer``
    (``layer_mode="rollout"``), the mean of the layer's heads (``head_mode="mean"``; NaN
    weights are skipped, NaN only where every head is NaN), or one head."""
    if layer_mode == "rollout":
        return rollout[layer]
    if head_mode == "mean":
        heads = attentions[layer]
        counts = np.sum(~np.isnan(heads), axis=0)
        sums = np.nansum(heads, axis=0, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / counts, np.nan)
    return attentions[layer, head]


def distribution_stats(weights: np.ndarray) -> dict[str, float]:
    """Entropy (nats and normalised by ``log n``) and uniformity (MSE around the mean, std).

    Non-finite weights are left out (``n`` counts the rest). For the entropy, negative
    weights (e.g. occlusion scores) count as 0 and the rest is normalised to sum to 1; no
    positive mass at all counts as uniform. The normalised entropy is NaN for ``n < 2``
    (``log 1 = 0``), every figure NaN for ``n = 0``. ``js/src/stats.js`` computes the same
    figures; both are tested on ``js/tests/fixtures/stats_cases.json``.
    """
    w = np.asarray(weights, dtype=np.float64).ravel()
    w = w[np.isfinite(w)]
    n = w.size
    if n == 0:
        return {
            "entropy": float("nan"),
            "normalized_entropy": float("nan"),
            "mse": float("nan"),
            "std": float("nan"),
        }
    positive = np.clip(w, 0.0, None)
    p = positive / positive.sum() if positive.sum() > 0 else np.full(n, 1.0 / n)
    nz = p[p > 0]
    entropy = float(-(nz * np.log(nz)).sum())
    return {
        "entropy": entropy,
        "normalized_entropy": entropy / np.log(n) if n > 1 else float("nan"),
        "mse": float(((w - w.mean()) ** 2).mean()),
        "std": float(w.std()),
    }
