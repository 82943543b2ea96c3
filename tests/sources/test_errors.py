"""Every error class of attnwidget is an AttnWidgetError and still the built-in (or
traitlets) error it was before, so ``except AttnWidgetError`` and ``except ValueError`` both
keep working."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import traitlets
from torch import nn

import attnwidget
from attnwidget import AttnWidgetError
from attnwidget.errors import PackError
from attnwidget.sources import (
    AdapterError,
    AttentionNotFoundError,
    MultiheadAttentionSource,
)
from attnwidget.widget import traits
from attnwidget.widget.payload import decode_pack

from .tiny import catalog


def package_errors() -> list[type[BaseException]]:
    """Every exception class defined in attnwidget (warnings aside), its modules imported."""
    for module in pkgutil.walk_packages(attnwidget.__path__, "attnwidget."):
        importlib.import_module(module.name)
    found, todo = [], [BaseException]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("attnwidget") and not issubclass(sub, Warning):
                found.append(sub)
    return found


def test_every_error_class_of_the_package_is_an_attnwidget_error():
    errors = package_errors()
    names = {e.__name__ for e in errors}
    assert {"PackError", "AttentionNotFoundError", "AdapterError", "UnknownUserTraitError"} <= names
    assert [e.__name__ for e in errors if not issubclass(e, AttnWidgetError)] == []


@pytest.mark.parametrize(
    ("error", "also"),
    [
        (PackError, ValueError),
        (AttentionNotFoundError, TypeError),
        (AdapterError, TypeError),
        (traits.UnknownUserTraitError, KeyError),
        (traits.UnknownItemTraitError, KeyError),
        (traits.DataTraitError, ValueError),
    ],
)
def test_each_stays_the_error_it_was(error, also):
    assert issubclass(error, AttnWidgetError) and issubclass(error, also)
    if error.__name__.endswith("TraitError"):
        assert issubclass(error, traitlets.TraitError)  # traitlets rolls the change back


def _bad_pack() -> None:
    decode_pack(b"not a pack at all")


def _no_attention() -> None:
    MultiheadAttentionSource(nn.Linear(2, 2), catalog(), max_len=3)


def _adapter_fails() -> None:
    def broken(batch):
        raise RuntimeError("boom")

    encoder = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(4, 2, 8), 1, enable_nested_tensor=False
    )
    MultiheadAttentionSource(encoder, catalog(), max_len=3, to_input=broken).run([[1, 2]])


class _Settings(traitlets.HasTraits):
    """A trait of the widget's kind: a refused value is reported in ``error``."""

    error = traitlets.Unicode("")
    k = traits.ReportedInt(1)


def _refused_trait() -> None:
    _Settings().k = "ten"


@pytest.mark.parametrize(
    ("raises", "error"),
    [
        (_bad_pack, PackError),
        (_no_attention, AttentionNotFoundError),
        (_adapter_fails, AdapterError),
        (_refused_trait, traits.DataTraitError),
    ],
)
def test_except_attnwidget_error_catches_them(raises, error):
    try:
        raises()
    except AttnWidgetError as caught:
        assert type(caught) is error
    else:
        pytest.fail(f"{raises.__name__} raised nothing")
