"""SASRecSource: scores of chosen items only agree with a full run."""

import numpy as np

from attnwidget.sources import SASRecSource


def test_score_items_agrees_with_run_and_score(trained):
    source = SASRecSource(trained)
    histories = [np.array([5, 9, 17, 3]), np.array([40, 2, 11, 8]), np.array([7])]
    items = [1, 40, 0]
    run = source.run(histories).scores
    got = source.score_items(histories, items)
    assert got.shape == (3, 3)
    np.testing.assert_allclose(got[:, :2], run[:, [1, 40]], rtol=1e-5, atol=1e-5)
    scores = source.score(histories)[:, [1, 40]]
    np.testing.assert_allclose(got[:, :2], scores, rtol=1e-5, atol=1e-5)
    assert np.isneginf(got[:, 2]).all()
