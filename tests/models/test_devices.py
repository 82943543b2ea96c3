"""fit and evaluate on a chosen device: CPU always, CUDA / MPS where the machine has one."""

import numpy as np
import pytest
import torch

from attnwidget import evaluate
from attnwidget.models import SASRec, fit

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


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("amp", [False, True])
def test_fit_and_evaluate_on_a_device(shop, device, amp, tmp_path):
    model = SASRec(shop, d_model=16, n_layers=1, n_heads=2, max_len=10, seed=0)
    history = fit(model, shop, epochs=2, device=device, amp=amp, progress=False)
    assert np.isfinite(history["loss"]).all()
    assert {p.device.type for p in model.parameters()} == {device}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    table = evaluate(model, shop, k=10, device=device)
    assert table.loc["model", "NDCG@10"] > table.loc["popularity", "NDCG@10"] * 0.5
    loaded = SASRec.load(model.save(tmp_path / "m.pt"), map_location="cpu")
    assert loaded.item_features.device.type == "cpu"
    history = [shop.sequence(shop.users[0])]
    np.testing.assert_allclose(loaded.score(history), model.score(history), rtol=1e-4, atol=1e-4)


def test_a_bad_device_is_named(shop):
    model = SASRec(shop, d_model=16, n_layers=1, n_heads=2, max_len=10)
    with pytest.raises(ValueError, match="'gpu0' is not a torch device"):
        fit(model, shop, device="gpu0", progress=False)
    with pytest.raises(TypeError, match=r"device must be a str or torch\.device"):
        fit(model, shop, device=0, progress=False)
