"""Every error class of attnwidget is an AttnWidgetError and still the built-in (or
traitlets) error it was before, so ``except AttnWidgetError`` and ``except ValueError`` both
keep working."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest
import traitlets
from torch import nn

import attnwidget
from attnwidget import ArgumentTypeError, ArgumentValueError, AttnWidgetError
from attnwidget.errors import PackError
from attnwidget.sources import (
    AdapterError,
    AttentionNotFoundError,
    MultiheadAttentionSource,
    as_source,
)
from attnwidget.widget import log12, traits
from attnwidget.widget.payload import decode_pack

from .tiny import catalog, dataset


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
        (ArgumentTypeError, TypeError),
        (ArgumentValueError, ValueError),
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


def _three() -> attnwidget.Dataset:
    return dataset({"u": [1, 2, 3]})


def _popular() -> attnwidget.PopularityBaseline:
    return attnwidget.PopularityBaseline(_three())


def _model() -> attnwidget.SASRec:
    return attnwidget.SASRec(catalog(), d_model=8, n_heads=2, n_layers=1, max_len=4)


# A bad argument anywhere in the public API: an ArgumentTypeError / ArgumentValueError, so an
# AttnWidgetError, and still the TypeError / ValueError it was (tests/hostile pins the messages).
_BAD_ARGUMENTS = {
    "synthetic_shop(n_users='10')": (lambda: attnwidget.synthetic_shop(n_users="10"), TypeError),
    "fit(loss='x')": (lambda: attnwidget.fit(_model(), _three(), loss="x"), ValueError),
    "Catalog with a list as an id": (
        lambda: attnwidget.Catalog([["a"]], ["A"], [], np.zeros((2, 0))),
        TypeError,
    ),
    "Dataset.split('train')": (lambda: _three().split("train"), ValueError),
    "load_csv(path=3)": (lambda: attnwidget.load_csv(3), TypeError),
    "SASRec(n_heads not dividing d_model)": (
        lambda: attnwidget.SASRec(catalog(), d_model=10, n_heads=3),
        ValueError,
    ),
    "fit(model='m')": (lambda: attnwidget.fit("m", _three()), TypeError),
    "evaluate(k=[])": (lambda: attnwidget.evaluate(_popular(), _three(), k=[]), ValueError),
    "explain(dataset=None)": (lambda: attnwidget.explain(_model(), None, "u"), TypeError),
    "as_source(object())": (lambda: as_source(object()), TypeError),
    "AttentionExplorer(dataset='d')": (
        lambda: attnwidget.AttentionExplorer(_model(), "d"),
        TypeError,
    ),
    "save_html([])": (lambda: attnwidget.save_html([], "page.html"), ValueError),
    "log12.encode(layout='diagonal')": (
        lambda: log12.encode(np.zeros((1, 1, 2, 2), np.float32), "diagonal"),
        ValueError,
    ),
}


@pytest.mark.parametrize("call", list(_BAD_ARGUMENTS))
def test_a_bad_argument_is_an_attnwidget_error_and_the_builtin(call):
    raises, builtin = _BAD_ARGUMENTS[call]
    twin = {TypeError: ArgumentTypeError, ValueError: ArgumentValueError}[builtin]
    with pytest.raises(AttnWidgetError) as info:
        raises()
    assert isinstance(info.value, builtin)
    assert type(info.value) is twin


def test_the_package_raises_no_bare_type_or_value_error():
    """Every TypeError / ValueError raised on purpose is one of attnwidget's errors."""
    root = Path(attnwidget.__file__).parent
    bare = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\braise (TypeError|ValueError)\b", line)
    ]
    assert bare == []
