"""Loaders for local interaction files: RecBole atomic files, MovieLens and CSV.

Nothing is downloaded: every loader reads a path the user gives. Problems with the
files (missing path, a directory where a file belongs, binary or compressed content,
undecodable text, bad header, wrong number of columns, truncated rows, non-numeric
numbers) raise :class:`~attnwidget.errors.DataError` with a one-line message that
names the file and what was expected; parameters of the wrong type raise ``TypeError``.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_int
from ..errors import ArgumentTypeError, DataError
from .dataset import Dataset, check_columns

PathLike = str | os.PathLike
"""A file or directory path."""

RECBOLE_TYPES = ("token", "token_seq", "float", "float_seq")
RECBOLE_TITLES = ("movie_title", "title", "name")

# The order of u.item's genre flags (and of u.genre).
# fmt: off
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
# fmt: on
_YEAR = r"\((\d{4})\)\s*$"

_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}
_COMPRESSED_SUFFIXES = (".gz", ".zip", ".bz2", ".xz", ".zst", ".tar")  # pandas reads these
_SEPARATORS = (",", "\t", ";", "|")


# --- shared helpers ---------------------------------------------------------------------
def _first_line(error: BaseException) -> str:
    text = str(error).strip().replace("Error tokenizing data. C error: ", "")
    return text.splitlines()[0] if text else type(error).__name__


def _sep_name(sep: str) -> str:
    return "tab" if sep == "\t" else repr(sep)


def _decode_error(path: Path, encoding: str, error: UnicodeDecodeError) -> DataError:
    byte = error.object[error.start : error.start + 1].hex()
    return DataError(
        f"cannot decode {path} as {encoding} ({error.reason}, byte 0x{byte}); pass the "
        "file's encoding, e.g. encoding='latin-1'"
    )


def _check_encoding(encoding: Any) -> str:
    if not isinstance(encoding, str):
        raise ArgumentTypeError(
            f"encoding must be a str, got {encoding!r} ({type(encoding).__name__})"
        )
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}; e.g. 'utf-8' or 'latin-1'") from None
    return encoding


def _check_text_file(path: Path, what: str, encoding: str) -> None:
    """``path`` is an existing file of text, not a directory nor binary or compressed data."""
    if path.is_dir():
        raise DataError(f"{path} is a directory; expected {what}")
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except FileNotFoundError:
        raise DataError(f"no such file: {path} (expected {what})") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    if path.suffix.lower() in _COMPRESSED_SUFFIXES:
        return
    for magic, kind in _COMPRESSED.items():
        if head.startswith(magic):
            raise DataError(f"{path} is {kind}-compressed; decompress it (expected {what})")
    wide = encoding.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32"))
    if b"\x00" in head and not wide:
        utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff")
        raise DataError(
            f"{path} is not a text file (NUL byte at offset {head.index(0)}); expected {what}"
            + ("; for UTF-16 text pass encoding='utf-16'" if utf16 else "")
        )


def _read(source: Any, path: Path, what: str, **kwargs: Any) -> pd.DataFrame:
    """``pd.read_csv(source)`` whose failures become a one-line :class:`DataError` on ``path``."""
    try:
        return pd.read_csv(source, **kwargs)
    except FileNotFoundError:
        raise DataError(f"no such file: {path} (expected {what})") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a directory; expected {what}") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty; expected {what}") from None
    except UnicodeDecodeError as e:
        raise _decode_error(path, kwargs.get("encoding") or "utf-8", e) from None
    except (pd.errors.ParserError, ValueError, OSError) as e:
        raise DataError(f"cannot read {path} as {what}: {_first_line(e)}") from None


def _read_rows(
    path: Path, *, sep: str, names: Sequence[str], layout: str, encoding: str, skiprows: int = 0
) -> pd.DataFrame:
    """Read a headerless delimited file as strings and check its column count.

    Only empty cells are missing values (``NA`` or ``null`` stay text), quotes are
    not special, and a multi-character ``sep`` (MovieLens ``::``) is handled.
    """
    what = f"{len(names)} {_sep_name(sep)}-separated columns ({layout})"
    _check_text_file(path, what, encoding)
    source: Any = path
    if len(sep) > 1:  # pandas' C parser takes one-character separators only
        try:
            source = io.StringIO(path.read_text(encoding=encoding).replace(sep, "\x1f"))
        except UnicodeDecodeError as e:
            raise _decode_error(path, encoding, e) from None
        except OSError as e:
            raise DataError(f"cannot read {path}: {_first_line(e)}") from None
        sep = "\x1f"
    df = _read(
        source,
        path,
        what,
        sep=sep,
        header=None,
        skiprows=skiprows,
        dtype=str,
        encoding=encoding,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        na_values=[""],
    )
    if df.shape[1] != len(names):
        raise DataError(f"{path}: expected {what}, found {df.shape[1]} column(s)")
    df.columns = list(names)
    return df


def _require_complete(df: pd.DataFrame, columns: Sequence[str], path: Path, layout: str) -> None:
    """Reject rows with an empty cell in ``columns`` (usually a row with too few fields)."""
    missing = df[list(columns)].isna().any(axis=1).to_numpy()
    if missing.any():
        row = int(np.argmax(missing)) + 1
        raise DataError(
            f"{path}: row {row} has empty or missing fields; expected {len(df.columns)} "
            f"columns ({layout})"
        )


def _numbers(values: pd.Series, path: Path, name: str, *, integer: bool = False) -> pd.Series:
    """Convert a text column to numbers; a non-numeric cell is a :class:`DataError`."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values.notna().to_numpy() & numbers.isna().to_numpy()
    if integer and not bad.any():
        bad = numbers.notna().to_numpy() & (numbers.fillna(0) % 1 != 0).to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        kind = "an integer" if integer else "a number"
        raise DataError(f"{path}: {name} must be {kind}, got {values.iloc[row]!r} (row {row + 1})")
    if integer:
        return numbers.astype("int64") if numbers.notna().all() else numbers.astype("Int64")
    return numbers.astype(float)


