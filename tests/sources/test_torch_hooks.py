"""MultiheadAttentionSource: attention of a plain nn.TransformerEncoder model via forward hooks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from attnwidget import AttentionExplorer, DataError, evaluate, explain
from attnwidget.sources import (
    AttentionNotFoundError,
    MultiheadAttentionSource,
    can_rerun,
    capture_attention,
)
from attnwidget.widget.payload import decode_pack

from .tiny import catalog, dataset, fix_weights

N_ITEMS, D, HEADS, LAYERS = 6, 4, 2, 2


class TinyEncoderRec(nn.Module):
    """Item embeddings → nn.TransformerEncoder → last position · item embeddings.

    ``pad_aware`` masks left padding (index 0): a position attends to itself and to the
    real items up to it.
    """

    def __init__(
        self,
        *,
        batch_first: bool = True,
        causal: bool = True,
        norm_first: bool = False,
        dropout: float = 0.0,
        pad_aware: bool = False,
    ) -> None:
        super().__init__()
        self.batch_first, self.causal, self.pad_aware = batch_first, causal, pad_aware
        self.items = nn.Embedding(N_ITEMS + 1, D)
        layer = nn.TransformerEncoderLayer(
            D, HEADS, 8, dropout=dropout, batch_first=batch_first, norm_first=norm_first
        )
        self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        fix_weights(self)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        n = items.shape[1]
        x = self.items(items)
        mask, is_causal = None, False
        if self.pad_aware:
            allowed = torch.ones(n, n, dtype=torch.bool).tril() & (items > 0)[:, None, :]
            allowed = allowed | torch.eye(n, dtype=torch.bool)
            mask = ~allowed.repeat_interleave(HEADS, dim=0)
        elif self.causal:
            mask, is_causal = nn.Transformer.generate_square_subsequent_mask(n), True
        if not self.batch_first:
            x = x.transpose(0, 1)
        h = self.encoder(x, mask=mask, is_causal=is_causal)
        if not self.batch_first:
            h = h.transpose(0, 1)
        return h[:, -1] @ self.items.weight.T


@torch.no_grad()
def by_hand(model: TinyEncoderRec, items: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Attention ``[L, H, n, n]`` and scores of one history, written out in float64."""
    attentions, scores = in_float64(model, items)
    return torch.stack(attentions).numpy(), scores.numpy()


def in_float64(model: TinyEncoderRec, items: list[int]) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The model's pass written out in float64: per-layer ``[H, n, n]`` weights and the
    scores, both in autograd's graph when gradients are on."""

    def linear(x, module):
        return x @ module.weight.double().T + module.bias.double()

    def layer_norm(x, norm):
        mean, var = x.mean(-1, keepdim=True), x.var(-1, unbiased=False, keepdim=True)
        return (x - mean) / torch.sqrt(var + norm.eps) * norm.weight.double() + norm.bias.double()

    n, dh = len(items), D // HEADS
    x = model.items.weight.double()[torch.tensor(items)]
    mask = torch.zeros(n, n, dtype=torch.float64)
    if model.causal:
        mask = torch.full((n, n), -math.inf, dtype=torch.float64).triu(1)
    attentions = []
    for layer in model.encoder.layers:
        attn = layer.self_attn

        def self_attention(x, attn=attn):
            qkv = x @ attn.in_proj_weight.double().T + attn.in_proj_bias.double()
            q, k, v = (t.reshape(n, HEADS, dh).transpose(0, 1) for t in qkv.split(D, dim=-1))
            weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + mask, dim=-1)
            return linear((weights @ v).transpose(0, 1).reshape(n, D), attn.out_proj), weights

        def feed_forward(x, layer=layer):
            return linear(torch.relu(linear(x, layer.linear1)), layer.linear2)

        if layer.norm_first:
            out, weights = self_attention(layer_norm(x, layer.norm1))
            x = x + out
            x = x + feed_forward(layer_norm(x, layer.norm2))
        else:
            out, weights = self_attention(x)
            x = layer_norm(x + out, layer.norm1)
            x = layer_norm(x + feed_forward(x), layer.norm2)
        attentions.append(weights)
    return attentions, x[-1] @ model.items.weight.double().T


