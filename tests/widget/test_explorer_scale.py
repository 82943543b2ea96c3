"""The explorer at user-base and catalogue scale: 1,000,000 users × 500,000 items (issue 10).

The data is synthetic and the model untrained (a small SASRec from a seed): what is tested is
what travels to the browser. The widget state and every message the kernel sends must not grow
with the number of users or items: the state of the big explorer is compared, byte for byte
up to a small slack, with that of a 1,000-user × 500-item one with ids of the same width.
The old ``users`` trait (every user id, synced) alone was ~11 MB of JSON here.
"""

from __future__ import annotations

import json
import statistics
import threading
import time

import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers

import attnwidget as aw
from attnwidget.data.catalog import Catalog
from attnwidget.widget.users import SEARCH_LIMIT, USER_WINDOW

N_USERS, N_ITEMS, HISTORY = 1_000_000, 500_000, 3
WORDS = ("camera", "lens", "tripod", "memory card", "bag", "charger", "strap", "filter")
STATE_JSON_BOUND = 6_000
"""Bytes of the state's JSON without the bundle (``_esm``, ``_css``) and without buffers."""
PAYLOAD_BOUND = 16_000
"""Bytes of the payload buffer: one user's pack (history of 3, 10 recommendations)."""
MESSAGE_BOUND = 24_000
"""Bytes of any message the kernel sends (JSON + buffers)."""
GROWTH_SLACK = 600
"""The big explorer's state may exceed the small one's by this much (digits of scores, times)."""
SEARCH_QUERY_MS = 100.0  # median per query once the index is built (~5 ms measured idle)


def synthetic(n_users: int, n_items: int, seed: int = 0) -> aw.Dataset:
    """``n_users`` users with ``HISTORY`` random purchases each over ``n_items`` titled items,
    built from arrays (ids of fixed width, so sizes compare across scales)."""
    item_ids = [f"i{k:07d}" for k in range(n_items)]
    titles = [f"{WORDS[k % len(WORDS)]} {k:07d}" for k in range(n_items)]
    catalog = Catalog(item_ids, titles, [], np.zeros((n_items + 1, 0), dtype=np.int64))
    flat = np.random.default_rng(seed).integers(1, n_items + 1, size=n_users * HISTORY)
    users = [f"u{k:07d}" for k in range(n_users)]
    return aw.Dataset(catalog, users, np.split(flat, np.arange(HISTORY, flat.size, HISTORY)))


def explorer_of(dataset: aw.Dataset) -> aw.AttentionExplorer:
    model = aw.SASRec(dataset, d_model=16, n_layers=2, n_heads=2, max_len=10, seed=0)
    return aw.AttentionExplorer(model, dataset, agreement_users=0)


class RecordingComm:
    """A comm to a front end that records what the kernel sends (ipywidgets sends state
    changes only while a comm with a kernel is open)."""

    kernel = True
    comm_id = "recording"

    def __init__(self) -> None:
        self.sent: list[tuple[dict, list]] = []
        self._lock = threading.Lock()

    def send(self, data: dict | None = None, buffers: list | None = None, **_: object) -> None:
        with self._lock:
            self.sent.append((data or {}, list(buffers or [])))

    def on_msg(self, _callback: object) -> None:
        pass

    def messages(self) -> list[tuple[dict, list]]:
        with self._lock:
            taken, self.sent = self.sent, []
        return taken


def nbytes(data: dict, buffers: list) -> int:
    return len(json.dumps(data).encode()) + sum(memoryview(b).nbytes for b in buffers)


def state_sizes(explorer: aw.AttentionExplorer) -> dict[str, int]:
    """Bytes of each synced trait as it travels (JSON, or the buffer), bundle left out."""
    state, _, buffers = _remove_buffers(explorer.get_state())
    sizes = {k: len(json.dumps(v).encode()) for k, v in state.items() if k not in ("_esm", "_css")}
    sizes["payload"] = len(explorer.payload)
    assert sum(memoryview(b).nbytes for b in buffers) == len(explorer.payload) + len(
        explorer.archive
    )
    return sizes


@pytest.fixture(scope="module")
def big() -> aw.AttentionExplorer:
    explorer = explorer_of(synthetic(N_USERS, N_ITEMS))
    yield explorer
    explorer.wait()


