"""What the adapters for a user's torch model share: padding, eval mode, scores, checks.

An adapter turns a batch of dense-index histories into one left-padded ``LongTensor``
``[batch, n]`` (0 = padding, most recent item last), gives it to the user's ``to_input``
and the result to the model, and reads scores with the user's ``to_scores``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..checks import check_int
from ..data import Catalog, Dataset
from ..errors import (
    AdapterError,
    ArgumentTypeError,
    AttentionNotFoundError,
    AttnWidgetError,
    DataError,
    EmptyHistoryError,
)
from .base import SourceOutput, model_lock
from .validate import check_weights

BATCH_AXES = ("batch row", "head", "query", "key")
ToInput = Callable[[torch.Tensor], Any]
ToScores = Callable[[Any], Any]
ToAttention = Callable[[torch.Tensor], torch.Tensor]


def default_scores(output: Any) -> Any:
    """Scores from a model output: the output itself when it is a tensor, else its ``logits``.

    A ``[batch, n, items]`` result (one row per position) gives its last position.
    """
    value = output
    if not isinstance(value, torch.Tensor | np.ndarray):
        logits = output.get("logits") if isinstance(output, Mapping) else None
        if logits is None:
            logits = getattr(output, "logits", None)
        if logits is None:
            raise AdapterError(
                f"the model returned a {type(output).__name__}, not a score tensor: pass "
                "to_scores=... mapping its output to [batch, n_items + 1] scores"
            )
        value = logits
    return value[:, -1] if value.ndim == 3 else value


def call_model(model: Callable[..., Any], inputs: Any, **extra: Any) -> Any:
    """``model(**inputs)`` for a mapping, ``model(*inputs)`` for a tuple, else ``model(inputs)``."""
    if isinstance(inputs, Mapping):
        return model(**inputs, **extra)
    if isinstance(inputs, tuple):
        return model(*inputs, **extra)
    return model(inputs, **extra)


@contextlib.contextmanager
def eval_mode(model: Any, *, grad: bool = False) -> Iterator[None]:
    """Every submodule in eval mode, autograd on only with ``grad``; each module's own
    flag restored after."""
    modules = list(model.modules()) if isinstance(model, nn.Module) else []
    flags = [m.training for m in modules]
    try:
        if isinstance(model, nn.Module):
            model.eval()
        with torch.set_grad_enabled(grad):
            yield
    finally:
        for module, flag in zip(modules, flags, strict=True):
            module.training = flag


def guarded(step: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``; an error it raises (other than attnwidget's own)
    becomes an :class:`AdapterError` naming ``step``, with the original chained."""
    try:
        return function(*args, **kwargs)
    except AttnWidgetError:
        raise
    except Exception as err:
        raise AdapterError(f"{step} raised {type(err).__name__}: {err}") from err


def _callable(value: Any, name: str) -> Any:
    if value is not None and not callable(value):
        raise AdapterError(f"{name} must be callable, got {type(value).__name__} {value!r:.60}")
    return value


def _catalog(data: Dataset | Catalog) -> Catalog:
    catalog = data.catalog if isinstance(data, Dataset) else data
    if not isinstance(catalog, Catalog):
        raise ArgumentTypeError(
            f"expected an attnwidget Dataset or Catalog, got {type(data).__name__}"
        )
    return catalog


def _as_tensor(value: Any, what: str) -> torch.Tensor:
    """A float32 CPU tensor from a tensor, a numpy array or a (nested) list of numbers."""
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, torch.Tensor) for v in value):
            value = guarded(
                f"stacking the tensors of {what}", torch.stack, [v.detach().cpu() for v in value]
            )
        else:
            try:
                value = np.asarray(value, dtype=np.float32)
            except (TypeError, ValueError) as err:
                raise AdapterError(f"{what} is a list that is not a numeric array: {err}") from None
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise AdapterError(f"{what} is a numpy array of dtype {value.dtype}, not numbers")
        value = torch.from_numpy(np.ascontiguousarray(value))
    if not isinstance(value, torch.Tensor):
        raise AdapterError(
            f"{what} must be a tensor, numpy array or list of numbers, got {type(value).__name__}"
        )
    if value.is_complex():
        raise AdapterError(f"{what} is a complex tensor; expected real numbers")
    return value.detach().to("cpu", torch.float32)