def relevance_by_hand(model: TinyEncoderRec, items: list[int], target: int) -> np.ndarray:
    """Gradient-weighted attention relevance of the float64 pass: per layer
    ``mean_heads((A ⊙ ∂score/∂A)⁺)`` folded into ``R = I`` as ``R + Ā R``; the last row,
    without its self term."""
    attentions, scores = in_float64(model, items)
    gradients = torch.autograd.grad(scores[target], attentions)
    relevance = torch.eye(len(items), dtype=torch.float64)
    for a, g in zip(attentions, gradients, strict=True):
        relevance = relevance + (a * g).clamp(min=0).mean(0) @ relevance
    row = relevance[-1].detach().numpy().copy()
    row[-1] -= 1.0
    return row


def no_hooks_left(model: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


HISTORIES = [[3, 1, 4, 1, 5], [2, 6, 5], [4, 4, 2, 6, 1]]
ENCODER_LAYOUTS = pytest.mark.parametrize(
    "options",
    [
        {"batch_first": True, "causal": True},
        {"batch_first": False, "causal": True},
        {"batch_first": True, "causal": False, "norm_first": True},
    ],
    ids=["batch-first-causal", "sequence-first-causal", "norm-first-bidirectional"],
)
"""The encoder layouts each test by hand runs on."""


# ------------------------------------------------------------------------ attention by hand
@ENCODER_LAYOUTS
def test_attention_equals_the_attention_computed_by_hand(options):
    model = TinyEncoderRec(**options).eval()
    source = MultiheadAttentionSource(model, catalog(N_ITEMS), max_len=8)
    out = source.run([np.array(h) for h in HISTORIES])
    n = max(map(len, HISTORIES))
    assert out.attentions.shape == (3, LAYERS, HEADS, n, n)
    for b, history in enumerate(HISTORIES):
        attention, scores = by_hand(model, history)
        m = len(history)
        np.testing.assert_allclose(out.attentions[b, :, :, -m:, -m:], attention, atol=1e-6)
        assert not out.attentions[b, :, :, : n - m].any()  # left padding stays empty
        np.testing.assert_allclose(out.scores[b, 1:], scores[1:], rtol=1e-5, atol=1e-5)
        assert out.scores[b, 0] == -np.inf
    assert out.feature_attention is None


def test_batched_left_padding_gives_the_same_attention_for_a_model_that_masks_padding():
    model = TinyEncoderRec(pad_aware=True).eval()
    histories = [np.array(h) for h in HISTORIES]
    one_by_one = MultiheadAttentionSource(model, catalog(N_ITEMS), max_len=8).run(histories)
    batched = MultiheadAttentionSource(model, catalog(N_ITEMS), max_len=8, batched=True)
    together = batched.run(histories)
    for b, history in enumerate(HISTORIES):
        m = len(history)
        pair = (together.attentions[b, ..., -m:, -m:], one_by_one.attentions[b, ..., -m:, -m:])
        np.testing.assert_allclose(*pair, atol=1e-6)
        attention, _ = by_hand(model, history)
        np.testing.assert_allclose(one_by_one.attentions[b, :, :, -m:, -m:], attention, atol=1e-6)
    np.testing.assert_allclose(together.scores[:, 1:], one_by_one.scores[:, 1:], atol=1e-5)


# ---------------------------------------------------------------------------- gradient
@ENCODER_LAYOUTS
def test_gradient_importance_of_a_wrapped_encoder_equals_the_one_computed_by_hand(options):
    model = TinyEncoderRec(**options).eval()
    data = dataset({"ann": [3, 1, 4, 1, 5]})
    expl = explain(MultiheadAttentionSource(model, data, max_len=8), data, "ann")
    gradient = expl.importance["gradient"].to_numpy()
    expected = relevance_by_hand(model, [3, 1, 4, 1, 5], expl.target)
    assert np.abs(expected).max() > 1e-3  # the case checks something
    np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-6)
    assert no_hooks_left(model) and not model.training
    assert all(p.grad is None for p in model.parameters())  # the model's gradients untouched


def test_gradient_importance_works_for_a_frozen_model_and_is_nan_without_a_graph():
    data = dataset({"ann": [3, 1, 4, 1, 5]})
    model = TinyEncoderRec().eval()
    trainable = explain(MultiheadAttentionSource(model, data, max_len=8), data, "ann")
    model.requires_grad_(False)
    frozen = explain(MultiheadAttentionSource(model, data, max_len=8), data, "ann")
    np.testing.assert_allclose(
        frozen.importance["gradient"], trainable.importance["gradient"], rtol=1e-5, atol=1e-7
    )
    as_numpy = MultiheadAttentionSource(
        model, data, max_len=8, to_scores=lambda out: out.detach().numpy()
    )
    assert explain(as_numpy, data, "ann").importance["gradient"].isna().all()


