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

from ..data import Catalog, Dataset
from ..errors import DataError, EmptyHistoryError
from .base import AttentionNotFoundError, SourceOutput, model_lock

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
            raise TypeError(
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
def eval_mode(model: Any) -> Iterator[None]:
    """Every submodule in eval mode and no autograd; each module's own flag restored after."""
    modules = list(model.modules()) if isinstance(model, nn.Module) else []
    flags = [m.training for m in modules]
    try:
        if isinstance(model, nn.Module):
            model.eval()
        with torch.no_grad():
            yield
    finally:
        for module, flag in zip(modules, flags, strict=True):
            module.training = flag


def _catalog(data: Dataset | Catalog) -> Catalog:
    catalog = data.catalog if isinstance(data, Dataset) else data
    if not isinstance(catalog, Catalog):
        raise TypeError(f"expected an attnwidget Dataset or Catalog, got {type(data).__name__}")
    return catalog


def _as_tensor(value: Any, what: str) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{what} must be a tensor or numpy array, got {type(value).__name__}")
    return value.detach().to("cpu", torch.float32)


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
            raise TypeError(f"model must be callable, got {type(model).__name__}")
        if int(max_len) < 1:
            raise ValueError(f"max_len must be ≥ 1, got {max_len}")
        self.model = model
        self.catalog = _catalog(data)
        self.max_len = int(max_len)
        self.field_names = ["item"]
        self.to_input: ToInput = to_input or (lambda batch: batch)
        self.to_scores: ToScores = to_scores or default_scores
        self.to_attention = to_attention
        self.batched = bool(batched)

    # --- to implement ----------------------------------------------------------------------
    def forward(self, batch: torch.Tensor) -> tuple[Any, list[torch.Tensor]]:
        """The model's output for a padded batch and its attention, one tensor per layer."""
        raise NotImplementedError

    # --- shared ----------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
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

    def predict(self, batch: torch.Tensor) -> Any:
        """The model's output for a padded batch: ``model(to_input(batch))``."""
        return call_model(self.model, self.to_input(batch))

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
        scores = _as_tensor(self.to_scores(output), "to_scores(output)").numpy().copy()
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

    def _attention(self, layers: Sequence[Any], shape: torch.Size) -> np.ndarray:
        b, n = shape
        if not layers:
            raise AttentionNotFoundError("the model gave no attention weights")
        out = []
        for number, layer in enumerate(layers):
            weights = _as_tensor(layer, f"attention of layer {number}")
            if self.to_attention is not None:
                weights = _as_tensor(self.to_attention(weights), "to_attention(weights)")
            if weights.dim() != 4 or weights.shape[0] != b or weights.shape[-2:] != (n, n):
                raise AttentionNotFoundError(
                    f"attention of layer {number} has shape {tuple(weights.shape)}; expected "
                    f"[{b}, heads, {n}, {n}] over the {n} history positions (use modules=... to "
                    "pick self-attention modules, or to_attention=... to drop extra tokens)"
                )
            out.append(weights)
        if len({w.shape for w in out}) > 1:
            shapes = ", ".join(str(tuple(w.shape)) for w in out)
            raise AttentionNotFoundError(f"layers have attention of different shapes: {shapes}")
        return torch.stack(out, dim=1).numpy()
