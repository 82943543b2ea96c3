"""Trait types and errors of the explorer: a refused change is shown in its ``error``.

Traitlets undoes a change only when validation raises a ``TraitError``, so the explorer
raises errors that are both a ``TraitError`` and the attnwidget error saying what is wrong
(:func:`trait_error_type`). Its typed traits report a value of the wrong type in the
widget's ``error`` too (:class:`Reported`), not only as an exception.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import traitlets as t

from ..errors import AttnWidgetError, DataError, UnknownItemError, UnknownUserError


@functools.cache
def trait_error_type(kind: type[AttnWidgetError]) -> type[t.TraitError]:
    """``kind`` that is also a ``TraitError``, e.g. ``UnknownUserTraitError``.

    Traitlets undoes a change only when its validation raises a ``TraitError``; this keeps
    the error catchable as ``kind`` (``except NothingToRecommendError``) too.
    """
    name = kind.__name__.removesuffix("Error") + "TraitError"
    doc = f"A widget change refused with a {kind.__name__} (also a TraitError)."
    return type(name, (t.TraitError, kind), {"__module__": __name__, "__doc__": doc})


class RefusesChanges:
    """Mixin of a widget with an ``error`` trait that shows why it refuses a change."""

    error: str

    def _refused(self, kind: type[AttnWidgetError], message: str) -> t.TraitError:
        """The error refusing a change (``kind`` and a TraitError), also shown in ``error``."""
        self.error = message
        return trait_error_type(kind)(message)


UnknownUserTraitError = trait_error_type(UnknownUserError)
"""An unknown user set on the widget (a ``KeyError`` and a ``TraitError``)."""
UnknownItemTraitError = trait_error_type(UnknownItemError)
"""An unknown item id in ``history_edit`` (a ``KeyError`` and a ``TraitError``)."""
DataTraitError = trait_error_type(DataError)
"""A widget value of the wrong type or out of range (a ``ValueError`` and a ``TraitError``)."""


class Reported:
    """Trait type mixin: a value the type refuses is shown in the widget's ``error`` and
    raised as a :data:`DataTraitError`."""

    def validate(self, obj: Any, value: Any) -> Any:
        try:
            return super().validate(obj, value)  # type: ignore[misc]
        except t.TraitError as err:
            obj.error = str(err)
            raise DataTraitError(str(err)) from None


class ReportedInt(Reported, t.Int):
    """``traitlets.Int`` that reports refused values in the widget."""


class ReportedEnum(Reported, t.Enum):
    """``traitlets.Enum`` that reports refused values in the widget."""


class ReportedList(Reported, t.List):
    """``traitlets.List`` that reports refused values (or elements) in the widget."""


class Checked(t.Any):
    """Any value, ``None`` included, all left to the widget's own validator (``t.Any``
    would let ``None`` skip it)."""

    allow_none = False


def scalar_id(value: Any, what: str) -> str:
    """An id from the browser or Python as text: strings and integers only."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, str | int | np.integer):
        raise DataError(
            f"{what} must be a string or an integer id, got {value!r:.80} ({type(value).__name__})"
        )
    return str(value)
