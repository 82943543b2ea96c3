"""ExplorerSession: the explorer's caching and background work, with no widget or traits."""

import threading

import numpy as np
import pytest

from attnwidget.foreground import foreground
from attnwidget.sources import as_source
from attnwidget.widget.payload import decode_pack
from attnwidget.widget.session import PENDING_STATUS, ExplorerSession
from attnwidget.widget.users import UserList


@pytest.fixture
def published():
    """Every (header, status) the session publishes, in order."""
    return []


@pytest.fixture
def session(trained, shop, published):
    source = as_source(trained)
    session = ExplorerSession(
        source,
        shop.aligned_to(source.catalog),
        lambda pack, status: published.append((decode_pack(pack)[0], status)),
        k=5,
        agreement_users=0,
    )
    session.users = UserList(session.dataset, shop.users[:20])
    return session


def test_a_shown_view_is_drawn_fast_then_completed_in_the_background(session, shop, published):
    user = str(shop.users[3])
    view = session.user_view(user)
    assert not view.complete and view.user == user
    session.show(view)
    session.wait()
    (fast, fast_status), (done, done_status) = published
    assert fast["user"] == done["user"] == user
    assert (
        fast["importance"]["pending"]
        == ["gradient", "occlusion", "feature_occlusion", "reasons", "counterfactual"]
        and fast_status == PENDING_STATUS
    )
    assert done["importance"]["pending"] == [] and done_status == ""
    assert fast["timing"]["kernel_ms"] >= 0
    assert session.cached(user) is view.expl and session.shown.complete


def test_the_neighbours_on_the_slider_are_made_ahead_and_shown_from_there(session, shop):
    session.show(session.user_view(str(shop.users[10])))
    session.wait()
    session.idle()
    assert set(session.ahead_users()) == {str(shop.users[i]) for i in (8, 9, 11, 12)}
    ahead = session.ahead_users()[0]
    explained = []
    session.explain = lambda user: explained.append(user)  # would run were it not ahead
    assert session.user_view(ahead).user == ahead and explained == []
    assert ahead not in session.ahead_users()


def test_background_work_for_a_view_no_longer_shown_is_never_published(session, shop, published):
    session.show(session.user_view(str(shop.users[7])))
    session.show(session.user_view(str(shop.users[0])))
    session.wait()
    completed = [h["user"] for h, status in published if status == ""]
    assert completed == [str(shop.users[0])]


def test_no_background_model_run_starts_while_the_kernel_answers(session, shop):
    ran = threading.Event()
    with foreground():
        job = session._worker.submit(lambda: (session.explanation(str(shop.users[5])), ran.set()))
        assert not ran.wait(0.5)
    job.result(60)
    assert session.cached(str(shop.users[5])) is not None


def test_an_edit_shows_its_own_explanation_and_what_changed(session, shop, published):
    user = str(shop.users[2])
    original = session.explanation(user)
    edit = np.delete(original.history, int(np.nanargmax(original.method_importance("occlusion"))))
    view = session.edit_view(original, user, edit)
    assert view.user is None and list(view.expl.history) == list(edit)
    header = decode_pack(view.pack)[0]
    assert "what_if" in header
    assert session.edit_view(original, user, np.array([], dtype=int)).expl is original
