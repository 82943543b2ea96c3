"""Sources and explanations on a chosen device: CPU always, CUDA / MPS where the machine has
one. Inputs are made on the model's device, outputs come back as CPU numpy arrays, and
explain_users(device=) works on a copy, never moving the model it is given."""

import copy

import numpy as np
import pytest
import torch

import attnwidget as aw
from attnwidget.sources import MultiheadAttentionSource, SASRecSource

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here"),
    ),
    pytest.param(
        "mps",
        marks=pytest.mark.skipif(not torch.backends.mps.is_available(), reason="no MPS here"),
    ),
]
CLOSE = {"rtol": 1e-3, "atol": 1e-4}  # GPU kernels round differently


@pytest.fixture
def on_device(trained, request):
    device = request.param
    return copy.deepcopy(trained).to(device), device


@pytest.mark.parametrize("on_device", DEVICES, indirect=True)
def test_sasrec_source_runs_where_the_model_is(on_device, trained, shop):
    model, device = on_device
    here, cpu = SASRecSource(model), SASRecSource(trained)
    histories = [shop.sequences[i] for i in range(4)]
    out, expected = here.run(histories), cpu.run(histories)
    for name in ("scores", "attentions", "feature_attention"):
        got = getattr(out, name)
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, getattr(expected, name), **CLOSE)
    np.testing.assert_allclose(here.score(histories), cpu.score(histories), **CLOSE)
    np.testing.assert_allclose(
        here.score_items(histories, [3, 5]), cpu.score_items(histories, [3, 5]), **CLOSE
    )
    history = shop.sequences[0][-10:]
    for got, want in zip(
        here.attention_gradients(history, 3), cpu.attention_gradients(history, 3), strict=True
    ):
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, want, **CLOSE)
    np.testing.assert_allclose(
        here.feature_occlusion(history, 3), cpu.feature_occlusion(history, 3), **CLOSE
    )
    assert {p.device.type for p in model.parameters()} == {device}  # not moved


@pytest.mark.parametrize("on_device", DEVICES, indirect=True)
def test_explain_and_explain_users_default_to_the_models_device(on_device, trained, shop):
    model, device = on_device
    user = shop.users[3]
    expl, expected = aw.explain(model, shop, user), aw.explain(trained, shop, user)
    np.testing.assert_array_equal(expl.recommendations[:3], expected.recommendations[:3])
    for method in ("attention", "gradient", "occlusion"):
        np.testing.assert_allclose(
            expl.method_importance(method), expected.method_importance(method), **CLOSE
        )
    users = list(shop.users[:6])
    table = aw.explain_users(model, shop, users, k=5, progress=False)
    reference = aw.explain_users(trained, shop, users, k=5, progress=False)
    assert table["target"].tolist() == reference["target"].tolist()
    np.testing.assert_allclose(table["entropy_L0H0"], reference["entropy_L0H0"], **CLOSE)
    assert {p.device.type for p in model.parameters()} == {device}


@pytest.mark.parametrize("device", DEVICES)
def test_explain_users_on_another_device_leaves_the_model_where_it_is(trained, shop, device):
    users = list(shop.users[:6])
    table = aw.explain_users(trained, shop, users, k=5, device=device, progress=False)
    reference = aw.explain_users(trained, shop, users, k=5, progress=False)
    assert {p.device.type for p in trained.parameters()} == {"cpu"}
    assert table["recommended"].tolist() == reference["recommended"].tolist()
    np.testing.assert_allclose(
        table["occlusion_entropy"], reference["occlusion_entropy"], rtol=1e-3, atol=1e-3
    )


@pytest.mark.parametrize("device", DEVICES)
def test_a_torch_adapter_runs_where_its_model_is(shop, device):
    torch.manual_seed(0)
    embed = torch.nn.Embedding(shop.n_items + 1, 16)
    encoder = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True),
        1,
        enable_nested_tensor=False,
    )

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.encoder = embed, encoder

        def forward(self, batch):
            return self.encoder(self.embed(batch))[:, -1] @ self.embed.weight.T

    cpu_model = Tiny()
    model = copy.deepcopy(cpu_model).to(device)
    histories = [shop.sequences[i][-6:] for i in range(3)]
    here = MultiheadAttentionSource(model, shop, max_len=8)
    cpu = MultiheadAttentionSource(cpu_model, shop, max_len=8)
    assert here.pad(histories).device.type == device
    out, expected = here.run(histories), cpu.run(histories)
    np.testing.assert_allclose(out.scores[:, 1:], expected.scores[:, 1:], **CLOSE)
    np.testing.assert_allclose(out.attentions, expected.attentions, **CLOSE)
    got = here.attention_gradients(histories[0], 2)
    want = cpu.attention_gradients(histories[0], 2)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, **CLOSE)


def test_another_device_gets_a_copy_and_a_source_without_torch_model_is_refused(trained):
    from attnwidget.explain.batch import on_device

    source = SASRecSource(trained)
    assert on_device(source, torch.device("cpu")) is source  # already there: no copy
    moved = on_device(source, torch.device("meta"))  # a device that holds no data
    assert moved is not source and moved.model.item_features.device.type == "meta"
    assert {p.device.type for p in trained.parameters()} == {"cpu"}
    with pytest.raises(aw.ArgumentValueError, match="needs a torch model"):
        on_device(_NoModel(), torch.device("meta"))


class _NoModel:
    catalog = None
    max_len = 5
    field_names = ("item",)
