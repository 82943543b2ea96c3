"""The built-in SASRec as an AttentionSource, with every optional capability."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ..data.features import UNKNOWN
from ..models import SASRec
from .base import SourceOutput, model_lock

LOCK_CHUNK = 16
"""Histories scored per hold of the model's lock (so a kernel answer waits for one chunk at
most while background work scores hundreds of variants)."""


class SASRecSource:
    """Reads scores and attention straight from :class:`~attnwidget.SASRec`'s forward pass.

    Besides :meth:`run` it scores histories (:meth:`score`, :meth:`score_items`),
    differentiates a score by the attention (:meth:`attention_gradients`) and replaces
    feature fields by "unknown" (:meth:`feature_occlusion`); see ``sources.base``.

    It runs where the model is (``"cuda"``, ``"mps"``, ``"cpu"``): input batches are made on
    the model's device and every output comes back as CPU numpy arrays. The model is never
    moved; ``model.to(device)`` first to explain on another device.
    """

    _item_features: np.ndarray | None = None
    """History items' features in place of the catalogue's, set by :meth:`with_features`."""

    def __init__(self, model: SASRec) -> None:
        self.model = model
        self.catalog = model.catalog
        self.max_len = model.config.max_len
        self.field_names = list(model.field_names)

    def with_features(self, item_features: np.ndarray) -> SASRecSource:
        """A source of the same model whose histories' items have the features
        ``item_features`` (``[n_items + 1, F]``, like ``catalog.features``), the scored
        items the catalogue's (see :class:`~attnwidget.sources.base.EditsFeatures`).

        Raises:
            DataError: ``item_features`` as :meth:`SASRec.history_features
                <attnwidget.SASRec.history_features>` refuses it.
        """
        self.model.history_features(item_features)  # refused now, not at the first run
        edited = copy.copy(self)
        edited._item_features = np.array(item_features, dtype=np.int64)
        return edited

    @property
    def history_features(self) -> np.ndarray:
        """The feature table the histories' items are read with (edited or the catalogue's)."""
        return self.catalog.features if self._item_features is None else self._item_features

    def _features(self, batch: torch.Tensor) -> torch.Tensor | None:
        """``[B, n, F]`` edited features of a padded batch's items; ``None``: the catalogue's."""
        if self._item_features is None:
            return None
        return self.model.history_features(self._item_features)[batch]

    @contextlib.contextmanager
    def _evaluating(self) -> Iterator[SASRec]:
        """The model in eval mode, holding its lock; its training flag restored after."""
        with model_lock(self.model):
            was_training = self.model.training
            self.model.eval()
            try:
                yield self.model
            finally:
                self.model.train(was_training)

    @torch.no_grad()
    def run(self, histories: Sequence[np.ndarray]) -> SourceOutput:
        with self._evaluating() as model:
            batch = model.pad(histories)
            out = model(batch, self._features(batch))
        return SourceOutput(
            scores=out.scores.cpu().numpy(),
            attentions=torch.stack(out.attentions, dim=1).cpu().numpy(),
            feature_attention=out.feature_attention.cpu().numpy(),
        )

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Scores only (no attention kept), e.g. for occlusion; ``LOCK_CHUNK`` histories per
        hold of the model's lock."""
        return self._chunked(
            histories, lambda chunk: self.model.score(chunk, item_features=self._item_features)
        )

    def score_items(self, histories: Sequence[np.ndarray], items: Sequence[int]) -> np.ndarray:
        """``[len(histories), len(items)]`` scores of the given items only (see
        :meth:`SASRec.score_items <attnwidget.SASRec.score_items>`), e.g. for occlusion;
        ``LOCK_CHUNK`` histories per hold of the model's lock."""
        features = self._item_features
        return self._chunked(
            histories, lambda chunk: self.model.score_items(chunk, items, item_features=features)
        )

    def _chunked(self, histories: Sequence[np.ndarray], score: Any) -> np.ndarray:
        histories = list(histories)
        if len(histories) <= LOCK_CHUNK:
            with model_lock(self.model):
                return score(histories)
        parts = []
        for start in range(0, len(histories), LOCK_CHUNK):
            with model_lock(self.model):
                parts.append(np.asarray(score(histories[start : start + LOCK_CHUNK])))
        return np.concatenate(parts)

    def attention_gradients(
        self, history: np.ndarray, target: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``[L, H, n, n]`` attention and ``∂ score[target] / ∂ attention`` of one history
        (``None`` when the weights are frozen: no graph). The model's ``.grad`` are untouched."""
        with self._evaluating() as model:
            batch = model.pad([history])
            hidden, attentions, _ = model.encode(batch, self._features(batch))
            score = hidden[0, -1] @ model.candidates()[target]
            if not score.requires_grad:
                return None
            gradients = torch.autograd.grad(score, attentions)
        return (
            torch.stack(attentions, dim=1)[0].detach().cpu().numpy(),
            torch.stack(gradients, dim=1)[0].cpu().numpy(),
        )

    def feature_occlusion(self, history: np.ndarray, target: int) -> np.ndarray:
        """``[n, F]`` drop of the target's score when one field of one item becomes "unknown".

        Column ``f`` is the feature field ``f`` (the item id is not a replaceable field).
        The ``n × F`` variants run ``LOCK_CHUNK`` at a time, each chunk holding
        the model's lock on its own, so a kernel answer waits for one chunk at most.
        """
        with self._evaluating() as model:
            n, n_fields = len(history), model.item_features.shape[1]
            if n_fields == 0:
                return np.zeros((n, 0))
            batch = model.pad([history])
            edited = self._features(batch)
            base = model.item_features[batch] if edited is None else edited
        cells = [(i, f) for i in range(n) for f in range(n_fields)]
        scores = []
        for start in range(-1, len(cells), LOCK_CHUNK):  # -1: the unedited history
            chunk = cells[max(start, 0) : start + LOCK_CHUNK]
            variants = base.expand(len(chunk) + (start < 0), -1, -1).clone()
            for row, (i, f) in enumerate(chunk, start=int(start < 0)):
                variants[row, i, f] = UNKNOWN
            with self._evaluating() as model, torch.no_grad():
                out = model(batch.expand(len(variants), -1), variants, need_weights=False)
                scores.append(out.scores[:, target].double().cpu())
        flat = torch.cat(scores)
        return (flat[0] - flat[1:]).numpy().reshape(n, n_fields)
