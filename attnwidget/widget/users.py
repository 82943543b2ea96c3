"""UserList: the users an explorer offers, in order, without copying a dataset's million ids.

The explorer never sends this list to the browser: its user slider runs over a window of
at most :data:`USER_WINDOW` ids of it (:meth:`UserList.window`), and users outside it are
found by :meth:`UserList.search` in the kernel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, overload

from ..data import Dataset
from ..data.search import TextIndex, index_of
from ..errors import ArgumentTypeError, ArgumentValueError, DataError, UnknownUserError

USER_WINDOW = 100
"""Users the browser's slider runs over at a time (a window of the explorer's users)."""
SEARCH_LIMIT = 20
"""Matches a user or item search sends back at most."""


class UserList(Sequence[str]):
    """All of ``dataset``'s users (``chosen=None``), or the ``chosen`` ones, as text ids.

    Raises:
        TypeError: ``chosen`` is a string or not iterable.
        ValueError: ``chosen`` is empty (a :class:`DataError` when it lists a user twice).
        UnknownUserError: a chosen user is not in ``dataset``.
    """

    def __init__(self, dataset: Dataset, chosen: Any = None) -> None:
        self.dataset = dataset
        self._chosen: list[str] | None = None
        self._positions: dict[str, int] = {}
        if chosen is None:
            if not dataset.n_users:
                raise ArgumentValueError("the dataset has no users to explore")
            return
        if isinstance(chosen, str | bytes) or not isinstance(chosen, Iterable):
            raise ArgumentTypeError(f"users must be a list of user ids, got {chosen!r:.80}")
        ids: list[str] = []
        for user in chosen:
            shown = str(dataset.users[dataset.user_position(user)])
            if shown in self._positions:
                raise DataError(f"users lists user {user!r} twice")
            self._positions[shown] = len(ids)
            ids.append(shown)
        if not ids:
            raise ArgumentValueError("users is empty: give at least one user to explore")
        self._chosen = ids

    def __len__(self) -> int:
        return self.dataset.n_users if self._chosen is None else len(self._chosen)

    @overload
    def __getitem__(self, at: int) -> str: ...
    @overload
    def __getitem__(self, at: slice) -> list[str]: ...
    def __getitem__(self, at: int | slice) -> str | list[str]:
        if self._chosen is not None:
            return self._chosen[at]
        if isinstance(at, slice):
            return [str(u) for u in self.dataset.users[at]]
        return str(self.dataset.users[at])

    def __contains__(self, user: object) -> bool:
        return isinstance(user, str) and self.position(user) is not None

    def position(self, user: str) -> int | None:
        """Where ``user`` (a text id) is in the list, or ``None``."""
        if self._chosen is not None:
            return self._positions.get(user)
        try:
            return self.dataset.user_position(user)
        except UnknownUserError:
            return None

    def window(self, start: int, size: int = USER_WINDOW) -> list[str]:
        """The ids at ``start .. start + size`` (fewer at the end)."""
        return self[start : start + size]

    def window_start(self, user: str, start: int, size: int = USER_WINDOW) -> int:
        """Where a window of ``size`` that shows ``user`` starts: ``start`` while the user is
        in it and not within a tenth of it from an edge that has users beyond it, else the
        window centred on the user (a user outside the list keeps ``start``)."""
        at = self.position(user)
        if at is None:
            return start
        margin = size // 10
        low_ok = at >= start + margin or start == 0
        high_ok = at < start + size - margin or start + size >= len(self)
        if start <= at < start + size and low_ok and high_ok:
            return start
        return self.clamp_start(at - size // 2, size)

    def clamp_start(self, start: int, size: int = USER_WINDOW) -> int:
        """``start`` moved into ``0 .. len - size`` (0 when the list is shorter)."""
        return max(0, min(start, len(self) - size))

    def search(self, query: str, limit: int = SEARCH_LIMIT) -> tuple[list[str], bool]:
        """Ids starting with ``query`` (first, in sorted order) or containing it,
        case-insensitive plain text; at most ``limit``, and whether more users match."""
        if self._chosen is None:
            rows, more = self.dataset.search_users(query, limit)
        else:
            rows, more = index_of(self, lambda: TextIndex([self._chosen or []])).search(
                query, limit
            )
        return [self[r] for r in rows], more