# --------------------------------------------------------------------- outputs bit for bit
def test_outputs_are_bit_identical_before_during_and_after_capture():
    model = TinyEncoderRec(batch_first=False).eval()  # no fast path: capture changes nothing
    x = torch.tensor([HISTORIES[0], HISTORIES[2]])
    with torch.no_grad():
        before = model(x)
        with capture_attention(model) as captured:
            during = model(x)
        after = model(x)
    assert torch.equal(before, during) and torch.equal(before, after)
    assert len(captured) == LAYERS and captured[0][1].shape == (2, HEADS, 5, 5)
    assert no_hooks_left(model)


def test_capture_leaves_training_outputs_and_dropout_randomness_alone():
    model = TinyEncoderRec(batch_first=False, dropout=0.3).train()
    x = torch.tensor([HISTORIES[0]])
    torch.manual_seed(5)
    before = model(x)
    torch.manual_seed(5)
    with capture_attention(model) as captured:
        during = model(x)
    torch.manual_seed(5)
    after = model(x)
    assert torch.equal(before, during) and torch.equal(before, after)
    assert len(captured) == LAYERS and model.training


def test_fast_path_models_give_attention_and_the_models_own_scores_bit_for_bit():
    """eval + no_grad + batch_first: nn.TransformerEncoderLayer would skip its attention
    module (the fast path). The source still captures every layer, and its scores are
    the plain model's outputs to the bit."""
    model = TinyEncoderRec(batch_first=True)
    model.train()  # the source switches to eval for the run and restores this
    model.encoder.layers[1].eval()
    flags = [m.training for m in model.modules()]
    fast_path = torch.backends.mha.get_fastpath_enabled()
    x = torch.tensor([HISTORIES[0], HISTORIES[2]])
    with torch.no_grad():
        model.eval()
        before = model(x)
    model.train()
    model.encoder.layers[1].eval()

    source = MultiheadAttentionSource(model, catalog(N_ITEMS), max_len=8)
    out = source.run([np.array(HISTORIES[0]), np.array(HISTORIES[2])])
    assert np.array_equal(out.scores[:, 1:], before[:, 1:].numpy())
    assert out.attentions.shape == (2, LAYERS, HEADS, 5, 5) and np.isfinite(out.attentions).all()
    attention, _ = by_hand(model, HISTORIES[0])
    np.testing.assert_allclose(out.attentions[0], attention, atol=1e-6)

    assert [m.training for m in model.modules()] == flags
    assert torch.backends.mha.get_fastpath_enabled() == fast_path
    assert no_hooks_left(model)
    with torch.no_grad():
        model.eval()
        assert torch.equal(model(x), before)


def test_capture_turns_the_fast_path_off_only_inside():
    model = TinyEncoderRec().eval()
    assert torch.backends.mha.get_fastpath_enabled()
    with capture_attention(model):
        assert not torch.backends.mha.get_fastpath_enabled()
    assert torch.backends.mha.get_fastpath_enabled()
    with pytest.raises(RuntimeError, match="boom"), capture_attention(model):
        raise RuntimeError("boom")
    assert torch.backends.mha.get_fastpath_enabled() and no_hooks_left(model)


# ---------------------------------------------------------------------------- other models
class PositionalCaller(nn.Module):
    """Calls its attention module with positional arguments and averaged weights."""

    def __init__(self) -> None:
        super().__init__()
        self.items = nn.Embedding(N_ITEMS + 1, D)
        self.attn = nn.MultiheadAttention(D, HEADS, batch_first=True)
        fix_weights(self, seed=1.0)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        x = self.items(items)
        h, averaged = self.attn(x, x, x, None, True)  # need_weights=True, averaged by default
        return (h[:, -1] + averaged.sum()) @ self.items.weight.T


