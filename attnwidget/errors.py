"""Public exceptions and warnings. Each names the bad value and what was expected.

Every error class attnwidget defines is an :class:`AttnWidgetError`, and also the
built-in error it stands for (``ValueError``, ``TypeError``, ``KeyError``; the widget's
refused changes are ``traitlets.TraitError`` too, see ``attnwidget.widget.traits``).
Every error the package raises on purpose is one of them: a bad argument is an
:class:`ArgumentTypeError` or :class:`ArgumentValueError`, never a bare ``TypeError`` or
``ValueError``. Errors a Python protocol asks for (``IndexError``/``KeyError`` from
``__getitem__``, ``NotImplementedError``) and ``OSError``s (a file that cannot be written,
a built file that is missing) stay built-in.
"""

from __future__ import annotations


class AttnWidgetError(Exception):
    """Base class of every error attnwidget raises on purpose."""


class ArgumentTypeError(AttnWidgetError, TypeError):
    """An argument of the wrong type: ``k="10"``, ``dataset=None``, a string where a list of
    ids is expected. Also a ``TypeError``, so ``except TypeError`` keeps working."""


class ArgumentValueError(AttnWidgetError, ValueError):
    """An argument of the right type whose value cannot be used: out of range (``k=0``), not
    one of the choices (``loss="x"``), an empty list, a value that cannot be written. Also a
    ``ValueError``, so ``except ValueError`` keeps working. Malformed input data (tables,
    files, arrays) is a :class:`DataError` instead."""


class DataError(AttnWidgetError, ValueError):
    """Input data is malformed: missing columns, NaN ids, wrong shapes, bad files."""


class EmptyHistoryError(DataError):
    """A user or a given history has no items to explain or score."""


class _NamedKeyError(AttnWidgetError, KeyError):
    """KeyError whose message prints without the quotes KeyError adds."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnknownUserError(_NamedKeyError):
    """A user id that the dataset does not contain."""


class UnknownItemError(_NamedKeyError):
    """An item id that the catalogue does not contain."""


class CheckpointError(AttnWidgetError, ValueError):
    """A checkpoint file that is missing, damaged or not written by attnwidget."""


class NothingToRecommendError(AttnWidgetError, ValueError):
    """No item can be recommended: the history covers the catalogue, or every score is NaN/-inf."""


class PackError(AttnWidgetError, ValueError):
    """Bytes that are not a pack or an archive, are cut short or come from a newer schema,
    or an array that cannot be packed."""


class AttentionNotFoundError(AttnWidgetError, TypeError):
    """A model in which an adapter found no attention to capture, or no attention was returned."""


class AdapterError(AttnWidgetError, TypeError):
    """A model or adapter function (``to_input``, ``to_scores``, ``to_attention``) that does
    not work as the adapter needs: not callable, raised an error, or returned something that
    is not an array. The original error, if any, is chained as ``__cause__``."""


class MissingDependencyError(AttnWidgetError, RuntimeError):
    """Something a command needs is not installed (a package, a Jupyter kernel, the JS bundle)."""


class NothingToRecommendWarning(UserWarning):
    """Some users were left out of a report: nothing was left to recommend to them."""


class NoValidationWarning(UserWarning):
    """``fit`` had no validation split and kept the epoch with the lowest training loss."""


class TrainingDivergedWarning(UserWarning):
    """The loss or the weights became NaN/infinite; ``fit`` kept the best finite epoch."""


class TrainingDivergedError(AttnWidgetError, ValueError):
    """The loss became NaN/infinite before any epoch finished; the weights were restored."""


class NonFiniteScoresWarning(UserWarning):
    """Some scores a model gave are NaN or +inf: those items are never ranked or recommended."""
