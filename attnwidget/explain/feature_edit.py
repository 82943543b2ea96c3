"""Feature what-if: explain a history whose items have other feature values.

"What if this camera were a Lumora?", "what if every Aperta item were a Kestrel?": the
history's items get the edited features (the catalogue's items, scored as candidates, keep
theirs) and the history is explained again. The edited :class:`Explanation`'s source is the
model reading the edited features, so everything it computes on demand (occlusion,
gradient, feature occlusion, ERASER scores, counterfactuals, reasons) runs on them too.

An edit changes an *item*: when an edited item occurs more than once in the history, every
occurrence gets the new value. Edits apply in order, each to the features the ones before
left.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_bool, check_int
from ..data import Catalog
from ..data.features import PAD, FeatureField
from ..errors import ArgumentTypeError, ArgumentValueError
from ..histories import dense_history
from ..sources import as_source, can_rerun
from ..sources.base import EditsFeatures
from .explanation import Explanation, explain_indices
from .rescoring import rank_of


@dataclass(frozen=True)
class FeatureEdit:
    """One change of a feature field of the history's items.

    Attributes:
        field: the feature field's name (e.g. ``"brand"``; the item id is not a field).
        value: the new value, a label of the field's vocabulary (see :func:`feature_values`;
            ``"<unknown>"`` is one).
        position: the history position (as in :attr:`Explanation.history`, 0 = oldest)
            whose item gets ``value``; ``None``: every history item whose value is
            ``replaces``, or every history item when ``replaces`` is ``None`` too.
        replaces: with ``position=None``, the value (a label) that items must have to be
            edited: ``FeatureEdit("brand", "Kestrel", replaces="Aperta")``.

    Raises:
        ArgumentTypeError: ``field``, ``value`` or ``replaces`` not a str, ``position`` not
            an int or ``None``.
        ArgumentValueError: a negative ``position``, or both ``position`` and ``replaces``.
    """

    field: str
    value: str
    position: int | None = None
    replaces: str | None = None

    def __post_init__(self) -> None:
        for name in ("field", "value", "replaces"):
            text = getattr(self, name)
            if not isinstance(text, str) and not (name == "replaces" and text is None):
                kind = "a str" if name != "replaces" else "a str or None"
                raise ArgumentTypeError(
                    f"FeatureEdit {name} must be {kind}, got {text!r} ({type(text).__name__})"
                )
        if self.position is not None:
            object.__setattr__(self, "position", check_int("position", self.position, 0))
            if self.replaces is not None:
                raise ArgumentValueError(
                    f"FeatureEdit takes a position ({self.position}) or a value it replaces "
                    f"({self.replaces!r}), not both"
                )


@dataclass(frozen=True, eq=False)
class FeatureWhatIf:
    """A history explained with edited features, beside the original.

    Attributes:
        explanation: the edited features' :class:`Explanation` (same history items and
            target as :attr:`original`; its importance methods run on the edited features).
        original: the same history with the catalogue's features.
        edits: the edits, in the order they were applied.
        features: ``[n, F - 1]`` value indices of each history position's fields after the
            edits (columns: :attr:`Explanation.field_names` after ``item``).
        summary: plain data (JSON-ready) of what changed; see :func:`explain_with_features`.
    """

    explanation: Explanation
    original: Explanation
    edits: tuple[FeatureEdit, ...]
    features: np.ndarray
    summary: dict[str, Any]

    def history_table(self) -> pd.DataFrame:
        """:meth:`Explanation.history_table` with the edited feature values."""
        table = self.explanation.history_table()
        for f, fld in enumerate(self.explanation.catalog.fields):
            table[fld.name] = [fld.label(int(v)) for v in self.features[:, f]]
        return table


def feature_values(source: Any, field: str) -> list[str]:
    """The values a :class:`FeatureEdit` of ``field`` may set, in vocabulary order
    (``"<unknown>"`` first), e.g. for a select in the UI.

    Raises:
        ArgumentValueError: ``field`` is not a feature field of ``source``'s catalogue.
    """
    return _field(as_source(source).catalog, field)[1].labels[PAD + 1 :]


def explain_with_features(
    source: Any,
    history: np.ndarray,
    edits: FeatureEdit | Iterable[FeatureEdit],
    target: int | None = None,
    *,
    k: int = 10,
    exclude_seen: bool = True,
    bought_before: np.ndarray | None = None,
    user: Any = None,
) -> FeatureWhatIf:
    """Explain a dense-index history whose items' features are edited, and say what changed.

    Both explanations explain ``target`` (an item index; default: the top recommendation
    of the original), so its importance and score compare like for like. ``k``,
    ``exclude_seen``, ``bought_before`` and ``user`` are as in :func:`explain_indices`;
    positions count in the part of the history the model sees (its last ``max_len`` items).

    ``summary`` holds: ``edits`` (each as a dict), ``changed`` (one row per history position
    and field whose value the edits changed: ``position``, ``id``, ``title``, ``field``,
    ``before``, ``after``), ``unmatched`` (indices of the edits that changed nothing),
    ``original_recommendations``, ``entered`` and ``left`` (``id`` and ``title`` of the
    recommendations that entered or left the top-``k``), and ``target`` (``id``, ``title``,
    ``score_before``, ``score_after``, ``rank_before``, ``rank_after``; 1-based ranks
    among the recommendable items, scores ``None`` when not finite).

    Args:
        source: a :class:`~attnwidget.SASRec` or an :class:`AttentionSource` that
            :class:`~attnwidget.sources.base.EditsFeatures`.
        history: dense item indices, oldest first.
        edits: one :class:`FeatureEdit` or several, applied in order.

    Raises:
        ArgumentTypeError: the source cannot edit features (no ``with_features``, or it
            cannot re-run histories), or an edit is not a :class:`FeatureEdit`.
        ArgumentValueError: an edit names an unknown field or value, or a position outside
            the history the model sees.
        EmptyHistoryError, DataError, UnknownItemError, NothingToRecommendError: as
            :func:`explain_indices` raises them.
    """
    source = as_source(source)
    if not (isinstance(source, EditsFeatures) and can_rerun(source)):
        raise ArgumentTypeError(
            f"{type(source).__name__} cannot edit features: a feature what-if needs a source "
            "that re-runs histories with other item features (with_features, see "
            "attnwidget.sources.base.EditsFeatures), such as the built-in SASRec"
        )
    edits = _edit_tuple(edits)
    exclude_seen = check_bool("exclude_seen", exclude_seen)
    history = dense_history(history, source.catalog.n_items, "the history")
    seen = history[-source.max_len :]
    table, unmatched = _edited_table(source.catalog, seen, edits)
    options = {"k": k, "exclude_seen": exclude_seen, "bought_before": bought_before, "user": user}
    original = explain_indices(source, history, target=target, **options)
    edited = explain_indices(
        source.with_features(table), history, target=original.target, **options
    )
    for i in unmatched:
        edited.warnings.append(f"feature edit {i} ({_describe(edits[i])}) changed no history item")
    return FeatureWhatIf(
        explanation=edited,
        original=original,
        edits=edits,
        features=table[seen],
        summary=_summary(original, edited, edits, table, unmatched),
    )


def _edit_tuple(edits: Any) -> tuple[FeatureEdit, ...]:
    if isinstance(edits, FeatureEdit):
        return (edits,)
    if isinstance(edits, str | bytes | dict) or not isinstance(edits, Iterable):
        raise ArgumentTypeError(
            f"edits must be a FeatureEdit or a list of them, got {type(edits).__name__}"
        )
    edits = tuple(edits)
    for i, edit in enumerate(edits):
        if not isinstance(edit, FeatureEdit):
            raise ArgumentTypeError(
                f"edits[{i}] must be a FeatureEdit, got {type(edit).__name__} {edit!r:.60}"
            )
    return edits


def _field(catalog: Catalog, name: str) -> tuple[int, FeatureField]:
    """Column and field of the feature field ``name``."""
    names = catalog.field_names
    if name not in names:
        known = f"its fields are {names}" if names else "the catalogue has no feature fields"
        hint = " (the item id is not an editable field)" if name == "item" else ""
        raise ArgumentValueError(f"unknown feature field {name!r}{hint}: {known}")
    f = names.index(name)
    return f, catalog.fields[f]


def _value(fld: FeatureField, label: str, what: str) -> int:
    """Index of ``label`` in ``fld``'s vocabulary (padding excluded)."""
    if label in fld.labels[PAD + 1 :]:
        return fld.labels.index(label)
    values = fld.labels[PAD + 1 :]
    shown = ", ".join(repr(v) for v in values[:8]) + (", …" if len(values) > 8 else "")
    raise ArgumentValueError(
        f"{what} {label!r} is not a value of field {fld.name!r}; expected one of "
        f"{shown} ({len(values)} values)"
    )


