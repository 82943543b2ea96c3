"""Attention of models that return it, the way Hugging Face models do (``output_attentions``).

Any callable works whose output has an ``attentions`` attribute or key: a sequence with
one ``[batch, heads, n, n]`` tensor per layer. Nothing here imports ``transformers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ..data import Catalog, Dataset
from ..errors import AttentionNotFoundError
from .torch_model import ToAttention, ToInput, TorchModelSource, ToScores


def hf_inputs(batch: torch.Tensor) -> dict[str, torch.Tensor]:
    """Item indices as token ids (0 = padding): ``input_ids`` and ``attention_mask``."""
    return {"input_ids": batch, "attention_mask": (batch != 0).long()}


def returned_attentions(output: Any) -> Any:
    """``output.attentions`` or ``output["attentions"]``, ``None`` when there is neither."""
    if isinstance(output, Mapping):
        return output.get("attentions")
    return getattr(output, "attentions", None)


class OutputAttentionsSource(TorchModelSource):
    """An :class:`AttentionSource` for a model that returns its attention weights.

    The model is called as ``model(**to_input(batch), output_attentions=True)`` (keyword
    arguments for a mapping, positional for a tuple, one argument otherwise) and must return
    an object with ``attentions``: one ``[batch, heads, n, n]`` tensor per layer. Item
    indices are the token ids (``vocab_size = n_items + 1``, 0 = padding).

    Hugging Face models return attention only with ``attn_implementation="eager"``
    (the default ``"sdpa"`` returns none).

    Args:
        model: the model (``transformers`` model or any callable).
        data: the :class:`Dataset` or :class:`Catalog` whose dense indices the model reads.
        max_len: the longest history the model takes.
        to_input: padded batch ``[batch, n]`` → model input (default: :func:`hf_inputs`).
        to_scores: model output → ``[batch, n_items + 1]`` scores (default: the output's
            ``logits`` at the last position). A bare encoder such as ``BertModel`` needs one,
            e.g. ``lambda out: out.last_hidden_state[:, -1] @ embeddings.T``.
        to_attention: per-layer weights ``[batch, heads, m, m]`` → ``[batch, heads, n, n]``.
        output_attentions: pass ``output_attentions=True`` to the model (set ``False`` for
            a model that always returns attention and takes no such argument).
        batched: run all histories left-padded in one batch (with ``attention_mask``)
            instead of batching only histories of equal length.
    """

    def __init__(
        self,
        model: Any,
        data: Dataset | Catalog,
        *,
        max_len: int,
        to_input: ToInput | None = None,
        to_scores: ToScores | None = None,
        to_attention: ToAttention | None = None,
        output_attentions: bool = True,
        batched: bool = False,
    ) -> None:
        super().__init__(
            model,
            data,
            max_len=max_len,
            to_input=to_input or hf_inputs,
            to_scores=to_scores,
            to_attention=to_attention,
            batched=batched,
        )
        self.output_attentions = bool(output_attentions)

    def forward(self, batch: torch.Tensor) -> tuple[Any, list[torch.Tensor]]:
        extra = {"output_attentions": True} if self.output_attentions else {}
        output = self.predict(batch, **extra)
        layers = returned_attentions(output)
        if layers is None:
            raise AttentionNotFoundError(
                f"the model's output ({type(output).__name__}) has no 'attentions'; expected "
                "one [batch, heads, n, n] tensor per layer, as Hugging Face models return with "
                "output_attentions=True"
            )
        layers = list(layers)
        if not layers or any(layer is None for layer in layers):
            raise AttentionNotFoundError(
                f"the model returned no attention weights ({len(layers)} layers, some None or "
                "none): a Hugging Face model needs attn_implementation='eager' "
                "(e.g. model.set_attn_implementation('eager')), 'sdpa' returns none"
            )
        return output, layers
