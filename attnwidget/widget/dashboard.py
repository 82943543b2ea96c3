"""Dashboard: the explorer beside bqplot charts linked to it through traitlets."""

from __future__ import annotations

import html
import os
from collections import defaultdict
from typing import Any

import bqplot as bq
import ipywidgets as widgets
import numpy as np
import pandas as pd
import traitlets as t
from bqplot.traits import array_from_json, array_to_json
from traittypes import Array

from ..checks import check_int
from ..errors import ArgumentTypeError, AttnWidgetError, EmptyHistoryError
from ..explain import (
    METHODS,
    distribution_stats,
    explain,
    explanations_feature_mi,
    occlusion_r2,
    sample_users,
    selected_attention,
)
from .dashboard_table import table_views
from .explorer import AttentionExplorer


def entropy_grid(explorer: AttentionExplorer, users: list[str]) -> np.ndarray:
    """``[L, H]`` mean entropy of the prediction position's attention over ``users``.

    Only attention is needed, so a user with nothing left to recommend counts too; users
    with an empty history are skipped (an :class:`EmptyHistoryError` when all are empty).
    """
    dataset, source, session = explorer.dataset, explorer.source, explorer.session
    grids = []
    for user in users:
        if (cached := session.cached(user)) is not None:  # explained already: no new run
            rows = cached.attentions[:, :, -1, :]
        else:
            history = dataset.sequence(user)[-source.max_len :]
            if len(history) == 0:
                continue
            rows = np.asarray(source.run([history]).attentions[0])[:, :, -1, -len(history) :]
        grids.append([[distribution_stats(h)["entropy"] for h in layer] for layer in rows])
    if not grids:
        raise EmptyHistoryError(f"none of the {len(users)} sampled users has a history")
    return np.mean(np.asarray(grids, dtype=np.float64), axis=0)


def feature_mass(explorer: AttentionExplorer) -> dict[str, float]:
    """Attention from the prediction position summed per feature value ("brand: X")."""
    expl = explorer.shown
    attn = selected_attention(
        expl.attentions,
        expl.rollout,
        layer=explorer.layer,
        head=explorer.head,
        layer_mode=explorer.layer_mode,
        head_mode=explorer.head_mode,
    )
    weights = np.nan_to_num(attn[-1])
    mass: dict[str, float] = defaultdict(float)
    for pos, index in enumerate(expl.history):
        for name, value in expl.catalog.feature_labels(int(index)).items():
            mass[f"{name}: {value}"] += float(weights[pos])
    return dict(mass)


READING_GUIDE = {
    "kendall_tau": "Kendall τ with occlusion: 1 = orders this user's items as removing them "
    "does, 0 = unrelated, −1 = reversed.",
    "r2_occlusion": "R²: share of the variation of the real score drops (occlusion) that a "
    "straight line through the method's weights explains; 1 = all of it, 0 = none.",
    "mi": "MI (nats): how much the most-attended item's feature value tells about the "
    "recommended item's, over the sampled users; only the excess over the shuffled "
    "baseline (the estimate's bias) is evidence.",
}
"""One line per figure of the dashboard's faithfulness panel, shown under it."""
TOP1_GUIDE = (
    "Top-1 agreement: share of the users for whom the method's most important item is "
    "occlusion's (the item whose removal lowers the recommendation's score most)."
)
"""The guide line of the agreement over users (shown with an explanations table)."""


def feature_mi(explorer: AttentionExplorer, users: list[str]) -> pd.DataFrame:
    """Per feature field, the MI between the most-attended history item's value and the top
    recommendation's over ``users`` (cached explanations reused; users with nothing to
    explain are skipped); see :func:`~attnwidget.explain.explanations_feature_mi`."""
    explanations = []
    for user in users:
        expl = explorer.session.cached(user)
        if expl is None:
            try:
                expl = explain(explorer.source, explorer.dataset, user, k=1)
            except AttnWidgetError:  # an empty history, nothing left to recommend
                continue
        explanations.append(expl)
    return explanations_feature_mi(explanations, "attention")


