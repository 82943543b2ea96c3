"""AttentionExplorer: the anywidget that shows one user's attention, linked across views.

The widget holds the traits the front end syncs, validates changes to them and turns what
its :class:`~attnwidget.widget.session.ExplorerSession` makes (views, background
completions, errors) into trait changes; the explaining, caching and background work are
the session's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets as t

from ..checks import check_int
from ..data import Dataset
from ..errors import (
    ArgumentTypeError,
    ArgumentValueError,
    AttnWidgetError,
    DataError,
    UnknownItemError,
    UnknownUserError,
)
from ..explain import METHODS, Agreement, Explanation
from ..sources import as_source
from .anonymize import Pseudonyms
from .bundle import CSS, bundle
from .feature_whatif import parse_feature_edits
from .session import ExplorerSession, View
from .snapshot import snapshot_state
from .standalone import page_from_state, write_page
from .traits import (
    Checked,
    RefusesChanges,
    ReportedEnum,
    ReportedInt,
    ReportedList,
    scalar_id,
)
from .users import SEARCH_LIMIT, USER_WINDOW, UserList

BROWSER_TRAITS = (
    "user",
    "layer",
    "head",
    "layer_mode",
    "head_mode",
    "selection",
    "history_edit",
    "feature_edit",
    "method",
    "user_window_start",
)
"""The traits the front end writes; a browser change to any other trait is refused."""


class AttentionExplorer(RefusesChanges, anywidget.AnyWidget):
    """Linked attention views for one user at a time.

    Args:
        model: a trained :class:`~attnwidget.SASRec` or any
            :class:`~attnwidget.sources.AttentionSource`.
        dataset: the users and their histories.
        users: the users the slider offers (default: all, in dataset order; for a
            source with a ``users`` list, such as a precomputed one, those users). The
            browser never receives the whole list: the slider runs over a window of at most
            ``USER_WINDOW`` (100) of them around the shown user, and the user box searches
            them all in the kernel.
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
    ``max_len`` shows its most recent items; the older ones count as bought).
    ``feature_edit`` (a list of ``{"field", "value", "position"}``, ``{"field", "value",
    "replaces"}`` or ``{"field", "value"}``; see :mod:`~attnwidget.widget.feature_whatif`)
    asks "what if these history items had other features?" (a model that
    :class:`~attnwidget.sources.base.EditsFeatures`, such as the built-in SASRec): it
    applies to the shown history (``history_edit``'s, or the user's own), positions
    counting in it, and a new ``history_edit`` (or user) drops it. ``method``
    is the importance method the "why" panel shows ("" = the one that agrees best with
    occlusion).

    Users are found by id: typing in the user box asks the kernel for at most 20 ids that
    start with the text (first, in sorted order) or contain it (:meth:`search_users`); Enter
    or a click on one shows it. The slider runs over ``user_window``, the ids from
    ``user_window_start`` (at most ``USER_WINDOW``, of ``n_users``); the window follows the
    shown user (re-centred when it comes within a tenth of the window from an edge) and the
    ‹ › buttons beside the slider move it by a window. The item search of the what-if box
    works the same way over the catalogue (:meth:`search_items`): both use an index built on
    the first search, so a query costs milliseconds at a million users or items.

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
    user_window = t.List(t.Unicode()).tag(sync=True)
    user_window_start = ReportedInt(0).tag(sync=True)
    n_users = t.Int(0).tag(sync=True)
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
    feature_edit = Checked([]).tag(sync=True)
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
            raise ArgumentTypeError(
                f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}"
            )
        self.k = check_int("k", k)
        source = as_source(model)
        self.session = ExplorerSession(
            source,
            dataset.aligned_to(source.catalog),
            self._publish,
            k=self.k,
            cache_size=check_int("cache_size", cache_size),
            agreement_users=check_int("agreement_users", agreement_users, minimum=0),
            on_error=self._background_failed,
        )
        """The explorer's work (explanations, caches, background work) in plain Python."""
        self.source, self.dataset = source, self.session.dataset
        self._switching = False
        self._shown: Explanation | None = None  # the current user's own explanation
        # Made by a validator, shown by its observer. Keyed by trait: a browser change of
        # several traits validates them all before any observer runs (set_state holds
        # notifications, and the trait already holds the new value while it is validated).
        self._prepared: dict[str, View] = {}
        self._shown_user: str | None = None  # the user whose history the views are based on
        self._shown_edit: list[str] = []  # the edit they show ([] = the user's own history)
        self._shown_features: list[dict[str, Any]] = []  # the feature edits they show
        self.edited: Explanation | None = None
        """The explanation of ``history_edit`` and ``feature_edit`` (``None`` while both
        are empty)."""
        held = getattr(source, "users", None)  # a precomputed source has only some users
        chosen = UserList(self.dataset, held if users is None else users)
        if held is not None:
            known = set(map(str, held))
            if missing := [u for u in chosen if u not in known]:
                raise DataError(
                    f"{type(source).__name__} holds no data for user(s) {missing[:5]}; "
                    f"it can show {len(held)} users"
                )
        self.session.users = chosen
        super().__init__(n_users=len(chosen), **kwargs)
        self.on_msg(self._on_message)
        self.user = chosen[0]
        self.session.start_agreement()

    # --- what the session makes, as trait changes ------------------------------------------
    def _publish(self, pack: bytes, status: str) -> None:
        self.payload = pack
        self.status = status

    def _background_failed(self, message: str) -> None:
        self.error, self.status = message, ""

    def _prepared_or_refused(self, what: str, make: Any, *args: Any) -> View:
        """``make(*args)``; any error is shown in ``error`` and raised as a TraitError."""
        try:
            return make(*args)
        except AttnWidgetError as err:
            raise self._refused(type(err), f"cannot show {what}: {err}") from err
        except Exception as err:  # a user's model or source failing: shown, not lost
            message = f"cannot show {what}: {type(err).__name__}: {err}"
            raise self._refused(AttnWidgetError, message) from err

    # --- explanations -------------------------------------------------------------------
    def explanation(self, user: Any | None = None) -> Explanation:
        """The (cached) explanation of ``user`` (default: the current user), all methods."""
        return self.session.explanation(self.user if user is None else str(user))

    @property
    def agreement(self) -> Agreement:
        """Mean Kendall τ and top-1 agreement with occlusion per method, over a user sample
        (``agreement_users`` of the explorer's users; NaN when no sampled user can be
        compared). It is computed in the background once the explorer is shown (the why
        panel says "computing…" until then); reading it waits for it."""
        return self.session.agreement

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background work is done: occlusion of the shown history and the
        model-level agreement (each may take up to ``timeout`` seconds)."""
        self.session.wait(timeout)

    @property
    def shown(self) -> Explanation:
        """The explanation the views show: the edited history's, or the current user's."""
        view = self.session.shown
        return view.expl if view is not None else self.explanation()

    @property
    def n_layers(self) -> int:
        return int(self._shown.attentions.shape[0])

    @property
    def n_heads(self) -> int:
        return int(self._shown.attentions.shape[1])

    # --- users and items: found in the kernel (custom messages) ----------------------------
    @property
    def users(self) -> UserList:
        """The users the slider offers, in order (the browser only ever holds a window of
        them: ``user_window``). Set a list of ids to offer those instead."""
        return self.session.users

    @users.setter
    def users(self, users: Any) -> None:
        try:
            chosen = UserList(self.dataset, users)
        except (AttnWidgetError, TypeError, ValueError) as err:
            kind = UnknownUserError if isinstance(err, UnknownUserError) else DataError
            raise self._refused(kind, f"users: {err}") from None
        self.session.users = chosen
        with self.hold_sync():
            self.n_users = len(chosen)
            self._show_window(chosen.window_start(self.user, 0))

    def search_users(self, query: str, limit: int = SEARCH_LIMIT) -> list[str]:
        """Ids of the explorer's users that start with ``query`` (first, in sorted order) or
        contain it, as plain text (case-insensitive; no patterns); at most ``limit``."""
        return self.session.search_users(query, limit)[0]

    def search_items(self, query: str, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
        """Items (``{"id", "title"}``) whose id or title starts with ``query`` (first) or
        contains it, as plain text (case-insensitive; no patterns), to add to a history;
        at most ``limit``."""
        return self.session.search_items(query, limit)[0]

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Answer the browser's ``{"type": "search", "query": text}`` (items) with
        ``{"type": "search_results", "query", "items", "more"}`` and ``{"type":
        "search_users", "query": text}`` with ``{"type": "user_results", "query", "users",
        "more"}``, at most ``SEARCH_LIMIT`` of each; anything else becomes a message in
        ``error``."""
        kind = content.get("type") if isinstance(content, dict) else None
        if kind not in ("search", "search_users"):
            shown = f"type {kind!r}" if isinstance(content, dict) else type(content).__name__
            self.error = (
                f"ignored a message from the browser ({shown:.80}): "
                "expected 'search' or 'search_users'"
            )
            return
        query = content.get("query", "")
        what, search, reply, key = (
            ("item", self.session.search_items, "search_results", "items")
            if kind == "search"
            else ("user", self.session.search_users, "user_results", "users")
        )
        try:
            found, more = search(query)
        except (TypeError, ValueError) as err:
            self.error, found, more = f"{what} search: {err}", [], False
        self.send({"type": reply, "query": query, key: found, "more": more})

    def _show_window(self, start: int) -> None:
        """Let the slider run over the users from ``start`` (moved into range)."""
        self.user_window_start = self.users.clamp_start(start, USER_WINDOW)
        self.user_window = self.users.window(self.user_window_start, USER_WINDOW)

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
                f"user {user!r}", self.session.user_view, user
            )
        return user

    @t.observe("user")
    def _show_user(self, change: t.Bunch) -> None:
        view = self._prepared.pop("user", None)
        if view is None:  # validated as the user already shown: nothing to change
            return
        self._shown, self._shown_user, self._shown_edit = view.expl, change["new"], []
        self._switching = True
        try:
            with self.hold_sync():
                self._show_window(self.users.window_start(change["new"], self.user_window_start))
                self.layer = min(self.layer, self.n_layers - 1)
                self.head = min(self.head, self.n_heads - 1)
                self.selection = []
                self.history_edit = []
                self.feature_edit = []
                self._shown_features = []
                self.edited = None
                self.error = ""
        finally:
            self._switching = False
        self.session.show(view)

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
            view = self._prepared_or_refused(
                what, self.session.edit_view, self._shown, self._shown_user, indices
            )
            self._prepared["history_edit"] = view
        return ids

    @t.observe("history_edit")
    def _show_edit(self, change: t.Bunch) -> None:
        if self._switching:
            return
        view = self._prepared.pop("history_edit", None)
        if view is None:  # the same edit, or one made moot by a user change in the same batch
            return
        self._shown_edit = list(change["new"])
        self.edited = view.expl if change["new"] else None
        self._drop_feature_edit()
        self.selection = []
        self.error = ""
        self.session.show(view)

    def _drop_feature_edit(self) -> None:
        """A new history (edit) drops the feature edits of the one shown before."""
        self._prepared.pop("feature_edit", None)
        self._shown_features = []
        self._switching = True
        try:
            self.feature_edit = []
        finally:
            self._switching = False

    @t.validate("feature_edit")
    def _valid_feature_edit(self, proposal: t.Bunch) -> list[dict[str, Any]]:
        view = self.session.shown
        n = 0 if view is None else len(view.expl.history)
        try:
            plain, edits = parse_feature_edits(proposal["value"], self.source.catalog, n)
        except DataError as err:
            raise self._refused(type(err), str(err)) from None
        changing = not any(k in self._prepared for k in ("user", "history_edit"))
        if not self._switching and changing and plain != self._shown_features:
            indices = self.source.catalog.encode(self._shown_edit) if self._shown_edit else []
            self._prepared["feature_edit"] = self._prepared_or_refused(
                "the feature change" if edits else "the history without feature changes",
                self.session.feature_view,
                self._shown,
                self._shown_user,
                np.asarray(indices, dtype=np.int64),
                edits,
            )
        return plain

    @t.observe("feature_edit")
    def _show_feature_edit(self, _change: t.Bunch) -> None:
        if self._switching:
            return
        view = self._prepared.pop("feature_edit", None)
        if view is None:  # the same edits, or made moot by a user or history change
            return
        self._shown_features = list(self.feature_edit)
        self.edited = view.expl if self._shown_features or self._shown_edit else None
        self.selection = []
        self.error = ""
        self.session.show(view)

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
        view = self.session.shown
        n = 0 if view is None else len(view.expl.history)
        bad = [p for p in value if not 0 <= p < n]
        if bad or len(set(value)) != len(value):
            what = f"positions {bad[:5]} outside 0..{n - 1}" if bad else "a position twice"
            message = f"selection holds {what} of the {n} history items shown"
            raise self._refused(DataError, message)
        return value

    @t.validate("user_window_start")
    def _valid_window_start(self, proposal: t.Bunch) -> int:
        value = proposal["value"]
        if isinstance(value, bool):
            raise self._refused(DataError, f"user_window_start must be an integer, got {value!r}")
        return self.users.clamp_start(int(value), USER_WINDOW)

    @t.observe("user_window_start")
    def _new_window(self, change: t.Bunch) -> None:
        self.user_window = self.users.window(change["new"], USER_WINDOW)

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
            raise ArgumentValueError(
                "anonymize_items=True needs anonymize=True (user ids stay otherwise)"
            )
        chosen = list(UserList(self.dataset, users if users is not None else [self.user]))
        packs = self.session.page_packs(chosen)  # with the model-level agreement
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
