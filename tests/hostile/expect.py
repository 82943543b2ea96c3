"""``fails``: assert a call raises exactly one error type, with a message naming the bad value."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from attnwidget.errors import ArgumentTypeError, ArgumentValueError

# attnwidget raises a bad argument as ArgumentTypeError / ArgumentValueError: each is the
# package's twin of the built-in (an AttnWidgetError and a TypeError / ValueError), so an
# expected TypeError is met by exactly TypeError or ArgumentTypeError (and ValueError by
# ValueError or ArgumentValueError), and by no other subclass such as DataError.
TWINS: dict[type[BaseException], type[BaseException]] = {
    TypeError: ArgumentTypeError,
    ValueError: ArgumentValueError,
}


@contextlib.contextmanager
def fails(error: type[BaseException], *fragments: str) -> Iterator[pytest.ExceptionInfo]:
    """Like ``pytest.raises``, but the type must match exactly (not a subclass or a parent;
    ``TypeError``/``ValueError`` also accept their twin in :data:`TWINS`) and every fragment
    must appear in the message (case-sensitive), so the message names the bad value.
    """
    with pytest.raises(BaseException) as info:
        yield info
    got = info.type
    expected = f"expected {error.__name__}, got {got.__name__}: {info.value}"
    assert got in (error, TWINS.get(error)), expected
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in the message {message!r}"
