"""AttentionExplorer: the anywidget that shows one user's attention, linked across views."""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets as t

from ..checks import check_int
from ..data import Dataset
from ..errors import AttnWidgetError, DataError, UnknownItemError, UnknownUserError
from ..explain import (
    METHODS,
    Agreement,
    Explanation,
    explain,
    explain_indices,
    method_agreement,
    sample_users,
)
from ..foreground import foreground, mark_background
from ..sources import as_source, can_rerun
from .anonymize import Pseudonyms
from .bundle import CSS, bundle
from .explanation_pack import explanation_pack, what_if_summary
from .payload import read_header, replace_header
from .snapshot import snapshot_state
from .standalone import page_from_state, write_page
from .traits import (
    Checked,
    ReportedEnum,
    ReportedInt,
    ReportedList,
    scalar_id,
    trait_error_type,
)

FAST_METHODS = ("attention", "rollout")
"""What a first pack holds: read off the attention, no extra pass of the model."""
# Gradient and occlusion start this long after a view is shown, so the browser can draw the
# fast pack on a free core, and flipping quickly through users skips work that would be stale.
BACKGROUND_DELAY_S = 0.3
BACKGROUND_NICE = 10
PREFETCH = 2
"""Users either side of the shown one on the slider whose first view is made in the
background after it, so that moving the slider shows a view made ahead."""
BROWSER_TRAITS = (
    "user",
    "layer",
    "head",
    "layer_mode",
    "head_mode",
    "selection",
    "history_edit",
    "method",
)
"""The traits the front end writes; a browser change to any other trait is refused."""


def _yield_to_the_kernel() -> None:
    """Make a thread background work: its model runs wait while the kernel answers the
    browser (:mod:`attnwidget.foreground`), and on Linux its nice value (inherited by the
    torch threads it starts) is lowered, so that occlusion and explaining ahead never slow
    down the kernel's answer, the server or the browser itself on a small machine."""
    mark_background()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)


@dataclass
class _View:
    """What a change shows: the explanation and its first pack, made before the change."""

    expl: Explanation
    pack: bytes
    complete: bool  # every importance method is in the pack
    user: str | None = None  # the cache key of a user's own history; None for an edit
    options: dict[str, Any] = field(default_factory=dict)


