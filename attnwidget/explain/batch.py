"""Explanations of many users at once, one table row per user: locally or on Ray Data.

:func:`explain_users` explains each chosen user's top recommendation, like
:func:`~attnwidget.explain`, but batched: the users are cut into chunks of ``batch_size``,
and for each chunk one forward pass gives every user's scores and attention, one backward
pass (built-in SASRec) their gradients, and one scoring call all the leave-one-out
variants occlusion needs. The chunks run in a loop here (``engine="local"``) or as Ray
Data ``map_batches`` on actors (``engine="ray"``, :mod:`attnwidget.explain.batch_ray`).

Both engines run the same function, :func:`explain_chunk`, on the same chunks, and it
returns plain numbers (dense item indices, positions, floats) that the caller turns into
item ids (:func:`format_rows`), so the table is the same, row for row, whatever the engine.
Its columns (:data:`COLUMNS_DOC`) and the Parquet schema are in
:mod:`attnwidget.explain.batch_parquet`.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ..checks import check_bool, check_int
from ..data import Dataset
from ..errors import (
    ArgumentTypeError,
    ArgumentValueError,
    EmptyHistoryError,
    NothingToRecommendError,
)
from ..models import SASRec
from ..sources import AttentionSource, ScoresHistories, ScoresItems, as_source, can_rerun
from ..sources.base import model_lock
from ..sources.sasrec import SASRecSource
from .attention import distribution_stats
from .explanation import Explanation, explanation_from_output
from .faithfulness import occlusion_agreement, ranked_positions
from .importance import METHODS, SCORE_BATCH, gradient_importance, gradient_relevance

ENGINES = ("local", "ray")
TOP = 3
"""History positions kept per method in a row (``{method}_top3_positions`` / ``_weights``)."""
METHOD_FIGURES = (
    "top3_positions",
    "top3_weights",
    "entropy",
    "kendall_tau",
    "top1_agreement",
    "importance",
)
"""Per-method columns ``{method}_{figure}`` that :func:`explain_chunk` computes."""
OCCLUSION_USERS = 32
"""Users whose leave-one-out variants are scored in one call (bounds the score matrix)."""


class EmptyHistoryWarning(UserWarning):
    """:func:`explain_users` over all users left out users with an empty history."""


def check_device(device: Any) -> torch.device | None:
    """``device`` as a torch device (``None`` stays ``None``: the model's device)."""
    if device is None:
        return None
    if not isinstance(device, str | torch.device):
        raise ArgumentTypeError(f"device must be a str or torch.device, got {device!r}")
    try:
        return torch.device(device)
    except (RuntimeError, ValueError) as err:
        raise ArgumentValueError(f"device {device!r} is not a torch device: {err}") from None


def source_device(source: Any) -> torch.device:
    """Where a source's model runs (the CPU for a source without a torch model)."""
    model = getattr(source, "model", None)
    if isinstance(model, torch.nn.Module):
        for tensor in (*model.parameters(), *model.buffers()):
            return tensor.device
    return torch.device("cpu")


def on_device(source: AttentionSource, device: torch.device | None) -> AttentionSource:
    """``source``, or a copy of it whose model is on ``device`` when that differs.

    The user's model is never moved: a deep copy of the source (its model included) is
    moved instead, for the length of one :func:`explain_users` call.
    """
    if device is None or _same_device(source_device(source), device):
        return source
    if not isinstance(getattr(source, "model", None), torch.nn.Module):
        raise ArgumentValueError(
            f"device={str(device)!r} needs a torch model (a SASRec, or a source whose .model "
            f"is a torch.nn.Module); {type(source).__name__} has none"
        )
    clone = copy.deepcopy(source)
    clone.model.to(device)
    return clone


def _same_device(a: torch.device, b: torch.device) -> bool:
    return a.type == b.type and (a.index is None or b.index is None or a.index == b.index)


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """torch on ``threads`` threads inside the block (``None``: as it is), restored after."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check_methods(methods: Any) -> tuple[str, ...]:
    """The chosen importance methods, in :data:`METHODS` order."""
    if isinstance(methods, str) or not isinstance(methods, Iterable):
        raise ArgumentTypeError(
            f"methods must be a list of method names out of {METHODS}, got {methods!r:.60}"
        )
    chosen = list(methods)
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise ArgumentValueError(
            f"unknown importance method {unknown[0]!r}; expected some of {METHODS}"
        )
    if not chosen:
        raise ArgumentValueError(f"methods is empty: choose one or more of {METHODS}")
    return tuple(m for m in METHODS if m in chosen)


def chosen_histories(dataset: Dataset, users: Any) -> tuple[list[Any], list[np.ndarray], int]:
    """The users to explain, their dense histories, and how many users were left out
    (``users=None``: every user with a history; the empty ones are left out)."""
    if users is None:
        pairs = [(u, s) for u, s in zip(dataset.users, dataset.sequences, strict=True) if s.size]
        if not pairs:
            raise EmptyHistoryError("every user of the dataset has an empty history")
        skipped = dataset.n_users - len(pairs)
        return [u for u, _ in pairs], [s for _, s in pairs], skipped
    if isinstance(users, str | bytes | dict) or not isinstance(users, Iterable):
        raise ArgumentTypeError(
            f"users must be a list of user ids or None, got {type(users).__name__} {users!r:.60}"
        )
    users = list(users)
    if not users:
        raise ArgumentValueError("users is an empty list: name at least one user, or pass None")
    histories = [dataset.sequence(user) for user in users]  # names an unknown or empty user
    # the dataset's own ids: "13" finds user 13, and the table says 13
    return [dataset.users[dataset.user_position(user)] for user in users], histories, 0


def check_options(
    engine: Any, batch_size: Any, k: Any, full_importance: Any, progress: Any
) -> tuple[str, int, int, bool, bool]:
    if not isinstance(engine, str):
        raise ArgumentTypeError(f"engine must be 'local' or 'ray', got {engine!r}")
    if engine not in ENGINES:
        raise ArgumentValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    return (
        engine,
        check_int("batch_size", batch_size),
        check_int("k", k),
        check_bool("full_importance", full_importance),
        check_bool("progress", progress),
    )


def chunks(n: int, batch_size: int) -> list[range]:
    """Ordinals of the users in each chunk: the same chunks for every engine."""
    return [range(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


# --- the numbers of one chunk (run by every engine) -------------------------------------------
def explain_chunk(
    source: AttentionSource,
    histories: Sequence[np.ndarray],
    *,
    methods: Sequence[str] = METHODS,
    k: int = 10,
    full_importance: bool = False,
) -> dict[str, list[Any]]:
    """One row per history (checked, dense, in full): plain numbers, item indices and
    positions, as columns of Python lists (the shape Arrow tables are built from).

    One ``source.run`` for all histories; then the batched gradient and occlusion passes.
    A history with nothing left to recommend gets a row with no recommendations, NaN
    figures and a warning instead of an error.
    """
    seen = [np.asarray(h)[-source.max_len :] for h in histories]
    out = source.run(seen)
    explanations: list[Explanation | None] = []
    notes: list[list[str]] = []
    for i, history in enumerate(histories):
        extra = []
        try:
            explanations.append(
                explanation_from_output(source, history, out, i, k=k, excluded=history)
            )
        except NothingToRecommendError as err:
            explanations.append(None)
            extra.append(f"nothing to recommend: {err}")
        if len(history) > len(seen[i]):
            extra.append(f"history of {len(history)} items cut to its last {len(seen[i])}")
        if len(seen[i]) == 1 and "occlusion" in methods:
            extra.append("a one-item history: occlusion and agreement with it are undefined")
        notes.append(extra)
    targets = [None if e is None else e.target for e in explanations]
    importance: dict[str, list[np.ndarray]] = {}
    for method in methods:
        if method in ("attention", "rollout"):
            importance[method] = [
                _nan(len(s)) if e is None else e.method_importance(method)
                for s, e in zip(seen, explanations, strict=True)
            ]
        elif method == "gradient":
            importance[method] = gradients(source, seen, targets)
        else:
            importance[method] = occlusions(source, seen, targets)
    columns: dict[str, list[Any]] = {
        "history_length": [len(h) for h in histories],
        "seen_length": [len(s) for s in seen],
        "recommended": [[] if e is None else e.recommendations.tolist() for e in explanations],
        "recommended_scores": [
            [] if e is None else e.scores[e.recommendations].astype(float).tolist()
            for e in explanations
        ],
        "target": [0 if t is None else int(t) for t in targets],
    }
    for method in methods:
        _method_columns(columns, method, importance, full_importance)
    _attention_columns(columns, out, seen, explanations, source.field_names)
    columns["warnings"] = [
        ([] if e is None else list(e.warnings)) + extra
        for e, extra in zip(explanations, notes, strict=True)
    ]
    return columns


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def _method_columns(
    columns: dict[str, list[Any]],
    method: str,
    importance: dict[str, list[np.ndarray]],
    full_importance: bool,
) -> None:
    weights = importance[method]
    tops = []
    for w in weights:
        order = ranked_positions(w)[:TOP] if np.isfinite(w).any() else np.zeros(0, np.int64)
        tops.append([int(p) for p in order if np.isfinite(w[p])])
    columns[f"{method}_top3_positions"] = tops
    columns[f"{method}_top3_weights"] = [
        [float(w[p]) for p in top] for w, top in zip(weights, tops, strict=True)
    ]
    columns[f"{method}_entropy"] = [distribution_stats(w)["entropy"] for w in weights]
    if "occlusion" in importance and method != "occlusion":
        agreements = [
            occlusion_agreement({method: w, "occlusion": o})[method]
            for w, o in zip(weights, importance["occlusion"], strict=True)
        ]
        columns[f"{method}_kendall_tau"] = [a["kendall_tau"] for a in agreements]
        columns[f"{method}_top1_agreement"] = [a["top1_agreement"] for a in agreements]
    if full_importance:
        columns[f"{method}_importance"] = [np.asarray(w, float).tolist() for w in weights]


def _attention_columns(
    columns: dict[str, list[Any]],
    out: Any,
    seen: list[np.ndarray],
    explanations: list[Explanation | None],
    field_names: Sequence[str],
) -> None:
    """Entropy of the prediction position's attention per layer × head, and the mean
    feature attention per field, from the batch's attention (also for users with nothing
    to recommend: the attention does not depend on the target)."""
    layers, heads = np.asarray(out.attentions).shape[1:3]
    rows = []
    for i, s in enumerate(seen):
        n = len(s)
        attention = np.asarray(out.attentions[i], dtype=np.float32)[..., -n:, -n:]
        rows.append(
            [
                [distribution_stats(attention[layer, h, -1])["entropy"] for h in range(heads)]
                for layer in range(layers)
            ]
        )
    for layer in range(layers):
        for head in range(heads):
            columns[f"entropy_L{layer}H{head}"] = [r[layer][head] for r in rows]
    if out.feature_attention is not None:
        for f, name in enumerate(field_names):
            columns[f"feature_attention_{name}"] = [
                float(np.nanmean(np.asarray(out.feature_attention[i], np.float64)[-len(s) :, f]))
                for i, s in enumerate(seen)
            ]


def gradients(
    source: AttentionSource, seen: list[np.ndarray], targets: list[int | None]
) -> list[np.ndarray]:
    """Gradient importance of each history for its target: one batched backward pass for
    the built-in SASRec, one pass per history for other sources (NaN without a target)."""
    if isinstance(source, SASRecSource):
        found = _sasrec_gradients(source, seen, targets)
        if found is not None:
            return found
    return [
        _nan(len(s)) if t is None else gradient_importance(source, s, t)
        for s, t in zip(seen, targets, strict=True)
    ]


def _sasrec_gradients(
    source: SASRecSource, seen: list[np.ndarray], targets: list[int | None]
) -> list[np.ndarray] | None:
    """``∂ score_i[target_i] / ∂ attention_i`` of every history in one pass: the histories
    of a batch do not interact, so the gradient of the sum is each history's own."""
    model: SASRec = source.model
    with model_lock(model), torch.enable_grad():
        was_training = model.training
        model.eval()
        try:
            batch = model.pad(seen)
            hidden, attentions, _ = model.encode(batch)
            index = torch.as_tensor([t or 0 for t in targets], device=batch.device)
            score = (hidden[:, -1] * model.candidates()[index]).sum()
            if not score.requires_grad:
                return None
            found = torch.autograd.grad(score, attentions)
        finally:
            model.train(was_training)
    weights = torch.stack(attentions, dim=1).detach().cpu().numpy()
    grads = torch.stack(found, dim=1).cpu().numpy()
    out = []
    for i, (s, t) in enumerate(zip(seen, targets, strict=True)):
        n = len(s)
        if t is None:
            out.append(_nan(n))
        else:
            out.append(gradient_relevance(weights[i, ..., -n:, -n:], grads[i, ..., -n:, -n:]))
    return out


