"""SASRec with history items' features overridden: no override (or the catalogue's own
features) gives the very same numbers; an override changes the histories' items only; bad
tables are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from attnwidget import DataError
from attnwidget.sources import SASRecSource
from attnwidget.sources.base import EditsFeatures


def _histories(shop, count=6):
    return [shop.sequences[i][-12:] for i in range(count)]


def _edited(model, item, field=1):
    """The catalogue's features with ``item``'s field ``field`` set to another value."""
    table = model.catalog.features.copy()
    size = model.catalog.fields[field].size
    table[item, field] = 2 + (table[item, field] - 1) % (size - 2)  # another real value
    assert table[item, field] != model.catalog.features[item, field]
    return table


def test_the_catalogues_own_features_give_bit_identical_scores(trained, shop):
    histories = _histories(shop)
    same = trained.catalog.features.copy()
    assert np.array_equal(trained.score(histories), trained.score(histories, item_features=same))
    items = np.arange(trained.catalog.n_items + 1)
    assert np.array_equal(
        trained.score_items(histories, items),
        trained.score_items(histories, items, item_features=same),
    )
    leave_one_out = [np.delete(histories[0], i) for i in range(len(histories[0]))]  # shared prefix
    assert np.array_equal(
        trained.score_items(leave_one_out, [3, 7]),
        trained.score_items(leave_one_out, [3, 7], item_features=torch.as_tensor(same)),
    )


def test_a_source_with_the_catalogues_features_gives_bit_identical_outputs(trained, shop):
    histories = _histories(shop)
    source = SASRecSource(trained)
    edited = source.with_features(trained.catalog.features)
    assert isinstance(source, EditsFeatures) and edited is not source
    plain, same = source.run(histories), edited.run(histories)
    for name in ("scores", "attentions", "feature_attention"):
        assert np.array_equal(getattr(plain, name), getattr(same, name)), name
    assert np.array_equal(source.score(histories), edited.score(histories))
    assert np.array_equal(
        source.score_items(histories, [4, 9]), edited.score_items(histories, [4, 9])
    )
    for a, b in zip(
        source.attention_gradients(histories[0], 5),
        edited.attention_gradients(histories[0], 5),
        strict=True,
    ):
        assert np.array_equal(a, b)
    assert np.array_equal(
        source.feature_occlusion(histories[0], 5), edited.feature_occlusion(histories[0], 5)
    )


def test_an_override_changes_the_histories_items_only(trained, shop):
    history = shop.sequences[0][-12:]
    item = int(history[-1])
    table = _edited(trained, item)
    plain, edited = trained.score([history]), trained.score([history], item_features=table)
    assert not np.allclose(plain[0, 1:], edited[0, 1:])
    # per-position features in forward (the source's run) give the numbers the table gives
    out = SASRecSource(trained).with_features(table).run([history])
    np.testing.assert_allclose(out.scores[0, 1:], edited[0, 1:], rtol=1e-5, atol=1e-5)
    # score_items (prefix sharing) reads the table too
    variants = [np.delete(history, i) for i in range(len(history) - 1)]  # all keep the item
    np.testing.assert_allclose(
        trained.score_items(variants, [2, 8], item_features=table),
        trained.score(variants, item_features=table)[:, [2, 8]],
        rtol=1e-5,
        atol=1e-5,
    )
    # candidates keep the catalogue's features: a history without the item is unchanged
    other = np.array([i for i in history if i != item])
    assert np.array_equal(trained.score([other]), trained.score([other], item_features=table))
    # and the cached candidate encoding is not touched by the override
    assert np.array_equal(trained.score([history]), plain)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda f: f[:-1], "shape"),
        (lambda f: f[:, :1], "shape"),
        (lambda f: f.astype(float), "integer"),
        (lambda f: f.astype(bool), "integer"),
        (lambda f: np.where(np.arange(f.shape[0])[:, None] == 3, 99, f), "value index 99"),
        (lambda f: f - 5, "value index"),
        (lambda f: [["a"] * f.shape[1]] * f.shape[0], "integer array"),
    ],
)
def test_bad_feature_tables_are_refused(trained, shop, make, match):
    table = make(trained.catalog.features.copy())
    with pytest.raises(DataError, match=match):
        trained.score(_histories(shop, 1), item_features=table)
    with pytest.raises(DataError, match=match):
        SASRecSource(trained).with_features(table)
