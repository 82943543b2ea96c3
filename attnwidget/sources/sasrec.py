"""The built-in SASRec as an AttentionSource."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..models import SASRec
from .base import SourceOutput, model_lock


class SASRecSource:
    """Reads scores and attention straight from :class:`~attnwidget.SASRec`'s forward pass."""

    def __init__(self, model: SASRec) -> None:
        self.model = model
        self.catalog = model.catalog
        self.max_len = model.config.max_len
        self.field_names = list(model.field_names)

    @torch.no_grad()
    def run(self, histories: Sequence[np.ndarray]) -> SourceOutput:
        with model_lock(self.model):
            was_training = self.model.training
            self.model.eval()
            try:
                out = self.model(self.model.pad(histories))
            finally:
                self.model.train(was_training)
        return SourceOutput(
            scores=out.scores.numpy(),
            attentions=torch.stack(out.attentions, dim=1).numpy(),
            feature_attention=out.feature_attention.numpy(),
        )

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Scores only (no attention kept), e.g. for occlusion."""
        with model_lock(self.model):
            return self.model.score(histories)

    def score_items(self, histories: Sequence[np.ndarray], items: Sequence[int]) -> np.ndarray:
        """``[len(histories), len(items)]`` scores of the given items only (see
        :meth:`SASRec.score_items <attnwidget.SASRec.score_items>`), e.g. for occlusion."""
        with model_lock(self.model):
            return self.model.score_items(histories, items)
