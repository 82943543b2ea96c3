"""OutputAttentionsSource on tiny Hugging Face models built from a config (nothing downloaded)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from attnwidget import AttentionExplorer, explain
from attnwidget.sources import AttentionNotFoundError, OutputAttentionsSource
from attnwidget.widget.payload import decode_pack

from .tiny import dataset, fix_weights

transformers = pytest.importorskip("transformers")

N_ITEMS, HIDDEN, HEADS, LAYERS = 6, 8, 2, 2
DH = HIDDEN // HEADS
HISTORY = [3, 1, 4, 1, 5]


def bert(attn_implementation: str = "eager"):
    config = transformers.BertConfig(
        vocab_size=N_ITEMS + 1,
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=16,
        max_position_embeddings=16,
        pad_token_id=0,
        attn_implementation=attn_implementation,
    )
    model = transformers.BertModel(config)
    fix_weights(model)
    return model.eval()


def gpt2():
    config = transformers.GPT2Config(
        vocab_size=N_ITEMS + 1,
        n_embd=HIDDEN,
        n_layer=LAYERS,
        n_head=HEADS,
        n_positions=16,
        bos_token_id=1,
        eos_token_id=1,
        attn_implementation="eager",
    )
    model = transformers.GPT2LMHeadModel(config)
    fix_weights(model, seed=2.0)
    return model.eval()


def bert_scores(model):
    return lambda out: out.last_hidden_state[:, -1] @ model.embeddings.word_embeddings.weight.T


def heads(x: torch.Tensor) -> torch.Tensor:
    """``[n, hidden]`` → ``[heads, n, dh]``."""
    return x.reshape(x.shape[0], HEADS, DH).transpose(0, 1)


@torch.no_grad()
def bert_by_hand(model, history: list[int]) -> np.ndarray:
    """Each layer's attention from its input hidden states, written out in float64."""
    hidden = model(torch.tensor([history]), output_hidden_states=True).hidden_states
    out = []
    for layer, h in zip(model.encoder.layer, hidden, strict=False):
        sa, h = layer.attention.self, h[0].double()
        q = heads(h @ sa.query.weight.double().T + sa.query.bias.double())
        k = heads(h @ sa.key.weight.double().T + sa.key.bias.double())
        out.append(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(DH), dim=-1))
    return torch.stack(out).numpy()


@torch.no_grad()
def gpt2_by_hand(model, history: list[int]) -> np.ndarray:
    hidden = model(torch.tensor([history]), output_hidden_states=True).hidden_states
    n = len(history)
    causal = torch.full((n, n), -math.inf, dtype=torch.float64).triu(1)
    out = []
    for block, h in zip(model.transformer.h, hidden, strict=False):
        x = torch.nn.functional.layer_norm(
            h[0].double(), (HIDDEN,), block.ln_1.weight.double(), block.ln_1.bias.double(),
            block.ln_1.eps,
        )  # fmt: skip
        qkv = x @ block.attn.c_attn.weight.double() + block.attn.c_attn.bias.double()
        q, k, _ = (heads(t) for t in qkv.split(HIDDEN, dim=-1))
        out.append(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(DH) + causal, dim=-1))
    return torch.stack(out).numpy()


def test_bert_attention_equals_the_attention_computed_by_hand():
    model = bert()
    data = dataset({"ann": HISTORY, "bob": [2, 6, 5]})
    source = OutputAttentionsSource(model, data, max_len=8, to_scores=bert_scores(model))
    out = source.run([np.array(HISTORY)])
    assert out.attentions.shape == (1, LAYERS, HEADS, 5, 5)
    np.testing.assert_allclose(out.attentions[0], bert_by_hand(model, HISTORY), atol=1e-6)
    with torch.no_grad():
        expected = bert_scores(model)(model(torch.tensor([HISTORY])))
    assert np.array_equal(out.scores[0, 1:], expected[0, 1:].numpy())


def test_gpt2_attention_equals_the_attention_computed_by_hand_and_logits_are_scores():
    model = gpt2()
    data = dataset({"ann": HISTORY, "bob": [2, 6, 5]})
    source = OutputAttentionsSource(model, data, max_len=8)  # default scores: the LM logits
    out = source.run([np.array(HISTORY), np.array([2, 6, 5])])
    np.testing.assert_allclose(out.attentions[0], gpt2_by_hand(model, HISTORY), atol=1e-6)
    np.testing.assert_allclose(
        out.attentions[1, :, :, -3:, -3:], gpt2_by_hand(model, [2, 6, 5]), atol=1e-6
    )
    with torch.no_grad():
        logits = model(torch.tensor([HISTORY])).logits[0, -1]
    assert np.array_equal(out.scores[0, 1:], logits[1:].numpy())


def test_the_explorer_shows_a_wrapped_bert():
    model = bert()
    data = dataset({"ann": HISTORY, "bob": [2, 6, 5], "cy": [6, 5, 4, 3]})
    source = OutputAttentionsSource(model, data, max_len=4, to_scores=bert_scores(model))
    expl = explain(source, data, "ann", k=3)
    np.testing.assert_allclose(expl.attentions, bert_by_hand(model, HISTORY[-4:]), atol=1e-6)
    header, arrays = decode_pack(AttentionExplorer(source, data, agreement_users=3).payload)
    assert header["n_layers"] == LAYERS and header["n_heads"] == HEADS
    assert arrays["seq_attn"].shape == (LAYERS, HEADS, 4, 4)


def test_an_sdpa_model_that_returns_no_attention_says_to_use_eager():
    model = bert("sdpa")
    source = OutputAttentionsSource(
        model, dataset({"ann": HISTORY}), max_len=8, to_scores=bert_scores(model)
    )
    with pytest.raises(AttentionNotFoundError, match="attn_implementation='eager'"):
        source.run([np.array(HISTORY)])
