"""SASRec: a causal transformer over a user's item history, with feature-level attention."""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, astuple, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..checks import check_bool, check_float, check_int
from ..data import Catalog, Dataset
from ..errors import (
    ArgumentTypeError,
    ArgumentValueError,
    CheckpointError,
    DataError,
    EmptyHistoryError,
    NonFiniteScoresWarning,
)
from ..histories import dense_history, encode_history
from ..ranking import nothing_to_recommend, top_k, unrankable_count
from .checkpoint import check_weights, read_checkpoint, write_checkpoint
from .layers import AttentionBlock, FeatureAttention

SHARED_BATCH = 16
"""Histories per pass of :meth:`SASRec.score_items`: small passes share longer prefixes
(leave-one-out variants), large ones use the cores better; 16 was fastest for occlusion of
200-item histories, 4 layers x 8 heads (benchmarks/occlusion_speed.py)."""


@dataclass(frozen=True)
class SASRecConfig:
    """Hyper-parameters of :class:`SASRec`."""

    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 2
    max_len: int = 50
    dropout: float = 0.1


@dataclass
class SASRecOutput:
    """What one forward pass used and produced.

    Attributes:
        scores: ``[B, n_items + 1]`` scores of every item for the next step after the
            last position (index 0, padding, is ``-inf``).
        attentions: one ``[B, H, n, n]`` tensor per layer (query × key). Rows of real
            positions sum to 1 and put no weight on padding or later positions; a
            padding row attends only to itself.
        feature_attention: ``[B, n, F + 1]`` weights over ``["item", *fields]`` per position.
        hidden: ``[B, n, d]`` final hidden states.
    """

    scores: torch.Tensor
    attentions: tuple[torch.Tensor, ...]
    feature_attention: torch.Tensor
    hidden: torch.Tensor


