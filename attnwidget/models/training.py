"""Training loop for SASRec: full or sampled softmax, gBCE or BCE; early stopping."""

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
    ArgumentTypeError,
    ArgumentValueError,
    DataError,
    NoValidationWarning,
    TrainingDivergedError,
    TrainingDivergedWarning,
)
from .sasrec import SASRec

LOSSES = ("auto", "ce", "sampled", "gbce", "bce")
AUTO_CE_MAX_ITEMS = 10_000
"""``loss="auto"`` trains with full cross-entropy up to this many items and with sampled
softmax above: see :func:`fit` and benchmarks/training_speed.py."""
BUCKET_BATCHES = 32
"""Batches per length bucket: each run of ``BUCKET_BATCHES * batch_size`` shuffled sequences
is sorted by length before it is cut into batches (then the batches are shuffled), so a batch
pads to about its own sequences' length instead of ``max_len``."""
VALID_BATCH = 1024
"""Validation histories scored per pass."""


def resolve_loss(loss: str, n_items: int) -> str:
    """The loss ``fit`` trains with: ``"auto"`` is ``"ce"`` up to :data:`AUTO_CE_MAX_ITEMS`
    items and ``"sampled"`` above; any other name is returned as is."""
    if loss != "auto":
        return loss
    return "ce" if n_items <= AUTO_CE_MAX_ITEMS else "sampled"


