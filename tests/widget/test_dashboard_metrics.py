"""The dashboard's faithfulness panel: this user's τ and R², the sample's feature MI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attnwidget import AttentionExplorer, Dashboard, explain
from attnwidget.explain import explanations_feature_mi, occlusion_r2
from attnwidget.widget.dashboard import READING_GUIDE, faithfulness_html, user_faithfulness


@pytest.fixture
def explorer(trained, shop):
    explorer = AttentionExplorer(trained, shop, users=shop.users[:12], k=5, agreement_users=0)
    explorer.wait()
    return explorer


def test_the_panel_shows_this_users_r2_and_the_samples_mi(explorer, shop, trained):
    board = Dashboard(explorer, n_users=6)
    explorer.wait()
    expl = explorer.shown
    table = expl.importance
    r2 = occlusion_r2(table["rollout"].to_numpy(), table["occlusion"].to_numpy())
    per_user = user_faithfulness(explorer)
    assert per_user.at["rollout", "r2_occlusion"] == pytest.approx(r2)
    assert list(per_user.index) == ["attention", "rollout", "gradient"]
    assert f"{r2:.3f}" in board.faithfulness.value
    by_hand = explanations_feature_mi([explain(trained, shop, u, k=1) for u in board.sample])
    pd.testing.assert_frame_equal(board.mi, by_hand)
    assert f"{by_hand.at['category', 'mi']:.3f}" in board.faithfulness.value
    for line in READING_GUIDE.values():
        assert line.replace("'", "&#x27;") in board.faithfulness.value


def test_the_panel_follows_the_user(explorer, shop):
    board = Dashboard(explorer, n_users=4)
    before = board.faithfulness.value
    explorer.user = shop.users[3]
    explorer.wait()
    board._refresh()  # the complete payload's change refreshes it too; here: at once
    assert board.faithfulness.value != before


def test_the_panel_says_computing_and_escapes_every_text():
    mi = pd.DataFrame(
        {"mi": [0.5], "mi_shuffled": [0.1], "mi_excess": [0.4]}, index=["<img onerror=x>"]
    )
    text = faithfulness_html(None, mi, 3)
    assert "computing occlusion" in text
    assert "<img" not in text and "&lt;img onerror=x&gt;" in text
    per_user = pd.DataFrame({"kendall_tau": [np.nan], "r2_occlusion": [0.25]}, index=["attention"])
    text = faithfulness_html(per_user, mi, 3)
    assert "0.250" in text and "–" in text