def test_a_module_called_positionally_keeps_its_output_and_gives_per_head_weights():
    model = PositionalCaller().eval()
    x = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        before = model(x)
        with capture_attention(model) as captured:
            during = model(x)
    assert torch.equal(before, during)
    [(name, weights)] = captured
    assert name == "attn" and weights.shape == (1, HEADS, 3, 3)
    emb = model.items.weight[x[0]].detach().double()
    attn = model.attn
    qkv = emb @ attn.in_proj_weight.detach().double().T + attn.in_proj_bias.detach().double()
    q, k, _ = (t.reshape(3, HEADS, D // HEADS).transpose(0, 1) for t in qkv.split(D, -1))
    expected = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // HEADS), dim=-1)
    np.testing.assert_allclose(weights[0].numpy(), expected.numpy(), atol=1e-6)


def test_a_model_without_attention_modules_is_a_clear_error():
    model = nn.Sequential(nn.Embedding(N_ITEMS + 1, D), nn.Flatten(), nn.Linear(D, N_ITEMS + 1))
    with pytest.raises(AttentionNotFoundError) as info:
        MultiheadAttentionSource(model, catalog(N_ITEMS), max_len=8)
    message = str(info.value)
    assert "no attention modules found in Sequential" in message
    assert "searched its 4 modules" in message
    assert "torch.nn.MultiheadAttention" in message and "nn.TransformerEncoderLayer" in message
    assert isinstance(info.value, TypeError)


def test_modules_can_be_named_and_a_wrong_name_says_which_exist():
    model = TinyEncoderRec().eval()
    source = MultiheadAttentionSource(
        model, catalog(N_ITEMS), max_len=8, modules=["encoder.layers.1.self_attn"]
    )
    assert source.run([np.array(HISTORIES[0])]).attentions.shape[1] == 1
    with pytest.raises(AttentionNotFoundError, match=r"no module named 'encoder\.attn'.*"):
        MultiheadAttentionSource(model, catalog(N_ITEMS), max_len=8, modules=["encoder.attn"])


def test_scores_of_the_wrong_shape_are_a_clear_error():
    model = TinyEncoderRec().eval()
    source = MultiheadAttentionSource(
        model, catalog(N_ITEMS), max_len=8, to_scores=lambda out: out[:, :3]
    )
    with pytest.raises(DataError, match=r"scores have shape \(1, 3\); expected \[1, 7\]"):
        source.run([np.array([1, 2])])
    without_padding = MultiheadAttentionSource(
        model, catalog(N_ITEMS), max_len=8, to_scores=lambda out: out[:, 1:]
    )
    scores = without_padding.run([np.array([1, 2])]).scores
    assert scores.shape == (1, N_ITEMS + 1) and scores[0, 0] == -np.inf


# ------------------------------------------------------------------- explain and the widget
def test_explain_and_the_explorer_accept_the_hooked_model():
    data = dataset({"ann": [3, 1, 4, 1, 5], "bob": [2, 6, 5], "cy": [4, 2, 6, 1]})
    model = TinyEncoderRec().eval()
    source = MultiheadAttentionSource(model, data, max_len=4)
    assert can_rerun(source)
    expl = explain(source, data, "ann")
    assert expl.attentions.shape == (LAYERS, HEADS, 4, 4) and expl.truncated
    table = expl.importance
    assert np.isfinite(table["occlusion"]).all() and np.isfinite(table["attention"]).all()
    assert np.isfinite(table["gradient"]).all()  # gradient-weighted attention works here too
    explorer = AttentionExplorer(source, data, k=3, agreement_users=3)
    header, arrays = decode_pack(explorer.payload)
    assert header["user"] == "ann" and header["n_layers"] == LAYERS
    assert arrays["seq_attn"].shape == (LAYERS, HEADS, 4, 4)
    explorer.history_edit = ["i2", "i3"]  # what-if re-runs the model
    assert explorer.edited is not None and explorer.error == ""


def test_score_runs_one_plain_pass_so_evaluate_works_on_the_wrapped_model():
    data = dataset({f"u{k}": [(k + j) % N_ITEMS + 1 for j in range(5)] for k in range(12)})
    model = TinyEncoderRec().eval()
    source = MultiheadAttentionSource(model, data, max_len=8)
    histories = [np.array(h) for h in HISTORIES]
    # Two passes of one model on one batch: equal but for the last bits CPU kernels may round
    # differently (their choice of code path can depend on where a buffer lies in memory).
    np.testing.assert_allclose(
        source.score(histories), source.run(histories).scores, rtol=1e-5, atol=1e-6
    )
    table = evaluate(source, data, k=(3,))
    assert list(table.index) == ["model", "popularity"] and 0 <= table.loc["model", "HR@3"] <= 1
