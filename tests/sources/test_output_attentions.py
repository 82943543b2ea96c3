"""OutputAttentionsSource on any callable that returns ``attentions`` (no transformers needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from attnwidget import explain
from attnwidget.sources import AttentionNotFoundError, OutputAttentionsSource

from .tiny import catalog, dataset, fix_weights

N_ITEMS, D = 6, 4


class OneHeadReturner(nn.Module):
    """One causal single-head attention layer that returns its weights, Hugging Face style."""

    def __init__(self) -> None:
        super().__init__()
        self.items = nn.Embedding(N_ITEMS + 1, D)
        self.query = nn.Linear(D, D, bias=False)
        self.key = nn.Linear(D, D, bias=False)
        fix_weights(self)
        self.calls: list[dict] = []

    def forward(self, input_ids, attention_mask=None, output_attentions=False):
        self.calls.append(
            {"attention_mask": attention_mask, "output_attentions": output_attentions}
        )
        x = self.items(input_ids)
        n = input_ids.shape[1]
        logits = self.query(x) @ self.key(x).transpose(-1, -2) / D**0.5
        causal = torch.ones(n, n, dtype=torch.bool).tril()
        weights = torch.softmax(logits.masked_fill(~causal, float("-inf")), dim=-1)
        hidden = weights @ x
        out = {"logits": hidden @ self.items.weight.T}
        if output_attentions:
            out["attentions"] = (weights.unsqueeze(1),)
        return out


def by_hand(model: OneHeadReturner, history: list[int]) -> np.ndarray:
    """``[1, 1, n, n]`` attention written out in numpy."""
    emb = model.items.weight.detach().numpy().astype(np.float64)[history]
    q = emb @ model.query.weight.detach().numpy().T
    k = emb @ model.key.weight.detach().numpy().T
    logits = q @ k.T / np.sqrt(D)
    logits[np.triu_indices(len(history), 1)] = -np.inf
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    return (weights / weights.sum(-1, keepdims=True))[None, None]


def test_returned_attention_equals_the_attention_computed_by_hand():
    model = OneHeadReturner()
    source = OutputAttentionsSource(model, catalog(N_ITEMS), max_len=5)
    histories = [[3, 1, 4, 1, 5], [2, 6], [5, 4, 3, 2, 1, 6, 2]]
    out = source.run([np.array(h) for h in histories])
    assert out.attentions.shape == (3, 1, 1, 5, 5)
    for b, history in enumerate(histories):
        seen = history[-5:]
        m = len(seen)
        np.testing.assert_allclose(out.attentions[b, :, :, -m:, -m:], by_hand(model, seen), 1e-6)
    call = model.calls[0]
    assert call["output_attentions"] is True and call["attention_mask"].dtype == torch.long
    assert model.training  # restored after the eval-mode run


def test_the_logits_at_the_last_position_are_the_default_scores():
    model = OneHeadReturner().eval()
    source = OutputAttentionsSource(model, catalog(N_ITEMS), max_len=5)
    scores = source.run([np.array([1, 2, 3])]).scores
    with torch.no_grad():
        expected = model(torch.tensor([[1, 2, 3]]))["logits"][:, -1]
    assert scores[0, 0] == -np.inf and np.array_equal(scores[:, 1:], expected[:, 1:].numpy())


def test_explain_reads_the_returned_attention():
    data = dataset({"ann": [3, 1, 4, 1, 5], "bob": [2, 6, 5]})
    source = OutputAttentionsSource(OneHeadReturner(), data, max_len=5)
    expl = explain(source, data, "ann", k=3)
    np.testing.assert_allclose(expl.attentions, by_hand(source.model, [3, 1, 4, 1, 5]), 1e-6)
    assert np.isfinite(expl.importance["occlusion"]).all()


def test_gradient_importance_of_a_returned_attention_layer():
    # One layer, score = Σ_j A[-1, j] x_j · e_target: ∂score/∂A[-1, j] = x_j · e_target, so
    # the relevance of item j is (A[-1, j] · x_j · e_target)⁺.
    data = dataset({"ann": [3, 1, 4, 1, 5]})
    model = OneHeadReturner()
    expl = explain(OutputAttentionsSource(model, data, max_len=5), data, "ann")
    emb = model.items.weight.detach().numpy().astype(np.float64)
    products = emb[[3, 1, 4, 1, 5]] @ emb[expl.target]
    expected = np.clip(by_hand(model, [3, 1, 4, 1, 5])[0, 0, -1] * products, 0, None)
    assert expected.max() > 1e-3
    np.testing.assert_allclose(expl.importance["gradient"], expected, rtol=1e-4, atol=1e-7)
    assert model.training and all(p.grad is None for p in model.parameters())


def test_a_model_that_returns_no_attention_is_a_clear_error():
    def no_attention(input_ids, attention_mask=None, output_attentions=False):
        return {"logits": torch.zeros(input_ids.shape[0], N_ITEMS + 1)}

    source = OutputAttentionsSource(no_attention, catalog(N_ITEMS), max_len=5)
    with pytest.raises(AttentionNotFoundError, match="has no 'attentions'"):
        source.run([np.array([1, 2])])

    def empty(input_ids, attention_mask=None, output_attentions=False):
        return {"logits": torch.zeros(input_ids.shape[0], N_ITEMS + 1), "attentions": ()}

    source = OutputAttentionsSource(empty, catalog(N_ITEMS), max_len=5)
    with pytest.raises(AttentionNotFoundError, match="attn_implementation='eager'"):
        source.run([np.array([1, 2])])


def test_an_output_without_scores_asks_for_to_scores():
    def hidden_only(input_ids, attention_mask=None, output_attentions=False):
        n = input_ids.shape[1]
        return {"attentions": (torch.eye(n).expand(input_ids.shape[0], 1, n, n),)}

    source = OutputAttentionsSource(hidden_only, catalog(N_ITEMS), max_len=5)
    with pytest.raises(TypeError, match="pass to_scores="):
        source.run([np.array([1, 2])])


def test_to_attention_drops_a_prepended_token():
    def with_cls(input_ids, attention_mask=None, output_attentions=False):
        b, n = input_ids.shape
        weights = torch.softmax(torch.arange((n + 1) ** 2, dtype=torch.float32).view(n + 1, -1), -1)
        return {
            "logits": torch.zeros(b, n + 1, N_ITEMS + 1),
            "attentions": (weights.expand(b, 1, n + 1, n + 1),),
        }

    plain = OutputAttentionsSource(with_cls, catalog(N_ITEMS), max_len=5)
    with pytest.raises(AttentionNotFoundError, match=r"\[1, heads, 3, 3\].*to_attention="):
        plain.run([np.array([1, 2, 3])])
    dropped = OutputAttentionsSource(
        with_cls, catalog(N_ITEMS), max_len=5, to_attention=lambda w: w[..., 1:, 1:]
    )
    assert dropped.run([np.array([1, 2, 3])]).attentions.shape == (1, 1, 1, 3, 3)
