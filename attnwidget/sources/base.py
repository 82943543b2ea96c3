"""The AttentionSource protocol: what the explainer and the widget need from a model."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from weakref import WeakKeyDictionary

import numpy as np

from ..data import Catalog
from ..foreground import PriorityLock


@dataclass
class SourceOutput:
    """One batch of model outputs, as numpy arrays.

    Attributes:
        scores: ``[B, n_items + 1]`` next-item scores (index 0 is padding).
        attentions: ``[B, L, H, n, n]`` sequence attention, query × key, over the
            left-padded batch of length ``n``.
        feature_attention: ``[B, n, F]`` weights over :attr:`AttentionSource.field_names`,
            or ``None`` when the model has no feature attention.
    """

    scores: np.ndarray
    attentions: np.ndarray
    feature_attention: np.ndarray | None


@runtime_checkable
class AttentionSource(Protocol):
    """A recommender that reports the attention it used.

    ``catalog`` maps item ids to the dense indices (1-based, 0 = padding) that
    histories are written in; ``max_len`` is the longest history it takes (longer ones
    are cut to the most recent items); ``field_names`` names the feature-attention
    fields (``["item"]`` alone when there are none).

    Optional attribute ``can_rerun: bool`` (absent means ``True``): ``False`` says the
    source only answers for histories it already holds (precomputed arrays) and cannot
    score a new or edited history. Explanations then give NaN for the methods that
    re-run the model (occlusion, ERASER scores, gradient) and the widget offers no
    what-if editing. Read it with :func:`can_rerun`.

    Optional capabilities, each a protocol below that the explainer asks for with
    ``isinstance`` (it falls back to :meth:`run`, or NaN, without them):
    :class:`ScoresHistories`, :class:`ScoresItems`, :class:`AttentionGradients`,
    :class:`FeatureOcclusion`, :class:`EditsFeatures` and :class:`ListsUsers`.
    """

    catalog: Catalog
    max_len: int
    field_names: list[str]

    def run(self, histories: Sequence[np.ndarray]) -> SourceOutput:
        """Scores and attention for a batch of dense-index histories (oldest first)."""
        ...


@runtime_checkable
class ScoresHistories(Protocol):
    """A source that scores histories without capturing attention (one plain pass)."""

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """``[len(histories), n_items + 1]`` next-item scores."""
        ...


@runtime_checkable
class ScoresItems(Protocol):
    """A source that scores chosen items only, e.g. the target in occlusion's variants."""

    def score_items(self, histories: Sequence[np.ndarray], items: Sequence[int]) -> np.ndarray:
        """``[len(histories), len(items)]``: ``score(histories)[:, items]``, as many
        histories as asked in one call (the source batches them)."""
        ...


@runtime_checkable
class AttentionGradients(Protocol):
    """A source that differentiates one item's score with respect to its attention."""

    def attention_gradients(
        self, history: np.ndarray, target: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``(attention, gradient)`` of one history, both ``[L, H, n, n]``: the attention
        of the pass that scored ``target`` and ``∂ score[target] / ∂ attention``; ``None``
        when the model gives no gradient (its scores or attention are not in the graph)."""
        ...


@runtime_checkable
class FeatureOcclusion(Protocol):
    """A source whose items have feature fields that can be replaced by "unknown"."""

    def feature_occlusion(self, history: np.ndarray, target: int) -> np.ndarray:
        """``[n, F - 1]`` drop of the target's score when one field of one history item
        becomes "unknown" (columns: :attr:`AttentionSource.field_names` after ``item``)."""
        ...


@runtime_checkable
class EditsFeatures(Protocol):
    """A source whose history items' feature fields can be changed (feature what-if)."""

    def with_features(self, item_features: np.ndarray) -> AttentionSource:
        """The same model reading the features of the histories' items from
        ``item_features`` (``[n_items + 1, F - 1]`` value indices per item and field, like
        ``catalog.features``) instead of the catalogue; the scored items keep the
        catalogue's. The result has every capability this source has, all on the edited
        features (occlusion, gradients, feature occlusion re-run on them)."""
        ...

    @property
    def history_features(self) -> np.ndarray:
        """``[n_items + 1, F - 1]`` value indices the histories' items are read with: the
        table given to :meth:`with_features`, or the catalogue's features."""
        ...


@runtime_checkable
class ListsUsers(Protocol):
    """A source that answers for some users only (precomputed attention): ``users``."""

    users: list[Any]


def can_rerun(source: object) -> bool:
    """Whether ``source`` can score histories it has not seen (``can_rerun``, default True)."""
    return bool(getattr(source, "can_rerun", True))


_MODEL_LOCKS: WeakKeyDictionary[Any, PriorityLock] = WeakKeyDictionary()
_GUARD = threading.Lock()


def model_lock(model: Any) -> PriorityLock:
    """The lock that serialises runs of ``model`` across threads (the explorer computes
    occlusion in the background): hooks and train/eval switches are not thread-safe.
    The kernel's own runs get it before background ones (see :mod:`attnwidget.foreground`)."""
    with _GUARD:
        lock = _MODEL_LOCKS.get(model)
        if lock is None:
            lock = _MODEL_LOCKS[model] = PriorityLock()
        return lock
