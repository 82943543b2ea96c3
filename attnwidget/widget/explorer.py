"""AttentionExplorer: the anywidget that shows one user's attention, linked across views."""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ..data import Dataset
from ..errors import AttnWidgetError, UnknownItemError, UnknownUserError
from ..explain import METHODS, Explanation, explain, explain_indices, faithfulness_report
from ..sources import as_source, can_rerun
from .explanation_pack import explanation_pack, what_if_summary
from .html_export import save_html
from .payload import encode_archive

STATIC = Path(__file__).resolve().parent.parent / "static"


def _bundle() -> Path:
    path = STATIC / "widget.js"
    if not path.is_file():
        raise FileNotFoundError(
            f"the widget's JavaScript bundle {path} is missing: build it with "
            "`cd js && npm install && npm run build`, or reinstall attnwidget with pip"
        )
    return path


FAST_METHODS = ("attention", "rollout", "gradient")
# Occlusion starts this long after a view is shown, so the browser can draw the fast pack
# on a free core, and flipping quickly through users skips work that would be stale.
BACKGROUND_DELAY_S = 0.3


class UnknownUserTraitError(t.TraitError, UnknownUserError):
    """An unknown user set on the widget (a ``KeyError`` and a ``TraitError``)."""


class UnknownItemTraitError(t.TraitError, UnknownItemError):
    """An unknown item id in ``history_edit`` (a ``KeyError`` and a ``TraitError``)."""


