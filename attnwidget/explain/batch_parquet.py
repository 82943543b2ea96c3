"""The table of :func:`~attnwidget.explain_users` as a Parquet file, and back.

Schema (one row per user, in the order they were explained; ``ID`` is ``int64`` when every
id of its kind is an integer, ``double`` when every one is a float, else ``string``, the
ids' text; item columns are null where there is no item):

=================================  ==================  ======================================
column                             Arrow type          meaning
=================================  ==================  ======================================
``user_id``                        ID                  the user
``history_length``                 int64               items in the user's history
``seen_length``                    int64               items the model saw (the last ``max_len``)
``recommended``                    list<ID>            top-``k`` item ids, best first
``recommended_scores``             list<double>        their scores
``target``                         ID                  the explained item (the top one)
``M_top_item``                     ID                  the history item method ``M`` ranks first
``M_top_position``                 int64               its position (0 = oldest seen; -1: none)
``M_top3_positions``               list<int64>         the three positions ``M`` ranks first
``M_top3_weights``                 list<double>        their importance
``M_entropy``                      double              entropy (nats) of ``M``'s importance
``M_kendall_tau``                  double              Kendall τ with occlusion (``M`` ≠ occlusion)
``M_top1_agreement``               double              1 when ``M`` and occlusion agree on the first
``M_importance``                   list<double>        ``M`` per seen position (``full_importance``)
``entropy_L{l}H{h}``               double              entropy (nats) of the prediction position's
                                                       attention in layer ``l``, head ``h``
``feature_attention_{field}``      double              mean feature attention on ``field``
``warnings``                       list<string>        what to be careful about for this user
=================================  ==================  ======================================

``M`` runs over the chosen methods (``attention``, ``rollout``, ``gradient``,
``occlusion``); ``*_kendall_tau`` and ``*_top1_agreement`` are there only with occlusion
among them. The file's schema metadata ``attnwidget`` holds JSON: ``format``
(``"attnwidget.explain_users"``), ``version``, ``methods``, ``k``, ``field_names`` and the
id kinds, so :func:`read_explanations` gives back the table with its ``attrs``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic_write import atomic_write
from ..errors import ArgumentTypeError, DataError

FORMAT = "attnwidget.explain_users"
VERSION = 1
METADATA_KEY = b"attnwidget"
COLUMNS_DOC = __doc__
"""The column table above (kept for :func:`~attnwidget.explain_users`' docstring)."""
ITEM_COLUMNS = ("target", "_top_item")
ID_LISTS = ("recommended",)
INT_COLUMNS = ("history_length", "seen_length", "_top_position")
INT_LISTS = ("_top3_positions",)
FLOAT_LISTS = ("recommended_scores", "_top3_weights", "_importance")


def id_kind(values: Any) -> str:
    """``"int"``, ``"float"`` or ``"str"``: how ids of one kind are stored."""
    values = [v for v in values if v is not None]
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
        return "int"
    if all(isinstance(v, float | np.floating) for v in values):
        return "float"
    return "str"


def _arrow_type(name: str, kinds: dict[str, str]) -> Any:
    import pyarrow as pa

    ids = {"int": pa.int64(), "float": pa.float64(), "str": pa.string()}
    if name == "user_id":
        return ids[kinds["user_id"]]
    if name == "warnings":
        return pa.list_(pa.string())
    if name in ID_LISTS:
        return pa.list_(ids[kinds["item_id"]])
    if name == "target" or name.endswith(ITEM_COLUMNS):
        return ids[kinds["item_id"]]
    if name in INT_COLUMNS or name.endswith(INT_COLUMNS):
        return pa.int64()
    if name.endswith(INT_LISTS):
        return pa.list_(pa.int64())
    if name in FLOAT_LISTS or name.endswith(FLOAT_LISTS):
        return pa.list_(pa.float64())
    return pa.float64()


def _stored(values: list[Any], kind: str) -> list[Any]:
    """Ids as stored: their text for ``"str"`` (null stays null)."""
    if kind != "str":
        return values
    return [None if v is None else str(v) for v in values]


def write_explanations(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table of :func:`~attnwidget.explain_users` as Parquet (schema above).

    The write is atomic: a failure leaves any file already at ``path`` as it was.

    Raises:
        MissingDependencyError: pyarrow is not installed.
        ArgumentTypeError: ``table`` is not a DataFrame.
        DataError: ``table`` lacks the columns of an ``explain_users`` table.
        IsADirectoryError, OSError: ``path`` cannot be written.
    """
    from ..requirements_check import require  # it imports the widget package

    require("parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(table, pd.DataFrame):
        raise ArgumentTypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in ("user_id", "recommended", "target", "warnings") if c not in table]
    if missing:
        raise DataError(
            f"the table lacks the column(s) {missing} of an explain_users table: write "
            "what attnwidget.explain_users returns"
        )
    item_values = list(table["target"]) + [i for rec in table["recommended"] for i in rec]
    kinds = {"user_id": id_kind(table["user_id"]), "item_id": id_kind(item_values)}
    arrays, fields = [], []
    for name in table.columns:
        kind = _arrow_type(str(name), kinds)
        values = list(table[name])
        if name == "user_id":
            values = _stored(values, kinds["user_id"])
        elif name in ID_LISTS:
            values = [_stored(list(v), kinds["item_id"]) for v in values]
        elif name == "target" or str(name).endswith(ITEM_COLUMNS):
            values = _stored(values, kinds["item_id"])
        elif pa.types.is_list(kind):
            values = [list(v) for v in values]
        arrays.append(pa.array(values, type=kind))
        fields.append(pa.field(str(name), kind))
    attrs = {k: v for k, v in table.attrs.items() if _jsonable(v)}
    metadata = {"format": FORMAT, "version": VERSION, **attrs, "id_kinds": kinds}
    schema = pa.schema(fields, metadata={METADATA_KEY: json.dumps(metadata).encode()})
    with atomic_write(path) as handle:
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), handle)
    return Path(path)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def read_explanations(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A table written by :func:`write_explanations`, as :func:`~attnwidget.explain_users` gave it
    (lists as Python lists, ``attrs`` back; ids of mixed kinds come back as their text).

    Raises:
        MissingDependencyError: pyarrow is not installed.
        DataError: ``path`` is missing, not a Parquet file, or not one ``write_explanations`` wrote.
    """
    from ..requirements_check import require  # it imports the widget package

    require("parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not os.path.isfile(path):
        raise DataError(f"no such Parquet file: {str(path)!r}")
    try:
        arrow = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"{str(path)!r} is not a readable Parquet file: {err}") from None
    raw = (arrow.schema.metadata or {}).get(METADATA_KEY)
    metadata = json.loads(raw) if raw else {}
    if metadata.get("format") != FORMAT:
        raise DataError(
            f"{str(path)!r} was not written by attnwidget's explain_users write_explanations"
        )
    if metadata.get("version", 0) > VERSION:
        raise DataError(
            f"{str(path)!r} has table version {metadata['version']}; this attnwidget reads "
            f"up to {VERSION}: upgrade attnwidget"
        )
    columns = arrow.to_pydict()
    frame = pd.DataFrame(columns)
    for name in frame.columns:
        if name == "target" or name.endswith(ITEM_COLUMNS):
            frame[name] = pd.Series(columns[name], dtype=object)  # as explain_users gives
        elif pa.types.is_integer(arrow.schema.field(name).type):
            frame[name] = frame[name].astype(np.int64)
    frame.attrs.update(
        {k: v for k, v in metadata.items() if k not in ("format", "version", "id_kinds")}
    )
    return frame
