"""The dashboard's cross-user figures read from a table of :func:`~attnwidget.explain_users`.

A :class:`~attnwidget.Dashboard` given ``explanations=`` (the DataFrame ``explain_users``
returns, or the Parquet file :func:`~attnwidget.write_explanations` wrote) draws its views
over many users from the table instead of running the model on a sample itself:

* the entropy grid is the mean of the table's ``entropy_L{l}H{h}`` columns (the same figure
  :func:`~attnwidget.widget.dashboard.entropy_grid` computes from attention);
* the feature MI pairs each row's ``attention_top_item`` with its ``target`` (the same pairs
  :func:`~attnwidget.explain.explanations_feature_mi` takes from explanations);
* the agreement with occlusion per method is the mean of the ``M_kendall_tau`` and
  ``M_top1_agreement`` columns (only a table has it: the dashboard computes no occlusion
  over users itself).

A figure whose columns the table lacks (no ``attention`` or no ``occlusion`` among the
methods it was made with) is replaced by a note saying what is missing; nothing falls back
to the model. :func:`check_table` refuses a table that is not of the explorer's model and
dataset, as far as can be told without running the model.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentTypeError, ArgumentValueError, DataError
from ..explain import METHODS, read_explanations, sample_users
from ..explain.attention_metrics import feature_mutual_information

REQUIRED = ("user_id", "history_length", "target")
"""Columns every table the dashboard reads must have (``explain_users`` always writes them)."""
ENTROPY_COLUMN = re.compile(r"^entropy_L(\d+)H(\d+)$")
SHOWN = 5
"""Offending values named in an error message."""


def load_table(explanations: Any) -> pd.DataFrame:
    """``explanations`` as a DataFrame: itself, or read from a Parquet path.

    Raises:
        ArgumentTypeError: neither a DataFrame nor a path.
        DataError: the path is missing, not Parquet, or not written by ``write_explanations``.
    """
    if isinstance(explanations, pd.DataFrame):
        return explanations
    if isinstance(explanations, str | os.PathLike):
        return read_explanations(explanations)
    raise ArgumentTypeError(
        "explanations must be a pandas DataFrame from aw.explain_users or the path of a "
        f"Parquet file from aw.write_explanations, got {type(explanations).__name__} "
        f"{explanations!r:.60}"
    )


def _named(values: list[Any]) -> str:
    shown = ", ".join(repr(v) for v in values[:SHOWN])
    return shown + (f", … ({len(values)} in all)" if len(values) > SHOWN else "")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def entropy_columns(table: pd.DataFrame) -> dict[tuple[int, int], str]:
    """``(layer, head)`` → column name of the table's ``entropy_L{l}H{h}`` columns."""
    found = {}
    for name in table.columns:
        match = ENTROPY_COLUMN.match(str(name))
        if match:
            found[(int(match[1]), int(match[2]))] = str(name)
    return found


def check_table(
    table: pd.DataFrame,
    dataset: Any,
    catalog: Any,
    *,
    layers: int,
    heads: int,
    field_names: list[str],
) -> list[Any]:
    """Check that ``table`` is an ``explain_users`` table of this model and dataset; return
    its users as the dataset's own ids, in table order.

    Raises:
        ArgumentValueError: the table is empty, or is not of this explorer's model and data:
            users the dataset lacks, history lengths that differ from the dataset's, items
            the catalogue lacks, another layer × head count or other feature fields.
        DataError: columns are missing or hold what they cannot (non-numeric figures).
    """
    if len(table) == 0:
        raise ArgumentValueError(
            "the explanations table is empty (0 rows): explain some users with "
            "aw.explain_users(model, dataset, users=...) first"
        )
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise DataError(
            f"the explanations table lacks the column(s) {missing}: pass the table "
            "aw.explain_users returns (or the file aw.write_explanations wrote)"
        )
    found = entropy_columns(table)
    if not found:
        raise DataError(
            "the explanations table has no entropy_L{layer}H{head} columns: pass the table "
            "aw.explain_users returns (or the file aw.write_explanations wrote)"
        )
    shape = (max(lh[0] for lh in found) + 1, max(lh[1] for lh in found) + 1)
    if shape[0] > layers or shape[1] > heads:
        raise ArgumentValueError(
            f"the explanations table has attention entropy of {shape[0]} layer(s) × "
            f"{shape[1]} head(s), but the explorer's model has {layers} × {heads}: the "
            "table was made with another model"
        )
    absent = [
        f"entropy_L{layer}H{h}"
        for layer in range(layers)
        for h in range(heads)
        if (layer, h) not in found
    ]
    if absent:
        raise DataError(
            f"the explanations table lacks the column(s) {_named(absent)} of the explorer's "
            f"{layers} layer(s) × {heads} head(s)"
        )
    for name in found.values():
        if not pd.api.types.is_numeric_dtype(table[name]):
            raise DataError(f"column {name!r} of the explanations table is not numeric")
    made_with = table.attrs.get("field_names")
    if made_with is not None and list(made_with) != list(field_names):
        raise ArgumentValueError(
            f"the explanations table was made with feature fields {list(made_with)}, but "
            f"the explorer's model has {list(field_names)}: the table is of another model"
        )
    users = _dataset_users(table, dataset)
    _check_items(table, catalog)
    return users


