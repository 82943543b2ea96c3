"""Item feature fields: categorical vocabularies and quantile-bucketed numbers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_int
from ..errors import DataError

PAD = 0
UNKNOWN = 1
PAD_LABEL = "<pad>"
UNKNOWN_LABEL = "<unknown>"


def _format_number(x: float) -> str:
    if float(x).is_integer() and 1000 <= abs(x) <= 2200:  # looks like a year: no separator
        return f"{x:.0f}"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


@dataclass
class FeatureField:
    """One item feature field, encoded as small integers.

    Index 0 is padding and index 1 is "unknown" (a value never seen when the field
    was built, or a missing value). Categorical values get one index each; numeric
    values are put in quantile bins whose edges are kept for readable labels.
    """

    name: str
    kind: str  # "categorical" or "numeric"
    labels: list[str] = field(default_factory=list)  # label per index, PAD and UNKNOWN first
    bin_edges: list[float] | None = None

    @classmethod
    def fit(cls, name: str, values: pd.Series, n_bins: int = 5) -> FeatureField:
        """Build a field from a column: numeric dtypes are binned, anything else is categorical.

        Categorical values are compared by their string form. Numeric NaN and ±inf are left
        out of the bins and encode as "unknown".
        """
        n_bins = check_int("n_bins", n_bins, 1)
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            present = values.dropna().astype(str)
            vocab = sorted(present.unique().tolist())
            return cls(name, "categorical", [PAD_LABEL, UNKNOWN_LABEL, *vocab])
        numbers = values.astype(float).to_numpy()
        numbers = numbers[np.isfinite(numbers)]
        if numbers.size == 0:
            raise DataError(f"numeric feature column {name!r} has no finite values")
        edges = np.unique(np.quantile(numbers, np.linspace(0, 1, n_bins + 1)))
        if edges.size == 1:
            edges = np.array([edges[0], edges[0]])
        labels = [
            f"{_format_number(lo)}–{_format_number(hi)}" for lo, hi in itertools.pairwise(edges)
        ]
        return cls(name, "numeric", [PAD_LABEL, UNKNOWN_LABEL, *labels], edges.tolist())

    @property
    def size(self) -> int:
        """Number of indices, padding and unknown included."""
        return len(self.labels)

    def encode(self, values: pd.Series | list[Any] | np.ndarray) -> np.ndarray:
        """Map raw values to indices; unseen or missing values map to UNKNOWN."""
        series = pd.Series(values, dtype=object if self.kind == "categorical" else None)
        if self.kind == "categorical":
            lookup = {label: i for i, label in enumerate(self.labels) if i > UNKNOWN}
            return np.array(
                [UNKNOWN if pd.isna(v) else lookup.get(str(v), UNKNOWN) for v in series],
                dtype=np.int64,
            )
        numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
        edges = np.asarray(self.bin_edges, dtype=float)
        bins = np.clip(np.searchsorted(edges, numbers, side="right") - 1, 0, len(edges) - 2)
        out = bins.astype(np.int64) + 2
        out[~np.isfinite(numbers)] = UNKNOWN
        return out

    def label(self, index: int) -> str:
        """Readable label of an index ("<unknown>" for out-of-range indices)."""
        return self.labels[index] if 0 <= index < len(self.labels) else UNKNOWN_LABEL

    def to_state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "labels": self.labels,
            "bin_edges": self.bin_edges,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FeatureField:
        return cls(state["name"], state["kind"], list(state["labels"]), state.get("bin_edges"))