def occlusions(
    source: AttentionSource, seen: list[np.ndarray], targets: list[int | None]
) -> list[np.ndarray]:
    """Occlusion importance (the target's score drop when one item is left out) of each
    history, the variants of ``OCCLUSION_USERS`` users scored per call. NaN for a one-item
    history, without a target, and for a source that cannot re-run histories."""
    out = [_nan(len(s)) for s in seen]
    if not can_rerun(source):
        return out
    todo = [i for i, (s, t) in enumerate(zip(seen, targets, strict=True)) if t and len(s) > 1]
    for start in range(0, len(todo), OCCLUSION_USERS):
        group = todo[start : start + OCCLUSION_USERS]
        cases: list[np.ndarray] = []
        case_targets: list[int] = []
        for i in group:
            s = seen[i]
            cases.append(s)
            cases.extend(np.delete(s, j) for j in range(len(s)))
            case_targets.extend([int(targets[i])] * (len(s) + 1))  # type: ignore[arg-type]
        scores = _target_scores(source, cases, np.asarray(case_targets, dtype=np.int64))
        at = 0
        for i in group:
            n = len(seen[i])
            out[i] = scores[at] - scores[at + 1 : at + 1 + n]
            at += n + 1
    return out


def _target_scores(
    source: AttentionSource, histories: list[np.ndarray], targets: np.ndarray
) -> np.ndarray:
    """Each history's score of its own target (see ``importance.target_scores``)."""
    rows = np.arange(len(histories))
    if isinstance(source, ScoresItems):
        columns, inverse = np.unique(targets, return_inverse=True)
        scores = np.asarray(source.score_items(histories, columns.tolist()))
        return np.asarray(scores[rows, inverse], dtype=np.float64)
    parts = []
    for i in range(0, len(histories), SCORE_BATCH):
        chunk = histories[i : i + SCORE_BATCH]
        if isinstance(source, ScoresHistories):
            scores = np.asarray(source.score(chunk))
        else:
            scores = np.asarray(source.run(chunk).scores)
        parts.append(scores[np.arange(len(chunk)), targets[i : i + SCORE_BATCH]])
    return np.asarray(np.concatenate(parts), dtype=np.float64)


