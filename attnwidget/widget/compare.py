"""CompareExplorer: one history through two models, or two users through one model, side
by side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anywidget
import traitlets as t

from ..checks import check_int
from ..data import Dataset
from ..errors import (
    ArgumentTypeError,
    ArgumentValueError,
    AttnWidgetError,
    DataError,
    UnknownUserError,
)
from ..explain import FAST_METHODS, Explanation, explain
from ..sources import as_source
from .bundle import CSS, STATIC
from .explanation_pack import explanation_pack
from .traits import RefusesChanges

COMPARE_BUNDLE = STATIC / "compare.js"


def _compare_bundle() -> Any:
    if not COMPARE_BUNDLE.is_file():
        raise FileNotFoundError(
            f"the compare view's bundle {COMPARE_BUNDLE} is missing: build it with "
            "`cd js && npm install && npm run build`, or reinstall attnwidget with pip"
        )
    return COMPARE_BUNDLE


class CompareExplorer(RefusesChanges, anywidget.AnyWidget):
    """Two explanations side by side: the same history through two models (before and
    after retraining, SASRec and a model you brought), or two users through one model.
    Their recommendations are shown side by side with what differs (only in one top-k,
    moved up or down), each side's attention, and the difference (B − A) per layer and
    head as a diverging heatmap where it is defined. Hovering an item or a cell lights it
    in every view.

    **Two models** (``user_b`` not given): side A is ``user`` through ``model_a``, side B
    the same user through ``model_b``; the widget has one user box. Layers and heads are
    compared up to the number both models have (the head mean when their head counts
    differ), and histories cut to different lengths over the last items both saw.

    **Two users** (``user_b`` given, or :meth:`two_users`): side A is ``user`` through
    ``model_a``, side B is ``user_b`` through ``model_b`` (pass the same model twice to
    compare two users of one model); the widget has a box for each user and the labels
    default to the two user ids (following the users shown). Attention weights at the
    same position of two different histories are over different items, so the
    difference heatmap is shown only when the two histories end with the same items (as
    for two models: over the last items both saw); otherwise the view hides it and says
    why. Hovering an item lights it in both users' heatmaps wherever it occurs.

    Args:
        model_a, model_b: a :class:`~attnwidget.SASRec` or any attention source each.
        dataset: the users and their histories.
        user: the user shown first on side A (default: the dataset's first).
        user_b: the user shown on side B; giving it compares two users.
        labels: the two sides' names in the views (default: ``"A"``, ``"B"`` for two
            models, the two user ids for two users).
        k: recommendations per side.

    Raises:
        TypeError: ``dataset`` is not a Dataset or a model is not a source.
        ValueError: ``labels`` is not two non-empty names, or ``k`` is below 1.
        UnknownUserError: ``user`` or ``user_b`` is not in ``dataset``.

    A ``user`` typed in the widget (or set in Python) that cannot be shown (unknown,
    empty history) is named in :attr:`error` and the previous user stays. A ``user_b``
    that cannot be shown is named in :attr:`error` too and the shown pair stays; set in
    Python it also raises (:class:`~attnwidget.UnknownUserError` for an unknown user,
    the explanation's error otherwise), as a ``TraitError`` that is also that error.
    """

    _esm = _compare_bundle()
    _css = CSS

    user = t.Unicode("").tag(sync=True)
    user_b = t.Unicode("").tag(sync=True)
    mode = t.Enum(["models", "users"], default_value="models", read_only=True).tag(sync=True)
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
        user_b: Any = None,
        labels: Sequence[str] | None = None,
        k: int = 10,
        **kwargs: Any,
    ) -> None:
        if not isinstance(dataset, Dataset):
            raise ArgumentTypeError(
                f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}"
            )
        names = ["A", "B"]
        if labels is not None:
            names = [str(label) for label in labels] if not isinstance(labels, str) else []
            if len(names) != 2 or not all(n.strip() for n in names):
                raise ArgumentValueError(f"labels must be two non-empty names, got {labels!r}")
        self.dataset = dataset
        self.sources = (as_source(model_a), as_source(model_b))
        self.k = check_int("k", k, minimum=1)
        self.explanations: tuple[Explanation, Explanation] | None = None
        self._auto_labels = labels is None and user_b is not None
        self._prepared_b: Explanation | None = None
        first = dataset.users[0] if user is None else user
        dataset.user_position(first)  # an unknown user is named here, not in the widget
        if user_b is not None:
            dataset.user_position(user_b)
        super().__init__(labels=names, **kwargs)
        self.set_trait("mode", "models" if user_b is None else "users")
        self._show(str(first), None if user_b is None else str(user_b), raise_errors=True)

    @classmethod
    def two_users(
        cls,
        model: Any,
        dataset: Dataset,
        user_a: Any,
        user_b: Any,
        *,
        labels: Sequence[str] | None = None,
        k: int = 10,
        **kwargs: Any,
    ) -> CompareExplorer:
        """Two users through one model: ``CompareExplorer(model, model, dataset, user_a,
        user_b=user_b)``. Raises as the constructor does."""
        return cls(model, model, dataset, user_a, user_b=user_b, labels=labels, k=k, **kwargs)

    # --- side A (both sides when comparing two models) ---------------------------------
    @t.observe("user")
    def _new_user(self, change: t.Bunch) -> None:
        if self.explanations is None or change["new"] == self.explanations[0].user:
            return
        self._show(change["new"], None, raise_errors=False)

    def _explain(self, side: int, user: Any) -> Explanation:
        position = self.dataset.user_position(user)
        return explain(self.sources[side], self.dataset, self.dataset.users[position], k=self.k)

    def _show(self, user: str, user_b: str | None, *, raise_errors: bool) -> None:
        """Show ``user`` on side A and, comparing models, on side B (comparing users, side
        B shows ``user_b``, or keeps its user when None)."""
        try:
            a = self._explain(0, user)
            if self.mode == "models":
                b = self._explain(1, a.user)
            elif user_b is not None:
                b = self._explain(1, user_b)
            else:
                b = self.explanations[1]  # type: ignore[index]
        except AttnWidgetError as err:
            if raise_errors:
                raise
            self.error = f"user {user!r}: {err}"
            if self.explanations is not None:
                self.user = str(self.explanations[0].user)  # the shown user stays
            return
        self._publish(a, b)

    def _publish(self, a: Explanation, b: Explanation) -> None:
        old = self.explanations
        self.explanations = (a, b)
        with self.hold_trait_notifications():
            self.error = ""
            self.user = str(a.user)
            if self.mode == "users":
                self.user_b = str(b.user)
            if self._auto_labels:
                self.labels = [str(a.user), str(b.user)]
            if old is None or old[0] is not a:
                self.pack_a = explanation_pack(a, methods=FAST_METHODS)
            if old is None or old[1] is not b:
                self.pack_b = explanation_pack(b, methods=FAST_METHODS)

    # --- side B when comparing two users -----------------------------------------------
    @t.validate("user_b")
    def _valid_user_b(self, proposal: t.Bunch) -> str:
        value = proposal["value"]
        if self.explanations is None:  # set by _publish while the widget is made
            return value
        if self.mode != "users":
            raise self._refused(
                DataError,
                f"user B {value!r}: this view compares two models on one user; make it "
                "with user_b=... (or CompareExplorer.two_users) to compare two users",
            )
        try:
            user_id = str(self.dataset.users[self.dataset.user_position(value)])
        except UnknownUserError as err:
            raise self._refused(UnknownUserError, f"user B: {err}") from None
        if user_id != str(self.explanations[1].user):
            try:
                self._prepared_b = self._explain(1, user_id)
            except AttnWidgetError as err:
                raise self._refused(type(err), f"user B {user_id!r}: {err}") from None
        return user_id

    @t.observe("user_b")
    def _new_user_b(self, change: t.Bunch) -> None:
        prepared, self._prepared_b = self._prepared_b, None
        if prepared is None or self.explanations is None:
            return
        self._publish(self.explanations[0], prepared)

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply a change from the browser. A ``user_b`` that cannot be shown becomes a
        message in ``error`` (not an exception in the kernel's log) and the user boxes are
        set back to the shown pair. The mode is Python's to set."""
        if not isinstance(sync_data, dict):
            self.error = f"ignored a state change from the browser: {type(sync_data).__name__}"
            return
        try:
            super().set_state({k: v for k, v in sync_data.items() if k != "mode"})
        except Exception as err:  # shown in the view, never lost in the kernel log
            self._prepared_b = None
            self.error = ""  # the same message twice must still reach the front end
            self.error = str(err)
            self.send_state(["user", "user_b"])
