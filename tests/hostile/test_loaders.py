"""Hostile files for the loaders: every failure is a one-line DataError naming the file.

Wrong separators, missing headers, binary or compressed bytes, empty and truncated files,
wrong encodings, directories, malformed RecBole headers, missing columns.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from attnwidget.data import load_csv, load_movielens, load_recbole
from attnwidget.data.loaders import ML100K_GENRES
from attnwidget.errors import DataError, EmptyHistoryError
from tests.hostile.expect import fails

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
GOOD_CSV = "user_id,item_id,timestamp\nu,a,2\nu,b,1\nv,a,3\n"


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def history(ds, user) -> list:
    return ds.history(user)["item_id"].tolist()


def one_line(error: pytest.ExceptionInfo) -> None:
    """The message is one line and no pandas/codec exception is chained to it."""
    assert "\n" not in str(error.value)
    value = error.value
    assert value.__cause__ is None and (value.__context__ is None or value.__suppress_context__)


# --- CSV ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "kwargs", "fragments"),
    [
        ("user_id\titem_id\ttimestamp\nu\ta\t1\n", {}, ["looks tab-separated: pass sep='\\t'"]),
        ("user_id;item_id;timestamp\nu;a;1\n", {}, ["looks ';'-separated: pass sep=';'"]),
        ("user_id,item_id,timestamp\nu,a,1\n", {"sep": "\t"}, ["pass sep=','"]),
        ("u1,a,100\nu1,b,200\n", {}, ["it has ['u1', 'a', '100']", "must be a header row"]),
    ],
    ids=["tab-read-as-comma", "semicolon", "comma-read-as-tab", "no-header"],
)
def test_csv_wrong_separator_or_missing_header(tmp_path, content, kwargs, fragments):
    path = write(tmp_path / "events.csv", content)
    with fails(DataError, str(path), "missing column(s)", *fragments) as error:
        load_csv(path, **kwargs)
    one_line(error)


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (PNG, ["is not a text file (NUL byte at offset 8)"]),
        (b"user_id,item_id\x00,timestamp\nu,a,1\n", ["NUL byte at offset 15"]),
        (gzip.compress(GOOD_CSV.encode()), ["is gzip-compressed; decompress it"]),
        (b"PK\x03\x04\x14\x00\x00\x00", ["is zip-compressed"]),
        (GOOD_CSV.encode("utf-16"), ["NUL byte", "pass encoding='utf-16'"]),
        (b"", ["is empty"]),
        ("user_id,item_id,timestamp\nJos\xe9,a,1\n".encode("latin-1"), ["as utf-8", "0xe9"]),
    ],
    ids=["png", "nul-byte", "gzip", "zip", "utf-16", "empty", "latin-1"],
)
def test_csv_bytes_that_are_not_utf8_text(tmp_path, content, fragments):
    path = write(tmp_path / "events.csv", content)
    with fails(DataError, str(path), *fragments) as error:
        load_csv(path)
    one_line(error)


def test_csv_right_encoding_or_compression_suffix_loads(tmp_path):
    latin = write(tmp_path / "l.csv", "user_id,item_id,timestamp\nJosé,a,1\n", "latin-1")
    assert load_csv(latin, encoding="latin-1").users == ["José"]
    utf16 = write(tmp_path / "w.csv", GOOD_CSV, "utf-16")
    assert load_csv(utf16, encoding="utf-16").n_users == 2
    packed = write(tmp_path / "e.csv.gz", gzip.compress(GOOD_CSV.encode()))
    assert history(load_csv(packed), "u") == ["b", "a"]
    bom = write(tmp_path / "bom.csv", "\ufeff" + GOOD_CSV)
    assert load_csv(bom).n_users == 2


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("user_id,item_id,timestamp\nu,a,1\nu,b", ["row 2 after the header has no 'timestamp'"]),
        ("user_id,item_id,timestamp\nu,a,1\n,b,2\n", ["row 2 after the header has no 'user_id'"]),
        ("user_id,item_id,timestamp\nu,a,1\nu,b,2,9\n", ["Expected 3 fields in line 3, saw 4"]),
        ('user_id,item_id,timestamp\nu,"a,1\n', ["EOF inside string"]),
        ("user_id,item_id,timestamp\n", ["interactions table is empty"]),
    ],
    ids=["truncated-last-line", "empty-user", "extra-field", "open-quote", "header-only"],
)
def test_csv_truncated_or_malformed_rows(tmp_path, content, fragments):
    path = write(tmp_path / "events.csv", content)
    error_type = EmptyHistoryError if "empty" in fragments[0] else DataError
    with fails(error_type, str(path), *fragments) as error:
        load_csv(path)
    one_line(error)


def test_csv_paths_that_are_directories_missing_or_not_paths(tmp_path):
    good = write(tmp_path / "good.csv", GOOD_CSV)
    with fails(DataError, f"{tmp_path} is a directory; expected ','-separated interactions"):
        load_csv(tmp_path)
    with fails(DataError, f"{tmp_path} is a directory; expected ','-separated item table"):
        load_csv(good, items_path=tmp_path)
    with fails(DataError, "no such file or directory", "nope.csv"):
        load_csv(tmp_path / "nope.csv")
    with fails(TypeError, "path must be a str or os.PathLike, got None"):
        load_csv(None)
    with fails(TypeError, "items_path must be a str or os.PathLike, got 42 (int)"):
        load_csv(good, items_path=42)


@pytest.mark.parametrize(
    ("times", "fragments"),
    [
        (["1", "2020-01-01"], ["mixes numbers (e.g. '1') and dates (e.g. '2020-01-01')"]),
        (["yesterday", "today"], ["'yesterday' (row 1), neither a number nor an ISO 8601"]),
    ],
    ids=["numbers-and-dates", "words"],
)
def test_csv_unusable_time_column_names_file_and_value(tmp_path, times, fragments):
    rows = "".join(f"u,{item},{t}\n" for item, t in zip("ab", times, strict=True))
    path = write(tmp_path / "t.csv", "user_id,item_id,timestamp\n" + rows)
    with fails(DataError, str(path), "time column 'timestamp'", *fragments):
        load_csv(path)


def test_csv_iso_dates_sort_chronologically_and_ids_stay_text(tmp_path):
    path = write(
        tmp_path / "d.csv",
        "user_id,item_id,timestamp\n007,01,2021-03-01\n007,1,2020-12-31T23:59\n",
    )
    ds = load_csv(path)
    assert ds.users == ["007"] and history(ds, "007") == ["1", "01"]  # "01" and "1" differ


def test_csv_items_file_with_conflicting_rows(tmp_path):
    events = write(tmp_path / "e.csv", GOOD_CSV)
    items = write(tmp_path / "i.csv", "item_id,kind\na,shoe\nb,hat\na,boot\n")
    with fails(DataError, str(items), "2 rows for item 'a' that disagree on 'kind'", "'shoe'"):
        load_csv(events, items_path=items, feature_cols=["kind"])


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"user_col": "item_id"}, DataError, "user_col and item_col both name column 'item_id'"),
        ({"sep": ""}, DataError, "sep must be a non-empty separator"),
        ({"sep": None}, TypeError, "sep must be a str, got None"),
        ({"encoding": "klingon"}, DataError, "unknown encoding 'klingon'"),
        ({"encoding": 8}, TypeError, "encoding must be a str, got 8 (int)"),
        ({"n_bins": "5"}, TypeError, "n_bins must be an integer, got '5' (str)"),
        ({"feature_cols": "kind"}, TypeError, "feature_cols must be a list of column names"),
    ],
    ids=[
        "same-column",
        "empty-sep",
        "sep-none",
        "unknown-encoding",
        "encoding-int",
        "n_bins-str",
        "feature_cols-str",
    ],
)
def test_csv_bad_parameters(tmp_path, kwargs, error, fragment):
    events = write(tmp_path / "e.csv", GOOD_CSV)
    with fails(error, fragment):
        load_csv(events, **kwargs)


def test_missing_columns_name_the_file_and_the_column(tmp_path):
    events = write(tmp_path / "e.csv", GOOD_CSV)
    items = write(tmp_path / "i.csv", "item_id,kind\na,shoe\n")
    with fails(DataError, f"{events} + {items}: items table is missing column(s) ['name']"):
        load_csv(events, items_path=items, title_col="name")
    no_time = write(tmp_path / "n.csv", "user_id,item_id\nu,a\n")
    with fails(DataError, "missing column(s) ['timestamp']", "pass time_col=None"):
        load_csv(no_time)
    inter = write(tmp_path / "r" / "r.inter", "user_id:token\trating:float\nu\t1\n")
    with fails(DataError, f"{inter}: expected user_id and item_id fields", "user_id, rating"):
        load_recbole(inter)


# --- RecBole ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("user_id:token\titem_id:int", "'item_id:int'"),
        ("user_id\titem_id:token", "'user_id'"),
        (":token\titem_id:token", "':token'"),
        ("user_id:token:extra\titem_id:token", "'user_id:token:extra'"),
        ("user_id:token\titem_id:token\t", "''"),
        ("user_id:token\tuser_id:token", "'user_id:token'"),
        ("user_id:token,item_id:token", "'user_id:token,item_id:token'"),
    ],
    ids=["bad-type", "no-type", "no-name", "two-colons", "trailing-tab", "repeated", "commas"],
)
def test_recbole_malformed_typed_header(tmp_path, header, field):
    path = write(tmp_path / "d" / "d.inter", f"{header}\nu\ti\n")
    with fails(DataError, f"bad header in {path}: field {field}") as error:
        load_recbole(path)
    one_line(error)


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (PNG, ["is not a text file"]),
        (gzip.compress(b"user_id:token\titem_id:token\nu\ti\n"), ["is gzip-compressed"]),
        ("user_id:token\titem_id:token\nJos\xe9\ti\n".encode("latin-1"), ["0xe9", "encoding="]),
        (
            "user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tb",
            ["column 'timestamp' has 1 missing", "row 2 (user 'u')"],
        ),
        ("user_id:token\titem_id:token\nu\ti\nv\n", ["column 'item_id' has 1 missing", "row 2"]),
        ("user_id:token\titem_id:token\nu\n", ["expected 2 tab-separated columns", "found 1"]),
    ],
    ids=["binary", "gzip", "latin-1", "truncated-last-line", "short-row", "only-short-rows"],
)
def test_recbole_damaged_inter_file(tmp_path, content, fragments):
    path = write(tmp_path / "d" / "d.inter", content)
    with fails(DataError, str(path), *fragments) as error:
        load_recbole(path)
    one_line(error)


def test_recbole_text_timestamps_sort_as_numbers_or_dates(tmp_path):
    numbers = write(
        tmp_path / "n" / "n.inter",
        "user_id:token\titem_id:token\ttimestamp:token\nu\ta\t1000000100\nu\tb\t999999900\n",
    )
    assert history(load_recbole(numbers), "u") == ["b", "a"]
    dates = write(
        tmp_path / "t" / "t.inter",
        "user_id:token\titem_id:token\ttimestamp:token\nu\ta\t2021-01-02\nu\tb\t2020-11-30\n",
    )
    assert history(load_recbole(dates), "u") == ["b", "a"]


def test_recbole_bom_and_declared_encoding_load(tmp_path):
    bom = write(tmp_path / "b" / "b.inter", "\ufeffuser_id:token\titem_id:token\nu\ti\n")
    assert load_recbole(bom).users == ["u"]
    latin = write(tmp_path / "l" / "l.inter", "user_id:token\titem_id:token\nJosé\ti\n", "latin-1")
    assert load_recbole(latin, encoding="latin-1").users == ["José"]


def test_recbole_item_file_with_conflicting_rows(tmp_path):
    root = tmp_path / "d"
    write(root / "d.inter", "user_id:token\titem_id:token\nu\ta\nu\tb\n")
    write(root / "d.item", "item_id:token\tstudio:token\na\tEon\nb\tGhibli\na\tPixar\n")
    with fails(DataError, "d.item", "2 rows for item 'a' that disagree on 'studio'"):
        load_recbole(root)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"dataset_name": 3}, TypeError, "dataset_name must be a str, got 3"),
        ({"feature_cols": "studio"}, TypeError, "feature_cols must be a list of field names"),
        ({"n_bins": 2.5}, TypeError, "n_bins must be an integer, got 2.5 (float)"),
        ({"encoding": "utf-9"}, DataError, "unknown encoding 'utf-9'"),
    ],
    ids=["dataset_name-int", "feature_cols-str", "n_bins-float", "unknown-encoding"],
)
def test_recbole_bad_parameters(tmp_path, kwargs, error, fragment):
    root = tmp_path / "d"
    write(root / "d.inter", "user_id:token\titem_id:token\nu\ta\n")
    with fails(error, fragment):
        load_recbole(root, **kwargs)


# --- MovieLens ------------------------------------------------------------------------------
def flags(*genres: str) -> str:
    return "|".join("1" if g in genres else "0" for g in ML100K_GENRES)


def test_ml100k_latin1_item_file_loads(tmp_path):
    write(tmp_path / "u.data", "1\t1\t5\t881250949\n1\t2\t3\t881250950\n")
    write(
        tmp_path / "u.item",
        f"1|Misérables, Les (1995)|01-Jan-1995||http://x|{flags('Drama')}\n"
        f"2|Señorita Extraviada (2001)|01-Jan-2001||http://y|{flags('Documentary')}\n",
        "latin-1",
    )
    ds = load_movielens(tmp_path)
    assert ds.items["title"].tolist() == ["Misérables, Les (1995)", "Señorita Extraviada (2001)"]


@pytest.mark.parametrize(
    ("name", "content", "fragments"),
    [
        ("u.data", PNG, ["u.data is not a text file"]),
        ("u.data", "user_id\titem_id\trating\ttimestamp\n1\t2\t3\t4\n", ["got 'user_id' (row 1)"]),
        ("u.data", "1,2,3,4\n", ["expected 4 tab-separated columns", "found 1"]),
        ("u.data", "1\t2\t3\t881250949\n1\t3\t", ["row 2 has empty or missing fields"]),
        ("ratings.dat", "1::2::3::4\n1::2", ["ratings.dat: row 2 has empty or missing fields"]),
        ("ratings.dat", gzip.compress(b"1::2::3::4\n"), ["ratings.dat is gzip-compressed"]),
    ],
    ids=["binary", "header-row", "commas", "truncated", "truncated-1m", "gzip-1m"],
)
def test_movielens_damaged_ratings(tmp_path, name, content, fragments):
    write(tmp_path / name, content)
    with fails(DataError, *fragments) as error:
        load_movielens(tmp_path)
    one_line(error)


def test_movielens_bad_genre_flag_and_parameters(tmp_path):
    write(tmp_path / "u.data", "1\t1\t5\t881250949\n")
    write(tmp_path / "u.item", f"1|Toy Story (1995)|||x|{flags('Comedy').replace('1', 'yes')}\n")
    with fails(DataError, "u.item: genre flag 'Comedy' must be an integer, got 'yes'"):
        load_movielens(tmp_path)
    with fails(TypeError, "n_bins must be an integer, got '3' (str)"):
        load_movielens(tmp_path, n_bins="3")
    with fails(TypeError, "path must be a str or os.PathLike, got 7 (int)"):
        load_movielens(7)
    (tmp_path / "other" / "u.data").mkdir(parents=True)  # a directory where u.data belongs
    with fails(DataError, "no ml-100k u.data or ml-1m ratings.dat in", "other"):
        load_movielens(tmp_path / "other")