# --- numbers to a table -----------------------------------------------------------------------
def merge_columns(parts: Sequence[dict[str, list[Any]]]) -> dict[str, list[Any]]:
    """Chunks' columns one after the other."""
    merged: dict[str, list[Any]] = {name: [] for name in parts[0]}
    for part in parts:
        for name, values in part.items():
            merged[name].extend(values)
    return merged


def format_rows(
    columns: dict[str, list[Any]],
    users: list[Any],
    histories: list[np.ndarray],
    catalog: Any,
    methods: Sequence[str],
    max_len: int,
) -> pd.DataFrame:
    """The table of :func:`explain_users` from :func:`explain_chunk`'s numbers (all chunks
    in user order): item indices become item ids, positions the items they hold."""
    ids = catalog.item_ids

    def item(index: int) -> Any:
        return ids[index - 1] if index else None

    table: dict[str, Any] = {
        "user_id": list(users),
        "history_length": columns["history_length"],
        "seen_length": columns["seen_length"],
        "recommended": [[item(i) for i in rec] for rec in columns["recommended"]],
        "recommended_scores": columns["recommended_scores"],
        "target": [item(t) for t in columns["target"]],
    }
    seen = [np.asarray(h)[-max_len:] for h in histories]
    for method in methods:
        tops = columns[f"{method}_top3_positions"]
        table[f"{method}_top_item"] = [
            item(int(s[top[0]])) if top else None for s, top in zip(seen, tops, strict=True)
        ]
        table[f"{method}_top_position"] = [top[0] if top else -1 for top in tops]
        for suffix in METHOD_FIGURES:
            if f"{method}_{suffix}" in columns:
                table[f"{method}_{suffix}"] = columns[f"{method}_{suffix}"]
    for name, values in columns.items():
        if name.startswith(("entropy_L", "feature_attention_")):
            table[name] = values
    table["warnings"] = columns["warnings"]
    for name in ("target", *(f"{m}_top_item" for m in methods)):
        table[name] = pd.Series(table[name], dtype=object)  # ids stay ids next to None
    frame = pd.DataFrame(table)
    for name in ("history_length", "seen_length", *(f"{m}_top_position" for m in methods)):
        frame[name] = frame[name].astype(np.int64)
    return frame