def user_faithfulness(explorer: AttentionExplorer) -> pd.DataFrame | None:
    """Per method (but occlusion): Kendall τ with occlusion and R² of occlusion from the
    method's weights, for the shown explanation; ``None`` while its occlusion is not computed
    (nothing is computed here)."""
    expl = explorer.shown
    if not expl.has_importance("occlusion"):
        return None
    occlusion = expl.method_importance("occlusion")
    agreement = expl.agreement()
    rows = {
        m: {
            "kendall_tau": agreement[m]["kendall_tau"],
            "r2_occlusion": occlusion_r2(expl.method_importance(m), occlusion)
            if expl.has_importance(m)
            else float("nan"),
        }
        for m in METHODS
        if m != "occlusion"
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def _number(value: float) -> str:
    return "–" if not np.isfinite(value) else f"{value:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table of escaped cells."""
    head = "".join(f"<th style='padding:0 8px'>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:0 8px'>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _section(title: str, header: list[str], rows: list[list[str]] | None) -> str:
    """A bold title over a table of escaped cells; nothing when ``rows`` is ``None``."""
    return "" if rows is None else f"<p><b>{title}</b></p>" + _table(header, rows)


def faithfulness_html(
    per_user: pd.DataFrame | None,
    mi: pd.DataFrame | None,
    n_users: int,
    *,
    agreement: pd.DataFrame | None = None,
    notes: list[str] | tuple[str, ...] = (),
    from_table: bool = False,
) -> str:
    """The faithfulness panel: this user's τ and R² per method, the sample's feature MI, and
    a reading guide line for each (every text escaped). With ``from_table`` the cross-user
    parts say they come from an explanations table; ``agreement`` (per method: mean τ,
    top-1 agreement, users) is shown when given; ``mi=None`` leaves the MI out; each of
    ``notes`` (what the table lacks) is a line of its own."""
    if per_user is None:
        user_part = "<p>This user: computing occlusion…</p>"
    else:
        user_part = "<p><b>This user</b></p>" + _table(
            ["method", "Kendall τ", "R²"],
            [
                [m, _number(r["kendall_tau"]), _number(r["r2_occlusion"])]
                for m, r in per_user.iterrows()
            ],
        )
    where = " (explanations table)" if from_table else ""
    mi_part = _section(
        f"Most-attended item vs recommendation, {n_users} users{where}",
        ["field", "MI", "shuffled", "excess"],
        None
        if mi is None
        else [
            [str(f), _number(r["mi"]), _number(r["mi_shuffled"]), _number(r["mi_excess"])]
            for f, r in mi.iterrows()
        ],
    )
    agreement_part = _section(
        f"Agreement with occlusion, mean over {n_users} users{where}",
        ["method", "Kendall τ", "top-1 agreement", "users"],
        None
        if agreement is None
        else [
            [str(m), _number(r["kendall_tau"]), _number(r["top1_agreement"]), str(int(r["users"]))]
            for m, r in agreement.iterrows()
        ],
    )
    note_part = "".join(f"<p><i>{html.escape(note)}</i></p>" for note in notes)
    lines = [*READING_GUIDE.values(), *([TOP1_GUIDE] if agreement is not None else [])]
    guide = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"{user_part}{mi_part}{agreement_part}{note_part}<ul style='font-size:11px'>{guide}</ul>"


def _cells_from_json(value: Any, widget: Any = None) -> np.ndarray | None:
    """The browser's selected cells (``[[row, column], ...]``) as an integer array.

    bqplot 0.13 reads a list of lists as an object array, which it then cannot send back
    (ipywidgets echoes every change): the assignment fails and the click is lost.
    """
    if isinstance(value, list) and all(isinstance(cell, list) for cell in value):
        return np.asarray(value, dtype=np.int64).reshape(-1, 2)
    return array_from_json(value, widget)


class CellGrid(bq.GridHeatMap):
    """A GridHeatMap whose selected cells come from the browser as integers."""

    selected = Array(None, allow_none=True).tag(
        sync=True, to_json=array_to_json, from_json=_cells_from_json
    )


class Dashboard(widgets.VBox):
    """The explorer with two bqplot figures linked to it.

    * mean attention entropy per layer × head over a sample of users (click a cell to
      move the explorer to that layer and head);
    * attention mass per feature value for the current user and view (of the edited
      history while a what-if edit is shown);
    * a faithfulness panel: for the shown explanation each method's Kendall τ with occlusion
      and the R² of occlusion from its weights (once occlusion is computed), and over the
      sampled users the mutual information between the most-attended item's feature values
      and the top recommendation's, with a shuffled baseline; a reading guide line each
      (:data:`READING_GUIDE`).

    The views over many users (the entropy grid, the feature MI) explain a sample of users
    with the model, unless ``explanations`` gives them: a table of
    :func:`~attnwidget.explain_users` (or its Parquet file from
    :func:`~attnwidget.write_explanations`). Then they are read from the table, with no model
    run, over its users; the panel adds each method's mean agreement with occlusion over
    them, and says so where the table lacks what a view needs (made without the
    ``attention`` or ``occlusion`` method), see :mod:`attnwidget.widget.dashboard_table`. The
    shown user's views (mass, this user's τ and R²) come from the explorer either way.

    Args:
        explorer: the explorer to link to.
        n_users: users sampled for the views over many users (≥ 1). Default: 50 of the
            explorer's users, or every user of ``explanations`` (given: that many of them).
        top: feature values shown in the bar chart (≥ 1).
        seed: seed of the user sample (≥ 0).
        explanations: a DataFrame from ``aw.explain_users`` or the path of the Parquet
            file ``aw.write_explanations`` wrote, of the explorer's model and dataset.

    Raises:
        TypeError / ValueError: arguments of the wrong type or out of range.
        ArgumentTypeError: ``explanations`` is neither a DataFrame nor a path.
        ArgumentValueError: the table is empty or not of the explorer's model and dataset
            (unknown users or items, other history lengths, layers × heads or fields).
        DataError: the table lacks columns, or the file is missing or not such a table.
    """

    def __init__(
        self,
        explorer: AttentionExplorer,
        *,
        n_users: int | None = None,
        top: int = 12,
        seed: int = 0,
        explanations: pd.DataFrame | str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(explorer, AttentionExplorer):
            raise ArgumentTypeError(
                f"explorer must be an AttentionExplorer, got {type(explorer).__name__}"
            )
        self.explorer = explorer
        self.top = check_int("top", top)
        if n_users is not None:
            n_users = check_int("n_users", n_users)
        seed = check_int("seed", seed, minimum=0)
        self.explanations: pd.DataFrame | None = None
        self.agreement: pd.DataFrame | None = None
        self.notes: list[str] = []
        if explanations is None:
            self.sample = sample_users(explorer.users, 50 if n_users is None else n_users, seed)
            grid = entropy_grid(explorer, self.sample)
            self.mi: pd.DataFrame | None = feature_mi(explorer, self.sample)
        else:
            views = table_views(explorer, explanations, n_users, seed)
            self.explanations, self.sample, grid = views.table, views.users, views.entropy
            self.mi, self.agreement, self.notes = views.mi, views.agreement, views.notes
        self.entropy = grid
        layers, heads = grid.shape
        self.grid = CellGrid(
            color=grid,
            row=list(range(layers)),
            column=list(range(heads)),
            scales={
                "row": bq.OrdinalScale(reverse=True),
                "column": bq.OrdinalScale(),
                "color": bq.ColorScale(scheme="viridis"),
            },
            interactions={"click": "select"},
            selected_style={"stroke": "red", "stroke-width": "3"},
            tooltip=bq.Tooltip(
                fields=["row", "column", "color"],
                labels=["layer", "head", "entropy"],
                formats=["", "", ".3f"],
            ),
        )
        row_axis = bq.Axis(scale=self.grid.scales["row"], side="left", label="layer")
        col_axis = bq.Axis(scale=self.grid.scales["column"], label="head")
        colour_bar = bq.ColorAxis(  # above the grid: bqplot draws no vertical bar here
            scale=self.grid.scales["color"], side="top", num_ticks=3, tick_format=".3f"
        )
        self.entropy_figure = bq.Figure(
            marks=[self.grid],
            axes=[row_axis, col_axis, colour_bar],
            title=f"Attention entropy (nats), {len(self.sample)} users"
            + (" (explanations table)" if self.explanations is not None else ""),
            title_style={"font-size": "14px"},
            layout=widgets.Layout(width="460px", height="340px"),
            fig_margin={"top": 160, "bottom": 50, "left": 60, "right": 20},
        )
        x, y = bq.OrdinalScale(), bq.LinearScale(min=0)
        self.bars = bq.Bars(x=[], y=[], scales={"x": x, "y": y}, colors=["#3b528b"])
        self.mass_figure = bq.Figure(
            marks=[self.bars],
            axes=[
                bq.Axis(scale=x, tick_rotate=-40, tick_style={"font-size": "9px"}),
                bq.Axis(scale=y, side="left", label="attention mass"),
            ],
            title="Attention mass per feature value",
            layout=widgets.Layout(width="520px", height="300px"),
            fig_margin={"top": 50, "bottom": 110, "left": 60, "right": 10},
        )
        self.faithfulness = widgets.HTML(layout=widgets.Layout(width="980px"))
        self.grid.observe(self._cell_clicked, "selected")
        explorer.observe(self._refresh, ["payload", "layer", "head", "layer_mode", "head_mode"])
        self._refresh()
        charts = widgets.HBox([self.entropy_figure, self.mass_figure])
        super().__init__([explorer, charts, self.faithfulness], **kwargs)

    def _cell_clicked(self, change: dict[str, Any]) -> None:
        cells = change["new"]
        if cells is None or len(cells) == 0:
            return
        layer, head = (int(v) for v in np.asarray(cells)[-1])
        try:
            with self.explorer.hold_trait_notifications():
                self.explorer.layer_mode, self.explorer.head_mode = "layer", "head"
                self.explorer.layer, self.explorer.head = layer, head
        except t.TraitError as err:  # a cell outside the shown model (rolled back as a whole)
            self.explorer.error = str(err)

    def _refresh(self, _change: Any = None) -> None:
        try:
            found = feature_mass(self.explorer)
        except AttnWidgetError as err:  # shown in the explorer, not lost in an observer
            self.explorer.error, found = f"attention mass per feature value: {err}", {}
        mass = sorted(found.items(), key=lambda kv: -kv[1])[: self.top]
        with self.bars.hold_sync():
            self.bars.x = [name for name, _ in mass]
            self.bars.y = [value for _, value in mass]
        try:
            per_user = user_faithfulness(self.explorer)
        except AttnWidgetError as err:
            self.explorer.error, per_user = f"faithfulness figures: {err}", None
        self.faithfulness.value = faithfulness_html(
            per_user,
            self.mi,
            len(self.sample),
            agreement=self.agreement,
            notes=self.notes,
            from_table=self.explanations is not None,
        )