def _computed(weights: torch.Tensor) -> torch.Tensor:
    """The tensor the model computed with: for a reshaped view (``nn.MultiheadAttention``
    returns its weights as a ``view`` made after using them), its base."""
    base = weights._base
    return base if base is not None and base.numel() == weights.numel() else weights


class TorchModelSource:
    """Base of the torch adapters; subclasses implement :meth:`forward`.

    Args:
        model: the user's model (any callable; an ``nn.Module`` is run in eval mode).
        data: the :class:`Dataset` or :class:`Catalog` whose dense item indices the model reads.
        max_len: the longest history the model takes; longer ones are cut to the most recent.
        to_input: padded history batch ``[batch, n]`` → what the model is called with (a
            mapping is passed as keyword arguments, a tuple as positional ones).
        to_scores: model output → ``[batch, n_items + 1]`` scores (column 0 = padding, set to
            ``-inf``) or ``[batch, n_items]`` (item index ``i`` in column ``i - 1``).
        to_attention: one layer's ``[batch, heads, m, m]`` weights → ``[batch, heads, n, n]``
            over the history positions, e.g. to drop a prepended ``[CLS]`` token.
        batched: ``False`` (default) batches only histories of equal length, so the model
            never sees padding; ``True`` runs all histories at once, left-padded (for models
            that mask padding, i.e. index 0).

    The padded batch is made on the model's device (that of its first parameter or buffer;
    the CPU for a model without any), so a model on ``"cuda"`` or ``"mps"`` runs there;
    scores, attention and gradients come back as CPU numpy arrays. The model is never moved.

    Scores may come back as a tensor, a numpy array or a list of numbers (in any float or
    integer dtype). NaN and +inf scores are left to the explanation, which never recommends
    those items and says so; a history without any finite score has nothing to recommend.

    Raises:
        TypeError / ValueError: ``max_len`` is not an integer / below 1.
        AdapterError: ``model`` or an adapter function is not callable, raises (the step is
            named, the original chained), or returns something that is not numbers.
        DataError: scores of the wrong shape; infinite or negative attention weights (NaN
            ones are shown as missing, with a warning).
        AttentionNotFoundError: no attention, or attention of the wrong shape.
    """

    field_names: list[str]
    can_rerun = True

    def __init__(
        self,
        model: Any,
        data: Dataset | Catalog,
        *,
        max_len: int,
        to_input: ToInput | None = None,
        to_scores: ToScores | None = None,
        to_attention: ToAttention | None = None,
        batched: bool = False,
    ) -> None:
        if not callable(model):
            raise AdapterError(f"model must be callable, got {type(model).__name__}")
        self.model = model
        self.catalog = _catalog(data)
        self.max_len = check_int("max_len", max_len)
        self.field_names = ["item"]
        self.to_input: ToInput = _callable(to_input, "to_input") or (lambda batch: batch)
        self.to_scores: ToScores = _callable(to_scores, "to_scores") or default_scores
        self.to_attention = _callable(to_attention, "to_attention")
        self.batched = bool(batched)

    # --- to implement ----------------------------------------------------------------------
    def forward(self, batch: torch.Tensor) -> tuple[Any, list[torch.Tensor]]:
        """The model's output for a padded batch and its attention, one tensor per layer."""
        raise NotImplementedError

    def forward_in_graph(self, batch: torch.Tensor) -> tuple[Any, list[torch.Tensor]]:
        """As :meth:`forward`, run with autograd on, the attention being the weights the
        output was computed from (so the output can be differentiated by them)."""
        return self.forward(batch)

    # --- shared ----------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        """Where input batches are made: the model's first parameter's (or buffer's) device."""
        if isinstance(self.model, nn.Module):
            for tensor in (*self.model.parameters(), *self.model.buffers()):
                return tensor.device
        return torch.device("cpu")

    def pad(self, histories: Sequence[np.ndarray]) -> torch.Tensor:
        """Left-pad dense-index histories (0 = padding), keeping the last ``max_len`` items."""
        cut = [np.asarray(h, dtype=np.int64).reshape(-1)[-self.max_len :] for h in histories]
        if not cut:
            raise EmptyHistoryError("no histories to run")
        n_items = self.catalog.n_items
        for i, h in enumerate(cut):
            if h.size == 0:
                raise EmptyHistoryError(f"history {i} of the batch is empty")
            if h.min() < 1 or h.max() > n_items:
                raise DataError(f"history {i} has item indices outside 1..{n_items}")
        n = max(len(h) for h in cut)
        batch = np.zeros((len(cut), n), dtype=np.int64)
        for i, h in enumerate(cut):
            batch[i, n - len(h) :] = h
        return torch.as_tensor(batch, device=self.device)

    def run(self, histories: Sequence[np.ndarray]) -> SourceOutput:
        """Scores and attention for dense-index histories (see :class:`AttentionSource`)."""
        groups = self._groups(histories)
        with model_lock(self.model):
            parts = [self._run_batch(self.pad([histories[i] for i in group])) for group in groups]
        n = max(a.shape[-1] for _, a in parts)
        layers, heads = parts[0][1].shape[1:3]
        scores = np.zeros((len(histories), parts[0][0].shape[1]), dtype=parts[0][0].dtype)
        attentions = np.zeros((len(histories), layers, heads, n, n), dtype=np.float32)
        for group, (s, a) in zip(groups, parts, strict=True):
            if a.shape[1:3] != (layers, heads):
                raise AttentionNotFoundError(
                    f"the model gave {a.shape[1]} layers × {a.shape[2]} heads of attention for "
                    f"one history and {layers} × {heads} for another"
                )
            m = a.shape[-1]
            scores[group] = s
            attentions[group, :, :, n - m :, n - m :] = a
        return SourceOutput(scores=scores, attentions=attentions, feature_attention=None)

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """``[len(histories), n_items + 1]`` scores with no attention capture (one plain pass
        per batch), e.g. for :func:`attnwidget.evaluate`."""
        scores = np.zeros((len(histories), self.catalog.n_items + 1), dtype=np.float32)
        for group in self._groups(histories):
            batch = self.pad([histories[i] for i in group])
            with model_lock(self.model), eval_mode(self.model):
                scores[group] = self._scores(self.predict(batch), len(group))
        return scores

    def attention_gradients(
        self, history: np.ndarray, target: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``[L, H, n, n]`` attention and ``∂ score[target] / ∂ attention`` of one history.

        ``to_attention`` is applied to the gradient as to the weights (a choice of positions,
        such as dropping ``[CLS]``). ``None`` when the model gives no gradient: ``to_scores``
        returns no tensor in the graph, or no layer's attention is in it. Parameters' ``.grad``
        are left as they were.
        """
        batch = self.pad([history])
        with model_lock(self.model), eval_mode(self.model, grad=True):
            output, layers = self.forward_in_graph(batch)
            scores = guarded("to_scores(output)", self.to_scores, output)
            tracked = [
                i for i, w in enumerate(layers) if isinstance(w, torch.Tensor) and w.requires_grad
            ]
            if not (isinstance(scores, torch.Tensor) and scores.requires_grad and tracked):
                return None
            column = target - 1 if scores.shape[-1] == self.catalog.n_items else target
            found = torch.autograd.grad(
                scores[0, column], [_computed(layers[i]) for i in tracked], allow_unused=True
            )
        if all(g is None for g in found):
            return None
        by_layer = dict(zip(tracked, found, strict=True))
        gradients = [  # a layer the score does not depend on has a zero gradient
            torch.zeros(_as_tensor(w, "attention").shape)
            if by_layer.get(i) is None
            else by_layer[i].reshape(w.shape)
            for i, w in enumerate(layers)
        ]
        attention = self._attention(layers, batch.shape)
        return attention[0], self._attention(gradients, batch.shape, check=False)[0]

    def predict(self, batch: torch.Tensor, **extra: Any) -> Any:
        """The model's output for a padded batch: ``model(to_input(batch), **extra)``.

        Errors raised by ``to_input`` or the model become an :class:`AdapterError`.
        """
        shape = list(batch.shape)
        inputs = guarded(f"to_input(batch of shape {shape})", self.to_input, batch)
        return guarded(
            f"the model, called on a batch of shape {shape},",
            call_model,
            self.model,
            inputs,
            **extra,
        )

    def _groups(self, histories: Sequence[np.ndarray]) -> list[list[int]]:
        """Positions of the histories run together (equal lengths unless ``batched``)."""
        if len(histories) == 0:
            raise EmptyHistoryError("no histories to run")
        lengths = [min(np.asarray(h).size, self.max_len) for h in histories]
        if self.batched:
            return [list(range(len(lengths)))]
        by_length: dict[int, list[int]] = {}
        for i, length in enumerate(lengths):
            by_length.setdefault(length, []).append(i)
        return list(by_length.values())

    def _run_batch(self, batch: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        with eval_mode(self.model):
            output, layers = self.forward(batch)
            scores = self._scores(output, batch.shape[0])
        return scores, self._attention(layers, batch.shape)

    def _scores(self, output: Any, b: int) -> np.ndarray:
        returned = guarded("to_scores(output)", self.to_scores, output)
        scores = _as_tensor(returned, "to_scores(output)").numpy().copy()
        n_items = self.catalog.n_items
        widths = (n_items, n_items + 1)
        if scores.ndim != 2 or scores.shape[0] != b or scores.shape[1] not in widths:
            raise DataError(
                f"scores have shape {tuple(scores.shape)}; expected [{b}, {n_items + 1}] "
                f"(index 0 = padding) or [{b}, {n_items}] for {n_items} catalogue items"
            )
        if scores.shape[1] == n_items:
            scores = np.concatenate([np.zeros((b, 1), dtype=scores.dtype), scores], axis=1)
        scores[:, 0] = -np.inf
        return scores

    def _attention(
        self, layers: Sequence[Any], shape: torch.Size, *, check: bool = True
    ) -> np.ndarray:
        """``[B, L, H, n, n]`` from per-layer weights (or, without ``check``, gradients)."""
        b, n = shape
        if not layers:
            raise AttentionNotFoundError("the model gave no attention weights")
        out = []
        for number, layer in enumerate(layers):
            weights = _as_tensor(layer, f"attention of layer {number}")
            if self.to_attention is not None:
                changed = guarded("to_attention(weights)", self.to_attention, weights)
                weights = _as_tensor(changed, "to_attention(weights)")
            if weights.dim() != 4 or weights.shape[0] != b or weights.shape[-2:] != (n, n):
                raise AttentionNotFoundError(
                    f"attention of layer {number} has shape {tuple(weights.shape)}; expected "
                    f"[{b}, heads, {n}, {n}] over the {n} history positions (use modules=... to "
                    "pick self-attention modules, or to_attention=... to drop extra tokens)"
                )
            if check:
                check_weights(
                    weights.numpy(), f"attention of layer {number}", axes=BATCH_AXES, allow_nan=True
                )
            out.append(weights)
        if len({w.shape for w in out}) > 1:
            shapes = ", ".join(str(tuple(w.shape)) for w in out)
            raise AttentionNotFoundError(f"layers have attention of different shapes: {shapes}")
        return torch.stack(out, dim=1).numpy()