def _build(
    source: str, interactions: pd.DataFrame, items: pd.DataFrame | None, **kwargs: Any
) -> Dataset:
    """``Dataset.from_pandas`` whose errors name the files they came from."""
    try:
        return Dataset.from_pandas(interactions, items, **kwargs)
    except DataError as e:
        raise type(e)(f"{source}: {e}") from None
    except ValueError as e:  # e.g. a numeric feature column with no values
        raise DataError(f"{source}: {e}") from None


def _existing(path: PathLike, what: str, param: str = "path") -> Path:
    if not isinstance(path, str | os.PathLike):
        raise ArgumentTypeError(
            f"{param} must be a str or os.PathLike, got {path!r} ({type(path).__name__})"
        )
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"no such file or directory: {p} (expected {what})")
    return p


# --- RecBole atomic files ---------------------------------------------------------------
def _recbole_header(path: Path, encoding: str) -> dict[str, str]:
    """Field name → type from the ``name:type`` header row of an atomic file (BOM allowed)."""
    _check_text_file(path, "a RecBole atomic file with a name:type header row", encoding)
    try:
        with path.open(encoding=encoding, newline="") as fh:
            line = fh.readline().rstrip("\r\n").lstrip("\ufeff")
    except UnicodeDecodeError as e:
        raise _decode_error(path, encoding, e) from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {_first_line(e)}") from None
    if not line.strip():
        raise DataError(f"{path} is empty; expected a header row of name:type fields")
    fields: dict[str, str] = {}
    for token in line.split("\t"):
        name, _, kind = token.strip().rpartition(":")
        if not name or ":" in name or kind not in RECBOLE_TYPES or name in fields:
            raise DataError(
                f"bad header in {path}: field {token!r} is not a unique name:type with type in "
                f"{', '.join(RECBOLE_TYPES)} (fields are tab-separated)"
            )
        fields[name] = kind
    return fields


