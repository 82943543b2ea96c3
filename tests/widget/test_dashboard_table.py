"""The dashboard reads its views over many users from a table of explain_users."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attnwidget import (
    ArgumentTypeError,
    ArgumentValueError,
    AttentionExplorer,
    Dashboard,
    DataError,
    explain,
    explain_users,
    synthetic_shop,
    write_explanations,
)
from attnwidget.explain import sample_users
from attnwidget.explain.importance import METHODS

EXPLORER_USERS = 12
SAMPLE = 6


@pytest.fixture
def explorer(trained, shop):
    explorer = AttentionExplorer(
        trained, shop, users=shop.users[:EXPLORER_USERS], k=5, agreement_users=0
    )
    explorer.wait()
    return explorer


@pytest.fixture(scope="module")
def users(shop):
    """The users a Dashboard(explorer, n_users=SAMPLE) samples (seed 0)."""
    return sample_users(shop.users[:EXPLORER_USERS], SAMPLE, 0)


@pytest.fixture(scope="module")
def table(trained, shop, users):
    return explain_users(trained, shop, users, progress=False)


@pytest.fixture
def counted(explorer):
    """Counts every call into the explorer's model: the source's entry points and the
    forward of any torch module of the model (so no path around the source is missed)."""
    source, calls = explorer.source, []
    originals = {}
    for name in ("run", "score", "score_items"):
        if hasattr(source, name):
            originals[name] = getattr(source, name)

            def wrapper(*args, _name=name, **kwargs):
                calls.append(_name)
                return originals[_name](*args, **kwargs)

            setattr(source, name, wrapper)
    hooks = [
        module.register_forward_pre_hook(lambda module, args: calls.append("forward"))
        for module in source.model.modules()
    ]
    yield calls
    for hook in hooks:
        hook.remove()
    for name in originals:
        delattr(source, name)  # the class's methods again


def test_the_table_gives_the_figures_the_dashboard_computes_itself(explorer, table, users):
    itself = Dashboard(explorer, n_users=SAMPLE)
    assert itself.sample == users
    board = Dashboard(explorer, explanations=table)
    assert board.sample == itself.sample
    # the same attention, run alone or in a padded batch: equal to float32 rounding
    np.testing.assert_allclose(board.entropy, itself.entropy, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(board.grid.color), board.entropy)
    pd.testing.assert_frame_equal(board.mi, itself.mi)
    assert board.mi.at["category", "pairs"] == SAMPLE
    assert f"{itself.mi.at['category', 'mi']:.3f}" in board.faithfulness.value
    assert "explanations table" in board.faithfulness.value
    assert "explanations table" in board.entropy_figure.title
    assert board.notes == []


def test_the_agreement_over_users_is_each_explanations_agreement_averaged(
    explorer, table, trained, shop, users
):
    board = Dashboard(explorer, explanations=table)
    by_hand = []
    for user in users:
        expl = explain(trained, shop, user, k=1)
        assert not expl.importance.empty  # computes every method, occlusion included
        by_hand.append(expl.agreement())
    assert list(board.agreement.index) == [m for m in METHODS if m != "occlusion"]
    for method, row in board.agreement.iterrows():
        taus = [a[method]["kendall_tau"] for a in by_hand]
        assert row["kendall_tau"] == pytest.approx(np.nanmean(taus), abs=1e-6)
        assert row["users"] == int(np.isfinite(taus).sum())
        tops = [a[method]["top1_agreement"] for a in by_hand]
        assert row["top1_agreement"] == pytest.approx(np.nanmean(tops))
        assert f"{row['kendall_tau']:.3f}" in board.faithfulness.value
    assert "Top-1 agreement" in board.faithfulness.value


def test_a_parquet_file_gives_the_same_views_as_the_table(explorer, table, tmp_path):
    path = write_explanations(table, tmp_path / "explanations.parquet")
    from_frame = Dashboard(explorer, explanations=table)
    for given in (path, str(path)):
        board = Dashboard(explorer, explanations=given)
        assert board.sample == from_frame.sample
        np.testing.assert_array_equal(board.entropy, from_frame.entropy)
        pd.testing.assert_frame_equal(board.mi, from_frame.mi)
        pd.testing.assert_frame_equal(board.agreement, from_frame.agreement)
        assert board.faithfulness.value == from_frame.faithfulness.value


def test_no_model_call_is_made_for_a_table(explorer, table, tmp_path, counted, shop):
    Dashboard(explorer, explanations=table)
    Dashboard(explorer, explanations=write_explanations(table, tmp_path / "e.parquet"))
    assert counted == []
    # the counter does see the dashboard explain its own sample
    Dashboard(explorer, n_users=3, seed=1)
    assert "run" in counted and "forward" in counted


def test_n_users_samples_the_tables_rows(explorer, table, users):
    board = Dashboard(explorer, explanations=table, n_users=3, seed=2)
    rows = sample_users(list(range(len(table))), 3, 2)
    assert board.sample == [users[i] for i in rows]
    assert len(board.explanations) == 3 and "3 users" in board.entropy_figure.title
    expected = np.mean(board.explanations[["entropy_L1H0"]].to_numpy())
    assert board.entropy[1, 0] == pytest.approx(expected)


def test_views_the_table_lacks_are_named_not_computed(explorer, trained, shop, users, counted):
    rollout_only = explain_users(trained, shop, users, methods=["rollout"], progress=False)
    counted.clear()
    board = Dashboard(explorer, explanations=rollout_only)
    assert counted == []
    assert board.mi is None and board.agreement is None
    text = board.faithfulness.value
    assert "Most-attended item vs recommendation" not in text
    assert "attention_top_item" in text and "&#x27;attention&#x27;" in text
    assert "kendall_tau" in text and "&#x27;occlusion&#x27;" in text
    assert board.entropy.shape == (explorer.n_layers, explorer.n_heads)


def test_users_with_nothing_to_recommend_count_for_entropy_only(explorer, table):
    changed = table.copy()
    changed.loc[0, "target"] = None
    changed.loc[0, "attention_top_item"] = None
    board = Dashboard(explorer, explanations=changed)
    assert board.mi.at["category", "pairs"] == SAMPLE - 1
    assert len(board.sample) == SAMPLE


# --- a table that cannot be used --------------------------------------------------------------
def _edited(table: pd.DataFrame, how: str) -> pd.DataFrame:
    table = table.copy()
    if how == "empty":
        return table.iloc[:0]
    if how == "no target":
        return table.drop(columns="target")
    if how == "no entropy":
        return table.drop(columns=[c for c in table if c.startswith("entropy_L")])
    if how == "an entropy column short":
        return table.drop(columns="entropy_L1H1")
    if how == "a layer more":
        table["entropy_L2H0"] = 0.5
        return table
    if how == "text entropy":
        table["entropy_L0H0"] = "high"
        return table
    if how == "unknown user":
        table.loc[2, "user_id"] = "nobody"
        return table
    if how == "other history":
        table.loc[1, "history_length"] += 1
        return table
    if how == "unknown item":
        table.loc[0, "target"] = "not-an-item"
        return table
    if how == "other fields":
        table.attrs["field_names"] = ["item", "colour"]
        return table
    raise AssertionError(how)


@pytest.mark.parametrize(
    ("how", "error", "fragment"),
    [
        ("empty", ArgumentValueError, "empty (0 rows)"),
        ("no target", DataError, "['target']"),
        ("no entropy", DataError, "no entropy_L{layer}H{head} columns"),
        ("an entropy column short", DataError, "'entropy_L1H1'"),
        ("a layer more", ArgumentValueError, "3 layer(s) × 2 head(s), but the explorer's model"),
        ("text entropy", DataError, "'entropy_L0H0' of the explanations table is not numeric"),
        ("unknown user", ArgumentValueError, "explorer's dataset of 300 users: 'nobody'"),
        ("other history", ArgumentValueError, "history of another length"),
        ("unknown item", ArgumentValueError, "column 'target'"),
        ("other fields", ArgumentValueError, "feature fields ['item', 'colour']"),
    ],
)
def test_a_table_that_does_not_fit_is_refused_by_name(explorer, table, how, error, fragment):
    with pytest.raises(error) as caught:
        Dashboard(explorer, explanations=_edited(table, how))
    assert fragment in str(caught.value)


def test_a_table_of_another_dataset_is_refused(explorer, trained):
    other = synthetic_shop(n_users=300, n_items=150, seed=8)
    foreign = explain_users(trained, other, other.users[:8], progress=False)
    with pytest.raises(ArgumentValueError, match="made from other data"):
        Dashboard(explorer, explanations=foreign)


@pytest.mark.parametrize("given", [42, ["explanations.parquet"], {"user_id": []}])
def test_explanations_of_the_wrong_type_are_refused(explorer, given):
    with pytest.raises(ArgumentTypeError, match="explanations must be a pandas DataFrame"):
        Dashboard(explorer, explanations=given)


def test_a_bad_file_is_refused_by_name(explorer, tmp_path):
    with pytest.raises(DataError, match="no such Parquet file"):
        Dashboard(explorer, explanations=tmp_path / "missing.parquet")
    text = tmp_path / "text.parquet"
    text.write_text("user_id,target\nu1,i1\n")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        Dashboard(explorer, explanations=text)
    other = tmp_path / "other.parquet"
    pd.DataFrame({"user_id": ["u1"], "target": ["i1"]}).to_parquet(other)
    with pytest.raises(DataError, match="not written by attnwidget"):
        Dashboard(explorer, explanations=other)