class AttentionExplorer(anywidget.AnyWidget):
    """Linked attention views for one user at a time.

    Args:
        model: a trained :class:`~attnwidget.SASRec` or any
            :class:`~attnwidget.sources.AttentionSource`.
        dataset: the users and their histories.
        users: the users the selector offers (default: all, in dataset order; for a
            source with a ``users`` list, such as a precomputed one, those users).
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
    and which recommendations entered or left the top-k (an edit longer than the model's
    ``max_len`` shows its most recent items; the older ones count as bought). ``method``
    is the importance method the "why" panel shows ("" = the one that agrees best with
    occlusion).

    A change that cannot be shown (an unknown user or item, a value of the wrong type
    or out of range, a history with nothing left to recommend, a model that fails) is
    refused as a whole: the attribute keeps its value, the views keep showing what they
    showed, and ``error`` says why. From Python the assignment raises a ``TraitError``
    that is also the attnwidget error (e.g. ``NothingToRecommendError``); from the
    browser only ``error`` changes and the controls are set back.

    A new user or edit is drawn at once from attention and rollout importance; gradient
    and occlusion (one forward pass per history item) follow from a background thread,
    which also makes the first views of the ``PREFETCH`` users either side of the shown
    one on the slider (so that moving it shows a view made ahead). :meth:`wait` blocks
    until the shown view is complete.

    Raises:
        TypeError: ``dataset`` is not a Dataset, ``model`` not a source, ``users`` a
            string, or ``k``/``cache_size``/``agreement_users`` not integers.
        ValueError: ``k`` or ``cache_size`` below 1, ``agreement_users`` below 0,
            ``users`` empty (a :class:`DataError` when it lists a user twice, or users a
            precomputed source holds no data for).
        UnknownUserError: a user not in ``dataset``.
        AttnWidgetError: the first user cannot be shown (the error says why).
    """

    _esm = bundle()
    _css = CSS

    user = Checked("").tag(sync=True)
    users = ReportedList(t.Unicode()).tag(sync=True)
    layer = ReportedInt(0).tag(sync=True)
    head = ReportedInt(0).tag(sync=True)
    layer_mode = ReportedEnum(["layer", "rollout"], default_value="layer").tag(sync=True)
    head_mode = ReportedEnum(["head", "mean"], default_value="head").tag(sync=True)
    payload = t.Bytes(b"").tag(sync=True)
    archive = t.Bytes(b"").tag(sync=True)
    error = t.Unicode("").tag(sync=True)
    status = t.Unicode("").tag(sync=True)
    selection = ReportedList(t.Int()).tag(sync=True)
    history_edit = Checked([]).tag(sync=True)
    method = ReportedEnum(["", *METHODS], default_value="").tag(sync=True)

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
        self.k = check_int("k", k)
        self._cache_size = check_int("cache_size", cache_size)
        self._agreement_users = check_int("agreement_users", agreement_users, minimum=0)
        self.source = as_source(model)
        self.dataset = dataset.aligned_to(self.source.catalog)
        self._cache: OrderedDict[str, Explanation] = OrderedDict()  # every method computed
        self._packs: dict[str, tuple[int, bytes]] = {}  # cached users' complete packs
        self._ahead: dict[str, _View] = {}  # first views of the shown user's neighbours
        self._agreement_version = 0  # a pack made under another agreement is made again
        self._agreement: Agreement | None = None
        self._agreement_n = 0
        self._agreement_job: Future[None] | None = None
        self._refresh: Future[None] | None = None
        self._switching = False
        self._shown: Explanation | None = None  # the current user's own explanation
        self._view: Explanation | None = None  # what the views show (it or an edit)
        self._view_options: dict[str, Any] = {}  # its pack's header options (a what-if)
        # Made by a validator, shown by its observer. Keyed by trait: a browser change of
        # several traits validates them all before any observer runs (set_state holds
        # notifications, and the trait already holds the new value while it is validated).
        self._prepared: dict[str, _View] = {}
        self._shown_user: str | None = None  # the user whose history the views are based on
        self._shown_edit: list[str] = []  # the edit they show ([] = the user's own history)
        self._lock = threading.RLock()
        self._shown_count = 0
        self._worker = ThreadPoolExecutor(1, "attnwidget", initializer=_yield_to_the_kernel)
        self._agreement_worker = ThreadPoolExecutor(
            1, "attnwidget-agreement", initializer=_yield_to_the_kernel
        )
        self._background: Future[None] | None = None
        self.edited: Explanation | None = None
        """The explanation of ``history_edit`` (``None`` while it is empty)."""
        held = getattr(self.source, "users", None)  # a precomputed source has only some users
        chosen = self._chosen_users((held or self.dataset.users) if users is None else users)
        if held is not None and (missing := [u for u in chosen if u not in set(map(str, held))]):
            raise DataError(
                f"{type(self.source).__name__} holds no data for user(s) {missing[:5]}; "
                f"it can show {len(held)} users"
            )
        super().__init__(users=chosen, **kwargs)
        self.on_msg(self._on_message)
        self.user = chosen[0]
        self._start_agreement()

    def _chosen_users(self, users: Any) -> list[str]:
        """Users as the dataset's ids in text form; each known, none twice, at least one."""
        if isinstance(users, str | bytes) or not isinstance(users, Iterable):
            raise TypeError(f"users must be a list of user ids, got {users!r:.80}")
        chosen: list[str] = []
        for user in users:
            shown = str(self.dataset.users[self.dataset.user_position(user)])
            if shown in chosen:
                raise DataError(f"users lists user {user!r} twice")
            chosen.append(shown)
        if not chosen:
            raise ValueError("users is empty: give at least one user to explore")
        return chosen

    # --- explanations -------------------------------------------------------------------
    def explanation(self, user: Any | None = None) -> Explanation:
        """The (cached) explanation of ``user`` (default: the current user), all methods."""
        return self._explained(self.user if user is None else str(user))

    def _cached(self, user: str) -> Explanation | None:
        """The user's complete explanation, if kept (marked as recently used)."""
        with self._lock:
            if user not in self._cache:
                return None
            self._cache.move_to_end(user)
            return self._cache[user]

    def _explain(self, user: str) -> Explanation:
        if (cached := self._cached(user)) is not None:
            return cached
        position = self.dataset.user_position(user)
        return explain(self.source, self.dataset, self.dataset.users[position], k=self.k)

    def _explained(self, user: str) -> Explanation:
        """The user's explanation with every method computed (cached)."""
        if (cached := self._cached(user)) is not None:
            return cached
        expl = self._explain(user)
        for method in METHODS:
            expl.method_importance(method)
        self._remember(user, expl)
        return expl

    def _remember(self, user: str, expl: Explanation) -> None:
        with self._lock:
            self._cache[user] = expl
            self._cache.move_to_end(user)
            while len(self._cache) > self._cache_size:
                self._packs.pop(self._cache.popitem(last=False)[0], None)

    def _cached_pack(self, user: str, expl: Explanation) -> bytes:
        """The complete pack of a cached user (made once per model-level agreement)."""
        with self._lock:
            version = self._agreement_version
            made, pack = self._packs.get(user, (-1, b""))
        if made != version:
            pack = self._pack(expl)
            self._keep_pack(user, version, pack)
        return pack

    def _keep_pack(self, user: str, version: int, pack: bytes) -> None:
        with self._lock:
            if user in self._cache and version == self._agreement_version:
                self._packs[user] = (version, pack)

    def _pack(self, expl: Explanation, *, editable: bool = True, **options: Any) -> bytes:
        editable = editable and can_rerun(self.source)
        if self._agreement_users and can_rerun(self.source):
            if self._agreement is not None:
                options |= {"agreement": self._agreement, "agreement_users": self._agreement_n}
            else:
                options |= {"agreement_pending": True}
        return explanation_pack(expl, editable=editable, **options)

    # --- model-level agreement: computed in the background after the first view -----------
    @property
    def agreement(self) -> Agreement:
        """Mean Kendall τ and top-1 agreement with occlusion per method, over a user sample
        (``agreement_users`` of the explorer's users; NaN when no sampled user can be
        compared). It is computed in the background once the explorer is shown (the why
        panel says "computing…" until then); reading it waits for it."""
        if self._agreement_job is not None:
            self._agreement_job.result()
        if self._agreement is None:
            return method_agreement([])[0]
        return self._agreement

    def _start_agreement(self) -> None:
        if self._agreement_users and can_rerun(self.source):
            self._agreement_job = self._agreement_worker.submit(self._compute_agreement)

    def _compute_agreement(self) -> None:
        """Explain the sampled users (kept in the cache: switching to them is then instant),
        average their agreement, and redraw the current view with it."""
        explanations = []
        for user in sample_users(self.users, self._agreement_users, seed=0):
            try:
                explanations.append(self._explained(user))
            except Exception:  # a user with nothing to recommend, a failing model: not compared
                continue
        agreement, compared = method_agreement(explanations)
        with self._lock:
            self._agreement, self._agreement_n = agreement, compared
            self._agreement_version += 1  # packs' headers hold it: made again when needed
        self._refresh = self._worker.submit(self._show_agreement)  # after pending occlusion

    def _show_agreement(self) -> None:
        """Re-send the complete view shown now, with the model-level agreement."""
        with self._lock:
            view, options, number = self._view, self._view_options, self._shown_count
            if view is None or self.status:  # a fast pack: its completion includes it
                return
        pack = self._pack(view, **options)  # not holding the lock: a user switch may need it
        with self._lock:
            if number == self._shown_count:
                self.payload = pack

    # --- views: made before a change is accepted, shown after -----------------------------
    def _prepare(self, expl: Explanation, user: str | None = None, **options: Any) -> _View:
        """The view of ``expl``: a complete pack when every method is computed, else a
        fast one (occlusion follows in the background when it is shown)."""
        if user is not None and (cached := self._cached(user)) is not None:
            return _View(cached, self._cached_pack(user, cached), True, user)
        if all(expl.has_importance(m) for m in METHODS):
            return _View(expl, self._pack(expl, **options), True, user, options)
        return _View(expl, self._pack(expl, methods=FAST_METHODS, **options), False, user, options)

    def _refused(self, kind: type[AttnWidgetError], message: str) -> t.TraitError:
        """The error refusing a change (``kind`` and a TraitError), also shown in ``error``."""
        self.error = message
        return trait_error_type(kind)(message)

    def _prepared_or_refused(self, what: str, make: Any, *args: Any) -> _View:
        """``make(*args)``, its pack's header saying how long the kernel took
        (``timing.kernel_ms``); any error is shown in ``error`` and raised as a TraitError."""
        started = time.perf_counter()
        try:
            with foreground():
                view = make(*args)
            header = read_header(view.pack)
            header["timing"] = {"kernel_ms": round((time.perf_counter() - started) * 1e3, 2)}
            view.pack = replace_header(view.pack, header)
            return view
        except AttnWidgetError as err:
            raise self._refused(type(err), f"cannot show {what}: {err}") from err
        except Exception as err:  # a user's model or source failing: shown, not lost
            message = f"cannot show {what}: {type(err).__name__}: {err}"
            raise self._refused(AttnWidgetError, message) from err

    def _display(self, pack: bytes, status: str = "") -> int:
        """Show ``pack``; returns its number, so late background work can tell it is stale."""
        with self._lock:
            self._shown_count += 1
            self.payload = pack
            self.status = status
            return self._shown_count

    def _show(self, view: _View) -> None:
        """Show a prepared view; when it lacks occlusion, the complete pack follows from a
        background thread unless the view moved on."""
        self._view, self._view_options = view.expl, view.options
        if view.complete and view.user is not None:
            self._remember(view.user, view.expl)
        status = "" if view.complete else "computing gradient and occlusion…"
        number = self._display(view.pack, status)
        shown_at = time.monotonic()
        # The next and previous users first (a step along the slider is then a cache hit),
        # then what the shown view lacks, then the users two places away.
        neighbours = self._neighbours(view.user) if view.user is not None else []
        for user in neighbours[:2]:
            self._worker.submit(self._explain_ahead, number, user)
        if not view.complete:
            self._background = self._worker.submit(
                self._complete, number, shown_at, view.expl, view.user, view.options
            )
        for user in neighbours[2:]:
            self._worker.submit(self._explain_ahead, number, user)

    def _neighbours(self, user: str) -> list[str]:
        """The users next to ``user`` on the slider, nearest first (after, then before)."""
        users = self.users
        at = users.index(user) if user in users else -1
        if at < 0:
            return []
        near = [at + d * s for d in range(1, PREFETCH + 1) for s in (1, -1)]
        return [users[i] for i in near if 0 <= i < len(users)]

    def _explain_ahead(self, number: int, user: str) -> None:
        """Make a neighbour's first view (explain and pack: no gradient or occlusion, which
        follow only for a user who is shown), unless the view moved on."""
        with self._lock:
            if number != self._shown_count or user in self._ahead or user in self._cache:
                return
        try:
            view = self._prepare(self._explain(user), user=user)
        except Exception:  # shown (as an error) only if the user is ever asked for
            return
        with self._lock:
            self._ahead[user] = view
            while len(self._ahead) > 4 * PREFETCH:
                self._ahead.pop(next(iter(self._ahead)))

    def _complete(
        self, number: int, shown_at: float, expl: Explanation, user: str | None, options: Any
    ) -> None:
        time.sleep(max(0.0, shown_at + BACKGROUND_DELAY_S - time.monotonic()))  # let it draw
        version = self._agreement_version
        try:
            for method in METHODS:  # each a model run: skip the rest once the view moved on
                if number != self._shown_count:
                    return
                expl.method_importance(method)
            pack = self._pack(expl, **options)
        except Exception as err:  # shown in the widget, not lost in the thread
            with self._lock:
                if number == self._shown_count:
                    message = f"could not compute gradient or occlusion: {err}"
                    self.error, self.status = message, ""
            return
        if user is not None:
            self._remember(user, expl)
            self._keep_pack(user, version, pack)
        with self._lock:
            if number == self._shown_count:
                self.payload = pack
                self.status = ""

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background work is done: occlusion of the shown history and the
        model-level agreement (each may take up to ``timeout`` seconds)."""
        if self._agreement_job is not None:
            self._agreement_job.result(timeout)
        for job in (self._background, self._refresh):  # read after: the agreement adds one
            if job is not None:
                job.result(timeout)

    # --- item search (custom messages) --------------------------------------------------
    def search_items(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Items whose id or title contains ``query`` as plain text (case-insensitive; no
        patterns), to add to a history; at most ``limit``."""
        if not isinstance(query, str):
            raise TypeError(f"query must be a string, got {type(query).__name__} {query!r:.80}")
        limit = check_int("limit", limit, minimum=0)
        needle = query.strip().lower()
        if not needle:
            return []
        catalog = self.source.catalog
        found = (
            {"id": str(item_id), "title": title}
            for item_id, title in zip(catalog.item_ids, catalog.titles, strict=True)
            if needle in title.lower() or needle in str(item_id).lower()
        )
        return list(itertools.islice(found, limit))

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Answer the browser's ``{"type": "search", "query": text}``; anything else
        becomes a message in ``error``."""
        kind = content.get("type") if isinstance(content, dict) else None
        if kind != "search":
            shown = f"type {kind!r}" if isinstance(content, dict) else type(content).__name__
            self.error = f"ignored a message from the browser ({shown:.80}): expected 'search'"
            return
        query = content.get("query", "")
        try:
            items = self.search_items(query)
        except (TypeError, ValueError) as err:
            self.error, items = f"item search: {err}", []
        self.send({"type": "search_results", "query": query, "items": items})

    @property
    def shown(self) -> Explanation:
        """The explanation the views show: the edited history's, or the current user's."""
        return self._view if self._view is not None else self.explanation()

    @property
    def n_layers(self) -> int:
        return int(self._shown.attentions.shape[0])

    @property
    def n_heads(self) -> int:
        return int(self._shown.attentions.shape[1])

    # --- validation and updates ----------------------------------------------------------
    @t.validate("user")
    def _valid_user(self, proposal: t.Bunch) -> str:
        try:
            user = str(
                self.dataset.users[self.dataset.user_position(scalar_id(proposal["value"], "user"))]
            )
        except (DataError, UnknownUserError) as err:
            raise self._refused(type(err), str(err)) from None
        if user != self._shown_user:
            self._prepared["user"] = self._prepared_or_refused(
                f"user {user!r}", self._user_view, user
            )
        return user

    def _user_view(self, user: str) -> _View:
        with self._lock:
            ahead = self._ahead.pop(user, None)
        if ahead is not None and user not in self._cache:
            return ahead
        return self._prepare(self._explain(user), user=user)

    @t.observe("user")
    def _show_user(self, change: t.Bunch) -> None:
        view = self._prepared.pop("user", None)
        if view is None:  # validated as the user already shown: nothing to change
            return
        self._shown, self._shown_user, self._shown_edit = view.expl, change["new"], []
        self._switching = True
        try:
            with self.hold_sync():
                self.layer = min(self.layer, self.n_layers - 1)
                self.head = min(self.head, self.n_heads - 1)
                self.selection = []
                self.history_edit = []
                self.edited = None
                self.error = ""
        finally:
            self._switching = False
        self._show(view)

    @t.validate("history_edit")
    def _valid_edit(self, proposal: t.Bunch) -> list[str]:
        value = proposal["value"]
        try:
            if not isinstance(value, list | tuple):
                raise DataError(f"history_edit must be a list of item ids, got {value!r:.80}")
            ids = [scalar_id(i, "each item of history_edit") for i in value]
            indices = self.source.catalog.encode(ids)
        except (DataError, UnknownItemError) as err:
            raise self._refused(type(err), str(err)) from None
        if not self._switching and "user" not in self._prepared and ids != self._shown_edit:
            what = "the edited history" if ids else f"user {self._shown_user!r}"
            view = self._prepared_or_refused(what, self._edit_view, indices)
            self._prepared["history_edit"] = view
        return ids

    def _edit_view(self, indices: np.ndarray) -> _View:
        """The view of an edit (of the original, for an empty one)."""
        original, user = self._shown, self._shown_user
        if len(indices) == 0:
            return self._prepare(original, user=user)
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
        return self._prepare(edited, what_if=what_if_summary(original, edited))

    @t.observe("history_edit")
    def _show_edit(self, change: t.Bunch) -> None:
        if self._switching:
            return
        view = self._prepared.pop("history_edit", None)
        if view is None:  # the same edit, or one made moot by a user change in the same batch
            return
        self._shown_edit = list(change["new"])
        self.edited = view.expl if change["new"] else None
        self.selection = []
        self.error = ""
        self._show(view)

    @t.validate("layer", "head")
    def _valid_index(self, proposal: t.Bunch) -> int:
        name, value = proposal["trait"].name, proposal["value"]
        if isinstance(value, bool):
            raise self._refused(DataError, f"{name} must be an integer, got {value!r}")
        if self._shown is None:
            return int(value)
        size = self.n_layers if name == "layer" else self.n_heads
        if not 0 <= value < size:
            raise self._refused(DataError, f"{name} must be in 0..{size - 1}, got {value}")
        return int(value)

    @t.validate("selection")
    def _valid_selection(self, proposal: t.Bunch) -> list[int]:
        value = list(proposal["value"])
        n = 0 if self._view is None else len(self._view.history)
        bad = [p for p in value if not 0 <= p < n]
        if bad or len(set(value)) != len(value):
            what = f"positions {bad[:5]} outside 0..{n - 1}" if bad else "a position twice"
            message = f"selection holds {what} of the {n} history items shown"
            raise self._refused(DataError, message)
        return value

    @t.validate("users")
    def _valid_users(self, proposal: t.Bunch) -> list[str]:
        try:
            return self._chosen_users(proposal["value"])
        except (AttnWidgetError, TypeError, ValueError) as err:
            kind = UnknownUserError if isinstance(err, UnknownUserError) else DataError
            raise self._refused(kind, f"users: {err}") from None

    @t.observe("layer", "head", "layer_mode", "head_mode", "method", "selection")
    def _accepted(self, _change: t.Bunch) -> None:
        self.error = ""  # a change that worked replaces the message about one that did not

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply a change from the browser. One that cannot be shown becomes a message in
        ``error``; the controls are set back to what the views show."""
        if not isinstance(sync_data, dict):
            self.error = f"ignored a state change from the browser: {type(sync_data).__name__}"
            return
        refused = sorted(set(sync_data) - set(BROWSER_TRAITS))
        try:
            super().set_state({k: v for k, v in sync_data.items() if k in BROWSER_TRAITS})
        except Exception as err:  # never into the kernel log with the view out of step
            self._prepared.clear()  # views made for the refused batch are never shown
            self.error = ""  # the same message twice must still reach the front end
            self.error = str(err)
            self.send_state(list(BROWSER_TRAITS))
            return
        if refused:
            self.error = f"ignored a change of {refused} from the browser: only Python sets those"

    # --- sharing -------------------------------------------------------------------------
    def save_html(
        self,
        path: str | Path,
        users: Sequence[Any] | None = None,
        *,
        anonymize: bool = False,
        anonymize_items: bool = False,
    ) -> Path:
        """Write a standalone page holding the given users' data (default: the current user).

        The page works with no kernel and no network; its user slider moves over ``users``.
        It opens on the current user (or the first of ``users``) with the current layer,
        head and modes. The live explorer is left as it is (a what-if edit, the selection
        and the shown user stay).

        Args:
            anonymize: replace user ids with ``user 1``, ``user 2``… (in the order of
                ``users``) everywhere in the page.
            anonymize_items: also replace item ids and titles with ``item N`` (``N`` = the
                item's catalogue index, the same on every page of one model); features are kept.

        Raises:
            UnknownUserError, DataError, ValueError, TypeError: ``users`` as for the
                constructor (unknown, listed twice, empty, a string); ``anonymize_items``
                without ``anonymize``.
        """
        if anonymize_items and not anonymize:
            raise ValueError("anonymize_items=True needs anonymize=True (user ids stay otherwise)")
        chosen = self._chosen_users(users if users is not None else [self.user])
        self.wait()  # the page's why panel gets the model-level agreement
        packs = [self._pack(self.explanation(u), editable=False) for u in chosen]
        first = self.user if self.user in chosen else chosen[0]
        if anonymize:
            names = Pseudonyms.for_page(chosen, self.source.catalog, items=anonymize_items)
            packs = [names.pack(p) for p in packs]
            chosen, first = [names.user(u) for u in chosen], names.user(first)
        view = {k: getattr(self, k) for k in ("layer", "head", "layer_mode", "head_mode", "method")}
        values, buffers = snapshot_state(chosen, packs, first, **view)
        esm, css = str(self._esm), str(self._css or "")
        page = page_from_state(values, buffers, esm=esm, css=css, title="attnwidget explorer")
        return write_page(page, path)