def test_the_state_does_not_grow_with_users_or_items(big):
    small = explorer_of(synthetic(1_000, 500))
    big_sizes, small_sizes = state_sizes(big), state_sizes(small)
    json_bytes = sum(v for k, v in big_sizes.items() if k != "payload")
    small_json = sum(small_sizes.values()) - small_sizes["payload"]
    print(
        f"\nstate at {N_USERS:,} users x {N_ITEMS:,} items: {json_bytes} B JSON + "
        f"{big_sizes['payload']} B payload; at 1,000 x 500: {small_json} B + "
        f"{small_sizes['payload']} B"
    )
    assert "users" not in big_sizes  # the old trait: ~11 MB of ids here
    assert big.n_users == N_USERS and len(big.user_window) == USER_WINDOW
    assert json_bytes < STATE_JSON_BOUND and big_sizes["payload"] < PAYLOAD_BOUND
    assert sum(big_sizes.values()) <= sum(small_sizes.values()) + GROWTH_SLACK
    for name, size in big_sizes.items():
        assert size <= small_sizes[name] + GROWTH_SLACK, name


def test_users_are_searched_and_switched_with_bounded_messages(big):
    comm = RecordingComm()
    big.comm = comm
    big._on_message(big, {"type": "search_users", "query": "u00004"}, [])
    big._on_message(big, {"type": "search_users", "query": "999999"}, [])
    (prefix, p_buffers), (substring, s_buffers) = comm.messages()
    assert prefix["content"]["users"] == [f"u00004{k:02d}" for k in range(SEARCH_LIMIT)]
    assert prefix["content"]["more"] is True
    assert substring["content"]["users"] == ["u0999999"]
    assert max(nbytes(prefix, p_buffers), nbytes(substring, s_buffers)) < 1_000

    # a user found by the search, from the browser: the slider's window moves to it
    big.set_state({"user": "u0500000"})
    assert big.user == "u0500000" and big.error == ""
    assert big.user_window_start == 500_000 - USER_WINDOW // 2
    assert big.user_window[USER_WINDOW // 2] == "u0500000"
    # a step along the slider (a neighbour explained ahead), then the next page of the window
    big.session.idle()
    assert {"u0500001", "u0499999"} <= set(big.session.ahead_users())
    big.set_state({"user": "u0500001"})
    big.set_state({"user_window_start": 600_000})
    assert big.user_window == [f"u{600_000 + k:07d}" for k in range(USER_WINDOW)]
    big.wait()
    sent = comm.messages()
    assert sent, "the switches sent nothing"
    sizes = [nbytes(data, buffers) for data, buffers in sent]
    print(f"\n{len(sent)} messages for 2 user switches and a window move, largest {max(sizes)} B")
    assert max(sizes) < MESSAGE_BOUND


def test_items_are_searched_through_an_index_built_once(big):
    comm = RecordingComm()
    big.comm = comm
    big.search_items("warm-up")  # builds the index (once per catalogue)
    queries = ["lens", "LENS 00", "i0123", "0499999", "memory card 00004", "no such item"]
    times = []
    for query in queries * 3:
        start = time.perf_counter()
        big._on_message(big, {"type": "search", "query": query}, [])
        times.append((time.perf_counter() - start) * 1e3)
    replies = [data["content"] for data, _ in comm.messages()]
    by_query = dict(zip(queries, replies, strict=False))
    median = statistics.median(times)
    print(f"\nitem search at {N_ITEMS:,} items: {median:.2f} ms median, {max(times):.2f} ms max")
    assert median < SEARCH_QUERY_MS
    assert [i["title"] for i in by_query["lens"]["items"][:2]] == ["lens 0000001", "lens 0000009"]
    assert len(by_query["lens"]["items"]) == SEARCH_LIMIT and by_query["lens"]["more"]
    assert by_query["i0123"]["items"][0]["id"] == "i0123000"  # id prefix, sorted
    assert [i["id"] for i in by_query["0499999"]["items"]] == ["i0499999"]  # substring
    none = {"type": "search_results", "query": "no such item", "items": [], "more": False}
    assert by_query["no such item"] == none
    assert max(len(json.dumps(r).encode()) for r in replies) < 3_000
