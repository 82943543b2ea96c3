"""Training loop for SASRec: full-softmax cross-entropy (or sampled BCE), early stopping."""

from __future__ import annotations

import copy
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..data import Dataset
from ..evaluate import evaluate_scorer
from .sasrec import SASRec

LOSSES = ("ce", "bce")


def _training_pairs(dataset: Dataset, max_len: int) -> list[np.ndarray]:
    """Each training sequence cut to its last ``max_len + 1`` items (inputs + shifted targets)."""
    return [seq[-(max_len + 1) :] for seq in dataset.train_sequences()]


def _batch_loss(
    model: SASRec, batch: list[np.ndarray], loss: str, generator: torch.Generator
) -> torch.Tensor:
    padded = model.pad([s for s in batch])
    inputs, targets = padded[:, :-1], padded[:, 1:]
    keep = (inputs > 0) & (targets > 0)
    hidden, _, _ = model.encode(inputs)
    hidden = hidden[keep]
    targets = targets[keep]
    items = model.candidates()
    if loss == "ce":
        logits = hidden @ items.T
        logits[:, 0] = float("-inf")
        return F.cross_entropy(logits, targets)
    negatives = torch.randint(1, items.shape[0], targets.shape, generator=generator)
    pos = (hidden * items[targets]).sum(-1)
    neg = (hidden * items[negatives]).sum(-1)
    return F.binary_cross_entropy_with_logits(
        torch.cat([pos, neg]), torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
    )


def fit(
    model: SASRec,
    dataset: Dataset,
    *,
    epochs: int = 30,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    loss: str = "ce",
    patience: int = 3,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Train ``model`` on ``dataset``'s training split; keep the best validation epoch.

    Args:
        loss: ``"ce"`` (full-softmax cross-entropy over the catalogue, the default) or
            ``"bce"`` (binary cross-entropy with one sampled negative per position).
        patience: stop after this many epochs without a better validation NDCG@10.
        seed: seeds shuffling, dropout and negative sampling; with the model's own
            init seed, the same seed gives the same trained weights.
        progress: show a tqdm progress bar.

    Returns:
        One row per epoch: ``loss``, ``valid_NDCG@10``, ``valid_HR@10``, ``seconds``.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if model.catalog is not dataset.catalog and model.catalog.item_ids != dataset.catalog.item_ids:
        raise ValueError("the model and the dataset have different item catalogues")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("patience", patience)):
        if value < 1:
            raise ValueError(f"{name} must be ≥ 1, got {value}")
    sequences = _training_pairs(dataset, model.config.max_len)
    if not sequences:
        raise ValueError("no user has 2 or more training interactions: nothing to train on")
    has_valid = bool(dataset.split("valid"))
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    rows, best, best_state, stale = [], -1.0, None, 0
    bar = tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not progress)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for epoch in bar:
            start = time.perf_counter()
            model.train()
            order = torch.randperm(len(sequences), generator=generator).tolist()
            total, count = 0.0, 0
            for i in range(0, len(order), batch_size):
                batch = [sequences[j] for j in order[i : i + batch_size]]
                value = _batch_loss(model, batch, loss, generator)
                optimizer.zero_grad()
                value.backward()
                optimizer.step()
                total, count = total + value.item() * len(batch), count + len(batch)
            model.eval()
            row = {"epoch": epoch, "loss": total / count}
            if has_valid:
                metrics = evaluate_scorer(model.score, dataset, "valid", (10,))
                row |= {"valid_NDCG@10": metrics["NDCG@10"], "valid_HR@10": metrics["HR@10"]}
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            bar.set_postfix(
                loss=f"{row['loss']:.3f}", ndcg=f"{row.get('valid_NDCG@10', float('nan')):.3f}"
            )
            score = row.get("valid_NDCG@10", -row["loss"])
            if score > best:
                best, best_state, stale = score, copy.deepcopy(model.state_dict()), 0
            else:
                stale += 1
                if stale >= patience:
                    break
    bar.close()
    model.load_state_dict(best_state)
    model.eval()
    return pd.DataFrame(rows).set_index("epoch")