class AttentionExplorer(anywidget.AnyWidget):
    """Linked attention views for one user at a time.

    Args:
        model: a trained :class:`~attnwidget.SASRec` or any
            :class:`~attnwidget.sources.AttentionSource`.
        dataset: the users and their histories.
        users: the users the selector offers (default: all, in dataset order).
        k: number of recommendations shown.
        cache_size: explanations kept per user (least recently used are dropped).
        agreement_users: users sampled to find which importance method agrees best with
            occlusion on this model (the why-panel's default method).

    The synced attributes are the API: set ``user``, ``layer``, ``head``,
    ``layer_mode`` ("layer" or "rollout") or ``head_mode`` ("head" or "mean") from
    Python and the views follow; moving a control in the browser updates them.
    Switching layer or head is drawn in the browser from data already sent.
    ``history_edit`` (item ids, oldest first; empty = the user's own history) asks
    "what if the history were this?": the views show the edited history's explanation
    and which recommendations entered or left the top-k. ``method`` is the importance
    method the "why" panel shows ("" = the one that agrees best with occlusion).

    A new user or edit is drawn at once from attention, rollout and gradient importance;
    occlusion (one forward pass per history item) follows from a background thread.
    :meth:`wait` blocks until it is done.
    """

    _esm = _bundle()
    _css = STATIC / "widget.css" if (STATIC / "widget.css").is_file() else None

    user = t.Unicode("").tag(sync=True)
    users = t.List(t.Unicode()).tag(sync=True)
    layer = t.Int(0).tag(sync=True)
    head = t.Int(0).tag(sync=True)
    layer_mode = t.Enum(["layer", "rollout"], default_value="layer").tag(sync=True)
    head_mode = t.Enum(["head", "mean"], default_value="head").tag(sync=True)
    payload = t.Bytes(b"").tag(sync=True)
    archive = t.Bytes(b"").tag(sync=True)
    error = t.Unicode("").tag(sync=True)
    status = t.Unicode("").tag(sync=True)
    selection = t.List(t.Int()).tag(sync=True)
    history_edit = t.List(t.Unicode()).tag(sync=True)
    method = t.Enum(["", *METHODS], default_value="").tag(sync=True)

    def __init__(
        self,
        model: Any,
        dataset: Dataset,
        users: Sequence[Any] | None = None,
        k: int = 10,
        *,
        cache_size: int = 64,
        agreement_users: int = 30,
        **kwargs: Any,
    ) -> None:
        if not isinstance(dataset, Dataset):
            raise TypeError(f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}")
        if k < 1:
            raise ValueError(f"k must be ≥ 1, got {k}")
        self.source = as_source(model)
        self.dataset = dataset.aligned_to(self.source.catalog)
        self.k = int(k)
        self._cache: OrderedDict[str, tuple[Explanation, bytes]] = OrderedDict()
        self._cache_size = max(1, int(cache_size))
        self._agreement_users = agreement_users
        self._agreement: dict[str, dict[str, float]] | None = None
        self._agreement_n = 0
        self._switching = False
        self._shown: Explanation | None = None
        self._lock = threading.RLock()
        self._shown_count = 0
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attnwidget")
        self._background: Future[None] | None = None
        self.edited: Explanation | None = None
        """The explanation of ``history_edit`` (``None`` while it is empty)."""
        if users is None:  # a precomputed source only has some users' data
            users = getattr(self.source, "users", None) or self.dataset.users
        chosen = list(users)
        if not chosen:
            raise ValueError("users is empty: give at least one user to explore")
        for u in chosen:
            self.dataset.user_position(u)  # raises UnknownUserError naming the user
        super().__init__(users=[str(u) for u in chosen], **kwargs)
        self.on_msg(self._on_message)
        self.user = str(chosen[0])

    # --- explanations -------------------------------------------------------------------
    def explanation(self, user: Any | None = None) -> Explanation:
        """The (cached) explanation of ``user`` (default: the current user), all methods."""
        return self._explained(self.user if user is None else str(user))[0]

    def _cached(self, user: str) -> tuple[Explanation, bytes] | None:
        """The user's complete explanation and pack, if kept (marked as recently used)."""
        with self._lock:
            if user not in self._cache:
                return None
            self._cache.move_to_end(user)
            return self._cache[user]

    def _explain(self, user: str) -> Explanation:
        if (cached := self._cached(user)) is not None:
            return cached[0]
        position = self.dataset.user_position(user)
        return explain(self.source, self.dataset, self.dataset.users[position], k=self.k)

    def _explained(self, user: str) -> tuple[Explanation, bytes]:
        """The user's explanation with every method computed, and its pack (cached)."""
        if (cached := self._cached(user)) is not None:
            return cached
        expl = self._explain(user)
        pack = self._pack(expl)
        self._remember(user, expl, pack)
        return expl, pack

    def _remember(self, user: str, expl: Explanation, pack: bytes) -> None:
        with self._lock:
            self._cache[user] = (expl, pack)
            self._cache.move_to_end(user)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    @property
    def agreement(self) -> dict[str, dict[str, float]]:
        """Mean Kendall τ and top-1 agreement with occlusion per method, over a user sample
        (``agreement_users`` of the explorer's users; computed once)."""
        if self._agreement is None:
            try:
                report = faithfulness_report(
                    self.source,
                    self.dataset,
                    self.users,
                    n_users=self._agreement_users,
                    progress=False,
                )
            except ValueError:  # no user with 2+ items: nothing to compare
                report = None
            self._agreement = {
                m: {
                    key: (
                        float(report.loc[m, key])
                        if report is not None and m in report.index
                        else float("nan")
                    )
                    for key in ("kendall_tau", "top1_agreement")
                }
                for m in METHODS
            }
            self._agreement_n = int(report["users"].iloc[0]) if report is not None else 0
        return self._agreement

    def _pack(self, expl: Explanation, *, editable: bool = True, **options: Any) -> bytes:
        editable = editable and can_rerun(self.source)
        if self._agreement_users and can_rerun(self.source):
            options |= {"agreement": self.agreement, "agreement_users": self._agreement_n}
        return explanation_pack(expl, editable=editable, **options)

    def _display(self, pack: bytes, status: str = "") -> int:
        """Show ``pack``; returns its number, so late background work can tell it is stale."""
        with self._lock:
            self._shown_count += 1
            self.payload = pack
            self.status = status
            return self._shown_count

    def _show(self, expl: Explanation, user: str | None = None, **options: Any) -> None:
        """Show ``expl``. When occlusion (one forward pass per history item) is still to
        compute, a fast pack (attention, rollout, gradient) is shown at once and the
        complete one follows from a background thread, unless the view moved on."""
        if all(expl.has_importance(m) for m in METHODS):
            pack = self._pack(expl, **options)
            if user is not None:
                self._remember(user, expl, pack)
            self._display(pack)
            return
        number = self._display(
            self._pack(expl, methods=FAST_METHODS, **options), "computing occlusion…"
        )
        self._background = self._worker.submit(self._complete, number, expl, user, options)

    def _complete(self, number: int, expl: Explanation, user: str | None, options: Any) -> None:
        time.sleep(BACKGROUND_DELAY_S)  # let the fast pack travel and draw first
        if number != self._shown_count:  # the view moved on before this started: skip
            return
        try:
            pack = self._pack(expl, **options)
        except Exception as err:  # shown in the widget, not lost in the thread
            with self._lock:
                if number == self._shown_count:
                    self.error, self.status = f"could not compute occlusion: {err}", ""
            return
        if user is not None:
            self._remember(user, expl, pack)
        with self._lock:
            if number == self._shown_count:
                self.payload = pack
                self.status = ""

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background work (occlusion of the shown history) is done."""
        if self._background is not None:
            self._background.result(timeout)

    def search_items(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Items whose id or title contains ``query`` (case-insensitive), to add to a history."""
        needle = query.strip().lower()
        if not needle:
            return []
        catalog = self.source.catalog
        found = (
            {"id": str(item_id), "title": title}
            for item_id, title in zip(catalog.item_ids, catalog.titles, strict=True)
            if needle in title.lower() or needle in str(item_id).lower()
        )
        return list(itertools.islice(found, max(0, limit)))

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "search":
            query = str(content.get("query", ""))
            self.send({"type": "search_results", "query": query, "items": self.search_items(query)})

    @property
    def n_layers(self) -> int:
        return int(self._shown.attentions.shape[0])

    @property
    def n_heads(self) -> int:
        return int(self._shown.attentions.shape[1])

    # --- validation and updates ----------------------------------------------------------
    @t.validate("user")
    def _valid_user(self, proposal: t.Bunch) -> str:
        user = str(proposal["value"])
        try:
            self.dataset.user_position(user)
        except UnknownUserError as err:
            self.error = str(err)
            raise UnknownUserTraitError(str(err)) from None
        return user

    @t.observe("user")
    def _show_user(self, change: t.Bunch) -> None:
        user = change["new"]
        self.status = "loading"
        try:
            expl = self._explain(user)
        except AttnWidgetError as err:
            self.error = str(err)
            self.status = ""
            return
        self._shown = expl
        self._switching = True
        try:
            with self.hold_sync():
                self.layer = min(self.layer, expl.attentions.shape[0] - 1)
                self.head = min(self.head, expl.attentions.shape[1] - 1)
                self.selection = []
                self.history_edit = []
                self.error = ""
        finally:
            self._switching = False
        self._show_original(user, expl)

    def _show_original(self, user: str, expl: Explanation) -> None:
        if (cached := self._cached(user)) is not None:
            self._display(cached[1])
        else:
            self._show(expl, user=user)

    @t.validate("history_edit")
    def _valid_edit(self, proposal: t.Bunch) -> list[str]:
        ids = [str(i) for i in proposal["value"]]
        try:
            self.source.catalog.encode(ids)
        except UnknownItemError as err:
            self.error = err.args[0]
            raise UnknownItemTraitError(err.args[0]) from None
        return ids

    @t.observe("history_edit")
    def _show_edit(self, change: t.Bunch) -> None:
        self.edited = None
        if self._switching:
            return
        original = self._explain(self.user)
        if not change["new"]:
            self._show_original(self.user, original)
            return
        # The edit is of the items the model sees; older ones cut off by max_len still
        # count as bought (never recommended) but stay out of the model's view.
        full = self.dataset.sequence(self.user)
        try:
            edited = explain_indices(
                self.source,
                self.source.catalog.encode(change["new"]),
                k=self.k,
                bought_before=full[: len(full) - len(original.history)],
                user=self.user,
            )
        except AttnWidgetError as err:
            self.error = str(err)
            return
        self.edited = edited
        self.error = ""
        self._show(edited, what_if=what_if_summary(original, edited))

    @t.validate("layer", "head")
    def _valid_index(self, proposal: t.Bunch) -> int:
        name, value = proposal["trait"].name, int(proposal["value"])
        if self._shown is None:
            return value
        size = self.n_layers if name == "layer" else self.n_heads
        if not 0 <= value < size:
            raise t.TraitError(f"{name} must be in 0..{size - 1}, got {value}")
        return value

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply a change from the browser; an unknown user id becomes a message in the widget."""
        try:
            super().set_state(sync_data)
        except t.TraitError as err:
            self.error = str(err)
            self.send_state(["user", "layer", "head", "history_edit", "method"])

    # --- sharing -------------------------------------------------------------------------
    def save_html(self, path: str | Path, users: Sequence[Any] | None = None) -> Path:
        """Write a standalone page holding the given users' data (default: the current user).

        The page works with no kernel and no network; its user slider moves over ``users``.
        """
        chosen = [str(u) for u in (users if users is not None else [self.user])]
        if not chosen:
            raise ValueError("users is empty: give at least one user to export")
        packs = [
            self._pack(
                self.explanation(self.dataset.users[self.dataset.user_position(u)]), editable=False
            )
            for u in chosen
        ]
        saved = (self.users, self.user)
        try:
            with self.hold_sync():
                self.archive = encode_archive(packs)
                self.users = chosen
                if self.user not in chosen:
                    self.user = chosen[0]
            return save_html(self, path, title="attnwidget explorer")
        finally:
            with self.hold_sync():
                self.archive = b""
                self.users, self.user = saved
