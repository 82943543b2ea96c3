"""Foreground first: model runs in background threads give way to the kernel's answers.

The explorer computes occlusion and explains neighbouring users in background threads
while the kernel answers the browser in its main thread. Both run the same model, so its
runs are serialised by a lock (:func:`attnwidget.sources.base.model_lock`); a plain lock
would make a user switch wait for whatever the background started. A
:class:`PriorityLock` hands the model to a foreground thread first, and while a
:func:`foreground` block is open no background thread takes it at all. Background work
that runs the model in short pieces (occlusion runs its variants in chunks) therefore
delays a foreground answer by at most one piece.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

_state = threading.Condition()
_local = threading.local()
_foreground = 0  # foreground requests open + foreground threads waiting for a model lock


def mark_background() -> None:
    """Mark the calling thread as background: its model runs wait for the foreground."""
    _local.background = True


def is_background() -> bool:
    """Whether the calling thread was marked with :func:`mark_background`."""
    return getattr(_local, "background", False)


@contextmanager
def foreground() -> Iterator[None]:
    """While open, no background thread starts a model run (one already running ends
    first), and torch runs on one thread. Open it around an answer the user waits for,
    never around waiting for background work: that work could not start until the block
    closes.

    One thread: an answer is one short pass of a small model, which a second thread barely
    speeds up on an idle machine, while on a busy one (the browser drawing the last view,
    another process training) torch's spinning worker threads made it 10-30× slower
    (measured here: 25 ms on one thread against 400-800 ms on two, 2 cores).
    """
    global _foreground
    with _state:
        _foreground += 1
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        with _state:
            _foreground -= 1
            _state.notify_all()


def give_way() -> None:
    """In a background thread, wait until no :func:`foreground` block is open (call it
    between pieces of background work that do not run the model: packing, say)."""
    if is_background():
        with _state:
            while _foreground:
                _state.wait()


class PriorityLock:
    """A reentrant lock that a waiting foreground thread always gets before a background
    one; background threads also wait while a :func:`foreground` block is open."""

    def __init__(self) -> None:
        self._owner: int | None = None
        self._depth = 0

    def acquire(self) -> bool:
        global _foreground
        me = threading.get_ident()
        with _state:
            if self._owner == me:
                self._depth += 1
                return True
            background = is_background()
            if not background:
                _foreground += 1
            try:
                while self._owner is not None or (background and _foreground):
                    _state.wait()
            finally:
                if not background:
                    _foreground -= 1
                    _state.notify_all()
            self._owner, self._depth = me, 1
            return True

    def release(self) -> None:
        with _state:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a PriorityLock this thread does not hold")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                _state.notify_all()

    def __enter__(self) -> PriorityLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()
