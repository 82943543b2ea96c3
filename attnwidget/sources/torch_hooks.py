"""Attention of any torch model built on ``nn.MultiheadAttention``, captured with forward hooks.

``nn.TransformerEncoderLayer`` and friends ask their attention module for no weights
(``need_weights=False``), and in eval mode without gradients they may skip the module
altogether (torch's "fast path"). :func:`capture_attention` therefore

* turns the fast path off (``torch.backends.mha.set_fastpath_enabled(False)``) while it is
  active, so every attention module really runs;
* hooks each ``nn.MultiheadAttention``: after the module's own call (whose output is left
  untouched) the hook calls its ``forward`` again on the same inputs with
  ``need_weights=True, average_attn_weights=False`` and records the per-head weights;
* removes the hooks and restores the fast-path flag on exit, leaving the model as it was.

Turning the fast path off can change a fast-path model's outputs in the last float bits, so
:class:`MultiheadAttentionSource` takes its scores from a plain forward pass and only the
attention from the captured pass. For gradient importance, one more hooked pass runs with
autograd on and each module's output replaced by that of its per-head call, so the score
can be differentiated by the captured weights.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from ..data import Catalog, Dataset
from ..errors import ArgumentTypeError, AttentionNotFoundError
from .torch_model import ToAttention, ToInput, TorchModelSource, ToScores

ATTENTION_TYPES: tuple[type[nn.Module], ...] = (nn.MultiheadAttention,)
"""Module types searched for attention (their subclasses count too)."""

_SEARCHED = (
    "torch.nn.MultiheadAttention (the attention inside nn.Transformer, nn.TransformerEncoder, "
    "nn.TransformerEncoderLayer, nn.TransformerDecoder and nn.TransformerDecoderLayer)"
)


def find_attention_modules(
    model: nn.Module, modules: Sequence[str | nn.Module] | None = None
) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` of the attention modules to hook, in registration order.

    Args:
        model: the model to search.
        modules: names (as in ``model.named_modules()``) or module objects to use instead
            of every ``nn.MultiheadAttention`` found.

    Raises:
        AttentionNotFoundError: nothing found, naming the module types searched.
    """
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    named = dict(model.named_modules())
    if modules is None:
        found = [(name, m) for name, m in named.items() if isinstance(m, ATTENTION_TYPES)]
        if not found:
            raise AttentionNotFoundError(
                f"no attention modules found in {type(model).__name__}: searched its "
                f"{len(named)} modules for {_SEARCHED}. Name the modules to hook with "
                "modules=[...], or use OutputAttentionsSource (a model that returns its "
                "attention) or PrecomputedSource (attention computed elsewhere)"
            )
        return found
    by_object = {id(m): name for name, m in named.items()}
    chosen = []
    for entry in modules:
        if isinstance(entry, str):
            if entry not in named:
                raise AttentionNotFoundError(
                    f"{type(model).__name__} has no module named {entry!r}; attention modules: "
                    f"{[n for n, m in named.items() if isinstance(m, ATTENTION_TYPES)]}"
                )
            chosen.append((entry, named[entry]))
        elif isinstance(entry, nn.Module) and id(entry) in by_object:
            chosen.append((by_object[id(entry)], entry))
        else:
            raise AttentionNotFoundError(
                f"modules must be names or submodules of {type(model).__name__}, got {entry!r}"
            )
    if not chosen:
        raise AttentionNotFoundError("modules is empty: name at least one attention module")
    return chosen