class SASRec(nn.Module):
    """Self-attentive sequential recommender (Kang & McAuley 2018) with feature fusion.

    Each history position's input fuses the item id embedding with the item's feature
    embeddings through :class:`FeatureAttention`; candidate items are represented by
    the same fusion, so the output layer shares the input embeddings.

    Histories longer than ``max_len`` are cut to their most recent ``max_len`` items.

    Args:
        data: a :class:`Dataset` or :class:`Catalog` whose items the model scores.
        dropout: dropout rate of the embeddings and attention blocks (0.1 by default; with
            :func:`fit`'s lr 3e-3 the best measured, see benchmarks/README.md).
        seed: seed of the weight initialisation.

    Raises:
        TypeError: a size, ``dropout`` or ``seed`` of the wrong type (strings and bools
            are refused, numpy integers accepted).
        ValueError: a value out of range, ``n_heads`` not dividing ``d_model``, or a model
            of more than :data:`MAX_PARAMETERS` weights.
        DataError: a catalogue without items.
    """

    def __init__(
        self,
        data: Dataset | Catalog,
        *,
        d_model: int = 64,
        n_layers: int = 2,
        n_heads: int = 2,
        max_len: int = 50,
        dropout: float = 0.1,
        seed: int = 0,
    ) -> None:
        super().__init__()
        catalog = data.catalog if isinstance(data, Dataset) else data
        if not isinstance(catalog, Catalog):
            raise ArgumentTypeError(f"data must be a Dataset or Catalog, got {type(data).__name__}")
        if catalog.n_items == 0:
            raise DataError("the catalogue has no items: there is nothing to recommend")
        self.config = _checked_config(d_model, n_layers, n_heads, max_len, dropout, catalog)
        seed = check_int("seed", seed, minimum=0)
        d_model, n_layers, n_heads, max_len, dropout = astuple(self.config)
        self.catalog = catalog
        self.field_names = ["item", *catalog.field_names]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.features = FeatureAttention(
                catalog.n_items, [f.size for f in catalog.fields], d_model
            )
            self.position = nn.Embedding(max_len, d_model)
            self.blocks = nn.ModuleList(
                AttentionBlock(d_model, n_heads, dropout) for _ in range(n_layers)
            )
            self.final_norm = nn.LayerNorm(d_model)
            for module in self.modules():
                if isinstance(module, nn.Embedding):
                    nn.init.normal_(module.weight, std=d_model**-0.5)
                    if module.padding_idx is not None:
                        module.weight.data[module.padding_idx].zero_()
        self.input_dropout = nn.Dropout(dropout)
        self.register_buffer("item_features", torch.as_tensor(catalog.features), persistent=False)
        self._candidates: tuple[tuple[tuple[int, int], ...], torch.Tensor] | None = None

    # --- forward ----------------------------------------------------------------------
    def candidates(self) -> torch.Tensor:
        """``[n_items + 1, d]`` representation of every item, used to score them.

        In eval mode without gradients it is kept until a weight changes (an optimiser
        step, ``load_state_dict``, ``to``): explaining a user and each chunk of occlusion
        would otherwise encode the whole catalogue again.
        """
        if self.training or torch.is_grad_enabled():
            return self._encode_catalogue()
        tensors = (*self.parameters(), self.item_features)
        version = tuple((t.data_ptr(), t._version) for t in tensors)
        if self._candidates is None or self._candidates[0] != version:
            self._candidates = (version, self._encode_catalogue())
        return self._candidates[1]

    def _encode_catalogue(self) -> torch.Tensor:
        index = torch.arange(self.catalog.n_items + 1, device=self.item_features.device)
        return self.features(index, self.item_features)[0]

    def item_vectors(self, index: torch.Tensor) -> torch.Tensor:
        """``[..., d]`` representations of the item indices ``index`` (rows of
        :meth:`candidates`), e.g. a training batch's targets and sampled negatives."""
        return self.features(index, self.item_features[index])[0]

    def history_features(
        self, item_features: np.ndarray | torch.Tensor | None
    ) -> torch.Tensor | None:
        """``item_features`` (``[n_items + 1, F]`` value indices per item and field) checked and
        on the model's device, to read history items' features from instead of the
        catalogue's (see :meth:`score`); ``None`` stays ``None``.

        Raises:
            DataError: not an integer array of that shape, or a value index outside its
                field's vocabulary (``0..size - 1``).
        """
        if item_features is None:
            return None
        try:
            table = torch.as_tensor(item_features, device=self.item_features.device)
        except (TypeError, ValueError, RuntimeError) as err:
            raise DataError(f"item_features is not an integer array: {err}") from None
        expected = tuple(self.item_features.shape)
        if tuple(table.shape) != expected or table.dtype not in _INTEGER_DTYPES:
            raise DataError(
                f"item_features must be an integer array of shape {expected} (one row per "
                f"item plus padding, one column per field), got {table.dtype} of shape "
                f"{tuple(table.shape)}"
            )
        table = table.long()
        sizes = torch.as_tensor([f.size for f in self.catalog.fields], device=table.device)
        outside = (table < 0) | (table >= sizes)
        if bool(outside.any()):
            row, f = (int(i) for i in outside.nonzero()[0])
            field = self.catalog.fields[f]
            raise DataError(
                f"item_features holds value index {int(table[row, f])} for field "
                f"{field.name!r} of item index {row}: expected 0..{field.size - 1}"
            )
        return table

    def encode(
        self,
        items: torch.Tensor,
        features: torch.Tensor | None = None,
        *,
        need_weights: bool = True,
    ) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        """Hidden states ``[B, n, d]``, attention per layer and feature attention of a padded batch.

        ``features`` (``[B, n, F]``) overrides the catalogue's item features, e.g. to
        replace a field by its "unknown" value. ``need_weights=False`` runs the fused
        attention kernel under the same mask (same hidden states within float rounding,
        faster) and returns no sequence attention (an empty list).
        """
        if items.dim() != 2:
            raise DataError(
                f"items must be a [batch, length] tensor, got shape {tuple(items.shape)}"
            )
        n = items.shape[1]
        if n > self.config.max_len:
            raise DataError(f"history length {n} exceeds max_len {self.config.max_len}")
        if features is None:
            features = self.item_features[items]
        valid = items > 0
        x, feature_attention = self._embed(items, features, start=0, total=n)
        allowed = _allowed(valid)
        attentions = []
        for block in self.blocks:
            x, attention = block(x, allowed, need_weights=need_weights)
            x = x * valid.unsqueeze(-1)
            if attention is not None:
                attentions.append(attention)
        return self.final_norm(x), attentions, feature_attention

    def forward(
        self,
        items: torch.Tensor,
        features: torch.Tensor | None = None,
        *,
        need_weights: bool = True,
    ) -> SASRecOutput:
        """Score every item after the last position of each (left-padded) history.

        ``need_weights=False``: see :meth:`encode`; ``attentions`` is then empty.
        """
        hidden, attentions, feature_attention = self.encode(
            items, features, need_weights=need_weights
        )
        scores = hidden[:, -1] @ self.candidates().T
        scores[:, 0] = float("-inf")
        return SASRecOutput(scores, tuple(attentions), feature_attention, hidden)

    def _embed(
        self, items: torch.Tensor, features: torch.Tensor, *, start: int, total: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs of slots ``start…`` of left-padded histories ``total`` slots long
        (padding zeroed), and their feature attention."""
        fused, feature_attention = self.features(items, features)
        first = self.config.max_len - total + start
        positions = torch.arange(first, first + items.shape[1], device=items.device)
        x = fused * math.sqrt(self.config.d_model) + self.position(positions)
        return self.input_dropout(x) * (items > 0).unsqueeze(-1), feature_attention

    def _last_hidden(self, items: torch.Tensor, table: torch.Tensor | None = None) -> torch.Tensor:
        """``[B, d]`` final hidden state of the last position of a padded batch, its items'
        features read from ``table`` (default: the catalogue's, see :meth:`score`).

        The fused attention kernel, no weights kept, and the last layer computed for the
        last position only: ``encode(items)[0][:, -1]`` within float rounding.
        """
        valid = items > 0
        lookup = self.item_features if table is None else table
        x, _ = self._embed(items, lookup[items], start=0, total=items.shape[1])
        allowed = None if bool(valid.all()) else _allowed(valid)
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            x, _ = block.fused(x, allowed, last_only=i == last)
            x = x * valid[:, -x.shape[1] :].unsqueeze(-1)
        return self.final_norm(x[:, -1])

    def _shared_scores(
        self,
        batch: torch.Tensor,
        chosen: torch.Tensor,
        batch_size: int,
        table: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``[B, k]`` scores of items ``chosen`` (``[k, d]``) after histories of one length
        (``batch`` ``[B, n]``, no padding), ``batch_size`` histories per pass, their items'
        features read from ``table`` (default: the catalogue's).

        By causality the states of a pass's leading items that all its histories share do
        not depend on what follows: they run once (a batch of one) and the rest of each
        history attends to their keys and values. When one pass's shared items are the
        start of another's (leave-one-out variants in order), the longest runs once for all.
        """
        n = batch.shape[1]
        chunks = list(batch.split(batch_size))
        shared = [_shared_prefix(chunk) if len(chunk) > 1 else 0 for chunk in chunks]
        longest = chunks[int(np.argmax(shared))][0, : max(shared)]
        lookup = self.item_features if table is None else table
        cache = self._prefix_states(longest, n, lookup) if len(longest) else []
        out = []
        for chunk, p in zip(chunks, shared, strict=True):
            if not p:
                out.append(self._last_hidden(chunk, table) @ chosen.T)
                continue
            if torch.equal(chunk[0, :p], longest[:p]):
                past = [(k[:, :, :p], v[:, :, :p]) for k, v in cache]
            else:
                past = self._prefix_states(chunk[0, :p], n, lookup)
            rest = chunk[:, p:]
            x, _ = self._embed(rest, lookup[rest], start=p, total=n)
            last = len(self.blocks) - 1
            for i, (block, kv) in enumerate(zip(self.blocks, past, strict=True)):
                x, _ = block.fused(x, None, past=kv, last_only=i == last)
            out.append(self.final_norm(x[:, -1]) @ chosen.T)
        return torch.cat(out)

    def _prefix_states(
        self, prefix: torch.Tensor, total: int, lookup: torch.Tensor
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Keys and values ``[1, H, p, d / H]`` per layer of the first ``p`` slots of a
        history ``total`` slots long (no padding) that starts with ``prefix`` (``[p]``),
        their features read from ``lookup`` (``[n_items + 1, F]``)."""
        items = prefix[None]
        x, _ = self._embed(items, lookup[items], start=0, total=total)
        states = []
        for block in self.blocks:
            x, kv = block.fused(x, None)
            states.append(kv)
        return states

    # --- convenience ------------------------------------------------------------------
    def pad(self, histories: Sequence[Sequence[int] | np.ndarray]) -> torch.Tensor:
        """Left-pad dense-index histories into a batch, keeping the last ``max_len`` items.

        Raises:
            DataError: ``histories`` is not a list of 1-D histories, or one holds a value
                that is not an item index in ``1..n_items`` (0 is padding); the message
                names the history and the value.
            EmptyHistoryError: there are no histories, or one of them is empty.
        """
        return self._stack(self._cut(histories))

    def _cut(self, histories: Any) -> list[np.ndarray]:
        """Each history checked (see :meth:`pad`) and cut to its last ``max_len`` items."""
        batch_list = _history_list(histories)
        if not batch_list:
            raise EmptyHistoryError("no histories to pad: the batch is empty")
        return [
            dense_history(h, self.catalog.n_items, f"history {i} of the batch")[
                -self.config.max_len :
            ]
            for i, h in enumerate(batch_list)
        ]

    def _stack(self, cut: list[np.ndarray]) -> torch.Tensor:
        """Checked, cut histories left-padded into a ``[B, n]`` tensor."""
        lengths = np.fromiter((len(h) for h in cut), dtype=np.int64, count=len(cut))
        n = int(lengths.max())
        if (lengths == n).all():
            batch = np.stack(cut)
        else:
            batch = np.zeros((len(cut), n), dtype=np.int64)
            mask = np.arange(n) >= (n - lengths)[:, None]
            batch[mask] = np.concatenate(cut)
        return torch.as_tensor(batch, device=self.item_features.device)

    def score(
        self,
        histories: Sequence[np.ndarray],
        batch_size: int = 512,
        *,
        item_features: np.ndarray | torch.Tensor | None = None,
    ) -> np.ndarray:
        """``[len(histories), n_items + 1]`` scores for dense-index histories (eval mode).

        Histories are checked as in :meth:`pad`; no histories give a ``[0, n_items + 1]`` array.
        The same numbers as :meth:`forward` (within float rounding), by the fused attention
        kernel with no attention weights kept.

        ``item_features`` (``[n_items + 1, F]`` field value indices, like
        ``catalog.features``) replaces the catalogue's features of the *histories'* items,
        e.g. to ask what if an item had another brand; the scored items keep the
        catalogue's. ``None``: the catalogue's, by the same code path.

        Raises:
            DataError: ``item_features`` of the wrong shape, or holding a value index
                outside its field's vocabulary.
        """
        histories = _history_list(histories)
        batch_size = check_int("batch_size", batch_size)
        table = self.history_features(item_features)
        out = []
        with _eval_mode(self), torch.inference_mode():
            items = self.candidates().T if histories else None
            for i in range(0, len(histories), batch_size):
                batch = self.pad(histories[i : i + batch_size])
                scores = self._last_hidden(batch, table) @ items
                scores[:, 0] = float("-inf")
                out.append(scores.cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.catalog.n_items + 1))

    def score_items(
        self,
        histories: Sequence[np.ndarray],
        items: Sequence[int] | np.ndarray,
        batch_size: int = SHARED_BATCH,
        *,
        item_features: np.ndarray | torch.Tensor | None = None,
    ) -> np.ndarray:
        """``[len(histories), len(items)]`` scores of the given item indices only (eval mode).

        ``score(histories)[:, items]`` within float rounding, faster: only the chosen
        items are scored, histories of one length run together and the leading items a
        batch of them shares are computed once (so leave-one-out variants in order, as
        occlusion makes them, cost about half a full pass each). Index 0 (padding) scores
        ``-inf``. ``batch_size`` histories run per pass. ``item_features``: as in :meth:`score`.

        Raises:
            DataError: a history as in :meth:`pad`, ``items`` not a 1-D list of item
                indices in ``0..n_items``, or ``item_features`` as in :meth:`score`.
        """
        histories = _history_list(histories)
        batch_size = check_int("batch_size", batch_size)
        columns = _item_indices(items, self.catalog.n_items)
        table = self.history_features(item_features)
        out = np.zeros((len(histories), columns.size), dtype=np.float32)
        if not histories:
            return out
        cut = self._cut(histories)
        by_length: dict[int, list[int]] = {}
        for i, h in enumerate(cut):
            by_length.setdefault(len(h), []).append(i)
        with _eval_mode(self), torch.inference_mode():
            chosen = self.candidates()[torch.as_tensor(columns, device=self.item_features.device)]
            for rows in by_length.values():
                batch = self._stack([cut[r] for r in rows])
                out[rows] = self._shared_scores(batch, chosen, batch_size, table).cpu().numpy()
        out[:, columns == 0] = -np.inf
        return out

    def recommend(
        self, history: Iterable[Any], k: int = 10, *, exclude_seen: bool = True
    ) -> pd.DataFrame:
        """Top-``k`` items after a history of external item ids (oldest first).

        Returns a DataFrame with ``item_id``, ``title``, ``score`` and the feature
        fields, best first. ``exclude_seen`` drops items already in the history.
        Items whose score is NaN or +inf are never recommended (a
        :class:`~attnwidget.evaluate.NonFiniteScoresWarning` says how many), so fewer
        than ``k`` rows come back when fewer items are left.

        Raises:
            NothingToRecommendError: no item is left (the history covers the catalogue,
                or every other item scores NaN or -inf).
        """
        indices = encode_history(self.catalog, history)
        k = check_int("k", k)
        exclude_seen = check_bool("exclude_seen", exclude_seen)
        raw = self.score([indices])[0]
        scores = raw.copy()
        if exclude_seen:
            scores[indices] = -np.inf
        top = top_k(scores, k)
        if top.size == 0:
            raise nothing_to_recommend(raw, indices if exclude_seen else None, "the history")
        if bad := unrankable_count(raw):
            warnings.warn(
                f"{bad} of {self.catalog.n_items} item scores are NaN or +inf; "
                "those items are never recommended",
                NonFiniteScoresWarning,
                stacklevel=2,
            )
        table = self.catalog.describe(top)
        table.insert(2, "score", scores[top].astype(float))
        return table

    # --- checkpoints ------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write config, weights and the catalogue (id maps, titles, feature vocabularies).

        The write is atomic (see :mod:`attnwidget.models.checkpoint`): a save that fails or is
        interrupted leaves any file already at ``path`` byte-identical.

        Raises:
            CheckpointError: if ``path`` is a directory or its folder cannot be created.
            OSError: if writing fails (e.g. the disk is full); the old file is kept.
        """
        return write_checkpoint(
            path, asdict(self.config), self.catalog.to_state(), self.state_dict()
        )

    @classmethod
    def load(cls, path: str | Path, map_location: str | torch.device = "cpu") -> SASRec:
        """Read a checkpoint written by :meth:`save` (any version this attnwidget reads).

        Uses ``torch.load(weights_only=True)``: no pickled code runs. The file's checksum,
        catalogue, config and weight shapes are checked before the model is built.

        Raises:
            CheckpointError: naming ``path`` and what is wrong, for any bad file.
        """
        defaults = {f.name: f.default for f in fields(SASRecConfig)}
        contents = read_checkpoint(path, defaults)
        try:
            model = cls(Catalog.from_state(contents.catalog), **contents.config)
        except Exception as err:  # the load boundary: a value the checks above let through
            raise CheckpointError(f"checkpoint {str(path)!r} is damaged: {err}") from None
        check_weights(path, contents.state_dict, model.state_dict())
        model.load_state_dict(contents.state_dict)
        return model.to(map_location).eval()


_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)

MAX_PARAMETERS = 500_000_000
"""Largest model :class:`SASRec` builds (2 GB of float32 weights): a guard against typos."""


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """``model`` in eval mode, its training flag restored after."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _allowed(valid: torch.Tensor) -> torch.Tensor:
    """``[B, 1, n, n]`` attention mask of a left-padded batch (``valid`` ``[B, n]``): causal,
    never onto padding; a padding position attends to itself only (no row is empty)."""
    n = valid.shape[1]
    causal = torch.ones(n, n, dtype=torch.bool, device=valid.device).tril()
    eye = torch.eye(n, dtype=torch.bool, device=valid.device)
    return ((causal & valid[:, None, :]) | eye).unsqueeze(1)


def _shared_prefix(batch: torch.Tensor) -> int:
    """How many leading items all rows of ``batch`` (``[B, n]``) share, at most ``n - 1``."""
    same = (batch == batch[:1]).all(dim=0)
    return min(int(same.int().cumprod(dim=0).sum()), batch.shape[1] - 1)


def _item_indices(items: Any, n_items: int) -> np.ndarray:
    """``items`` as a 1-D ``int64`` array of item indices in ``0..n_items``."""
    if isinstance(items, str | bytes | dict | set) or not isinstance(items, Iterable):
        raise DataError(
            f"items must be a 1-D list of item indices, got {type(items).__name__} {items!r:.60}"
        )
    array = np.asarray(items if hasattr(items, "__array__") else list(items))
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise DataError(
            f"items must be a 1-D list of integer item indices 0..{n_items}, got an array "
            f"of shape {array.shape} and dtype {array.dtype}"
        )
    array = array.astype(np.int64)
    outside = (array < 0) | (array > n_items)
    if outside.any():
        raise DataError(
            f"items holds {int(array[np.argmax(outside)])}: expected item indices 0..{n_items}"
        )
    return array


def _history_list(histories: Any) -> list[Any]:
    """``histories`` as a list (of histories), or a DataError when it is not a collection."""
    if isinstance(histories, str | bytes | dict) or not isinstance(histories, Iterable):
        raise DataError(
            f"histories must be a list of histories (each a 1-D array of item indices), "
            f"got {type(histories).__name__} {histories!r:.60}"
        )
    return list(histories)


def _checked_config(
    d_model: Any, n_layers: Any, n_heads: Any, max_len: Any, dropout: Any, catalog: Catalog
) -> SASRecConfig:
    """The config after type and range checks; n_heads must divide d_model."""
    config = SASRecConfig(
        d_model=check_int("d_model", d_model),
        n_layers=check_int("n_layers", n_layers),
        n_heads=check_int("n_heads", n_heads),
        max_len=check_int("max_len", max_len),
        dropout=check_float("dropout", dropout, minimum=0.0, below=1.0),
    )
    if config.d_model % config.n_heads:
        raise ArgumentValueError(
            f"d_model ({config.d_model}) must be divisible by n_heads ({config.n_heads}): "
            "each head gets d_model / n_heads dimensions"
        )
    rows = catalog.n_items + 1 + sum(f.size for f in catalog.fields) + config.max_len
    size = rows * config.d_model + config.n_layers * 12 * config.d_model**2
    if size > MAX_PARAMETERS:
        raise ArgumentValueError(
            f"d_model={config.d_model}, n_layers={config.n_layers} and "
            f"max_len={config.max_len} give about {size:,} weights, more than the "
            f"{MAX_PARAMETERS:,} this model builds; use smaller values"
        )
    return config
