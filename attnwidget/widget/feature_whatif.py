"""Feature what-if in the explorer: the browser's feature edits checked and turned into
:class:`~attnwidget.explain.FeatureEdit`, the vocabularies a pack offers for them, and what
the what-if banner says about them.

The browser sends the ``feature_edit`` trait: a list of plain objects, each ``{"field",
"value", "position"}`` (that history item's field becomes ``value``), ``{"field", "value",
"replaces"}`` (every history item whose ``field`` is ``replaces``) or ``{"field", "value"}``
(every history item). Positions count in the history the views show (0 = oldest).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import Catalog
from ..data.features import PAD
from ..errors import ArgumentValueError, DataError
from ..explain import FeatureEdit, FeatureWhatIf
from ..explain.feature_edit import resolve_feature_edit
from ..sources import can_rerun
from ..sources.base import EditsFeatures

FEATURE_VALUES_LIMIT = 200
"""A field whose vocabulary has more values than this is not offered in the browser (its
values are not sent: ``feature_values[field]`` is ``null``); Python's
:func:`~attnwidget.explain.explain_with_features` still edits it."""
MAX_FEATURE_EDITS = 64
"""At most this many feature edits in one ``feature_edit`` value."""

_KEYS = ("field", "value", "position", "replaces")


def feature_vocabulary(source: Any) -> dict[str, list[str] | None] | None:
    """The values a feature edit may set, per feature field (``"<unknown>"`` first), for the
    pack header's ``feature_values``; ``None`` for a field with more than
    ``FEATURE_VALUES_LIMIT`` values. ``None`` when the source cannot edit features (no
    ``with_features`` or no re-runs) or the catalogue has no feature fields."""
    if not (isinstance(source, EditsFeatures) and can_rerun(source)):
        return None
    fields = source.catalog.fields
    if not fields:
        return None
    vocabulary: dict[str, list[str] | None] = {}
    for fld in fields:
        values = list(fld.labels[PAD + 1 :])
        vocabulary[fld.name] = values if len(values) <= FEATURE_VALUES_LIMIT else None
    return vocabulary


def parse_feature_edits(
    value: Any, catalog: Catalog, n: int
) -> tuple[list[dict[str, Any]], tuple[FeatureEdit, ...]]:
    """Check a ``feature_edit`` value against the catalogue and a shown history of ``n``
    items: the value as plain dicts (the trait keeps them) and the edits.

    Raises:
        DataError: not a list of objects, more than ``MAX_FEATURE_EDITS`` of them, a key
            other than field/value/position/replaces, a field that is not a feature field, a
            value (or ``replaces``) not in the field's vocabulary (checked as
            :func:`~attnwidget.explain.feature_edit.resolve_feature_edit` does), a position
            outside ``0..n-1``, or both a position and ``replaces``.
    """
    if not isinstance(value, list | tuple):
        raise DataError(
            "feature_edit must be a list of {field, value, position or replaces} objects, "
            f"got {value!r:.80}"
        )
    if len(value) > MAX_FEATURE_EDITS:
        raise DataError(
            f"feature_edit holds {len(value)} edits; at most {MAX_FEATURE_EDITS} are accepted"
        )
    plain: list[dict[str, Any]] = []
    edits: list[FeatureEdit] = []
    for i, raw in enumerate(value):
        where = f"feature_edit[{i}]"
        if not isinstance(raw, dict):
            raise DataError(f"{where} must be an object, got {raw!r:.80}")
        if extra := sorted(str(k) for k in raw if k not in _KEYS):
            raise DataError(f"{where} has unknown key(s) {extra[:5]}; expected {list(_KEYS)}")
        field, new = raw.get("field"), raw.get("value")
        position, replaces = raw.get("position"), raw.get("replaces")
        for name, text in (("field", field), ("value", new)):
            if not isinstance(text, str):
                raise DataError(f"{where}.{name} must be a string, got {text!r:.80}")
        edit: dict[str, Any] = {"field": field, "value": new}
        if position is not None:
            if isinstance(position, bool) or not isinstance(position, int | np.integer):
                raise DataError(f"{where}.position must be an integer, got {position!r:.80}")
            if position < 0:
                raise DataError(f"{where}.position {position} is outside the shown history")
            if replaces is not None:
                raise DataError(f"{where} has a position and a value it replaces: give one")
            edit["position"] = int(position)
        elif replaces is not None:
            if not isinstance(replaces, str):
                raise DataError(f"{where}.replaces must be a string, got {replaces!r:.80}")
            edit["replaces"] = replaces
        feature_edit = FeatureEdit(**edit)
        try:
            resolve_feature_edit(catalog, feature_edit, n)
        except ArgumentValueError as err:
            raise DataError(f"{where}: {err}") from None
        plain.append(edit)
        edits.append(feature_edit)
    return plain, tuple(edits)


def feature_summary(found: FeatureWhatIf) -> dict[str, Any]:
    """The what-if header's ``feature_edits`` (each edit with the title of the item it names)
    and ``feature_changes`` (each history position and field the edits changed)."""
    history = found.explanation.history
    catalog = found.explanation.catalog
    edits = [
        {
            "field": e.field,
            "value": e.value,
            "position": e.position,
            "replaces": e.replaces,
            "title": None if e.position is None else catalog.title(int(history[e.position])),
        }
        for e in found.edits
    ]
    return {"feature_edits": edits, "feature_changes": list(found.summary["changed"])}
