"""Occlusion through the fast scoring path equals a plain leave-one-out loop, and
``target_scores`` asks a source for what it offers (target items, scores, or a run)."""

import numpy as np
import pytest
import torch

from attnwidget.datasets import synthetic_shop
from attnwidget.explain.importance import occlusion_importance, target_scores
from attnwidget.models import SASRec
from attnwidget.sources import SASRecSource, SourceOutput


def reference_occlusion(model, history, target):
    """Each history item removed and scored one at a time by the ordinary forward pass."""
    model.eval()
    with torch.no_grad():

        def score(h):
            return float(model(model.pad([h])).scores[0, target])

        full = score(history)
        return np.array([full - score(np.delete(history, i)) for i in range(len(history))])


@pytest.fixture(scope="module")
def wide():
    shop = synthetic_shop(n_users=20, n_items=150, seed=5)
    return SASRec(shop, d_model=64, n_layers=4, n_heads=8, max_len=80, seed=6).eval()


@pytest.mark.parametrize("n", [2, 17, 80, 95])
def test_occlusion_matches_a_one_at_a_time_reference(wide, n):
    """Up to max_len items, and beyond it (the oldest items are cut off)."""
    history = np.random.default_rng(n).integers(1, wide.catalog.n_items + 1, n)
    target = int(np.argmax(wide.score([history])[0]))
    got = occlusion_importance(SASRecSource(wide), history, target)
    np.testing.assert_allclose(got, reference_occlusion(wide, history, target), atol=1e-4)


def test_occlusion_of_the_trained_model_matches_the_reference(trained, shop):
    history = max(shop.sequences, key=len)
    target = 5
    got = occlusion_importance(SASRecSource(trained), history, target)
    np.testing.assert_allclose(got, reference_occlusion(trained, history, target), atol=1e-4)


class Recorder:
    """A source that scores item ``i`` as ``i`` times the history length and records calls."""

    max_len = 50
    field_names = ("item",)

    def __init__(self, methods):
        self.calls = []
        for name in methods:
            setattr(self, name, getattr(self, f"_{name}"))

    def _scores(self, histories):
        return np.array([np.arange(10.0) * len(h) for h in histories])

    def _score_items(self, histories, items):
        self.calls.append(("score_items", len(histories), list(items)))
        return self._scores(histories)[:, items]

    def _score(self, histories):
        self.calls.append(("score", len(histories)))
        return self._scores(histories)

    def run(self, histories):
        self.calls.append(("run", len(histories)))
        return SourceOutput(self._scores(histories), np.zeros((len(histories), 1, 1, 1, 1)), None)


@pytest.mark.parametrize(
    ("methods", "expected"),
    [
        (["score_items", "score"], [("score_items", 70, [3])]),
        (["score"], [("score", 32), ("score", 32), ("score", 6)]),
        ([], [("run", 32), ("run", 32), ("run", 6)]),
    ],
)
def test_target_scores_uses_the_narrowest_method_a_source_has(methods, expected):
    source = Recorder(methods)
    histories = [np.arange(1, 2 + i % 5) for i in range(70)]
    scores = target_scores(source, histories, 3)
    assert source.calls == expected
    np.testing.assert_array_equal(scores, [3.0 * len(h) for h in histories])
    assert scores.dtype == np.float64
