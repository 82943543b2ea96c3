"""CompareExplorer: one user's history through two models, side by side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anywidget
import traitlets as t

from ..checks import check_int
from ..data import Dataset
from ..errors import ArgumentTypeError, ArgumentValueError, AttnWidgetError
from ..explain import FAST_METHODS, Explanation, explain
from ..sources import as_source
from .bundle import CSS, STATIC
from .explanation_pack import explanation_pack

COMPARE_BUNDLE = STATIC / "compare.js"


def _compare_bundle() -> Any:
    if not COMPARE_BUNDLE.is_file():
        raise FileNotFoundError(
            f"the compare view's bundle {COMPARE_BUNDLE} is missing: build it with "
            "`cd js && npm install && npm run build`, or reinstall attnwidget with pip"
        )
    return COMPARE_BUNDLE


class CompareExplorer(anywidget.AnyWidget):
    """The same history through two models (before and after retraining, SASRec and a
    model you brought): their recommendations side by side with what differs (only in one
    top-k, moved up or down), each model's attention, and the difference (B − A) per layer
    and head as a diverging heatmap. Hovering an item or a cell lights it in every view.

    Args:
        model_a, model_b: a :class:`~attnwidget.SASRec` or any attention source each; layers
            and heads are compared up to the number both have (the head mean when their head
            counts differ).
        dataset: the users and their histories.
        user: the user shown first (default: the dataset's first).
        labels: the two models' names in the views.
        k: recommendations per model.

    Raises:
        TypeError: ``dataset`` is not a Dataset or a model is not a source.
        ValueError: ``labels`` is not two non-empty names, or ``k`` is below 1.
        UnknownUserError: ``user`` is not in ``dataset``.

    A user typed in the widget that cannot be shown (unknown, empty history) is named in
    :attr:`error` and the previous user stays.
    """

    _esm = _compare_bundle()
    _css = CSS

    user = t.Unicode("").tag(sync=True)
    layer = t.Int(0).tag(sync=True)
    head = t.Int(0).tag(sync=True)
    head_mode = t.Enum(["head", "mean"], default_value="head").tag(sync=True)
    labels = t.List(t.Unicode(), default_value=["A", "B"]).tag(sync=True)
    pack_a = t.Bytes(b"").tag(sync=True)
    pack_b = t.Bytes(b"").tag(sync=True)
    error = t.Unicode("").tag(sync=True)

    def __init__(
        self,
        model_a: Any,
        model_b: Any,
        dataset: Dataset,
        user: Any = None,
        *,
        labels: Sequence[str] = ("A", "B"),
        k: int = 10,
        **kwargs: Any,
    ) -> None:
        if not isinstance(dataset, Dataset):
            raise ArgumentTypeError(
                f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}"
            )
        names = [str(label) for label in labels] if not isinstance(labels, str) else []
        if len(names) != 2 or not all(n.strip() for n in names):
            raise ArgumentValueError(f"labels must be two non-empty names, got {labels!r}")
        self.dataset = dataset
        self.sources = (as_source(model_a), as_source(model_b))
        self.k = check_int("k", k, minimum=1)
        self.explanations: tuple[Explanation, Explanation] | None = None
        first = dataset.users[0] if user is None else user
        dataset.user_position(first)  # an unknown user is named here, not in the widget
        super().__init__(labels=names, **kwargs)
        self._show(str(first), raise_errors=True)

    @t.observe("user")
    def _new_user(self, change: t.Bunch) -> None:
        if self.explanations is None or change["new"] == self.explanations[0].user:
            return
        self._show(change["new"], raise_errors=False)

    def _show(self, user: str, *, raise_errors: bool) -> None:
        try:
            position = self.dataset.user_position(user)
            user_id = self.dataset.users[position]
            pair = tuple(explain(s, self.dataset, user_id, k=self.k) for s in self.sources)
        except AttnWidgetError as err:
            if raise_errors:
                raise
            self.error = f"user {user!r}: {err}"
            if self.explanations is not None:
                self.user = str(self.explanations[0].user)  # the shown user stays
            return
        self.explanations = pair  # type: ignore[assignment]
        with self.hold_trait_notifications():
            self.error = ""
            self.user = str(user_id)
            self.pack_a, self.pack_b = (
                explanation_pack(e, methods=FAST_METHODS) for e in self.explanations
            )