# --- the entry point --------------------------------------------------------------------------
def explain_users(
    model: Any,
    dataset: Dataset,
    users: Iterable[Any] | None = None,
    *,
    methods: Iterable[str] = METHODS,
    k: int = 10,
    engine: str = "local",
    batch_size: int = 64,
    device: str | torch.device | None = None,
    full_importance: bool = False,
    progress: bool = True,
    threads: int | None = 1,
    concurrency: int | None = None,
    num_gpus: float = 0,
    address: str | None = None,
    runtime_env: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Explain the top recommendation of many users: one row per user, in ``users`` order.

    Columns (see :data:`attnwidget.explain.batch_parquet.COLUMNS_DOC` for all):
    ``user_id``, ``history_length``, ``seen_length``, ``recommended`` (top-``k`` item ids)
    and ``recommended_scores``, ``target`` (the explained item, the top one); per method
    ``M``: ``M_top_item``, ``M_top_position``, ``M_top3_positions``, ``M_top3_weights``,
    ``M_entropy`` and, with occlusion among the methods, ``M_kendall_tau`` and
    ``M_top1_agreement`` against it (as :meth:`Explanation.agreement`); ``entropy_L{l}H{h}``
    (nats, the prediction position's attention in layer ``l``, head ``h``);
    ``feature_attention_{field}`` (mean over the history); ``warnings``. Write it with
    :func:`~attnwidget.explain.batch_parquet.write_explanations`.

    Args:
        model: a :class:`~attnwidget.SASRec` or any :class:`~attnwidget.sources.AttentionSource`.
        dataset: holds the users' histories (written in the model's catalogue).
        users: user ids (each known and with a history); ``None``: every user with a history.
        methods: importance methods (some of ``attention``, ``rollout``, ``gradient``,
            ``occlusion``); agreement columns need ``occlusion``.
        k: recommendations per user.
        engine: ``"local"`` (chunks in this process) or ``"ray"`` (Ray Data ``map_batches``
            on actors, see :mod:`attnwidget.explain.batch_ray`). The same table either way.
        batch_size: users per chunk (one forward pass, one backward pass, occlusion calls).
        device: where the model runs (``"cuda"``, ``"mps"``, ``"cpu"``). ``None``: the
            model's device (``engine="local"``), or ``"cuda"`` when ``num_gpus`` is asked
            and the CPU otherwise (each Ray actor loads its own copy). The model passed in
            is never moved: for another device a copy is made for this call.
        full_importance: also keep each method's whole importance vector (``M_importance``).
        progress: a tqdm bar (users explained).
        threads: torch threads of the local engine, and of each Ray actor (which asks Ray
            for as many CPUs); ``None``: torch's current setting (local), 1 (Ray). One by
            default: a chunk's passes are many small products that a second thread barely
            speeds up, while on busy cores spinning threads slow them ten-fold
            (``benchmarks/batch_explain.py``); and equal threads make both engines' tables
            identical to the last bit (torch's CPU kernels split sums by thread).
        concurrency: Ray actors (default: one per CPU, or per ``num_gpus`` of the GPUs).
        num_gpus: GPUs per Ray actor.
        address: a running Ray cluster (``"auto"``, ``"ray://host:10001"``); default: a
            local Ray started for the call and stopped after (one already running is used
            and left running).
        runtime_env: passed to ``ray.init`` (e.g. ``{"pip": ["attnwidget"]}`` on a cluster
            whose workers lack it).

    Raises:
        UnknownUserError: a user is not in the dataset.
        EmptyHistoryError: a chosen user has no items.
        ArgumentTypeError, ArgumentValueError: a bad argument (engine, methods, sizes, device).
        MissingDependencyError: ``engine="ray"`` without Ray installed.
    """
    source = as_source(model)
    if not isinstance(dataset, Dataset):
        raise ArgumentTypeError(
            f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}"
        )
    methods = check_methods(methods)
    engine, batch_size, k, full_importance, progress = check_options(
        engine, batch_size, k, full_importance, progress
    )
    device = check_device(device)
    if threads is not None:
        threads = check_int("threads", threads)
    dataset = dataset.aligned_to(source.catalog)
    chosen, histories, skipped = chosen_histories(dataset, users)
    if skipped:
        warnings.warn(
            f"left out {skipped} user(s) with an empty history", EmptyHistoryWarning, stacklevel=2
        )
    options = {"methods": methods, "k": k, "full_importance": full_importance}
    bar = tqdm(total=len(chosen), desc="explaining", unit="user", disable=not progress)
    with bar:
        if engine == "local":
            local = on_device(source, device)
            parts = []
            with torch_threads(threads):
                for chunk in chunks(len(chosen), batch_size):
                    parts.append(explain_chunk(local, [histories[i] for i in chunk], **options))
                    bar.update(len(chunk))
            columns = merge_columns(parts)
        else:
            from .batch_ray import run_on_ray

            columns = run_on_ray(
                source,
                histories,
                chunks(len(chosen), batch_size),
                options,
                bar=bar,
                device=device,
                threads=threads or 1,
                concurrency=concurrency,
                num_gpus=num_gpus,
                address=address,
                runtime_env=runtime_env,
            )
    table = format_rows(columns, chosen, histories, source.catalog, methods, source.max_len)
    table.attrs.update(
        {
            "methods": list(methods),
            "k": k,
            "engine": engine,
            "batch_size": batch_size,
            "field_names": list(source.field_names),
        }
    )
    return table
