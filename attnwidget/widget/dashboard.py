"""Dashboard: the explorer beside bqplot charts linked to it through traitlets."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from ..explain import distribution_stats, explain_indices
from .explorer import AttentionExplorer


def sample_users(users: list[str], n_users: int, seed: int = 0) -> list[str]:
    """Up to ``n_users`` of ``users``, drawn without replacement with ``seed``."""
    rng = np.random.default_rng(seed)
    return [users[i] for i in rng.choice(len(users), size=min(n_users, len(users)), replace=False)]


def entropy_grid(explorer: AttentionExplorer, users: list[str]) -> np.ndarray:
    """``[L, H]`` mean entropy of the prediction position's attention over ``users``."""
    dataset, source = explorer.dataset, explorer.source
    total = None
    for user in users:
        history = dataset.sequence(user)
        rows = explain_indices(source, history, k=1).attentions[:, :, -1, :]
        grid = np.array([[distribution_stats(h)["entropy"] for h in layer] for layer in rows])
        total = grid if total is None else total + grid
    return total / len(users)


def feature_mass(explorer: AttentionExplorer) -> dict[str, float]:
    """Attention from the prediction position summed per feature value ("brand: X")."""
    expl = explorer.explanation()
    attn = (
        expl.rollout[explorer.layer]
        if explorer.layer_mode == "rollout"
        else (
            expl.attentions[explorer.layer].mean(0)
            if explorer.head_mode == "mean"
            else expl.attentions[explorer.layer, explorer.head]
        )
    )
    weights = np.nan_to_num(attn[-1])
    mass: dict[str, float] = defaultdict(float)
    for pos, index in enumerate(expl.history):
        for name, value in expl.catalog.feature_labels(int(index)).items():
            mass[f"{name}: {value}"] += float(weights[pos])
    return dict(mass)


class Dashboard(widgets.VBox):
    """The explorer with two bqplot figures linked to it.

    * mean attention entropy per layer × head over a sample of users (click a cell to
      move the explorer to that layer and head);
    * attention mass per feature value for the current user and view.
    """

    def __init__(
        self,
        explorer: AttentionExplorer,
        *,
        n_users: int = 50,
        top: int = 12,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        self.explorer = explorer
        self.top = top
        self.sample = sample_users(explorer.users, n_users, seed)
        grid = entropy_grid(explorer, self.sample)
        self.entropy = grid
        layers, heads = grid.shape
        self.grid = bq.GridHeatMap(
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
        self.entropy_figure = bq.Figure(
            marks=[self.grid],
            axes=[row_axis, col_axis],
            title=f"Entropy of the prediction position's attention ({len(self.sample)} users)",
            layout=widgets.Layout(width="420px", height="300px"),
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
        self.grid.observe(self._cell_clicked, "selected")
        explorer.observe(self._refresh, ["payload", "layer", "head", "layer_mode", "head_mode"])
        self._refresh()
        charts = widgets.HBox([self.entropy_figure, self.mass_figure])
        super().__init__([explorer, charts], **kwargs)

    def _cell_clicked(self, change: dict[str, Any]) -> None:
        cells = change["new"]
        if cells is None or len(cells) == 0:
            return
        layer, head = (int(v) for v in np.asarray(cells)[-1])
        with self.explorer.hold_trait_notifications():
            self.explorer.layer_mode, self.explorer.head_mode = "layer", "head"
            self.explorer.layer, self.explorer.head = layer, head

    def _refresh(self, _change: Any = None) -> None:
        mass = sorted(feature_mass(self.explorer).items(), key=lambda kv: -kv[1])[: self.top]
        with self.bars.hold_sync():
            self.bars.x = [name for name, _ in mass]
            self.bars.y = [value for _, value in mass]
