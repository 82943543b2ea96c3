"""Pseudonyms for a page that is shared: user ids, and by option item ids and titles, replaced.

A pack's header is the only place names travel (the arrays are numbers), so anonymising a page
means rewriting the headers of its packs: every user id becomes ``user 1``, ``user 2``… (in the
order the page lists the users) and, with ``items=True``, every item id and title becomes
``item N`` (``N`` = the item's index in the model's catalogue, so the same item has the same
pseudonym on every page made from one model). Names inside free text (notes, warnings) are
replaced too. Feature values (category, brand, price bucket) describe products, not people,
and are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..data import Catalog
from .payload import read_header, replace_header

ITEM_KEYS = ("id", "title")


@dataclass(frozen=True)
class Pseudonyms:
    """What replaces each original name: ``users`` and ``items`` map text to a pseudonym."""

    users: Mapping[str, str]
    items: Mapping[str, str]

    @classmethod
    def for_page(cls, users: Sequence[str], catalog: Catalog, *, items: bool) -> Pseudonyms:
        """``user 1…`` for ``users`` in order; ``item N`` for every catalogue id and title."""
        user_names = {str(user): f"user {i}" for i, user in enumerate(users, start=1)}
        item_names: dict[str, str] = {}
        if items:
            for index, (item_id, title) in enumerate(
                zip(catalog.item_ids, catalog.titles, strict=True), start=1
            ):
                item_names[str(item_id)] = item_names[title] = f"item {index}"
        return cls(user_names, item_names)

    def user(self, user: str) -> str:
        return self.users.get(str(user), str(user))

    def pack(self, pack: bytes) -> bytes:
        """``pack`` with every name in its header replaced (its arrays' bytes as they are)."""
        header = read_header(pack)
        header.pop("arrays", None)
        present = set(_item_texts(header)) if self.items else set()
        originals = dict(self.users) | {t: self.items[t] for t in present if t in self.items}
        renamed = _renamed(header, self, _free_text_pattern(originals), originals)
        return replace_header(pack, renamed)


def _item_texts(value: Any) -> Iterable[str]:
    """Every item id and title in a header (items are dicts with ``id`` and ``title``)."""
    if isinstance(value, dict):
        if "id" in value and "title" in value:
            yield from (str(value[key]) for key in ITEM_KEYS)
        for child in value.values():
            yield from _item_texts(child)
    elif isinstance(value, list):
        for child in value:
            yield from _item_texts(child)


def _free_text_pattern(originals: Mapping[str, str]) -> re.Pattern[str] | None:
    """One pattern for the originals of two or more characters inside free text, longest first,
    never inside a longer word or number (a one-character id is replaced only where it is a
    whole field: the user, an item's id or title)."""
    names = sorted((name for name in originals if len(name) >= 2), key=len, reverse=True)
    if not names:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)")


def _renamed(
    value: Any, names: Pseudonyms, pattern: re.Pattern[str] | None, originals: Mapping[str, str]
) -> Any:
    if isinstance(value, dict):
        out = {k: _renamed(v, names, pattern, originals) for k, v in value.items()}
        if "id" in value and "title" in value and names.items:
            for key in ITEM_KEYS:
                out[key] = names.items.get(str(value[key]), out[key])
        if "user" in value and isinstance(value["user"], str):
            out["user"] = names.user(value["user"])
        return out
    if isinstance(value, list):
        return [_renamed(v, names, pattern, originals) for v in value]
    if isinstance(value, str) and pattern is not None:
        return pattern.sub(lambda m: originals[m.group(0)], value)
    return value
