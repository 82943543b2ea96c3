"""SASRec checkpoint files: written atomically, read safely, checked against a checksum.

A checkpoint is a ``torch.save`` zip holding one dict::

    {"format": "attnwidget.sasrec", "version": 2, "config": {...}, "catalog": {...},
     "state_dict": {name: tensor}, "sha256": "<hex>"}

``sha256`` (new in version 2) covers the config, the catalogue and every tensor's name, dtype,
shape and bytes, so weights damaged on disk that still unzip are refused instead of loading
silently. Version 1 files (written before the checksum existed) still load, unchecked.

Reading never unpickles code (``weights_only=True``) and turns every problem with the file into
one :class:`CheckpointError` that names the file and says what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic_write import atomic_write, writable_target
from ..errors import CheckpointError

CHECKPOINT_FORMAT = "attnwidget.sasrec"
CHECKPOINT_VERSION = 2
READABLE_VERSIONS = (1, 2)
_KINDS = ("categorical", "numeric")
_ZIP_MAGIC = b"PK\x03\x04"  # how a zip file (so a checkpoint) begins


@dataclass
class CheckpointContents:
    """What a checkpoint holds, checked: plain config and catalogue state, CPU tensors."""

    config: dict[str, Any]
    catalog: dict[str, Any]
    state_dict: dict[str, torch.Tensor]


def write_checkpoint(
    path: str | os.PathLike[str],
    config: Mapping[str, Any],
    catalog: Mapping[str, Any],
    state_dict: Mapping[str, torch.Tensor],
) -> Path:
    """Save a checkpoint atomically: a failed save leaves any old file at ``path`` untouched.

    Raises:
        CheckpointError: if ``path`` is a directory or its folder cannot be created.
        OSError: if the write itself fails (e.g. the disk is full).
    """
    try:
        target = writable_target(path)
    except OSError as err:
        raise CheckpointError(f"cannot save the checkpoint: {err}") from None
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": dict(config),
        "catalog": dict(catalog),
        "state_dict": dict(state_dict),
        "sha256": content_hash(config, catalog, state_dict),
    }
    # Serialise in memory first: torch's zip writer turns errors of a file it writes into
    # RuntimeErrors ("unexpected pos ..."), while a plain write keeps the real OSError.
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with atomic_write(target) as file:
        file.write(buffer.getbuffer())
    return Path(path)


def content_hash(
    config: Mapping[str, Any], catalog: Mapping[str, Any], state_dict: Mapping[str, torch.Tensor]
) -> str:
    """sha256 over the config, the catalogue and the tensors (in name order)."""
    digest = hashlib.sha256()
    plain = json.dumps({"config": config, "catalog": catalog}, sort_keys=True, default=repr)
    digest.update(plain.encode("utf-8"))
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().cpu().contiguous()
        digest.update(f"\0{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def read_checkpoint(
    path: str | os.PathLike[str], config_defaults: Mapping[str, Any]
) -> CheckpointContents:
    """Load and check a checkpoint on the CPU.

    Args:
        path: the checkpoint file.
        config_defaults: every config key the model takes, with a default of the expected type.

    Raises:
        CheckpointError: naming ``path``, for any file that is missing, not a checkpoint,
            truncated, of another format or version, or damaged.
    """
    name = repr(str(path))
    state = _load(Path(path), name)
    if not isinstance(state, dict):
        raise CheckpointError(
            f"{name} is not an attnwidget SASRec checkpoint: it holds a "
            f"{type(state).__name__}, not the dict SASRec.save writes"
        )
    if state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{name} is not an attnwidget SASRec checkpoint: its format is "
            f"{state.get('format')!r}, expected {CHECKPOINT_FORMAT!r}"
        )
    version = state.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise CheckpointError(
            f"checkpoint {name} has version {version!r}; this attnwidget reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))} (was it written by a newer attnwidget?)"
        )
    damaged = f"checkpoint {name} is damaged:"
    for key in ("config", "catalog", "state_dict"):
        if key not in state:
            raise CheckpointError(f"{damaged} it has no {key!r} entry")
    contents = CheckpointContents(
        _check_config(damaged, state["config"], config_defaults),
        _check_catalog(damaged, state["catalog"]),
        _check_tensors(damaged, state["state_dict"]),
    )
    if version >= 2:
        _check_hash(damaged, state.get("sha256"), contents)
    return contents


def check_weights(
    path: str | os.PathLike[str],
    found: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
) -> None:
    """Raise a :class:`CheckpointError` unless ``found`` has the expected keys, shapes, dtypes."""
    damaged = f"checkpoint {str(path)!r} is damaged:"
    missing = sorted(set(expected) - set(found))
    if missing:
        raise CheckpointError(f"{damaged} its weights lack {_few(missing)}")
    unexpected = sorted(set(found) - set(expected))
    if unexpected:
        raise CheckpointError(f"{damaged} its weights have unexpected entries {_few(unexpected)}")
    for key, want in expected.items():
        got = found[key]
        if got.shape != want.shape:
            raise CheckpointError(
                f"{damaged} weight {key!r} has shape {tuple(got.shape)}, but the config and "
                f"catalogue need {tuple(want.shape)}"
            )
        if got.dtype != want.dtype:
            raise CheckpointError(
                f"{damaged} weight {key!r} has dtype {got.dtype}, expected {want.dtype}"
            )


# --- reading the file -----------------------------------------------------------------------
def _load(path: Path, name: str) -> Any:
    """``torch.load`` with every failure explained in terms of the file."""
    if path.is_dir():
        raise CheckpointError(f"checkpoint {name} is a directory, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {name} does not exist")
    try:
        with path.open("rb") as file:
            head = file.read(64)
    except OSError as err:
        raise CheckpointError(f"checkpoint {name} cannot be read ({err.strerror or err})") from None
    if not head:
        raise CheckpointError(f"checkpoint {name} is empty (0 bytes): it was never fully written")
    _check_archive(path, name, head)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # the load boundary: anything torch raises means a bad file
        refused = re.search(r"WeightsUnpickler error: (.*?)(\. |\.?$)", str(err), re.MULTILINE)
        if refused:
            raise CheckpointError(
                f"checkpoint {name} holds objects that safe loading (weights_only=True) refuses: "
                f"{refused.group(1)}"
            ) from None
        raise CheckpointError(
            f"checkpoint {name} is damaged: torch cannot read it ({_first_line(err)})"
        ) from None


def _check_archive(path: Path, name: str, head: bytes) -> None:
    """Refuse files that are not a complete torch zip archive, saying what they look like."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        members = None
    if members is None and (head.startswith(_ZIP_MAGIC) or _ZIP_MAGIC.startswith(head)):
        raise CheckpointError(
            f"checkpoint {name} is truncated or damaged: its zip archive is incomplete "
            "(was the save interrupted?)"
        )
    if members is None:
        raise CheckpointError(
            f"{name} is not a readable attnwidget checkpoint: {_looks_like(head)}, not the zip "
            "file that SASRec.save or `attnwidget train --out` writes"
        )
    if not any(m.endswith("/data.pkl") or m == "data.pkl" for m in members):
        raise CheckpointError(
            f"{name} is a zip archive but not a torch checkpoint (it has no data.pkl; "
            f"it holds {_few(members)})"
        )


