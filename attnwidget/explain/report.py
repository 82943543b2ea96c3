"""Faithfulness over many users, and the planted-cause check on the synthetic shop."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..checks import check_int
from ..data import Dataset
from ..errors import (
    ArgumentTypeError,
    DataError,
    NothingToRecommendError,
    NothingToRecommendWarning,
)
from ..sources import as_source
from .attention_metrics import feature_pairs, method_feature_mi
from .explanation import explain_indices
from .importance import METHODS


def sample_users(users: Sequence[Any], n_users: int | None, seed: int = 0) -> list[Any]:
    """``n_users`` of ``users`` drawn with ``seed``, in their order (all when ``None``)."""
    if n_users is None or n_users >= len(users):
        return list(users)
    rng = np.random.default_rng(seed)
    return [users[i] for i in np.sort(rng.choice(len(users), n_users, replace=False))]


def _chosen_users(
    dataset: Dataset, users: Sequence[Any] | None, n_users: int | None, seed: int
) -> list[Any]:
    """The users to average over, checked: known ids, a positive ``n_users``, a valid seed."""
    if n_users is not None:
        n_users = check_int("n_users", n_users)
    seed = check_int("seed", seed, minimum=0)
    if users is None:
        return sample_users(dataset.users, n_users, seed)
    if isinstance(users, str | bytes) or not isinstance(users, Iterable):
        raise DataError(
            f"users must be a list of user ids, got {type(users).__name__} {users!r:.60}"
        )
    users = list(users)
    if not users:
        raise DataError("users is an empty list: name at least one user, or pass users=None")
    for user in users:
        dataset.user_position(user)  # UnknownUserError names an unknown one before any work
    return sample_users(users, n_users, seed)


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
    Kendall τ and top-1 agreement with occlusion, ``r2_occlusion`` (R² of occlusion's
    linear fit from the method's weights) and ERASER comprehensiveness / sufficiency at
    k = 1, 3, 5; ``users`` counts the explanations averaged. Over the users, per feature
    field: ``mi:FIELD``, the plug-in mutual information (nats) between the field's value on
    the method's most important history item and on the recommended item, and
    ``mi_shuffled:FIELD``, the same with the pairs shuffled (the plug-in bias; see
    :mod:`attnwidget.explain.attention_metrics`). Users with
    fewer than 2 items, and users with nothing left to recommend (a
    :class:`NothingToRecommendWarning` names them), are left out.

    Raises:
        UnknownUserError: a user in ``users`` is not in the dataset.
        DataError: no chosen user has 2 or more items.
        NothingToRecommendError: no chosen user has anything left to recommend.
    """
    source = as_source(model)
    if not isinstance(dataset, Dataset):
        raise ArgumentTypeError(
            f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}"
        )
    dataset = dataset.aligned_to(source.catalog)
    chosen = _chosen_users(dataset, users, n_users, seed)
    frames, empty = [], []
    pairs: dict[str, list[np.ndarray]] = {m: [] for m in METHODS}
    features = source.catalog.features
    for user in tqdm(chosen, desc="explaining", unit="user", disable=not progress):
        history = dataset.sequences[dataset.user_position(user)]
        if len(history) < 2:
            continue
        try:
            expl = explain_indices(source, history, k=1, user=user)
        except NothingToRecommendError as err:
            empty.append((user, err))
            continue
        frames.append(expl.metrics)
        for method in METHODS:
            found = feature_pairs(
                expl.history, expl.target, expl.method_importance(method), features
            )
            if found is not None:
                pairs[method].append(found)
    if empty and not frames:
        raise NothingToRecommendError(
            f"none of the {len(empty)} user(s) with 2 or more items has anything left to "
            f"recommend; first: {empty[0][1]}"
        )
    if not frames:
        raise DataError(f"none of the {len(chosen)} chosen user(s) has 2 or more items to explain")
    if empty:
        names = ", ".join(repr(u) for u, _ in empty[:5])
        warnings.warn(
            f"left out {len(empty)} user(s) with nothing left to recommend: {names}"
            f"{', …' if len(empty) > 5 else ''}",
            NothingToRecommendWarning,
            stacklevel=2,
        )
    table = pd.concat(frames).groupby(level=0).mean()
    table["users"] = len(frames)
    table = table.reindex([m for m in METHODS if m in table.index])
    if source.catalog.field_names:
        mi = method_feature_mi(pairs, source.catalog.field_names, seed=seed)
        table = table.join(mi.reindex(table.index))
    return table


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
    if not isinstance(dataset, Dataset):
        raise ArgumentTypeError(
            f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}"
        )
    complements = dataset.metadata.get("complements")
    if not complements:
        raise DataError("dataset has no metadata['complements'] (use synthetic_shop)")
    source = as_source(model)
    dataset = dataset.aligned_to(source.catalog)
    catalog = source.catalog
    triggers_of: dict[int, set[int]] = {}
    for trigger, complement in complements.items():
        triggers_of.setdefault(catalog.index_of(complement), set()).add(catalog.index_of(trigger))
    hits: dict[str, list[float]] = {m: [] for m in (*METHODS, "most recent item")}
    chosen = _chosen_users(dataset, None, n_users, seed)
    for user in tqdm(chosen, desc="planted causes", unit="user", disable=not progress):
        seq = dataset.sequences[dataset.user_position(user)]
        if len(seq) < 3:  # a history of 2 or more items before the explained one
            continue
        target, history = int(seq[-1]), seq[:-1][-source.max_len :]
        causes = triggers_of.get(target, set()) & set(history.tolist())
        if not causes:
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