def _read_atomic(path: Path, encoding: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read a RecBole atomic file: ids stay strings, ``float`` fields become numbers."""
    fields = _recbole_header(path, encoding)
    if _has_body(path):
        layout = "as in its header: " + ", ".join(f"{n}:{t}" for n, t in fields.items())
        df = _read_rows(
            path, sep="\t", names=list(fields), layout=layout, encoding=encoding, skiprows=1
        )
    else:
        df = pd.DataFrame({name: pd.Series(dtype=str) for name in fields})
    for name, kind in fields.items():
        if kind == "float":
            df[name] = _numbers(df[name], path, f"field {name}:float")
    return df, fields


def _has_body(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.readline()
        return any(line.strip() for line in fh)


def _recbole_files(path: PathLike, dataset_name: str | None) -> tuple[Path, Path | None, str]:
    """The ``.inter`` file, the ``.item`` file next to it (if any) and the dataset name."""
    p = _existing(path, "a RecBole dataset directory or .inter file")
    if p.is_file():
        if p.suffix != ".inter":
            raise DataError(f"{p} is not a RecBole .inter file")
        inter = p
    else:
        name = dataset_name or p.name
        inter = p / f"{name}.inter"
        if not inter.is_file():
            found = sorted(f.name for f in p.glob("*.inter"))
            if dataset_name is None and len(found) == 1:
                inter = p / found[0]
            else:
                hint = f"; found {', '.join(found)}: pass dataset_name" if found else ""
                raise DataError(f"no RecBole {name}.inter in {p}{hint}")
    item = inter.with_suffix(".item")
    return inter, (item if item.is_file() else None), dataset_name or inter.stem


def _bare(name: str) -> str:
    """``"genre:token"`` → ``"genre"`` (feature/title names may carry their type)."""
    head, _, kind = name.rpartition(":")
    return head if head and kind in RECBOLE_TYPES else name


def load_recbole(
    path: PathLike,
    *,
    dataset_name: str | None = None,
    feature_cols: Sequence[str] | None = None,
    title_col: str | None = None,
    n_bins: int = 5,
    encoding: str = "utf-8",
) -> Dataset:
    """Load a dataset in RecBole's atomic-file format.

    Files are tab-separated with a header row of ``name:type`` fields, ``type`` one of
    ``token``, ``token_seq``, ``float``, ``float_seq``. The user is the ``user_id``
    field (else the first token field), the item the ``item_id`` field (else the next
    token field) and the time the ``timestamp`` field (else the row order). Ids stay
    strings.

    Item fields (from ``NAME.item``, optional) become features: ``token`` fields are
    categorical, ``float`` fields numeric (put in ``n_bins`` quantile bins), and
    ``token_seq`` / ``float_seq`` fields use their **first** space-separated value
    (e.g. the first of several genres). ``float_seq`` fields (usually embeddings) are
    only used when named in ``feature_cols``. The title is the whole text of
    ``title_col`` or of the first of ``movie_title``, ``title``, ``name``.

    Args:
        path: a directory holding ``NAME.inter`` (and ``NAME.item``), or the
            ``.inter`` file itself.
        dataset_name: ``NAME``; defaults to the directory's name, or to the only
            ``.inter`` file in it.
        feature_cols: item fields to use as features (names without ``:type``);
            default all item fields except the id and the title.
        title_col: item field holding the title; default as above.
        n_bins: quantile bins for numeric features.
        encoding: text encoding of the files.

    Raises:
        DataError: missing path or files, a bad header or malformed rows.
        TypeError: a parameter of the wrong type.
    """
    check_int("n_bins", n_bins, 1)
    _check_encoding(encoding)
    if dataset_name is not None and not isinstance(dataset_name, str):
        raise ArgumentTypeError(f"dataset_name must be a str, got {dataset_name!r}")
    if isinstance(feature_cols, str):
        raise ArgumentTypeError(f"feature_cols must be a list of field names, got {feature_cols!r}")
    inter_path, item_path, name = _recbole_files(path, dataset_name)
    inter, inter_fields = _read_atomic(inter_path, encoding)
    tokens = [f for f, kind in inter_fields.items() if kind == "token"]
    user_col = "user_id" if "user_id" in inter_fields else (tokens[0] if tokens else None)
    others = [f for f in tokens if f != user_col]
    item_col = "item_id" if "item_id" in inter_fields else (others[0] if others else None)
    if user_col is None or item_col is None or user_col == item_col:
        raise DataError(
            f"{inter_path}: expected user_id and item_id fields (or two token fields) in the "
            f"header, got {', '.join(inter_fields)}"
        )
    time_col = "timestamp" if "timestamp" in inter_fields else None

    items, features, title = None, [], None
    if item_path is not None:
        table, item_fields = _read_atomic(item_path, encoding)
        if item_col not in item_fields:
            raise DataError(
                f"{item_path}: expected an {item_col} field in the header, got "
                f"{', '.join(item_fields)}"
            )
        if title_col is not None:
            title = _bare(title_col)
            if title not in item_fields:
                raise DataError(
                    f"{item_path}: no title field {title!r}; fields: {', '.join(item_fields)}"
                )
        else:
            title = next((t for t in RECBOLE_TITLES if t in item_fields and t != item_col), None)
        if feature_cols is None:
            features = [
                f
                for f, kind in item_fields.items()
                if f not in (item_col, title) and kind != "float_seq" and table[f].notna().any()
            ]
        else:
            features = [_bare(f) for f in feature_cols]
            unknown = [f for f in features if f not in item_fields]
            if unknown:
                raise DataError(
                    f"{item_path}: no feature field(s) {unknown}; fields: {', '.join(item_fields)}"
                )
        for f in features:
            kind = item_fields[f]
            if kind.endswith("_seq"):
                first = table[f].str.split(n=1).str[0]
                table[f] = (
                    first
                    if kind == "token_seq"
                    else _numbers(first, item_path, f"field {f}:float_seq")
                )
        items = table[[item_col, *features] + ([title] if title and title not in features else [])]
    elif feature_cols or title_col:
        raise DataError(f"feature_cols and title_col need {inter_path.with_suffix('.item')}")

    source = str(inter_path) + (f" + {item_path.name}" if item_path else "")
    return _build(
        source,
        inter,
        items,
        user_col=user_col,
        item_col=item_col,
        time_col=time_col,
        feature_cols=features,
        title_col=title,
        n_bins=n_bins,
        metadata={"name": name, "source": str(inter_path)},
    )


# --- MovieLens ----------------------------------------------------------------------------
def _movielens_variant(path: PathLike) -> tuple[str, Path]:
    """``("ml-100k" | "ml-1m", directory)`` from the files present."""
    p = _existing(path, "a MovieLens ml-100k or ml-1m directory")
    if p.is_file():
        variants = {"u.data": "ml-100k", "ratings.dat": "ml-1m"}
        if p.name not in variants:
            raise DataError(f"{p} is not a MovieLens u.data (ml-100k) or ratings.dat (ml-1m) file")
        return variants[p.name], p.parent
    has_100k, has_1m = (p / "u.data").is_file(), (p / "ratings.dat").is_file()
    if has_100k and has_1m:
        raise DataError(f"both ml-100k u.data and ml-1m ratings.dat in {p}: pass the file to load")
    if not (has_100k or has_1m):
        inside = sorted(
            d.name
            for d in p.iterdir()
            if d.is_dir() and ((d / "u.data").is_file() or (d / "ratings.dat").is_file())
        )
        hint = f" (found in subdirectory {', '.join(inside)})" if inside else ""
        raise DataError(f"no ml-100k u.data or ml-1m ratings.dat in {p}{hint}")
    return ("ml-100k" if has_100k else "ml-1m"), p


def _movielens_items(variant: str, root: Path) -> pd.DataFrame | None:
    """Item table with ``item_id``, ``title``, ``genre`` (first listed) and ``year``."""
    if variant == "ml-100k":
        path = root / "u.item"
        names = [
            "item_id",
            "title",
            "release_date",
            "video_release_date",
            "imdb_url",
            *ML100K_GENRES,
        ]
        layout = "movie id, title, release date, video release date, IMDb URL, 19 genre flags"
        sep = "|"
    else:
        path, names, sep = root / "movies.dat", ["item_id", "title", "genres"], "::"
        layout = "movie id, title, genres"
    if not path.is_file():
        return None
    df = _read_rows(path, sep=sep, names=names, layout=layout, encoding="latin-1")
    if variant == "ml-100k":
        _require_complete(df, ["item_id", *ML100K_GENRES], path, layout)
        flags = np.column_stack(
            [
                _numbers(df[g], path, f"genre flag {g!r}", integer=True).to_numpy() == 1
                for g in ML100K_GENRES
            ]
        )
        first = np.array(ML100K_GENRES, dtype=object)[flags.argmax(axis=1)]
        genre = pd.Series(np.where(flags.any(axis=1), first, None), dtype=object)
    else:
        _require_complete(df, ["item_id", "title"], path, layout)
        genre = df["genres"].str.split("|").str[0]
    title = df["title"].fillna("").str.strip()
    return pd.DataFrame(
        {
            "item_id": _numbers(df["item_id"], path, "movie id", integer=True),
            "title": title,
            "genre": genre.to_numpy(dtype=object),
            "year": pd.to_numeric(title.str.extract(_YEAR)[0], errors="coerce").astype(float),
        }
    )


def load_movielens(path: PathLike, *, n_bins: int = 5) -> Dataset:
    """Load MovieLens ml-100k or ml-1m from its extracted directory.

    ml-100k is recognised by ``u.data`` (tab-separated user, item, rating, timestamp)
    with titles and 19 genre flags in ``u.item``; ml-1m by ``ratings.dat``
    (``user::item::rating::timestamp``) with ``movies.dat`` (``id::title::a|b``).
    Item files are read as latin-1. Ids are integers.

    Features: ``genre`` is the **first** listed genre (in ``u.item``'s flag order for
    ml-100k), categorical; ``year`` is parsed from a title ending in ``(1995)`` and put
    in ``n_bins`` quantile bins (omitted when no title has a year). Without the item
    file the dataset has no features and the ids as titles.

    Args:
        path: the directory, or its ``u.data`` / ``ratings.dat`` file.
        n_bins: quantile bins for ``year``.

    Raises:
        DataError: no ratings file in ``path``, or a malformed file.
        TypeError: ``n_bins`` is not an int.
    """
    check_int("n_bins", n_bins, 1)
    variant, root = _movielens_variant(path)
    inter_path = root / ("u.data" if variant == "ml-100k" else "ratings.dat")
    names = ["user_id", "item_id", "rating", "timestamp"]
    sep = "\t" if variant == "ml-100k" else "::"
    layout = "user id, item id, rating, timestamp"
    raw = _read_rows(inter_path, sep=sep, names=names, layout=layout, encoding="latin-1")
    _require_complete(raw, names, inter_path, layout)
    inter = pd.DataFrame(
        {
            "user_id": _numbers(raw["user_id"], inter_path, "user id", integer=True),
            "item_id": _numbers(raw["item_id"], inter_path, "item id", integer=True),
            "rating": _numbers(raw["rating"], inter_path, "rating"),
            "timestamp": _numbers(raw["timestamp"], inter_path, "timestamp", integer=True),
        }
    )
    items = _movielens_items(variant, root)
    features: list[str] = []
    if items is not None:
        features = ["genre"] + (["year"] if items["year"].notna().any() else [])
    item_file = "u.item" if variant == "ml-100k" else "movies.dat"
    source = str(inter_path) + (f" + {item_file}" if items is not None else "")
    return _build(
        source,
        inter,
        items,
        feature_cols=features,
        title_col="title" if items is not None else None,
        n_bins=n_bins,
        metadata={"name": variant, "source": str(root)},
    )


# --- CSV ----------------------------------------------------------------------------------
def _header_hint(df: pd.DataFrame, needed: Sequence[Any], sep: str) -> str:
    """Why ``needed`` columns are missing from a CSV header, when the reason is clear."""
    if all(c in df.columns for c in needed):
        return ""
    if len(df.columns) == 1:
        other = next((s for s in _SEPARATORS if s != sep and s in str(df.columns[0])), None)
        if other is not None:
            return f"; the header looks {_sep_name(other)}-separated: pass sep={other!r}"
    if not any(c in df.columns for c in needed):
        return "; the first row must be a header row naming the columns"
    return ""


def _read_table(
    path: Path, what: str, *, sep: str, encoding: str, ids: Sequence[Any]
) -> pd.DataFrame:
    """A delimited text file with a header row; ``ids`` columns are read as text."""
    what = f"{_sep_name(sep)}-separated {what} with a header row"
    _check_text_file(path, what, encoding)
    return _read(path, path, what, sep=sep, encoding=encoding, dtype=dict.fromkeys(ids, str))


def _require_filled(df: pd.DataFrame, columns: Sequence[Any], path: Path) -> None:
    """Every row has a value in ``columns`` (a short or truncated line does not)."""
    for col in columns:
        empty = df[col].isna().to_numpy() if col in df.columns else np.zeros(0, dtype=bool)
        if empty.any():
            row = int(np.argmax(empty)) + 1
            raise DataError(
                f"{path}: row {row} after the header has no {col!r} value (a short or "
                "truncated line?)"
            )


def load_csv(
    path: PathLike,
    *,
    user_col: str = "user_id",
    item_col: str = "item_id",
    time_col: str | None = "timestamp",
    items_path: PathLike | None = None,
    feature_cols: Sequence[str] = (),
    title_col: str | None = None,
    sep: str = ",",
    n_bins: int = 5,
    encoding: str = "utf-8",
) -> Dataset:
    """Load interactions (and an optional item table) from delimited text files.

    A thin wrapper over ``pandas.read_csv`` and :meth:`Dataset.from_pandas`. Both
    files need a header row. User and item ids are read as strings so the two files
    agree and leading zeros survive. ``time_col`` holds numbers (sorted as numbers,
    also when pandas reads them as text) or ISO 8601 dates; ``None`` keeps the row order.
    Files ending in ``.gz``, ``.zip``, ``.bz2``, ``.xz`` or ``.zst`` are decompressed.

    Args:
        path: the interactions file, one row per event.
        user_col, item_col, time_col: column names in the files.
        items_path: item table with ``item_col``, ``feature_cols`` and ``title_col``.
        feature_cols: item feature columns; numeric ones are put in ``n_bins`` bins.
        title_col: item column with a readable title.
        sep: field separator of both files.
        n_bins: quantile bins for numeric features.
        encoding: text encoding of both files (e.g. ``"latin-1"``).

    Raises:
        DataError: a missing, binary, undecodable or malformed file, a missing or short
            header, rows without a user, item or time, or any error of
            :meth:`Dataset.from_pandas`; each names the file.
        TypeError: a parameter of the wrong type.
    """
    check_int("n_bins", n_bins, 1)
    check_columns(user_col, item_col, time_col)
    _check_encoding(encoding)
    if not isinstance(sep, str):
        raise ArgumentTypeError(f"sep must be a str, got {sep!r} ({type(sep).__name__})")
    if not sep:
        raise DataError("sep must be a non-empty separator, got ''")
    inter_path = _existing(path, "an interactions file")
    needed = [user_col, item_col] + ([] if time_col is None else [time_col])
    inter = _read_table(
        inter_path, "interactions", sep=sep, encoding=encoding, ids=[user_col, item_col]
    )
    hint = _header_hint(inter, needed, sep)
    if hint:
        missing = [c for c in needed if c not in inter.columns]
        raise DataError(
            f"{inter_path}: interactions table is missing column(s) {missing}; it has "
            f"{list(inter.columns)}{hint}"
        )
    _require_filled(inter, needed, inter_path)
    items = None
    source = str(inter_path)
    if items_path is not None:
        item_file = _existing(items_path, "an item table", "items_path")
        items = _read_table(item_file, "item table", sep=sep, encoding=encoding, ids=[item_col])
        source += f" + {item_file}"
    return _build(
        source,
        inter,
        items,
        user_col=user_col,
        item_col=item_col,
        time_col=time_col,
        feature_cols=feature_cols,
        title_col=title_col,
        n_bins=n_bins,
        metadata={"name": inter_path.stem, "source": str(inter_path)},
    )
