"""Checks of numeric and boolean parameters, shared by every layer.

A parameter of the wrong Python type is an ``ArgumentTypeError`` (a ``TypeError``: bools,
strings and floats are not integers; strings are not numbers); a value out of range is an
``ArgumentValueError`` (a ``ValueError``). Both name the parameter and the value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ArgumentTypeError, ArgumentValueError


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an ``int`` ≥ ``minimum``.

    Raises:
        ArgumentTypeError: ``value`` is not an integer (bools, strings and floats are
            refused).
        ArgumentValueError: ``value`` is below ``minimum``.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ArgumentTypeError(
            f"{name} must be an integer, got {value!r} ({type(value).__name__})"
        )
    if value < minimum:
        raise ArgumentValueError(f"{name} must be ≥ {minimum}, got {value}")
    return int(value)


def check_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    below: float | None = None,
    positive: bool = False,
) -> float:
    """``value`` as a finite ``float``; ``minimum`` is inclusive, ``below`` exclusive.

    Raises:
        ArgumentTypeError: ``value`` is not a real number (bools and strings are refused).
        ArgumentValueError: ``value`` is NaN, infinite or out of range.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise ArgumentTypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    low_ok = (number > 0 if positive else True) and (minimum is None or number >= minimum)
    if not math.isfinite(number) or not low_ok or (below is not None and number >= below):
        bounds = [
            "> 0" if positive else "",
            f"≥ {minimum}" if minimum is not None else "",
            f"< {below}" if below is not None else "",
        ]
        wanted = " and ".join(b for b in bounds if b) or "finite"
        raise ArgumentValueError(f"{name} must be a finite number {wanted}, got {value!r}")
    return number


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is a bool (``True``/``False``, numpy bools too); else an
    :class:`ArgumentTypeError`."""
    if not isinstance(value, bool | np.bool_):
        raise ArgumentTypeError(
            f"{name} must be True or False, got {value!r} ({type(value).__name__})"
        )
    return bool(value)
