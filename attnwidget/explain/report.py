"""Faithfulness over many users, and the planted-cause check on the synthetic shop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..data import Dataset
from ..sources import as_source
from .explanation import explain_indices
from .importance import METHODS


def _sample(users: Sequence[Any], n_users: int | None, seed: int) -> list[Any]:
    if n_users is None or n_users >= len(users):
        return list(users)
    rng = np.random.default_rng(seed)
    return [users[i] for i in np.sort(rng.choice(len(users), n_users, replace=False))]


def faithfulness_report(
    model: Any,
    dataset: Dataset,
    users: Sequence[Any] | None = None,
    *,
    n_users: int | None = 200,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Mean faithfulness metrics per importance method over users' top recommendations.

    Returns one row per method with the mean (over users) of entropy, uniformity,
    Kendall τ and top-1 agreement with occlusion, and ERASER comprehensiveness /
    sufficiency at k = 1, 3, 5; ``users`` counts the explanations averaged.
    """
    source = as_source(model)
    dataset = dataset.aligned_to(source.catalog)
    chosen = _sample(dataset.users if users is None else list(users), n_users, seed)
    frames = []
    for user in tqdm(chosen, desc="explaining", unit="user", disable=not progress):
        history = dataset.sequence(user)
        if len(history) < 2:
            continue
        frames.append(explain_indices(source, history, k=1, user=user).metrics)
    if not frames:
        raise ValueError("no user with 2 or more items to explain")
    table = pd.concat(frames).groupby(level=0).mean()
    table["users"] = len(frames)
    return table.reindex([m for m in METHODS if m in table.index])


def planted_cause_hits(
    model: Any,
    dataset: Dataset,
    *,
    n_users: int | None = None,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """How often each method ranks the planted trigger first when explaining its complement.

    Uses ``dataset.metadata["complements"]`` (the synthetic shop's trigger → complement
    map). A case is a user whose last item is the complement of a trigger in the
    history before it; the explained item is that complement and the history is
    everything before it. Besides the methods, ``most recent item`` is the baseline
    that always blames the last history item.
    """
    complements = dataset.metadata.get("complements")
    if not complements:
        raise ValueError("dataset has no metadata['complements'] (use synthetic_shop)")
    source = as_source(model)
    dataset = dataset.aligned_to(source.catalog)
    catalog = source.catalog
    triggers_of: dict[int, set[int]] = {}
    for trigger, complement in complements.items():
        triggers_of.setdefault(catalog.index_of(complement), set()).add(catalog.index_of(trigger))
    hits: dict[str, list[float]] = {m: [] for m in (*METHODS, "most recent item")}
    chosen = _sample(dataset.users, n_users, seed)
    for user in tqdm(chosen, desc="planted causes", unit="user", disable=not progress):
        seq = dataset.sequence(user)
        target, history = int(seq[-1]), seq[:-1][-source.max_len :]
        causes = triggers_of.get(target, set()) & set(history.tolist())
        if len(history) < 2 or not causes:
            continue
        table = explain_indices(source, history, target=target, k=1).importance
        for method in METHODS:
            weights = table[method].to_numpy()
            if np.isfinite(weights).any():
                hits[method].append(float(history[int(np.nanargmax(weights))] in causes))
        hits["most recent item"].append(float(history[-1] in causes))
    return pd.DataFrame(
        {
            "hit_rate": {m: np.mean(v) if v else np.nan for m, v in hits.items()},
            "cases": {m: len(v) for m, v in hits.items()},
        }
    )
