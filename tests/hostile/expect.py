"""``fails``: assert a call raises exactly one error type, with a message naming the bad value."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest


@contextlib.contextmanager
def fails(error: type[BaseException], *fragments: str) -> Iterator[pytest.ExceptionInfo]:
    """Like ``pytest.raises``, but the type must match exactly (not a subclass or a parent) and
    every fragment must appear in the message (case-sensitive), so the message names the bad value.
    """
    with pytest.raises(BaseException) as info:
        yield info
    assert info.type is error, f"expected {error.__name__}, got {info.type.__name__}: {info.value}"
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in the message {message!r}"
