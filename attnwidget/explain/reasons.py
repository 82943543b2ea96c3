"""Reasons a shopper can read: one sentence per recommendation, with its evidence.

For a recommended item the history items are ranked by an importance method (default: the
one that agrees best with occlusion on this explanation, :func:`default_method`), and the
top ``max_items`` are cited when each accounts for at least ``min_share`` of the item's
total occlusion (the sum of the positive score drops when one history item is left out).
A feature value (a category, a brand…) is cited instead when, summed over the history
items that have it, hiding it ("unknown") lowers the score more than leaving out any one
item does (feature occlusion; sources without feature fields skip this). When nothing
passes, or importance cannot be computed (NaN), the sentence says so honestly.

Sentences come from :data:`REASON_TEMPLATES`, plain ``str.format`` templates that can be
translated or replaced (``templates=``). Titles and feature values are inserted as data,
never parsed: a title with ``{braces}`` or markup stays literal, and :attr:`Reason.parts`
splits the sentence into typed plain-text pieces for a front end to set as text.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..checks import check_float, check_int
from ..errors import ArgumentTypeError, ArgumentValueError
from ..sources import can_rerun
from .importance import METHODS, feature_occlusion, gradient_importance
from .rescoring import item_scores

if TYPE_CHECKING:
    from .explanation import Explanation

REASON_TEMPLATES: dict[str, str] = {
    "one_item": "Because you bought {first}",
    "two_items": "Because you bought {first} and {second}",
    "feature": "Popular with customers who buy {value}",
    "taste": "No single purchase explains this; it follows your general taste in {value}",
    "unexplained": "No single purchase explains this",
}
"""The sentence for each kind of reason (``str.format`` templates; translate or override
them with ``templates={key: text}``). The placeholders each may use:

* ``one_item``: ``first`` — the cited purchase's title;
* ``two_items``: ``first``, ``second`` — the two cited purchases' titles, most important first;
* ``feature``: ``value``, ``field`` — the feature value that explains most, and its field
  ("coffee", "category");