def _dataset_users(table: pd.DataFrame, dataset: Any) -> list[Any]:
    """The table's users as the dataset's ids; their history lengths must be the dataset's."""
    positions, unknown = [], []
    for user in table["user_id"]:
        pos = None if _missing(user) else dataset._user_index.find(user)
        if pos is None:
            unknown.append(user)
        positions.append(pos)
    if unknown:
        raise ArgumentValueError(
            f"{len(unknown)} of the {len(table)} users of the explanations table are not in "
            f"the explorer's dataset of {dataset.n_users} users: {_named(unknown)}; the table "
            "was made from another dataset"
        )
    try:
        lengths = np.asarray(table["history_length"], dtype=np.int64)
    except (TypeError, ValueError):
        raise DataError(
            "column 'history_length' of the explanations table is not integer"
        ) from None
    differ = [
        (dataset.users[pos], int(n), int(dataset.sequences[pos].size))
        for pos, n in zip(positions, lengths, strict=True)
        if n != dataset.sequences[pos].size
    ]
    if differ:
        user, in_table, in_data = differ[0]
        raise ArgumentValueError(
            f"{len(differ)} user(s) of the explanations table have a history of another "
            f"length than in the explorer's dataset (user {user!r}: {in_table} items in the "
            f"table, {in_data} in the dataset): the table was made from other data"
        )
    return [dataset.users[pos] for pos in positions]


def _check_items(table: pd.DataFrame, catalog: Any) -> None:
    """Items named by the columns the dashboard reads must be in the model's catalogue."""
    for column in ("target", "attention_top_item"):
        if column not in table.columns:
            continue
        unknown = sorted(
            {str(v) for v in table[column] if not _missing(v) and not catalog._find(v)}
        )
        if unknown:
            raise ArgumentValueError(
                f"{len(unknown)} item(s) of column {column!r} of the explanations table are "
                f"not in the model's catalogue of {catalog.n_items} items: {_named(unknown)}; "
                "the table was made with another model"
            )


def table_entropy_grid(table: pd.DataFrame, layers: int, heads: int) -> np.ndarray:
    """``[L, H]`` mean of the table's per-user attention entropy (as ``entropy_grid``)."""
    found = entropy_columns(table)
    return np.array(
        [
            [np.mean(np.asarray(table[found[(layer, h)]], dtype=np.float64)) for h in range(heads)]
            for layer in range(layers)
        ]
    )


def table_feature_mi(table: pd.DataFrame, catalog: Any) -> tuple[pd.DataFrame | None, str]:
    """The feature MI of each row's most-attended item against its target (rows without
    either are left out, as ``feature_mi`` leaves out users with nothing to explain), or
    ``None`` and a note saying why it cannot be read from the table."""
    if "attention_top_item" not in table.columns:
        return None, (
            "Feature MI: the table has no attention_top_item column (aw.explain_users ran "
            "without the 'attention' method), so it is not shown; add 'attention' to methods."
        )
    pairs = [
        np.stack([catalog.features[catalog.index_of(top)], catalog.features[catalog.index_of(t)]])
        for top, t in zip(table["attention_top_item"], table["target"], strict=True)
        if not (_missing(top) or _missing(t))
    ]
    return feature_mutual_information(pairs, catalog.field_names), ""


def table_agreement(table: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    """Per method: mean Kendall τ and top-1 agreement with occlusion over the table's users
    (NaN rows left out; ``users`` counts the rest), or ``None`` and a note when the table
    has no agreement columns."""
    rows = {}
    for method in METHODS:
        tau, top1 = f"{method}_kendall_tau", f"{method}_top1_agreement"
        if tau not in table.columns or top1 not in table.columns:
            continue
        taus = np.asarray(table[tau], dtype=np.float64)
        tops = np.asarray(table[top1], dtype=np.float64)
        finite = np.isfinite(taus)
        rows[method] = {
            "kendall_tau": float(taus[finite].mean()) if finite.any() else float("nan"),
            "top1_agreement": float(np.nanmean(tops)) if np.isfinite(tops).any() else np.nan,
            "users": int(finite.sum()),
        }
    if not rows:
        return None, (
            "Agreement with occlusion: the table has no *_kendall_tau / *_top1_agreement "
            "columns (aw.explain_users ran without the 'occlusion' method), so it is not shown."
        )
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return frame[["kendall_tau", "top1_agreement", "users"]], ""


@dataclass
class TableViews:
    """What the dashboard draws over many users, read from a table."""

    table: pd.DataFrame
    """The rows used (``n_users`` of them when asked), renumbered from 0."""
    users: list[Any]
    """Their users, as the dataset's ids."""
    entropy: np.ndarray
    mi: pd.DataFrame | None
    agreement: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)
    """What the table lacks, one sentence per missing view."""


def table_views(explorer: Any, explanations: Any, n_users: int | None, seed: int) -> TableViews:
    """Load and check ``explanations`` against ``explorer`` (its model's catalogue, layers
    and heads, its dataset: nothing is run), keep ``n_users`` of its rows drawn with
    ``seed`` (all when ``None``) and read the views over many users from them."""
    catalog = explorer.source.catalog
    table = load_table(explanations)
    users = check_table(
        table,
        explorer.dataset,
        catalog,
        layers=explorer.n_layers,
        heads=explorer.n_heads,
        field_names=list(explorer.source.field_names),
    )
    rows = sample_users(list(range(len(table))), n_users, seed)
    table = table.iloc[rows].reset_index(drop=True)
    mi, mi_note = table_feature_mi(table, catalog)
    agreement, agreement_note = table_agreement(table)
    return TableViews(
        table=table,
        users=[users[i] for i in rows],
        entropy=table_entropy_grid(table, explorer.n_layers, explorer.n_heads),
        mi=mi,
        agreement=agreement,
        notes=[note for note in (mi_note, agreement_note) if note],
    )
