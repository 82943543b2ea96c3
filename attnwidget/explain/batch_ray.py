"""The Ray engine of :func:`~attnwidget.explain_users`: chunks of users as Ray Data
``map_batches`` on actors that each load the model once.

What runs where:

* **The driver** (the process that calls ``explain_users``) checks the arguments and the
  users, cuts them into the same chunks as the local engine, and puts into Ray's object
  store, once, the model: a built-in :class:`~attnwidget.SASRec` as its checkpoint bytes
  (the file :meth:`~attnwidget.SASRec.save` writes, read back with ``weights_only=True``
  and ``map_location`` = the actor's device), any other source pickled by Ray. It then makes
  a Ray dataset with one row per chunk: the chunk's first user ordinal and its users' dense
  item histories (``lengths`` + ``items``, int64). The user ids and the catalogue stay on
  the driver.
* **Each actor** (:class:`ExplainWorker`, ``concurrency`` of them, each with ``threads``
  torch threads and as many CPUs, or ``num_gpus`` when asked) fetches the model from the
  object store when it starts, loads it on its device, and for each chunk row it runs
  :func:`~attnwidget.explain.batch.explain_chunk`, the function the local engine runs,
  returning an Arrow table of plain numbers (item indices, positions, floats) per user.
* **The driver** streams those tables back (the progress bar moves as chunks finish),
  orders them by user ordinal and turns indices into item ids, exactly as the local engine
  does.

So what travels to a worker is the model once and each chunk's histories (a few hundred
bytes per user); what travels back is about one to two kB per user. On a cluster every
worker needs attnwidget and torch installed (or ``runtime_env={"pip": [...]}``).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ArgumentTypeError, ArgumentValueError
from ..models import SASRec
from ..sources import AttentionSource
from ..sources.sasrec import SASRecSource
from .batch import explain_chunk, on_device

LIST_INT = ("recommended", "_top3_positions")
LIST_FLOAT = ("recommended_scores", "_top3_weights", "_importance")
INTS = ("ordinal", "history_length", "seen_length", "target")


def arrow_schema(names: Sequence[str]) -> Any:
    """The Arrow types of :func:`explain_chunk`'s columns (fixed by name, so every chunk's
    table has the same schema, also when all its lists are empty)."""
    import pyarrow as pa

    def kind(name: str) -> Any:
        if name in INTS:
            return pa.int64()
        if name == "warnings":
            return pa.list_(pa.string())
        if name.endswith(LIST_INT):
            return pa.list_(pa.int64())
        if name.endswith(LIST_FLOAT):
            return pa.list_(pa.float64())
        return pa.float64()

    return pa.schema([(name, kind(name)) for name in names])


def ship_source(source: AttentionSource) -> tuple[str, Any]:
    """What an actor loads the model from: ``("checkpoint", bytes)`` for the built-in SASRec,
    ``("source", source)`` for any other source (pickled by Ray: it must be picklable)."""
    if isinstance(source, SASRecSource):
        with tempfile.TemporaryDirectory() as folder:
            path = source.model.save(Path(folder) / "model.pt")
            return "checkpoint", path.read_bytes()
    return "source", source


def load_source(kind: str, payload: Any, device: str) -> AttentionSource:
    """The source an actor runs, on ``device``."""
    if kind == "checkpoint":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.pt"
            path.write_bytes(payload)
            return SASRecSource(SASRec.load(path, map_location=device))
    return on_device(payload, torch.device(device))


class ExplainWorker:
    """A Ray Data actor: the model is loaded once, then chunks of users are explained.

    Args:
        shipped: ``[kind, object ref]`` (in a list, so Ray hands the reference over and the
            actor fetches the model itself, once).
        options: ``methods``, ``k``, ``full_importance`` of :func:`explain_chunk`.
        device: where this actor runs the model.
        threads: its torch threads (the same as the local engine's give the same bits).
    """

    def __init__(
        self, shipped: list[Any], options: dict[str, Any], device: str, threads: int
    ) -> None:
        import ray

        torch.set_num_threads(threads)
        kind, ref = shipped
        self.source = load_source(kind, ray.get(ref), device)
        self.options = options

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        parts = []
        for row in batch.to_pylist():
            items = np.asarray(row["items"], dtype=np.int64)
            ends = np.cumsum(row["lengths"])
            histories = np.split(items, ends[:-1])
            columns = {"ordinal": list(range(row["start"], row["start"] + len(histories)))}
            columns.update(explain_chunk(self.source, histories, **self.options))
            parts.append(pa.Table.from_pydict(columns, schema=arrow_schema(list(columns))))
        return pa.concat_tables(parts)


@contextlib.contextmanager
def ray_session(address: str | None, runtime_env: dict[str, Any] | None) -> Iterator[Any]:
    """Ray, connected: to ``address``, or to the Ray already running in this process, or
    to a local Ray started here (stopped on exit; one found running is left running)."""
    from ..requirements_check import require  # it imports the widget package

    require("ray")
    import ray

    if address is not None and not isinstance(address, str):
        raise ArgumentTypeError(f"address must be a str such as 'auto', got {address!r}")
    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": logging.WARNING,
            "log_to_driver": True,
            "runtime_env": runtime_env,
        }
        if address is None:  # a local Ray; its object store need not take 30 % of the RAM
            kwargs["object_store_memory"] = 256 * 1024**2
        ray.init(address=address, **kwargs)
        started = True
    try:
        for name in ("ray.data", "ray.data._internal"):
            logging.getLogger(name).setLevel(logging.ERROR)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # explain_users has its own bar
        yield ray
    finally:
        if started:
            ray.shutdown()


def _actors(ray: Any, concurrency: Any, num_gpus: float, threads: int) -> int:
    if concurrency is not None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int):
            raise ArgumentTypeError(f"concurrency must be an int, got {concurrency!r}")
        if concurrency < 1:
            raise ArgumentValueError(f"concurrency must be ≥ 1, got {concurrency}")
        return concurrency
    resources = ray.cluster_resources()
    if num_gpus:
        return max(1, int(resources.get("GPU", 0) // num_gpus))
    return max(1, int(resources.get("CPU", 1) // threads))


def run_on_ray(
    source: AttentionSource,
    histories: list[np.ndarray],
    chunks: list[range],
    options: dict[str, Any],
    *,
    bar: Any,
    device: torch.device | None,
    threads: int,
    concurrency: int | None,
    num_gpus: float,
    address: str | None,
    runtime_env: dict[str, Any] | None,
) -> dict[str, list[Any]]:
    """:func:`explain_chunk`'s columns for every chunk, in user order, computed on Ray."""
    if isinstance(num_gpus, bool) or not isinstance(num_gpus, int | float) or num_gpus < 0:
        raise ArgumentValueError(f"num_gpus must be a number ≥ 0, got {num_gpus!r}")
    where = str(device) if device is not None else ("cuda" if num_gpus else "cpu")
    rows = [
        {
            "start": chunk.start,
            "lengths": [len(histories[i]) for i in chunk],
            "items": np.concatenate([histories[i] for i in chunk]).astype(np.int64),
        }
        for chunk in chunks
    ]
    with ray_session(address, runtime_env) as ray:
        actors = _actors(ray, concurrency, num_gpus, threads)
        kind, payload = ship_source(source)
        shipped = [kind, ray.put(payload)]
        data = ray.data.from_items(rows, override_num_blocks=len(rows))
        resources: dict[str, Any] = {"num_gpus": num_gpus} if num_gpus else {"num_cpus": threads}
        explained = data.map_batches(
            ExplainWorker,
            fn_constructor_args=(shipped, options, where, threads),
            batch_size=1,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=actors),
            **resources,
        )
        tables = []
        for table in explained.iter_batches(batch_size=None, batch_format="pyarrow"):
            tables.append(table)
            bar.update(table.num_rows)
    import pyarrow as pa

    merged = pa.concat_tables(tables).sort_by("ordinal").to_pydict()
    merged.pop("ordinal")
    return merged
