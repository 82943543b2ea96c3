"""Training loop for SASRec: full-softmax cross-entropy (or sampled BCE), early stopping."""

from __future__ import annotations

import copy
import math
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..checks import check_bool, check_float, check_int
from ..data import Dataset
from ..errors import (
    DataError,
    NothingToRecommendError,
    NoValidationWarning,
    TrainingDivergedError,
    TrainingDivergedWarning,
)
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


def _weights_finite(model: SASRec) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _train_epoch(
    model: SASRec,
    sequences: list[np.ndarray],
    optimizer: torch.optim.Optimizer,
    options: dict[str, Any],
    generator: torch.Generator,
) -> float:
    """One pass over shuffled ``sequences``; the mean loss, or NaN as soon as it diverges."""
    model.train()
    order = torch.randperm(len(sequences), generator=generator).tolist()
    batch_size = options["batch_size"]
    total, count = 0.0, 0
    for i in range(0, len(order), batch_size):
        batch = [sequences[j] for j in order[i : i + batch_size]]
        value = _batch_loss(model, batch, options["loss"], generator)
        if not torch.isfinite(value):
            return float("nan")
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        total, count = total + value.item() * len(batch), count + len(batch)
    model.eval()
    return total / count if _weights_finite(model) else float("nan")


def _validation(model: SASRec, dataset: Dataset) -> dict[str, float]:
    """Validation NDCG@10 and HR@10; a model whose scores are all non-finite diverged."""
    try:
        metrics = evaluate_scorer(model.score, dataset, "valid", (10,))
    except NothingToRecommendError:
        return {"loss": math.nan}
    return {"valid_NDCG@10": metrics["NDCG@10"], "valid_HR@10": metrics["HR@10"]}


def _checked_options(model: Any, dataset: Any, **options: Any) -> dict[str, Any]:
    """Type and range checks of ``fit``'s arguments; returns them cleaned."""
    if not isinstance(model, SASRec):
        raise TypeError(f"model must be an attnwidget SASRec, got {type(model).__name__}")
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}")
    if options["loss"] not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {options['loss']!r}")
    return {
        "epochs": check_int("epochs", options["epochs"]),
        "batch_size": check_int("batch_size", options["batch_size"]),
        "lr": check_float("lr", options["lr"], positive=True),
        "weight_decay": check_float("weight_decay", options["weight_decay"], minimum=0.0),
        "loss": options["loss"],
        "patience": check_int("patience", options["patience"]),
        "seed": check_int("seed", options["seed"], minimum=0),
        "progress": check_bool("progress", options["progress"]),
    }


def _diverged(epoch: int, best_epoch: int | None, lr: float) -> TrainingDivergedError | None:
    """Warn (and return ``None``) when an earlier epoch is kept; else the error to raise."""
    if best_epoch is None:
        return TrainingDivergedError(
            f"training diverged in epoch {epoch} (the loss or the weights became NaN or "
            f"infinite) with lr={lr:g}, before any epoch finished: the model keeps its "
            "initial weights; try a smaller lr"
        )
    warnings.warn(
        f"training diverged in epoch {epoch} (the loss or the weights became NaN or "
        f"infinite) with lr={lr:g}; kept epoch {best_epoch}, the best finite one",
        TrainingDivergedWarning,
        stacklevel=3,
    )
    return None


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

    Without a validation split (no user has 3 or more interactions) the epoch with the
    lowest training loss is kept and a :class:`NoValidationWarning` says so. If the loss
    or the weights become NaN or infinite, training stops and the best finite epoch is
    kept (:class:`TrainingDivergedWarning`); when there is none, the initial weights are
    restored and :class:`TrainingDivergedError` is raised. The model never comes back
    with NaN weights.

    Args:
        loss: ``"ce"`` (full-softmax cross-entropy over the catalogue, the default) or
            ``"bce"`` (binary cross-entropy with one sampled negative per position).
        patience: stop after this many epochs without a better validation NDCG@10
            (training loss without a validation split).
        seed: seeds shuffling, dropout and negative sampling; with the model's own
            init seed, the same seed gives the same trained weights.
        progress: show a tqdm progress bar.

    Returns:
        One row per epoch: ``loss``, ``valid_NDCG@10``, ``valid_HR@10`` (NaN without a
        validation split), ``seconds``. ``attrs["best_epoch"]`` is the epoch kept and
        ``attrs["selected_by"]`` the figure that chose it.

    Raises:
        DataError: no user has 2 or more training interactions.
        UnknownItemError: the dataset has items the model's catalogue lacks.
        TrainingDivergedError: the first epoch already diverged.
    """
    options = _checked_options(
        model,
        dataset,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        loss=loss,
        patience=patience,
        seed=seed,
        progress=progress,
    )
    dataset = dataset.aligned_to(model.catalog)
    sequences = _training_pairs(dataset, model.config.max_len)
    if not sequences:
        raise DataError(
            f"no user of the {dataset.n_users} has 2 or more training interactions: "
            "nothing to train on"
        )
    has_valid = bool(dataset.split("valid"))
    generator = torch.Generator().manual_seed(options["seed"])
    optimizer = torch.optim.Adam(
        model.parameters(), lr=options["lr"], weight_decay=options["weight_decay"]
    )
    rows, best, best_epoch, stale = [], -math.inf, None, 0
    best_state = copy.deepcopy(model.state_dict())
    failure = None
    bar = tqdm(
        range(1, options["epochs"] + 1),
        desc="training",
        unit="epoch",
        disable=not options["progress"],
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options["seed"])
        for epoch in bar:
            start = time.perf_counter()
            row = {
                "epoch": epoch,
                "loss": _train_epoch(model, sequences, optimizer, options, generator),
                "valid_NDCG@10": math.nan,
                "valid_HR@10": math.nan,
            }
            if has_valid and not math.isnan(row["loss"]):
                row |= _validation(model, dataset)
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            if math.isnan(row["loss"]):
                failure = _diverged(epoch, best_epoch, options["lr"])
                break
            bar.set_postfix(loss=f"{row['loss']:.3f}", ndcg=f"{row['valid_NDCG@10']:.3f}")
            score = row["valid_NDCG@10"] if has_valid else -row["loss"]
            if score > best:
                best, best_epoch, stale = score, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                stale += 1
                if stale >= options["patience"]:
                    break
    bar.close()
    model.load_state_dict(best_state)
    model.eval()
    if failure is not None:
        raise failure
    if not has_valid:
        warnings.warn(
            "no validation split (no user has 3 or more interactions): kept epoch "
            f"{best_epoch}, the one with the lowest training loss",
            NoValidationWarning,
            stacklevel=2,
        )
    table = pd.DataFrame(rows).set_index("epoch")
    table.attrs |= {
        "best_epoch": best_epoch,
        "selected_by": "valid_NDCG@10" if has_valid else "training loss",
    }
    return table
