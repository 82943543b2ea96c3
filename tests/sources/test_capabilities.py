"""The optional capabilities of each source, as the explainer asks for them (isinstance)."""

from __future__ import annotations

import numpy as np
from torch import nn

from attnwidget.sources import (
    AttentionGradients,
    AttentionSource,
    FeatureOcclusion,
    ListsUsers,
    MultiheadAttentionSource,
    OutputAttentionsSource,
    PrecomputedSource,
    SASRecSource,
    ScoresHistories,
    ScoresItems,
)

from .tiny import catalog, dataset

CAPABILITIES = (ScoresHistories, ScoresItems, AttentionGradients, FeatureOcclusion, ListsUsers)


def capabilities(source: object) -> set[str]:
    assert isinstance(source, AttentionSource)
    return {c.__name__ for c in CAPABILITIES if isinstance(source, c)}


def test_the_built_in_model_has_every_capability_but_a_user_list(trained):
    assert capabilities(SASRecSource(trained)) == {
        "ScoresHistories",
        "ScoresItems",
        "AttentionGradients",
        "FeatureOcclusion",
    }


def test_torch_adapters_score_and_differentiate():
    encoder = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(4, 2, 8), 1, enable_nested_tensor=False
    )
    hooked = MultiheadAttentionSource(encoder, catalog(), max_len=4)
    returned = OutputAttentionsSource(lambda **kw: None, catalog(), max_len=4)
    expected = {"ScoresHistories", "AttentionGradients"}
    assert capabilities(hooked) == capabilities(returned) == expected


def test_precomputed_arrays_list_their_users_and_nothing_else():
    data = dataset({"ann": [1, 2]})
    attention = np.tril(np.ones((1, 1, 2, 2))) / np.arange(1, 3)[:, None]
    source = PrecomputedSource(data, {"ann": attention}, {"ann": ["i3"]})
    assert capabilities(source) == {"ListsUsers"} and source.users == ["ann"]