def _looks_like(head: bytes) -> str:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"it is a binary file starting with {head[:8]!r}"
    first = text.splitlines()[0][:40] if text.strip() else ""
    return f"it is a text file starting with {first!r}"


def _check_hash(damaged: str, stored: Any, contents: CheckpointContents) -> None:
    if not isinstance(stored, str):
        raise CheckpointError(f"{damaged} it has no checksum ('sha256'), which version 2 requires")
    actual = content_hash(contents.config, contents.catalog, contents.state_dict)
    if actual != stored:
        raise CheckpointError(
            f"{damaged} its weights, catalogue or config do not match their checksum: the file "
            "changed after it was saved"
        )


# --- checking the contents ------------------------------------------------------------------
def _check_config(damaged: str, config: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise CheckpointError(f"{damaged} its config is a {type(config).__name__}, not a dict")
    missing = sorted(set(defaults) - set(config))
    if missing:
        raise CheckpointError(f"{damaged} its config lacks {_few(missing)}")
    unknown = sorted(map(str, set(config) - set(defaults)))
    if unknown:
        raise CheckpointError(f"{damaged} its config has unknown keys {_few(unknown)}")
    for key, default in defaults.items():
        value = config[key]
        wanted = (int, float) if isinstance(default, float) else (type(default),)
        if isinstance(value, bool) or not isinstance(value, wanted):
            raise CheckpointError(
                f"{damaged} config {key!r} is {value!r} ({type(value).__name__}), "
                f"expected {'a number' if isinstance(default, float) else 'an int'}"
            )
    return dict(config)


def _check_catalog(damaged: str, catalog: Any) -> dict[str, Any]:
    where = f"{damaged} its catalogue"
    if not isinstance(catalog, dict):
        raise CheckpointError(f"{where} is a {type(catalog).__name__}, not a dict")
    for key in ("item_ids", "titles", "fields", "features"):
        if key not in catalog:
            raise CheckpointError(f"{where} has no {key!r}")
    ids = _list(where, "item_ids", catalog["item_ids"])
    if not ids:
        raise CheckpointError(f"{where} has no items")
    for item in ids:
        if isinstance(item, bool) or not isinstance(item, (int, float, str)):
            raise CheckpointError(
                f"{where} has item id {item!r} ({type(item).__name__}); ids are ints or strings"
            )
    seen: set[Any] = set()
    for item in ids:
        if item in seen:
            raise CheckpointError(f"{where}'s item ids are not unique: {item!r} appears twice")
        seen.add(item)
    titles = _list(where, "titles", catalog["titles"])
    if len(titles) != len(ids):
        raise CheckpointError(f"{where} has {len(titles)} titles for {len(ids)} items")
    for i, title in enumerate(titles):
        if not isinstance(title, str):
            raise CheckpointError(
                f"{where}'s title {i} is {title!r} ({type(title).__name__}), expected a string"
            )
    fields = _list(where, "fields", catalog["fields"])
    sizes = [_check_field(where, i, f) for i, f in enumerate(fields)]
    names = [f["name"] for f in fields]
    if len(set(names)) != len(names):
        raise CheckpointError(f"{where} has feature fields with the same name: {names}")
    _check_features(where, catalog["features"], len(ids), sizes)
    return dict(catalog)


def _check_field(where: str, index: int, field: Any) -> int:
    """Check one feature field's state; return its number of indices."""
    label = f"{where}'s feature field {index}"
    if not isinstance(field, dict):
        raise CheckpointError(f"{label} is a {type(field).__name__}, not a dict")
    for key in ("name", "kind", "labels"):
        if key not in field:
            raise CheckpointError(f"{label} has no {key!r}")
    if not isinstance(field["name"], str):
        raise CheckpointError(f"{label} has name {field['name']!r}, expected a string")
    label = f"{where}'s feature field {field['name']!r}"
    if field["kind"] not in _KINDS:
        raise CheckpointError(f"{label} has kind {field['kind']!r}, expected one of {_KINDS}")
    labels = _list(label, "labels", field["labels"])
    if len(labels) < 2 or not all(isinstance(s, str) for s in labels):
        raise CheckpointError(
            f"{label} needs string labels, padding and unknown first; got {_few(labels)}"
        )
    edges = field.get("bin_edges")
    if field["kind"] == "numeric":
        numbers = _list(label, "bin_edges", edges)
        if len(numbers) != len(labels) - 1 or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in numbers
        ):
            raise CheckpointError(
                f"{label} needs {len(labels) - 1} numeric bin_edges for its "
                f"{len(labels) - 2} bins, got {_few(numbers)}"
            )
        if any(b < a for a, b in itertools.pairwise(numbers)):
            raise CheckpointError(f"{label} has bin_edges out of order: {_few(numbers)}")
    elif edges is not None:
        raise CheckpointError(f"{label} is categorical but has bin_edges {_few(edges)}")
    return len(labels)