def _per_head_call(
    module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The same call with ``need_weights=True, average_attn_weights=False``."""
    signature = inspect.signature(module.forward)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return args, {**kwargs, "need_weights": True, "average_attn_weights": False}
    for name, value in (("need_weights", True), ("average_attn_weights", False)):
        if name in signature.parameters:
            bound.arguments[name] = value
    return bound.args, bound.kwargs


@contextlib.contextmanager
def _fastpath_disabled() -> Iterator[None]:
    mha = getattr(torch.backends, "mha", None)
    get = getattr(mha, "get_fastpath_enabled", None)
    set_ = getattr(mha, "set_fastpath_enabled", None)
    if get is None or set_ is None:  # torch < 2.3: forward hooks already block the fast path
        yield
        return
    previous = get()
    set_(False)
    try:
        yield
    finally:
        set_(previous)


@contextlib.contextmanager
def capture_attention(
    model: nn.Module, modules: Sequence[str | nn.Module] | None = None
) -> Iterator[list[tuple[str, torch.Tensor]]]:
    """Record the per-head attention of every ``nn.MultiheadAttention`` call inside the block.

    Yields a list that fills with ``(module name, weights [batch, heads, query, key])``, one
    entry per call, in the order the modules ran. The hooked modules' outputs are not
    changed, nor is the random state (dropout). Inside the block torch's fast path is off,
    so a model that would take it runs its regular path instead, which can differ in the
    last float bits; outside the block the model is exactly as before.

    Example::

        with capture_attention(model) as captured:
            model(batch)
        layers = [weights for _name, weights in captured]
    """
    with _capture(find_attention_modules(model, modules)) as captured:
        yield captured


def _tracked(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """The call with query, key and value that autograd tracks: an input that does not
    require a gradient (a frozen model's) becomes a detached copy that does, one per object."""
    copies: dict[int, torch.Tensor] = {}

    def tracked(value: Any) -> Any:
        if not isinstance(value, torch.Tensor) or value.requires_grad:
            return value
        if not value.is_floating_point():
            return value
        if id(value) not in copies:
            copies[id(value)] = value.detach().requires_grad_()
        return copies[id(value)]

    names = ("query", "key", "value")
    args = tuple(tracked(a) if i < 3 else a for i, a in enumerate(args))
    return args, {k: tracked(v) if k in names else v for k, v in kwargs.items()}


@contextlib.contextmanager
def _capture(
    found: list[tuple[str, nn.Module]], *, in_graph: bool = False
) -> Iterator[list[tuple[str, torch.Tensor]]]:
    """:func:`capture_attention` on modules already found.

    With ``in_graph`` (autograd on), each hooked module's output is replaced by that of the
    per-head call, so the recorded weights are the ones the model's output was computed
    from (the same values up to float rounding): the output can be differentiated by them.
    """
    captured: list[tuple[str, torch.Tensor]] = []

    def hook_for(name: str):
        def hook(module: nn.Module, args: tuple, kwargs: dict, output: Any) -> Any:
            call_args, call_kwargs = _per_head_call(module, args, kwargs)
            if in_graph:
                call_args, call_kwargs = _tracked(call_args, call_kwargs)
            query = call_args[0] if call_args else next(iter(call_kwargs.values()), None)
            cuda = [query.device] if isinstance(query, torch.Tensor) and query.is_cuda else []
            # The extra call must not move the random state the model's own dropout uses.
            with torch.random.fork_rng(devices=cuda), torch.set_grad_enabled(in_graph):
                result = module.forward(*call_args, **call_kwargs)
            weights = result[1] if isinstance(result, tuple) and len(result) > 1 else None
            if not isinstance(weights, torch.Tensor):
                raise AttentionNotFoundError(
                    f"attention module {name!r} ({type(module).__name__}) returned no weights "
                    "with need_weights=True"
                )
            weights = weights if in_graph else weights.detach()
            captured.append((name, weights.unsqueeze(0) if weights.dim() == 3 else weights))
            if in_graph and isinstance(output, tuple) and output:
                return (result[0], *output[1:])
            return None

        return hook

    handles = []
    with _fastpath_disabled():
        try:
            for name, module in found:
                handles.append(module.register_forward_hook(hook_for(name), with_kwargs=True))
            yield captured
        finally:
            for handle in handles:
                handle.remove()


class MultiheadAttentionSource(TorchModelSource):
    """An :class:`AttentionSource` for a torch model whose attention is ``nn.MultiheadAttention``.

    Each layer of the explanation is one call of a hooked attention module, in the order
    they ran (a module called twice gives two layers). Scores come from a plain forward
    pass, so they are exactly what the model computes; attention from a second, hooked
    pass (see :func:`capture_attention`), and the target's gradient by the attention from
    a pass in autograd's graph (:meth:`attention_gradients`). The model is left exactly as
    it was: hooks removed, fast-path flag, each module's train/eval mode and the
    parameters' ``.grad`` restored.

    Args:
        model: an ``nn.Module`` holding one or more ``nn.MultiheadAttention``.
        data: the :class:`Dataset` or :class:`Catalog` whose dense indices (1..n_items,
            0 = padding) the model reads.
        max_len: the longest history the model takes.
        to_input: padded batch ``[batch, n]`` → model input (default: the batch itself).
        to_scores: model output → ``[batch, n_items + 1]`` scores (default: the output).
        to_attention: per-layer weights ``[batch, heads, m, m]`` → ``[batch, heads, n, n]``.
        modules: names or submodules to hook instead of every ``nn.MultiheadAttention``
            (e.g. only the self-attention of a decoder).
        batched: run all histories left-padded in one batch (for models that mask index 0)
            instead of batching only histories of equal length.

    Raises:
        AttentionNotFoundError: the model has no ``nn.MultiheadAttention`` (names the types
            searched) or ``modules`` names something else.
    """

    def __init__(
        self,
        model: nn.Module,
        data: Dataset | Catalog,
        *,
        max_len: int,
        to_input: ToInput | None = None,
        to_scores: ToScores | None = None,
        to_attention: ToAttention | None = None,
        modules: Sequence[str | nn.Module] | None = None,
        batched: bool = False,
    ) -> None:
        super().__init__(
            model,
            data,
            max_len=max_len,
            to_input=to_input,
            to_scores=to_scores,
            to_attention=to_attention,
            batched=batched,
        )
        self.modules = find_attention_modules(model, modules)

    def forward(self, batch: torch.Tensor) -> tuple[Any, list[torch.Tensor]]:
        output = self.predict(batch)
        with _capture(self.modules) as captured:
            self.predict(batch)
        return output, self._layers(captured)

    def forward_in_graph(self, batch: torch.Tensor) -> tuple[Any, list[torch.Tensor]]:
        """One hooked pass whose output is computed from the captured weights."""
        with _capture(self.modules, in_graph=True) as captured:
            output = self.predict(batch)
        return output, self._layers(captured)

    def _layers(self, captured: list[tuple[str, torch.Tensor]]) -> list[torch.Tensor]:
        if not captured:
            names = ", ".join(name for name, _ in self.modules)
            raise AttentionNotFoundError(
                f"none of the hooked attention modules ({names}) ran during the forward pass"
            )
        return [weights for _, weights in captured]
