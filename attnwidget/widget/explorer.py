"""AttentionExplorer: the anywidget that shows one user's attention, linked across views."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ..data import Dataset
from ..errors import AttnWidgetError, UnknownItemError, UnknownUserError
from ..explain import METHODS, Explanation, explain, explain_indices, faithfulness_report
from ..sources import as_source
from .explanation_pack import explanation_pack, user_agreement, what_if_summary
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
        self.dataset = dataset
        self.k = int(k)
        self._cache: OrderedDict[str, tuple[Explanation, bytes]] = OrderedDict()
        self._cache_size = max(1, int(cache_size))
        self._agreement_users = agreement_users
        self._agreement: dict[str, dict[str, float]] | None = None
        self.edited: Explanation | None = None
        """The explanation of ``history_edit`` (``None`` while it is empty)."""
        chosen = dataset.users if users is None else list(users)
        if not chosen:
            raise ValueError("users is empty: give at least one user to explore")
        for u in chosen:
            dataset.user_position(u)  # raises UnknownUserError naming the user
        super().__init__(users=[str(u) for u in chosen], **kwargs)
        self.on_msg(self._on_message)
        self.user = str(chosen[0])

    # --- explanations -------------------------------------------------------------------
    def explanation(self, user: Any | None = None) -> Explanation:
        """The (cached) explanation of ``user`` (default: the current user)."""
        return self._explained(self.user if user is None else str(user))[0]

    def _explained(self, user: str) -> tuple[Explanation, bytes]:
        if user in self._cache:
            self._cache.move_to_end(user)
            return self._cache[user]
        position = self.dataset.user_position(user)
        expl = explain(self.source, self.dataset, self.dataset.users[position], k=self.k)
        entry = (expl, self._pack(expl))
        self._cache[user] = entry
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return entry

    @property
    def agreement(self) -> dict[str, dict[str, float]]:
        """Mean Kendall τ and top-1 agreement with occlusion per method, over a user sample."""
        if self._agreement is None:
            report = faithfulness_report(
                self.source,
                self.dataset,
                self.users,
                n_users=self._agreement_users,
                progress=False,
            )
            self._agreement = {
                m: {
                    "kendall_tau": float(report.loc[m, "kendall_tau"]),
                    "top1_agreement": float(report.loc[m, "top1_agreement"]),
                }
                for m in report.index
            }
            for m, values in user_agreement(self.explanation()).items():
                self._agreement.setdefault(m, {k: float("nan") for k in values})
        return self._agreement

    def _pack(self, expl: Explanation, *, editable: bool = True, **options: Any) -> bytes:
        return explanation_pack(
            expl,
            agreement=self.agreement if self._agreement_users else None,
            editable=editable,
            **options,
        )

    def search_items(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Items whose id or title contains ``query`` (case-insensitive), to add to a history."""
        needle = query.strip().lower()
        if not needle:
            return []
        catalog = self.source.catalog
        found = []
        for index, (item_id, title) in enumerate(
            zip(catalog.item_ids, catalog.titles, strict=True), 1
        ):
            if needle in title.lower() or needle in str(item_id).lower():
                found.append({"id": str(item_id), "title": title, "index": index})
                if len(found) >= limit:
                    break
        return [{"id": f["id"], "title": f["title"]} for f in found]

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "search":
            query = str(content.get("query", ""))
            self.send({"type": "search_results", "query": query, "items": self.search_items(query)})

    @property
    def n_layers(self) -> int:
        return int(self.explanation().attentions.shape[0])

    @property
    def n_heads(self) -> int:
        return int(self.explanation().attentions.shape[1])

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
        self.status = "loading"
        try:
            expl, pack = self._explained(change["new"])
        except AttnWidgetError as err:
            self.error = str(err)
            self.status = ""
            return
        with self.hold_sync():
            self.layer = min(self.layer, expl.attentions.shape[0] - 1)
            self.head = min(self.head, expl.attentions.shape[1] - 1)
            self.selection = []
            self.history_edit = []
            self.payload = pack
            self.error = ""
            self.status = ""

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
        original, pack = self._explained(self.user)
        self.edited = None
        if change["new"]:
            try:
                self.edited = explain_indices(
                    self.source, self.source.catalog.encode(change["new"]), k=self.k, user=self.user
                )
            except AttnWidgetError as err:
                self.error = str(err)
                return
            pack = self._pack(self.edited, what_if=what_if_summary(original, self.edited))
        self.payload = pack
        self.error = ""

    @t.validate("layer", "head")
    def _valid_index(self, proposal: t.Bunch) -> int:
        name, value = proposal["trait"].name, int(proposal["value"])
        if not self.payload:
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
            self.send_state(["user", "layer", "head"])

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