def _check_features(where: str, features: Any, n_items: int, sizes: list[int]) -> None:
    rows = _list(where, "features", features)
    want = (n_items + 1, len(sizes))
    if len(rows) != want[0] or not all(isinstance(r, (list, tuple)) for r in rows):
        raise CheckpointError(
            f"{where}'s features need {want[0]} rows (padding + {n_items} items), got {len(rows)}"
        )
    if any(len(r) != want[1] for r in rows):
        bad = next(i for i, r in enumerate(rows) if len(r) != want[1])
        raise CheckpointError(
            f"{where}'s features row {bad} has {len(rows[bad])} values, expected {want[1]} "
            "(one per feature field)"
        )
    values = [v for r in rows for v in r]
    if not all(type(v) is int for v in values):
        bad = next(v for v in values if type(v) is not int)
        raise CheckpointError(f"{where}'s features hold {bad!r}, expected int indices")
    table = np.array(rows, dtype=np.int64).reshape(want)
    for f, size in enumerate(sizes):
        column = table[:, f]
        if column.min(initial=0) < 0 or column.max(initial=0) >= size:
            raise CheckpointError(
                f"{where}'s features of field {f} hold indices outside 0..{size - 1}: "
                f"{_few(sorted(set(column[(column < 0) | (column >= size)].tolist())))}"
            )


def _check_tensors(damaged: str, state_dict: Any) -> dict[str, torch.Tensor]:
    if not isinstance(state_dict, dict):
        raise CheckpointError(
            f"{damaged} its state_dict is a {type(state_dict).__name__}, not a dict of tensors"
        )
    for key, value in state_dict.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"{damaged} its state_dict entry {key!r} is a {type(value).__name__}, not a tensor"
            )
    return dict(state_dict)


def _list(where: str, key: str, value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise CheckpointError(f"{where} has {key} of type {type(value).__name__}, expected a list")
    return list(value)


def _few(values: Any, limit: int = 5) -> str:
    """A short readable list: the first ``limit`` values and how many more."""
    values = list(values) if isinstance(values, (list, tuple, set)) else [values]
    shown = ", ".join(repr(v) for v in values[:limit])
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return f"[{shown}{more}]"


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__