def _left_padded(sequences: list[np.ndarray], width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``[N, width]`` left-padded rows of each sequence's last ``width`` items; the lengths."""
    cut = [s[-width:] for s in sequences]
    lengths = np.fromiter((len(s) for s in cut), dtype=np.int64, count=len(cut))
    rows = np.zeros((len(cut), width), dtype=np.int64)
    rows[np.arange(width) >= (width - lengths)[:, None]] = np.concatenate(cut) if cut else []
    return torch.from_numpy(rows), torch.from_numpy(lengths)


def _batches(
    lengths: torch.Tensor, batch_size: int, generator: torch.Generator
) -> list[torch.Tensor]:
    """Row indices of one epoch's batches: shuffled, bucketed by length (see
    :data:`BUCKET_BATCHES`), in shuffled order."""
    order = torch.randperm(len(lengths), generator=generator)
    batches = []
    for chunk in order.split(batch_size * BUCKET_BATCHES):
        chunk = chunk[torch.argsort(lengths[chunk], stable=True)]
        batches.extend(chunk.split(batch_size))
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def gbce_beta(n_negatives: int, n_items: int, t: float) -> float:
    """gSASRec's β (Petrov & Macdonald, RecSys 2023, eq. 10): ``α (t (1 - 1/α) + 1/α)``
    with the sampling rate ``α = n_negatives / (n_items - 1)``; 1 (plain BCE) when every
    other item is a negative."""
    alpha = min(n_negatives / max(n_items - 1, 1), 1.0)
    return alpha * (t * (1.0 - 1.0 / alpha) + 1.0 / alpha)


def _batch_loss(
    model: SASRec, rows: torch.Tensor, options: dict[str, Any], generator: torch.Generator
) -> torch.Tensor:
    """The loss of one batch of left-padded sequences (``[B, n + 1]``: inputs + shifted targets).

    Every real input position predicts the next item. ``"ce"`` scores all items;
    ``"sampled"`` and ``"gbce"`` score the target against ``n_negatives`` items drawn
    uniformly (with replacement) once per batch and shared by all its positions, a
    negative equal to a position's target being left out for that position; ``"bce"``
    draws one negative per position.
    """
    inputs, targets = rows[:, :-1], rows[:, 1:]
    keep = (inputs > 0) & (targets > 0)
    hidden, _, _ = model.encode(inputs, need_weights=False)
    hidden, targets = hidden[keep], targets[keep]
    loss, n_items = options["loss"], model.catalog.n_items
    if loss == "ce":
        logits = hidden @ model.candidates().T
        logits[:, 0] = float("-inf")
        return F.cross_entropy(logits, targets)
    if loss == "bce":
        negatives = torch.randint(1, n_items + 1, targets.shape, generator=generator)
        negatives = negatives.to(targets.device)
        vectors = model.item_vectors(torch.cat([targets, negatives]))
        pos = (hidden * vectors[: len(targets)]).sum(-1)
        neg = (hidden * vectors[len(targets) :]).sum(-1)
        return F.binary_cross_entropy_with_logits(
            torch.cat([pos, neg]), torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
        )
    k = options["n_negatives"]
    negatives = torch.randint(1, n_items + 1, (k,), generator=generator).to(targets.device)
    vectors = model.item_vectors(torch.cat([targets, negatives]))
    pos = (hidden * vectors[: len(targets)]).sum(-1)
    neg = hidden @ vectors[len(targets) :].T
    neg = neg.masked_fill(negatives[None, :] == targets[:, None], float("-inf"))
    if loss == "sampled":
        logits = torch.cat([pos[:, None], neg], dim=1)
        return F.cross_entropy(logits, torch.zeros_like(targets))
    beta = gbce_beta(k, n_items, options["gbce_t"])
    # -log(sigmoid(pos) ** beta) = beta * softplus(-pos); negatives as in BCE; the mean
    # over the 1 + k logits of each position, as gSASRec's BCE over all logits.
    return ((beta * F.softplus(-pos) + F.softplus(neg).sum(-1)) / (k + 1)).mean()


def _weights_finite(model: SASRec) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _train_epoch(
    model: SASRec,
    data: tuple[torch.Tensor, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    options: dict[str, Any],
    generator: torch.Generator,
    scaler: torch.amp.GradScaler,
) -> float:
    """One pass over the shuffled training rows; the mean loss, or NaN as soon as it diverges."""
    model.train()
    rows, lengths = data
    total, count = 0.0, 0
    for index in _batches(lengths, options["batch_size"], generator):
        width = int(lengths[index].max())
        with torch.autocast(options["device"].type, enabled=options["amp"]):
            value = _batch_loss(model, rows[index, -width:], options, generator).float()
        if not torch.isfinite(value):
            return float("nan")
        optimizer.zero_grad()
        scaler.scale(value).backward()
        scaler.step(optimizer)
        scaler.update()
        total, count = total + value.item() * len(index), count + len(index)
    model.eval()
    return total / count if _weights_finite(model) else float("nan")


class _ValidationCases:
    """The validation split prepared once for :func:`_validation`, sorted by history length:
    per batch of :data:`VALID_BATCH` cases the model's inputs, the targets and every (case, item) of
    the whole history (masked, as ``evaluate``'s ``exclude_seen`` does)."""

    def __init__(self, dataset: Dataset, max_len: int, limit: int | None, seed: int) -> None:
        cases = dataset.split("valid")
        if limit is not None and len(cases) > limit:
            keep = np.random.default_rng(seed).choice(len(cases), size=limit, replace=False)
            cases = [cases[i] for i in keep]
        cases = sorted(cases, key=lambda ex: len(ex.history))  # less padding per batch
        self.batches = []
        for i in range(0, len(cases), VALID_BATCH):
            part = cases[i : i + VALID_BATCH]
            inputs, lengths = _left_padded([ex.history for ex in part], max_len)
            targets = np.array([ex.target for ex in part], dtype=np.int64)
            seen_rows = np.repeat(np.arange(len(part)), [len(ex.history) for ex in part])
            seen = np.concatenate([ex.history for ex in part])
            other = seen != targets[seen_rows]
            self.batches.append(
                (
                    inputs[:, -int(lengths.max()) :],
                    torch.from_numpy(targets),
                    torch.from_numpy(seen_rows[other]),
                    torch.from_numpy(seen[other]),
                )
            )

    def __bool__(self) -> bool:
        return bool(self.batches)


def _validation(model: SASRec, cases: _ValidationCases) -> dict[str, float]:
    """Validation NDCG@10 and HR@10 (full ranking, history items excluded, ties to the lower
    index: ``evaluate(model, dataset, "valid")``'s figures); a model whose scores are all
    non-finite diverged."""
    ranks, rankable = [], False
    with torch.inference_mode():
        items = model.candidates().T
        device = items.device
        for batch in cases.batches:
            inputs, targets, seen_rows, seen = (t.to(device) for t in batch)
            scores = model._last_hidden(inputs) @ items
            scores.nan_to_num_(nan=-math.inf, posinf=-math.inf)  # unrankable, as in evaluate
            scores[:, 0] = float("-inf")
            scores[seen_rows, seen] = float("-inf")
            target = scores[torch.arange(len(targets), device=device), targets]
            rankable = rankable or bool(scores.amax(1).isfinite().any())
            rank = torch.count_nonzero(scores > target[:, None], dim=1) + 1
            same = scores == target[:, None]
            if int(torch.count_nonzero(same)) > len(targets):  # ties go to the lower item index
                index = torch.arange(scores.shape[1], device=device)[None, :]
                rank += torch.count_nonzero(same & (index < targets[:, None]), dim=1)
            rank[~torch.isfinite(target)] = scores.shape[1] - 1
            ranks.append(rank)
    if not rankable:
        return {"loss": math.nan}
    rank = torch.cat(ranks).cpu().double()
    hit = rank <= 10
    ndcg = torch.where(hit, 1.0 / torch.log2(rank + 1.0), 0.0)
    return {"valid_NDCG@10": float(ndcg.mean()), "valid_HR@10": float(hit.double().mean())}


def _checked_options(model: Any, dataset: Any, **options: Any) -> dict[str, Any]:
    """Type and range checks of ``fit``'s arguments; returns them cleaned."""
    if not isinstance(model, SASRec):
        raise ArgumentTypeError(f"model must be an attnwidget SASRec, got {type(model).__name__}")
    if not isinstance(dataset, Dataset):
        raise ArgumentTypeError(
            f"dataset must be an attnwidget Dataset, got {type(dataset).__name__}"
        )
    if options["loss"] not in LOSSES:
        raise ArgumentValueError(f"loss must be one of {LOSSES}, got {options['loss']!r}")
    return {
        "epochs": check_int("epochs", options["epochs"]),
        "batch_size": check_int("batch_size", options["batch_size"]),
        "lr": check_float("lr", options["lr"], positive=True),
        "weight_decay": check_float("weight_decay", options["weight_decay"], minimum=0.0),
        "loss": resolve_loss(options["loss"], model.catalog.n_items),
        "n_negatives": check_int("n_negatives", options["n_negatives"]),
        "gbce_t": _unit("gbce_t", options["gbce_t"]),
        "patience": check_int("patience", options["patience"]),
        "valid_users": None
        if options["valid_users"] is None
        else check_int("valid_users", options["valid_users"]),
        "seed": check_int("seed", options["seed"], minimum=0),
        "progress": check_bool("progress", options["progress"]),
        "amp": check_bool("amp", options["amp"]),
        "device": _device(model, options["device"]),
    }


def _device(model: SASRec, device: Any) -> torch.device:
    """``device`` as a torch device; ``None``: the model's."""
    if device is None:
        return model.item_features.device
    if not isinstance(device, str | torch.device):
        raise ArgumentTypeError(f"device must be a str or torch.device, got {device!r}")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise ArgumentValueError(f"device {device!r} is not a torch device: {err}") from None


def _unit(name: str, value: Any) -> float:
    value = check_float(name, value, minimum=0.0)
    if value > 1.0:
        raise ArgumentValueError(f"{name} must be between 0 and 1, got {value}")
    return value


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
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    loss: str = "auto",
    n_negatives: int = 3000,
    gbce_t: float = 0.75,
    patience: int = 10,
    valid_users: int | None = 10_000,
    seed: int = 0,
    progress: bool = True,
    device: str | torch.device | None = None,
    amp: bool = False,
) -> pd.DataFrame:
    """Train ``model`` on ``dataset``'s training split; keep the best validation epoch.

    Without a validation split (no user has 3 or more interactions) the epoch with the
    lowest training loss is kept and a :class:`NoValidationWarning` says so. If the loss
    or the weights become NaN or infinite, training stops and the best finite epoch is
    kept (:class:`TrainingDivergedWarning`); when there is none, the initial weights are
    restored and :class:`TrainingDivergedError` is raised. The model never comes back
    with NaN weights.

    Args:
        loss: ``"auto"`` (the default) is ``"ce"`` up to :data:`AUTO_CE_MAX_ITEMS`
            items and ``"sampled"`` above. ``"ce"``: full-softmax cross-entropy over the
            catalogue. ``"sampled"``: sampled softmax, each position's target against
            ``n_negatives`` items drawn uniformly once per batch and shared by all its
            positions (SASRec+ of Klenitskiy & Vasilev 2023; no logQ correction, which
            is a constant under uniform sampling). ``"gbce"``: gSASRec's generalised BCE
            (Petrov & Macdonald 2023) over the same negatives, with
            :func:`gbce_beta` from the sampling rate and ``gbce_t``. ``"bce"``: binary
            cross-entropy with one sampled negative per position.
        n_negatives: shared negatives per batch of ``"sampled"`` and ``"gbce"``.
        gbce_t: gSASRec's calibration parameter ``t`` in [0, 1] (0: plain BCE).
        lr: Adam's learning rate. 3e-3 by default (1e-3 before): with the model's
            default dropout 0.1 it learned more on ml-100k, the Games-size shop and the
            planted-rule shop (benchmarks/README.md).
        patience: stop after this many epochs without a better validation NDCG@10
            (training loss without a validation split). 10 by default: with 3, training
            on a shop of 3000 customers stopped after 8 of 30 epochs, on the noise of
            the validation figure, before the model had learned a rule the validation
            items rarely show (benchmarks/trigger_pattern.py).
        valid_users: validate on this many validation cases drawn once (seeded), or on
            all with ``None``: full-catalogue ranking of 31k cases would cost more than
            an epoch of sampled-softmax training.
        seed: seeds shuffling, dropout and negative sampling; with the model's own
            init seed, the same seed gives the same trained weights.
        progress: show a tqdm progress bar.
        device: where to train (``"cuda"``, ``"mps"``, ``"cpu"``); the model moves there
            and stays. Default: the model's device.
        amp: mixed precision (``torch.autocast``: float16 with a gradient scaler on
            CUDA, bfloat16 elsewhere); weights stay float32.

    Returns:
        One row per epoch: ``loss``, ``valid_NDCG@10``, ``valid_HR@10`` (NaN without a
        validation split), ``seconds``. ``attrs["best_epoch"]`` is the epoch kept,
        ``attrs["selected_by"]`` the figure that chose it and ``attrs["loss"]`` the loss.

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
        n_negatives=n_negatives,
        gbce_t=gbce_t,
        patience=patience,
        valid_users=valid_users,
        seed=seed,
        progress=progress,
        device=device,
        amp=amp,
    )
    model.to(options["device"])
    dataset = dataset.aligned_to(model.catalog)
    sequences = [s for s in dataset.train_sequences()]
    if not sequences:
        raise DataError(
            f"no user of the {dataset.n_users} has 2 or more training interactions: "
            "nothing to train on"
        )
    rows, lengths = _left_padded(sequences, model.config.max_len + 1)
    data = rows.to(options["device"]), lengths
    scaler = torch.amp.GradScaler(
        options["device"].type, enabled=options["amp"] and options["device"].type == "cuda"
    )
    valid = _ValidationCases(dataset, model.config.max_len, options["valid_users"], options["seed"])
    has_valid = bool(valid)
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
                "loss": _train_epoch(model, data, optimizer, options, generator, scaler),
                "valid_NDCG@10": math.nan,
                "valid_HR@10": math.nan,
            }
            if has_valid and not math.isnan(row["loss"]):
                row |= _validation(model, valid)
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
        "loss": options["loss"],
    }
    return table