* ``taste``: ``value``, ``field`` — nothing explains much; the history's prevailing value
  of the first feature field (the recommended item's own when the history has it);
* ``unexplained``: none — nothing explains much and there is no feature to name.
"""
TEMPLATE_FIELDS: dict[str, dict[str, str]] = {
    "one_item": {"first": "item"},
    "two_items": {"first": "item", "second": "item"},
    "feature": {"value": "value", "field": "field"},
    "taste": {"value": "value", "field": "field"},
    "unexplained": {},
}
"""Per template key, its placeholders and the kind of part each becomes in :attr:`Reason.parts`."""
MIN_SHARE = 0.25
"""Default share of the total occlusion an item (or a feature value) must account for."""
REASONS_SHOWN = 3
"""Recommendations that get a reason in ``recommendation_table()`` by default (each costs
``n`` occlusion passes, shared, plus ``n × fields`` feature-occlusion passes)."""

_UNKNOWN = 1  # feature value index of "unknown" (0 is padding)


@dataclass(frozen=True)
class Reason:
    """One sentence saying why an item is recommended, and what backs it.

    Attributes:
        item, title: the recommended item's id and title.
        text: the sentence, plain text (never markup).
        key: the :data:`REASON_TEMPLATES` key used.
        parts: the sentence as ``(kind, text)`` pieces, in order: ``"text"`` (template
            wording), ``"item"`` (a purchase's title), ``"value"`` / ``"field"`` (a feature
            value / field name). Joined, they give ``text``.
        evidence_positions, evidence_ids, evidence_titles: the cited history items
            (positions, 0 = oldest; ids; titles); for ``feature``, the items having the value.
        feature: ``(field, value)`` for ``feature`` and ``taste``, else ``None``.
        score_drop: the evidence: for ``one_item``/``two_items`` the item's score drop when
            the cited purchases are left out together (one verifying pass); for
            ``feature`` the sum of the drops when the value is hidden on each of its items
            in turn; for ``taste``/``unexplained`` the largest drop any single purchase
            causes (how little it is). NaN when the model cannot re-run histories.
        share: ``score_drop`` over the total occlusion (sum of positive single drops; NaN
            when that is 0 or unknown).
        method: the importance method that chose the cited items.
    """

    item: Any
    title: str
    text: str
    key: str
    parts: tuple[tuple[str, str], ...]
    evidence_positions: tuple[int, ...]
    evidence_ids: tuple[Any, ...]
    evidence_titles: tuple[str, ...]
    feature: tuple[str, str] | None
    score_drop: float
    share: float
    method: str


def checked_templates(templates: Mapping[str, str] | None) -> dict[str, str]:
    """:data:`REASON_TEMPLATES` with ``templates`` over it, each checked to format with its
    placeholders (and only those: no positional or attribute fields).

    Raises:
        ArgumentTypeError: ``templates`` is not a mapping of str to str.
        ArgumentValueError: an unknown key, or a template that does not format.
    """
    if templates is None:
        return dict(REASON_TEMPLATES)
    if not isinstance(templates, Mapping):
        raise ArgumentTypeError(
            f"templates must be a dict of template key to str, got {type(templates).__name__}"
        )
    merged = dict(REASON_TEMPLATES)
    for key, text in templates.items():
        if key not in REASON_TEMPLATES:
            raise ArgumentValueError(
                f"unknown reason template {key!r}; expected one of {sorted(REASON_TEMPLATES)}"
            )
        if not isinstance(text, str):
            raise ArgumentTypeError(f"template {key!r} must be a str, got {type(text).__name__}")
        sample = {name: (kind, name) for name, kind in TEMPLATE_FIELDS[key].items()}
        render(text, sample, key)
        merged[key] = text
    return merged


def render(
    template: str, values: Mapping[str, tuple[str, str]], key: str
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The sentence and its typed parts: ``values`` maps a placeholder to ``(kind, text)``.

    Values are inserted as given (their braces or markup are never interpreted).
    """
    formatter = string.Formatter()
    parts: list[tuple[str, str]] = []
    try:
        for literal, name, spec, conversion in formatter.parse(template):
            if literal:
                parts.append(("text", literal))
            if name is None:
                continue
            if name not in values:
                raise ArgumentValueError(
                    f"reason template {key!r} uses {{{name}}}; it may use "
                    f"{sorted(values) or 'no placeholder'}"
                )
            kind, text = values[name]
            value = formatter.convert_field(text, conversion)
            parts.append((kind, formatter.format_field(value, spec or "")))
    except ValueError as err:
        if isinstance(err, ArgumentValueError):
            raise
        raise ArgumentValueError(f"reason template {key!r} does not format: {err}") from err
    return "".join(text for _, text in parts), tuple(parts)


def _occlusion_drops(expl: Explanation, targets: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The targets' ``[T]`` scores after the history and ``[n, T]`` score drops when each
    history item is left out, from one batch of ``n + 1`` histories (NaN when the model
    cannot re-run histories or the history has one item)."""
    history = expl.history
    n = len(history)
    if n < 2 or not can_rerun(expl.source):
        return np.full(len(targets), np.nan), np.full((n, len(targets)), np.nan)
    variants = [history] + [np.delete(history, i) for i in range(n)]
    scores = item_scores(expl.source, variants, list(targets))
    return scores[0], scores[0][None, :] - scores[1:]


def _weights(expl: Explanation, method: str, target: int, drops: np.ndarray) -> np.ndarray:
    """``method``'s importance of each history item for ``target``."""
    if method == "occlusion":
        return drops
    if method == "gradient" and target != expl.target:
        return gradient_importance(expl.source, expl.history, target)
    return expl.method_importance(method)  # attention and rollout do not depend on the target


def _cited(
    drops: np.ndarray, weights: np.ndarray, total: float, min_share: float, max_items: int
) -> list[int]:
    """The top ``max_items`` positions by ``weights`` that each account for ``min_share`` of
    the ``total`` occlusion (by their own score ``drops``)."""
    if not (np.isfinite(drops).any() and total > 0):
        return []
    order = np.argsort(-np.nan_to_num(weights, nan=-np.inf), kind="stable")[:max_items]
    return [int(p) for p in order if drops[p] > 0 and drops[p] >= min_share * total]


def _best_feature(expl: Explanation, target: int) -> tuple[float, int, int, np.ndarray] | None:
    """The feature value whose hiding lowers ``target``'s score most, summed over the history
    items having it: ``(drop, field, value, positions)``, or ``None`` without features."""
    drops = feature_occlusion(expl.source, expl.history, target) if can_rerun(expl.source) else None
    if drops is None or drops.size == 0 or not np.isfinite(drops).any():
        return None
    values = expl.history_feature_table[expl.history]
    best = None
    for f in range(drops.shape[1]):
        for value in np.unique(values[:, f]):
            if value <= _UNKNOWN:
                continue
            positions = np.flatnonzero(values[:, f] == value)
            total = float(np.nansum(drops[positions, f]))
            if best is None or total > best[0]:
                best = (total, f, int(value), positions)
    return best


def _taste(expl: Explanation, target: int) -> tuple[str, str] | None:
    """The first feature field's value the history leans to: the target's own when the
    history has it, else the most frequent known one; ``None`` without features."""
    catalog = expl.catalog
    if not catalog.fields:
        return None
    values = [int(v) for v in expl.history_feature_table[expl.history, 0] if v > _UNKNOWN]
    if not values:
        return None
    own = int(catalog.features[target, 0])
    chosen = own if own in values else Counter(values).most_common(1)[0][0]
    field = catalog.fields[0]
    return field.name, field.label(chosen)


def explain_reasons(
    expl: Explanation,
    items: Sequence[Any] | None = None,
    *,
    method: str | None = None,
    templates: Mapping[str, str] | None = None,
    min_share: float = MIN_SHARE,
    max_items: int = 2,
) -> list[Reason]:
    """One :class:`Reason` per item (ids; default: the explained item), see the module
    docstring. Occlusion for all items runs in one batch of ``n + 1`` histories; the
    evidence of cited purchases in one more batch.

    Raises:
        ArgumentValueError: an unknown method, ``min_share`` outside [0, 1], ``max_items``
            not 1 or 2, a bad template (see :func:`checked_templates`).
        UnknownItemError: an item is not in the catalogue.
    """
    chosen = checked_templates(templates)
    min_share = check_float("min_share", min_share, minimum=0.0)
    if min_share > 1:
        raise ArgumentValueError(f"min_share must be in [0, 1], got {min_share}")
    max_items = check_int("max_items", max_items)
    if max_items > 2:
        raise ArgumentValueError(
            f"max_items must be 1 or 2 (the templates cite two), got {max_items}"
        )
    if method is not None and method not in METHODS:
        raise ArgumentValueError(f"unknown importance method {method!r}; expected one of {METHODS}")
    catalog, history = expl.catalog, expl.history
    targets = [expl.target] if items is None else [catalog.index_of(i) for i in items]
    full_scores, drops = _occlusion_drops(expl, targets)
    if method is None:
        from .agreement import default_method  # agreement reads explanation, which reads this

        if expl.target in targets:  # occlusion of the explained item is already at hand
            expl._importance.setdefault("occlusion", drops[:, targets.index(expl.target)])
        method = default_method(expl.agreement())
    plans = []
    for j, target in enumerate(targets):
        d = drops[:, j]
        total = float(np.clip(d[np.isfinite(d)], 0.0, None).sum())
        weights, used = _weights(expl, method, target, d), method
        if not np.isfinite(weights).any():
            weights, used = d, "occlusion"
        cited = _cited(d, weights, total, min_share, max_items)
        if not cited and used != "occlusion":  # occlusion's own top item may still pass
            cited = _cited(d, d, total, min_share, max_items)
            used = "occlusion" if cited else method
        feature = _best_feature(expl, target) if np.isfinite(d).any() else None
        largest = float(np.nanmax(d)) if np.isfinite(d).any() else float("nan")
        if (
            feature is not None
            and feature[0] > max(largest, 0.0)
            and feature[0] >= min_share * total
        ):
            plans.append(("feature", target, feature, total, "feature occlusion"))
        elif cited:
            plans.append(("items", target, cited, total, used))
        else:
            plans.append(("taste", target, largest, total, method))
    joint = [np.delete(history, plan[2]) for plan in plans if plan[0] == "items"]
    joint_targets = [plan[1] for plan in plans if plan[0] == "items"]
    joint_scores = iter(item_scores(expl.source, joint, joint_targets).diagonal() if joint else [])
    reasons = []
    for (kind, target, detail, total, used), full in zip(plans, full_scores, strict=True):
        feature_pair = None
        positions: list[int] = []
        if kind == "items":
            positions = list(detail)
            key = "one_item" if len(positions) == 1 else "two_items"
            names = ("first", "second")
            values = {
                names[i]: ("item", catalog.title(int(history[p]))) for i, p in enumerate(positions)
            }
            drop = full - float(next(joint_scores))
        elif kind == "feature":
            drop, f, value, where = detail
            field = catalog.fields[f]
            feature_pair = (field.name, field.label(value))
            positions = [int(p) for p in where]
            key = "feature"
            values = {"value": ("value", feature_pair[1]), "field": ("field", field.name)}
        else:
            drop = detail
            feature_pair = _taste(expl, target)
            key = "unexplained" if feature_pair is None else "taste"
            values = (
                {}
                if feature_pair is None
                else {"value": ("value", feature_pair[1]), "field": ("field", feature_pair[0])}
            )
        text, parts = render(chosen[key], values, key)
        reasons.append(
            Reason(
                item=catalog.item_id(target),
                title=catalog.title(target),
                text=text,
                key=key,
                parts=parts,
                evidence_positions=tuple(positions),
                evidence_ids=tuple(catalog.item_id(int(history[p])) for p in positions),
                evidence_titles=tuple(catalog.title(int(history[p])) for p in positions),
                feature=feature_pair,
                score_drop=float(drop),
                share=float(drop) / total if total > 0 and np.isfinite(drop) else float("nan"),
                method=used,
            )
        )
    return reasons
