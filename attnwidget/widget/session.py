"""ExplorerSession: the explorer's work in plain Python, with no widget or traits.

It explains users through a source and keeps their explanations (a bounded LRU), makes
the packs the front end draws, explains the users next to the shown one ahead, completes
a shown view's gradient and occlusion in the background, computes the model-level
agreement, answers what-if edits and searches users and the catalogue. What a view shows reaches
the outside through one callback, ``publish(pack, status)``; the widget
(:class:`~attnwidget.widget.explorer.AttentionExplorer`) turns it into trait changes.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data import Dataset
from ..explain import (
    FAST_METHODS,
    METHODS,
    Agreement,
    Explanation,
    FeatureEdit,
    explain,
    explain_indices,
    explain_with_features,
    method_agreement,
    sample_users,
)
from ..foreground import foreground, give_way, mark_background
from ..sources import AttentionSource, can_rerun
from .explanation_pack import explanation_pack, what_if_summary
from .feature_whatif import feature_summary, feature_vocabulary
from .payload import read_header, replace_header
from .users import SEARCH_LIMIT, UserList

# Gradient and occlusion start this long after a view is shown, so the browser can draw the
# fast pack on a free core, and flipping quickly through users skips work that would be stale.
BACKGROUND_DELAY_S = 0.3
BACKGROUND_NICE = 10
PREFETCH = 2
"""Users either side of the shown one on the slider whose first view is made in the
background after it, so that moving the slider shows a view made ahead."""
PENDING_STATUS = "computing gradient and occlusion…"
TITLE_CHARS = 200
"""Item titles in search results are cut to this many characters (a bounded message)."""

Publish = Callable[[bytes, str], None]
"""Show a pack with a status line ("" once the view is complete)."""


def _background_thread() -> None:
    """Make a thread background work: its model runs wait while the kernel answers the
    browser (:mod:`attnwidget.foreground`), and on Linux its nice value (inherited by the
    torch threads it starts) is lowered, so that occlusion and explaining ahead never slow
    down the kernel's answer, the server or the browser itself on a small machine."""
    mark_background()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)


@dataclass
class View:
    """What a change shows: the explanation and its first pack, made before the change."""

    expl: Explanation
    pack: bytes
    complete: bool  # every importance method is in the pack
    user: str | None = None  # the cache key of a user's own history; None for an edit
    options: dict[str, Any] = field(default_factory=dict)