def _edited_table(
    catalog: Catalog, seen: np.ndarray, edits: tuple[FeatureEdit, ...]
) -> tuple[np.ndarray, list[int]]:
    """``catalog.features`` with the edits applied to the rows of ``seen``'s items, and the
    indices of the edits that changed nothing."""
    table = catalog.features.copy()
    items = np.unique(seen)
    unmatched = []
    for i, edit in enumerate(edits):
        f, value, old = resolve_feature_edit(catalog, edit, len(seen))
        if edit.position is not None:
            rows = seen[[edit.position]]
        elif old is not None:
            rows = items[table[items, f] == old]
        else:
            rows = items
        if not (table[rows, f] != value).any():
            unmatched.append(i)
        table[rows, f] = value
    return table, unmatched


def resolve_feature_edit(
    catalog: Catalog, edit: FeatureEdit, n: int
) -> tuple[int, int, int | None]:
    """``edit``'s field column, new value index and replaced value index (``None`` without
    ``replaces``) in ``catalog``, for a history of ``n`` items the model sees.

    Raises:
        ArgumentValueError: an unknown field, a value or ``replaces`` not in the field's
            vocabulary, or a position outside ``0..n-1``.
    """
    f, fld = _field(catalog, edit.field)
    value = _value(fld, edit.value, "value")
    if edit.position is not None and edit.position >= n:
        raise ArgumentValueError(
            f"position {edit.position} is outside the history the model sees (positions 0..{n - 1})"
        )
    old = None if edit.replaces is None else _value(fld, edit.replaces, "replaces")
    return f, value, old


