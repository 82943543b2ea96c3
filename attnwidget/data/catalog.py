"""The item catalogue: external id ↔ dense index, titles and encoded features."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, UnknownItemError
from .features import PAD, FeatureField


def _plain(value: Any) -> Any:
    """numpy scalars → Python scalars, so ids survive JSON and checkpoints."""
    return value.item() if isinstance(value, np.generic) else value


class Catalog:
    """Items known to a dataset or model.

    Index 0 is padding; item ``i`` (1-based) has id ``item_ids[i - 1]``.
    ``features[i, f]`` is the index of item ``i``'s value in ``fields[f]``.
    """

    def __init__(
        self,
        item_ids: Sequence[Any],
        titles: Sequence[str],
        fields: Sequence[FeatureField],
        features: np.ndarray,
    ) -> None:
        self.item_ids = [_plain(i) for i in item_ids]
        self.titles = [str(t) for t in titles]
        self.fields = list(fields)
        self.features = np.asarray(features, dtype=np.int64).reshape(len(self.item_ids) + 1, -1)
        self._index = {item: i + 1 for i, item in enumerate(self.item_ids)}
        self._index_str = {str(item): i + 1 for i, item in enumerate(self.item_ids)}
        if len(self._index) != len(self.item_ids):
            raise DataError("item ids are not unique")
        if len(self.titles) != len(self.item_ids):
            raise DataError(f"{len(self.titles)} titles for {len(self.item_ids)} items")

    @classmethod
    def build(
        cls,
        item_ids: Iterable[Any],
        items: pd.DataFrame | None,
        item_col: str,
        feature_cols: Sequence[str],
        title_col: str | None,
        n_bins: int = 5,
    ) -> Catalog:
        """Catalogue of ``item_ids`` (in order) with features read from ``items``."""
        ids = list(item_ids)
        if items is None:
            if feature_cols or title_col:
                raise DataError("feature_cols and title_col need an items table")
            return cls(ids, [str(i) for i in ids], [], np.zeros((len(ids) + 1, 0)))
        table = items.drop_duplicates(subset=item_col, keep="last").set_index(item_col)
        table = table.reindex(ids)
        fields = [FeatureField.fit(col, items[col], n_bins) for col in feature_cols]
        encoded = np.zeros((len(ids) + 1, len(fields)), dtype=np.int64)
        for f, fld in enumerate(fields):
            encoded[1:, f] = fld.encode(table[fld.name])
        if title_col:
            titles = [
                str(i) if pd.isna(t) else str(t) for i, t in zip(ids, table[title_col], strict=True)
            ]
        else:
            titles = [str(i) for i in ids]
        return cls(ids, titles, fields, encoded)

    @property
    def n_items(self) -> int:
        """Number of real items (padding excluded)."""
        return len(self.item_ids)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def index_of(self, item_id: Any) -> int:
        """Dense index of an external item id."""
        index = self._index.get(_plain(item_id)) if _hashable(item_id) else None
        if index is None:
            index = self._index_str.get(str(item_id))
        if index is None:
            raise UnknownItemError(
                f"unknown item {item_id!r}: not in the catalogue of {self.n_items} items"
            )
        return index

    def encode(self, item_ids: Iterable[Any]) -> np.ndarray:
        """Dense indices of a list of external item ids."""
        return np.array([self.index_of(i) for i in item_ids], dtype=np.int64)

    def item_id(self, index: int) -> Any:
        if not 1 <= index <= self.n_items:
            raise UnknownItemError(f"item index {index} is outside 1..{self.n_items}")
        return self.item_ids[index - 1]

    def title(self, index: int) -> str:
        return self.titles[index - 1] if 1 <= index <= self.n_items else "<pad>"

    def feature_labels(self, index: int) -> dict[str, str]:
        """Readable feature values of one item, by field name."""
        return {f.name: f.label(int(self.features[index, k])) for k, f in enumerate(self.fields)}

    def describe(self, indices: Iterable[int]) -> pd.DataFrame:
        """Item id, title and feature labels of the given indices (one row each)."""
        rows = [
            {"item_id": self.item_id(i), "title": self.title(i), **self.feature_labels(i)}
            for i in indices
            if i != PAD
        ]
        return pd.DataFrame(rows, columns=["item_id", "title", *self.field_names])

    def to_state(self) -> dict[str, Any]:
        return {
            "item_ids": self.item_ids,
            "titles": self.titles,
            "fields": [f.to_state() for f in self.fields],
            "features": self.features.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Catalog:
        fields = [FeatureField.from_state(s) for s in state["fields"]]
        return cls(state["item_ids"], state["titles"], fields, np.array(state["features"]))


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
