"""Model runs in background threads give way to the kernel's answers (attnwidget.foreground)."""

import threading
import time

import torch

from attnwidget.foreground import PriorityLock, foreground, give_way, mark_background


def in_background(work):
    """Run ``work`` in a thread marked as background; returns the started thread."""

    def run():
        mark_background()
        work()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_waiting_foreground_thread_gets_the_lock_before_background_ones():
    lock, order = PriorityLock(), []
    lock.acquire()  # held by the "kernel" while both others queue up
    background = in_background(lambda: (lock.acquire(), order.append("background"), lock.release()))
    time.sleep(0.05)

    def kernel():
        with lock:
            order.append("foreground")

    foreground_thread = threading.Thread(target=kernel)
    foreground_thread.start()
    time.sleep(0.05)
    lock.release()
    background.join(2)
    foreground_thread.join(2)
    assert order == ["foreground", "background"]


def test_no_background_run_starts_while_a_foreground_block_is_open():
    lock, ran = PriorityLock(), threading.Event()
    with foreground():
        background = in_background(lambda: (lock.acquire(), ran.set(), lock.release()))
        assert not ran.wait(0.2)  # the lock is free, but the kernel is answering
    assert ran.wait(2)
    background.join(2)


def test_the_lock_is_reentrant_and_refuses_a_release_by_another_thread():
    lock, errors = PriorityLock(), []

    def release_it():
        try:
            lock.release()
        except RuntimeError as err:
            errors.append(err)

    with lock, lock:  # the same thread may take it again (a source calling itself)
        other = threading.Thread(target=release_it)
        other.start()
        other.join(2)
        assert len(errors) == 1
    taken = threading.Event()
    later = threading.Thread(target=lambda: (lock.acquire(), taken.set(), lock.release()))
    later.start()
    assert taken.wait(2)  # released as many times as taken: free again
    later.join(2)


def test_background_work_gives_way_while_the_kernel_answers():
    done = threading.Event()
    with foreground():
        worker = in_background(lambda: (give_way(), done.set()))
        assert not done.wait(0.2)
        give_way()  # the kernel's own thread never waits for itself
    assert done.wait(2)
    worker.join(2)


def test_the_kernel_answers_on_one_torch_thread_and_restores_the_setting():
    before = torch.get_num_threads()
    with foreground():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