class ExplorerSession:
    """Explanations of ``dataset``'s users through ``source``, made for showing.

    Args:
        source: the model, as an :class:`~attnwidget.sources.AttentionSource`.
        dataset: the users and their histories, aligned to the source's catalogue.
        publish: called with each pack to show and its status line, from the caller's
            thread for a view it asked to show, from a background thread for its
            completion (with the model-level agreement, or gradient and occlusion).
        k: number of recommendations.
        cache_size: complete explanations kept (least recently used are dropped).
        agreement_users: users sampled for the model-level agreement (0: none).
        on_error: called with a message when background work for the shown view fails.
    """

    def __init__(
        self,
        source: AttentionSource,
        dataset: Dataset,
        publish: Publish,
        *,
        k: int = 10,
        cache_size: int = 64,
        agreement_users: int = 30,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.source, self.dataset, self.k = source, dataset, k
        self._publish, self._on_error = publish, on_error or (lambda _message: None)
        self._cache_size = cache_size
        self._agreement_users = agreement_users
        self.feature_values = feature_vocabulary(source)
        """The values a feature what-if may set, per field, as packs offer them (``None``:
        the source cannot edit features)."""
        self.users = UserList(dataset)
        """The slider's users (default: all): their neighbours are explained ahead."""
        self._cache: OrderedDict[str, Explanation] = OrderedDict()  # every method computed
        self._packs: dict[str, tuple[int, bytes]] = {}  # cached users' complete packs
        self._ahead: dict[str, View] = {}  # first views of the shown user's neighbours
        self._agreement_version = 0  # a pack made under another agreement is made again
        self._agreement: Agreement | None = None
        self._agreement_n = 0
        self._agreement_job: Future[None] | None = None
        self._refresh: Future[None] | None = None
        self._background: Future[None] | None = None
        self._shown: View | None = None
        self._shown_count = 0  # views shown so far: late background work checks it
        self._lock = threading.RLock()
        self._worker = ThreadPoolExecutor(1, "attnwidget", initializer=_background_thread)
        self._agreement_worker = ThreadPoolExecutor(
            1, "attnwidget-agreement", initializer=_background_thread
        )

    # --- users --------------------------------------------------------------------------
    def neighbours(self, user: str) -> list[str]:
        """The users next to ``user`` on the slider, nearest first (after, then before)."""
        at = self.users.position(user)
        if at is None:
            return []
        near = [at + d * s for d in range(1, PREFETCH + 1) for s in (1, -1)]
        return [self.users[i] for i in near if 0 <= i < len(self.users)]

    def search_users(self, query: str, limit: int = SEARCH_LIMIT) -> tuple[list[str], bool]:
        """Ids of the slider's users that start with or contain ``query`` (case-insensitive
        plain text; prefix matches first), at most ``limit``, and whether more match."""
        return self.users.search(query, limit)

    # --- explanations -------------------------------------------------------------------
    def explanation(self, user: str) -> Explanation:
        """The user's explanation with every method, the feature occlusion, the reasons and
        the counterfactual computed (cached)."""
        if (cached := self.cached(user)) is not None:
            return cached
        expl = self.explain(user)
        for method in METHODS:
            expl.method_importance(method)
        for step in _extras(expl):
            step()
        self._remember(user, expl)
        return expl

    def cached(self, user: str) -> Explanation | None:
        """The user's complete explanation, if kept (marked as recently used)."""
        with self._lock:
            if user not in self._cache:
                return None
            self._cache.move_to_end(user)
            return self._cache[user]

    def cached_users(self) -> list[str]:
        """Users whose complete explanation is kept, least recently used first."""
        with self._lock:
            return list(self._cache)

    def ahead_users(self) -> list[str]:
        """Users whose first view was made ahead and not shown yet."""
        with self._lock:
            return list(self._ahead)

    def explain(self, user: str) -> Explanation:
        """The user's explanation: the cached one, or a new one with no method computed."""
        if (cached := self.cached(user)) is not None:
            return cached
        position = self.dataset.user_position(user)
        return explain(self.source, self.dataset, self.dataset.users[position], k=self.k)

    def _remember(self, user: str, expl: Explanation) -> None:
        with self._lock:
            self._cache[user] = expl
            self._cache.move_to_end(user)
            while len(self._cache) > self._cache_size:
                self._packs.pop(self._cache.popitem(last=False)[0], None)

    # --- packs --------------------------------------------------------------------------
    def pack(self, expl: Explanation, *, editable: bool = True, **options: Any) -> bytes:
        """The pack of ``expl`` (every method, unless ``methods`` says which), with the
        model-level agreement once it is known."""
        editable = editable and can_rerun(self.source)
        if editable and self.feature_values is not None:
            options.setdefault("feature_values", self.feature_values)
        if self._agreement_users and can_rerun(self.source):
            if self._agreement is not None:
                options |= {"agreement": self._agreement, "agreement_users": self._agreement_n}
            else:
                options |= {"agreement_pending": True}
        return explanation_pack(expl, editable=editable, **options)

    def _cached_pack(self, user: str, expl: Explanation) -> bytes:
        """The complete pack of a cached user (made once per model-level agreement)."""
        with self._lock:
            version = self._agreement_version
            made, pack = self._packs.get(user, (-1, b""))
        if made != version:
            pack = self.pack(expl)
            self._keep_pack(user, version, pack)
        return pack

    def _keep_pack(self, user: str, version: int, pack: bytes) -> None:
        with self._lock:
            if user in self._cache and version == self._agreement_version:
                self._packs[user] = (version, pack)

    def page_packs(self, users: Sequence[str]) -> list[bytes]:
        """Complete packs of ``users`` for a standalone page (no what-if editing), with the
        model-level agreement (waits for it)."""
        self.wait()
        return [self.pack(self.explanation(u), editable=False) for u in users]

    # --- views: made before they are shown ------------------------------------------------
    def prepare(self, expl: Explanation, user: str | None = None, **options: Any) -> View:
        """The view of ``expl``: a complete pack when every method is computed, else a
        fast one (gradient and occlusion follow in the background once it is shown)."""
        if user is not None and (cached := self.cached(user)) is not None:
            return View(cached, self._cached_pack(user, cached), True, user)
        if all(expl.has_importance(m) for m in METHODS):
            return View(expl, self.pack(expl, **options), True, user, options)
        return View(expl, self.pack(expl, methods=FAST_METHODS, **options), False, user, options)

    def user_view(self, user: str) -> View:
        """The view of a user's own history (made ahead if it was), its header saying how
        long the kernel took (``timing.kernel_ms``)."""
        return self._timed(self._user_view, user)

    def _user_view(self, user: str) -> View:
        with self._lock:
            ahead = self._ahead.pop(user, None)
        if ahead is not None and user not in self._cache:
            return ahead
        return self.prepare(self.explain(user), user=user)

    def edit_view(self, original: Explanation, user: str, indices: np.ndarray) -> View:
        """The view of ``user``'s history edited to ``indices`` (the original view when
        empty), with which recommendations entered or left the top-k."""
        return self._timed(self._edit_view, original, user, indices)

    def _edit_view(self, original: Explanation, user: str, indices: np.ndarray) -> View:
        if len(indices) == 0:
            return self.prepare(original, user=user)
        # The edit is of the items the model sees; older ones cut off by max_len still
        # count as bought (never recommended) but stay out of the model's view.
        full = self.dataset.sequence(user)
        edited = explain_indices(
            self.source,
            indices,
            k=self.k,
            bought_before=full[: len(full) - len(original.history)],
            user=user,
        )
        return self.prepare(edited, what_if=what_if_summary(original, edited))

    def feature_view(
        self,
        original: Explanation,
        user: str,
        indices: np.ndarray,
        edits: Sequence[FeatureEdit],
    ) -> View:
        """The view of ``user``'s history (edited to ``indices``; the user's own when empty)
        whose items' features are changed by ``edits`` (positions count in the shown
        history), compared with the user's own ``original``; with no edits, the view of
        the history alone."""
        return self._timed(self._feature_view, original, user, indices, tuple(edits))

    def _feature_view(
        self,
        original: Explanation,
        user: str,
        indices: np.ndarray,
        edits: tuple[FeatureEdit, ...],
    ) -> View:
        if not edits:
            return self._edit_view(original, user, indices)
        full = self.dataset.sequence(user)
        if len(indices):  # on top of a history edit: the items it cut stay bought
            history, bought = indices, full[: len(full) - len(original.history)]
        else:
            history, bought = full, None
        found = explain_with_features(
            self.source, history, edits, k=self.k, bought_before=bought, user=user
        )
        what_if = what_if_summary(original, found.explanation, feature_summary(found))
        return self.prepare(found.explanation, what_if=what_if)

    def _timed(self, make: Callable[..., View], *args: Any) -> View:
        """``make(*args)`` with no background model run meanwhile, its pack's header
        saying how long it took."""
        started = time.perf_counter()
        with foreground():
            view = make(*args)
        header = read_header(view.pack)
        header["timing"] = {"kernel_ms": round((time.perf_counter() - started) * 1e3, 2)}
        view.pack = replace_header(view.pack, header)
        return view

    # --- showing --------------------------------------------------------------------------
    @property
    def shown(self) -> View | None:
        """The view shown last."""
        return self._shown

    def show(self, view: View) -> None:
        """Publish a prepared view; when it lacks gradient and occlusion they follow from
        the background (unless another view is shown first), after the neighbours on the
        slider are explained ahead."""
        with self._lock:
            self._shown_count += 1
            number, self._shown = self._shown_count, view
            if view.complete and view.user is not None:
                self._remember(view.user, view.expl)
            self._publish(view.pack, "" if view.complete else PENDING_STATUS)
        shown_at = time.monotonic()
        # The next and previous users first (a step along the slider is then a cache hit),
        # then what the shown view lacks, then the users two places away.
        neighbours = self.neighbours(view.user) if view.user is not None else []
        for user in neighbours[:2]:
            self._worker.submit(self._explain_ahead, number, user)
        if not view.complete:
            self._background = self._worker.submit(self._complete, number, shown_at, view)
        for user in neighbours[2:]:
            self._worker.submit(self._explain_ahead, number, user)

    def _explain_ahead(self, number: int, user: str) -> None:
        """Make a neighbour's first view (explain and pack: no gradient or occlusion, which
        follow only for a user who is shown), unless the view moved on."""
        with self._lock:
            if number != self._shown_count or user in self._ahead or user in self._cache:
                return
        try:
            give_way()
            expl = self.explain(user)
            give_way()
            view = self.prepare(expl, user=user)
        except Exception:  # shown (as an error) only if the user is ever asked for
            return
        with self._lock:
            self._ahead[user] = view
            while len(self._ahead) > 4 * PREFETCH:
                self._ahead.pop(next(iter(self._ahead)))

    def _complete(self, number: int, shown_at: float, view: View) -> None:
        time.sleep(max(0.0, shown_at + BACKGROUND_DELAY_S - time.monotonic()))  # let it draw
        version = self._agreement_version
        try:
            for method in METHODS:  # each a model run: skip the rest once the view moved on
                give_way()
                if number != self._shown_count:
                    return
                view.expl.method_importance(method)
            give_way()
            for step in _extras(view.expl):  # feature occlusion, reasons, counterfactual
                if number != self._shown_count:
                    return
                step()
                give_way()
            pack = self.pack(view.expl, **view.options)
        except Exception as err:  # shown in the widget, not lost in the thread
            with self._lock:
                if number == self._shown_count:
                    self._on_error(f"could not compute gradient or occlusion: {err}")
            return
        if view.user is not None:
            self._remember(view.user, view.expl)
            self._keep_pack(view.user, version, pack)
        with self._lock:
            if number == self._shown_count:
                self._shown = View(view.expl, pack, True, view.user, view.options)
                self._publish(pack, "")

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background work is done: the shown view's gradient and
        occlusion and the model-level agreement (each may take up to ``timeout`` s)."""
        if self._agreement_job is not None:
            self._agreement_job.result(timeout)
        for job in (self._background, self._refresh):  # read after: the agreement adds one
            if job is not None:
                job.result(timeout)

    def idle(self) -> None:
        """Block until every queued piece of background work (explaining ahead too) ran."""
        self._worker.submit(lambda: None).result()

    # --- model-level agreement: computed in the background --------------------------------
    @property
    def agreement(self) -> Agreement:
        """Mean Kendall τ and top-1 agreement with occlusion per method over the sampled
        users (NaN when none can be compared); waits for it."""
        if self._agreement_job is not None:
            self._agreement_job.result()
        if self._agreement is None:
            return method_agreement([])[0]
        return self._agreement

    def start_agreement(self) -> None:
        """Compute the model-level agreement in the background (once); the shown view is
        published again with it."""
        if self._agreement_job is None and self._agreement_users and can_rerun(self.source):
            self._agreement_job = self._agreement_worker.submit(self._compute_agreement)

    def _compute_agreement(self) -> None:
        """Explain the sampled users (kept in the cache: switching to them is then instant),
        average their agreement, and publish the shown view again with it."""
        explanations = []
        for user in sample_users(self.users, self._agreement_users, seed=0):
            try:
                explanations.append(self.explanation(user))
            except Exception:  # a user with nothing to recommend, a failing model: not compared
                continue
        agreement, compared = method_agreement(explanations)
        with self._lock:
            self._agreement, self._agreement_n = agreement, compared
            self._agreement_version += 1  # packs' headers hold it: made again when needed
        self._refresh = self._worker.submit(self._show_agreement)  # after pending occlusion

    def _show_agreement(self) -> None:
        """Publish the complete view shown now again, with the model-level agreement."""
        with self._lock:
            view, number = self._shown, self._shown_count
        if view is None or not view.complete:  # a fast pack: its completion includes it
            return
        give_way()
        pack = self.pack(view.expl, **view.options)  # not holding the lock: a switch may need it
        with self._lock:
            if number == self._shown_count:
                self._publish(pack, "")

    # --- item search ----------------------------------------------------------------------
    def search_items(
        self, query: str, limit: int = SEARCH_LIMIT
    ) -> tuple[list[dict[str, Any]], bool]:
        """Items whose id or title starts with or contains ``query`` (case-insensitive plain
        text; prefix matches first), to add to a history: at most ``limit`` ``{"id",
        "title"}`` (titles cut to ``TITLE_CHARS``), and whether more items match."""
        catalog = self.source.catalog
        indices, more = catalog.search(query, limit)
        found = [
            {"id": str(catalog.item_id(i)), "title": _cut(catalog.title(i), TITLE_CHARS)}
            for i in indices
        ]
        return found, more


def _cut(text: str, size: int) -> str:
    """``text`` cut to ``size`` characters, the last one an ellipsis when cut."""
    return text if len(text) <= size else text[: size - 1] + "…"


def _extras(expl: Explanation) -> list[Callable[[], object]]:
    """What the complete pack adds after the importance methods, each a model run: the
    feature occlusion (a catalogue with feature fields), the shopper reasons and the
    counterfactual (a model that can re-run histories)."""
    steps: list[Callable[[], object]] = []
    if len(expl.field_names) > 1:
        steps.append(lambda: expl.feature_importance)
    if can_rerun(expl.source) and len(expl.history) > 1:
        steps += [lambda: expl.top_reasons, lambda: expl.target_counterfactual]
    return steps