def _describe(edit: FeatureEdit) -> str:
    where = (
        f"position {edit.position}"
        if edit.position is not None
        else "every item"
        if edit.replaces is None
        else f"items of {edit.field} {edit.replaces!r}"
    )
    return f"{edit.field} = {edit.value!r} for {where}"


def _summary(
    original: Explanation,
    edited: Explanation,
    edits: tuple[FeatureEdit, ...],
    table: np.ndarray,
    unmatched: list[int],
) -> dict[str, Any]:
    catalog = original.catalog
    before = [int(i) for i in original.recommendations]
    after = [int(i) for i in edited.recommendations]
    changed = [
        {
            "position": p,
            "id": _plain_id(catalog, item),
            "title": catalog.title(item),
            "field": fld.name,
            "before": fld.label(int(catalog.features[item, f])),
            "after": fld.label(int(table[item, f])),
        }
        for p, item in enumerate(int(i) for i in original.history)
        for f, fld in enumerate(catalog.fields)
        if table[item, f] != catalog.features[item, f]
    ]
    target = original.target
    excluded = np.zeros(len(original.scores), dtype=bool)

    def described(indices: list[int]) -> list[dict[str, Any]]:
        return [{"id": _plain_id(catalog, i), "title": catalog.title(i)} for i in indices]

    return {
        "edits": [asdict(e) for e in edits],
        "changed": changed,
        "unmatched": unmatched,
        "original_recommendations": described(before),
        "entered": described([i for i in after if i not in before]),
        "left": described([i for i in before if i not in after]),
        "target": {
            **described([target])[0],
            "score_before": _finite(original.scores[target]),
            "score_after": _finite(edited.scores[target]),
            "rank_before": rank_of(original.scores, excluded, target),
            "rank_after": rank_of(edited.scores, excluded, target),
        },
    }


def _plain_id(catalog: Catalog, index: int) -> int | str:
    """An item id as JSON carries it (ints and strings as they are, others as text)."""
    item_id = catalog.item_id(index)
    return item_id if isinstance(item_id, int | str) else str(item_id)


def _finite(score: float) -> float | None:
    return float(score) if np.isfinite(score) else None
