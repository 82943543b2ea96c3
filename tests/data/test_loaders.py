"""Local-file loaders: MovieLens (ml-100k, ml-1m), RecBole atomic files and CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from attnwidget.data import Dataset
from attnwidget.data.loaders import ML100K_GENRES, load_csv, load_movielens, load_recbole
from attnwidget.errors import DataError, EmptyHistoryError

# --- fixture writers ----------------------------------------------------------------------
# user 1: item 2 first, then items 3 and 1 at the same time (file order), then item 4.
U_DATA = """\
1\t3\t4\t881250949
2\t1\t3\t881250000
1\t1\t5\t881250949
1\t2\t3\t881250000
2\t4\t2\t881250100
3\t2\t4\t881250000
1\t4\t4\t881251000
"""


def flags(*genres: str) -> str:
    return "|".join("1" if g in genres else "0" for g in ML100K_GENRES)


U_ITEM = (
    f"1|Toy Story (1995)|01-Jan-1995||http://x/1|{flags('Animation', 'Children', 'Comedy')}\n"
    f"2|Cité des enfants perdus, La (1995)|01-Jan-1995||http://x/2|{flags('Adventure', 'Sci-Fi')}\n"
    f"3|unknown||||{flags('unknown')}\n"
    f"4|GoldenEye (1977)|01-Jan-1977||http://x/4|{flags('Thriller', 'Action', 'Adventure')}\n"
    f"5|Four Rooms (1999)|01-Jan-1999||http://x/5|{flags('Thriller')}\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def ml100k(root: Path, *, items: bool = True) -> Path:
    write(root / "u.data", U_DATA)
    if items:
        write(root / "u.item", U_ITEM, "latin-1")
    return root


def ml1m(root: Path, *, items: bool = True) -> Path:
    write(
        root / "ratings.dat",
        "1::1193::5::978300760\n"
        "1::661::3::978302109\n"
        "1::914::3::978301968\n"
        "2::1193::4::978300000\n"
        "1::3408::4::978300760\n"  # same time as 1193: stays after it
        "3::661::5::978200000\n",
    )
    if items:
        write(
            root / "movies.dat",
            "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
            "661::Star Wars: Episode IV - A New Hope (1977)::Action|Adventure|Sci-Fi\n"
            "914::Misérables, Les (1995)::Drama|Musical\n"
            "3408::Erin Brockovich (2000)::Drama\n"
            "2::Jumanji (1995)::Adventure|Children's|Fantasy\n",
            "latin-1",
        )
    return root


INTER = """\
user_id:token\titem_id:token\trating:float\ttimestamp:float
u1\t007\t4\t30
u2\t010\t3\t10
u1\t003\t5\t10
u1\t010\t2\t20
u2\t007\t1\t10
u3\t003\t4\t5
"""

ITEM = """\
item_id:token\tmovie_title:token_seq\tstudio:token\tclass:token_seq\tprice:float
007\tThe Spy Who Loved Me\tEon\tAction Spy\t1.0
010\tNA\tNA\tDrama\t50.0
003\tMy Neighbour Totoro\tGhibli\tAnimation Family\t10.0
042\tCold Item\tEon\t\t100.0
"""


def recbole(root: Path, *, items: bool = True, name: str = "tiny") -> Path:
    write(root / f"{name}.inter", INTER)
    if items:
        write(root / f"{name}.item", ITEM)
    return root


def ids(ds: Dataset, user: object) -> list:
    return ds.history(user)["item_id"].tolist()


# --- MovieLens ----------------------------------------------------------------------------
def test_ml100k_counts_and_chronological_sequences_with_ties(tmp_path):
    ds = load_movielens(ml100k(tmp_path))
    assert ds.n_users == 3 and ds.n_items == 5  # item 5 is only in u.item
    assert ds.n_interactions == 7
    assert ids(ds, 1) == [2, 3, 1, 4]  # 3 and 1 share a timestamp: file order
    assert ids(ds, "2") == [1, 4]
    assert ds.metadata["name"] == "ml-100k"


def test_ml100k_titles_first_genre_and_binned_year(tmp_path):
    ds = load_movielens(ml100k(tmp_path))
    assert ds.field_names == ["genre", "year"]
    table = ds.items.set_index("item_id")
    assert table.loc[2, "title"] == "Cité des enfants perdus, La (1995)"  # latin-1 decoded
    assert table.loc[1, "genre"] == "Animation"  # first flag in u.item order
    assert table.loc[4, "genre"] == "Action"  # Action precedes Thriller in the flag order
    assert table.loc[3, "genre"] == "unknown"  # ml-100k's own "unknown" genre
    year = ds.catalog.fields[1]
    assert year.kind == "numeric" and year.bin_edges[0] == 1977 and year.bin_edges[-1] == 1999
    assert table.loc[4, "year"] != table.loc[5, "year"]
    assert table.loc[4, "year"] in year.labels[2:]
    assert table.loc[3, "year"] == "<unknown>"  # no "(YYYY)" in the title


def test_ml1m_sequences_titles_and_first_genre(tmp_path):
    ds = load_movielens(ml1m(tmp_path))
    assert ds.n_users == 3 and ds.n_items == 5 and ds.metadata["name"] == "ml-1m"
    assert ids(ds, 1) == [1193, 3408, 914, 661]
    table = ds.items.set_index("item_id")
    assert table.loc[661, "title"] == "Star Wars: Episode IV - A New Hope (1977)"
    assert table.loc[914, "title"] == "Misérables, Les (1995)"
    assert table.loc[661, "genre"] == "Action" and table.loc[2, "genre"] == "Adventure"
    assert ds.catalog.fields[1].kind == "numeric"
    assert table.loc[661, "year"] != table.loc[3408, "year"]


@pytest.mark.parametrize("make", [ml100k, ml1m])
def test_movielens_without_item_file_has_no_features(tmp_path, make):
    ds = load_movielens(make(tmp_path, items=False))
    assert ds.field_names == []
    assert ds.n_users == 3
    assert ds.items["title"].tolist() == [str(i) for i in ds.items["item_id"]]


def test_movielens_accepts_the_ratings_file(tmp_path):
    ds = load_movielens(ml1m(tmp_path) / "ratings.dat")
    assert ds.n_items == 5 and ds.field_names == ["genre", "year"]


# --- RecBole ------------------------------------------------------------------------------
def test_recbole_with_item_file(tmp_path):
    ds = load_recbole(recbole(tmp_path / "tiny"))
    assert ds.n_users == 3 and ds.n_items == 4  # 042 is in the .item file only
    assert ds.metadata["name"] == "tiny"
    assert ids(ds, "u1") == ["003", "010", "007"]  # ids stay strings with leading zeros
    assert ids(ds, "u2") == ["010", "007"]  # equal timestamps keep file order
    assert ds.field_names == ["studio", "class", "price"]
    table = ds.items.set_index("item_id")
    assert table.loc["007", "title"] == "The Spy Who Loved Me"  # whole token_seq title
    assert table.loc["010", "title"] == "NA" and table.loc["010", "studio"] == "NA"  # not NaN
    assert table.loc["003", "class"] == "Animation"  # first token of the token_seq
    assert table.loc["042", "class"] == "<unknown>"  # empty cell
    price = ds.catalog.fields[2]
    assert price.kind == "numeric" and price.bin_edges[0] == 1.0 and price.bin_edges[-1] == 100.0
    assert table.loc["007", "price"] != table.loc["042", "price"]


def test_recbole_inter_file_without_item_file(tmp_path):
    root = recbole(tmp_path / "data", items=False, name="other")
    for path in (root, root / "other.inter"):  # a directory's only .inter file, or the file
        ds = load_recbole(path)
        assert ds.n_users == 3 and ds.n_items == 3 and ds.field_names == []
        assert ids(ds, "u1") == ["003", "010", "007"]
        assert ds.items.set_index("item_id").loc["007", "title"] == "007"


def test_recbole_chosen_features_title_and_dataset_name(tmp_path):
    root = recbole(tmp_path / "d", name="a")
    write(root / "b.inter", INTER)
    ds = load_recbole(root, dataset_name="a", feature_cols=["studio:token"], title_col="studio")
    assert ds.field_names == ["studio"]
    assert ds.items.set_index("item_id").loc["003", "title"] == "Ghibli"
    assert load_recbole(root, dataset_name="b").field_names == []


def test_recbole_other_field_names_and_no_timestamp_keep_row_order(tmp_path):
    path = write(
        tmp_path / "x" / "x.inter",
        "session:token\tproduct:token\tscore:float\ns1\tp2\t1\ns1\tp1\t2\ns2\tp1\t3\n",
    )
    ds = load_recbole(path)
    assert ds.timestamps is None
    assert ids(ds, "s1") == ["p2", "p1"] and ds.n_items == 2


# --- CSV ----------------------------------------------------------------------------------
def test_load_csv_with_item_table(tmp_path):
    inter = write(tmp_path / "events.csv", "user,item,t\nb,01,5\na,02,3\na,01,1\nb,02,5\n")
    items = write(tmp_path / "items.csv", "item,name,kind,price\n01,One,x,1.5\n02,Two,y,9\n")
    ds = load_csv(
        inter,
        user_col="user",
        item_col="item",
        time_col="t",
        items_path=items,
        feature_cols=["kind", "price"],
        title_col="name",
        n_bins=2,
    )
    assert ds.n_users == 2 and ds.n_items == 2
    assert ids(ds, "a") == ["01", "02"] and ids(ds, "b") == ["01", "02"]
    table = ds.items.set_index("item_id")
    assert table.loc["02", "title"] == "Two" and table.loc["01", "kind"] == "x"
    assert ds.catalog.fields[1].kind == "numeric"
    assert table.loc["01", "price"] != table.loc["02", "price"]


def test_load_csv_tab_separated_without_time(tmp_path):
    inter = write(tmp_path / "e.tsv", "user_id\titem_id\nu\tb\nu\ta\n")
    ds = load_csv(inter, time_col=None, sep="\t")
    assert ids(ds, "u") == ["b", "a"] and ds.timestamps is None


# --- errors -------------------------------------------------------------------------------
def raises(match: str, load, *args, **kwargs) -> DataError:
    with pytest.raises(DataError, match=match) as info:
        load(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message  # one line
    assert info.value.__suppress_context__ or info.value.__cause__ is None  # no pandas chain
    return info.value


@pytest.mark.parametrize("load", [load_movielens, load_recbole, load_csv])
def test_missing_path(tmp_path, load):
    err = raises("no such file or directory", load, tmp_path / "nope")
    assert str(tmp_path / "nope") in str(err)


def test_directories_without_the_expected_files(tmp_path):
    (tmp_path / "empty").mkdir()
    raises(
        r"no ml-100k u\.data or ml-1m ratings\.dat in .*empty$", load_movielens, tmp_path / "empty"
    )
    ml100k(tmp_path / "outer" / "ml-100k")
    raises("found in subdirectory ml-100k", load_movielens, tmp_path / "outer")
    raises(r"no RecBole empty\.inter in", load_recbole, tmp_path / "empty")
    recbole(tmp_path / "two", name="a")
    write(tmp_path / "two" / "b.inter", INTER)
    raises(r"a\.inter, b\.inter: pass dataset_name", load_recbole, tmp_path / "two")
    raises(r"no RecBole c\.inter", load_recbole, tmp_path / "two", dataset_name="c")
    raises(r"not a RecBole \.inter file", load_recbole, tmp_path / "two" / "a.item")
    ml100k(tmp_path / "both")
    ml1m(tmp_path / "both")
    raises("both ml-100k u.data and ml-1m ratings.dat", load_movielens, tmp_path / "both")


@pytest.mark.parametrize(
    ("u_data", "match"),
    [
        ("1\t2\t3\n", r"u\.data: expected 4 tab-separated columns \(user id, .*\), found 3"),
        ("1\t2\t3\t4\n1\t2\t3\t4\t5\n", r"u\.data as 4 .*: Expected 4 fields in line 2, saw 5$"),
        ("1\t2\t3\t4\n1\t2\t3\n", r"u\.data: row 2 has empty or missing fields"),
        ("1\tx\t3\t4\n", r"u\.data: item id must be an integer, got 'x' \(row 1\)"),
        ("", r"u\.data is empty"),
    ],
)
def test_malformed_ml100k_ratings(tmp_path, u_data, match):
    write(tmp_path / "u.data", u_data)
    raises(match, load_movielens, tmp_path)


def test_malformed_item_files(tmp_path):
    ml100k(tmp_path / "a", items=False)
    write(tmp_path / "a" / "u.item", "1|Toy Story (1995)|01-Jan-1995\n", "latin-1")
    raises(
        r"u\.item: expected 24 '\|'-separated columns .*19 genre flags\), found 3",
        load_movielens,
        tmp_path / "a",
    )
    ml1m(tmp_path / "b", items=False)
    write(tmp_path / "b" / "movies.dat", "1193::Drama\n")
    raises(
        r"movies\.dat: expected 3 '::'-separated columns \(movie id, title, genres\)",
        load_movielens,
        tmp_path / "b",
    )
    write(tmp_path / "c" / "ratings.dat", "1::2::3\n")
    raises(r"ratings\.dat: expected 4 '::'-separated columns", load_movielens, tmp_path / "c")


@pytest.mark.parametrize(
    ("header", "body", "match"),
    [
        ("user_id\titem_id:token", "u\ti", r"bad header in .*t\.inter: field 'user_id'"),
        ("user_id:token\titem_id:int", "u\ti", r"bad header .* field 'item_id:int' .*float_seq"),
        ("user_id:token\tuser_id:token", "u\tu", r"bad header .*not a unique name:type"),
        ("", "", r"t\.inter is empty; expected a header row"),
        (
            "user_id:token\titem_id:token",
            "u\ti\tx",
            r"t\.inter: expected 2 tab-.*\(as in its header: user_id:token, .*found 3",
        ),
        (
            "user_id:token\titem_id:token\ttimestamp:float",
            "u\ti\tsoon",
            r"timestamp:float must be a number, got 'soon'",
        ),
        ("user_id:token\trating:float", "u\t1", r"expected user_id and item_id fields"),
        ("user_id:token\titem_id:token", "", r"t\.inter: interactions table is empty"),
    ],
)
def test_malformed_recbole_files(tmp_path, header, body, match):
    write(tmp_path / "t" / "t.inter", f"{header}\n{body}\n" if header else "")
    raises(match, load_recbole, tmp_path / "t")


def test_recbole_item_file_errors(tmp_path):
    root = recbole(tmp_path / "tiny")
    raises(
        r"tiny\.item: no feature field\(s\) \['genre'\]", load_recbole, root, feature_cols=["genre"]
    )
    raises(r"tiny\.item: no title field 'label'", load_recbole, root, title_col="label")
    write(root / "tiny.item", "id:token\tname:token\n1\tx\n")
    raises(r"tiny\.item: expected an item_id field", load_recbole, root)
    bare = recbole(tmp_path / "bare", items=False, name="bare")
    raises(r"feature_cols and title_col need .*bare\.item", load_recbole, bare, feature_cols=["x"])


def test_csv_errors(tmp_path):
    inter = write(tmp_path / "e.csv", "user,item\nu,i\n")
    raises(
        r"e\.csv: interactions table is missing column\(s\) \['user_id', 'item_id'", load_csv, inter
    )
    empty = write(tmp_path / "empty.csv", "")
    raises(r"empty\.csv is empty; expected ','-separated interactions", load_csv, empty)
    items = write(tmp_path / "i.csv", "item_id,name\ni,I\n")
    good = write(tmp_path / "g.csv", "user_id,item_id\nu,i\n")
    raises(
        r"g\.csv \+ .*i\.csv: items table is missing column\(s\) \['kind'\]",
        load_csv,
        good,
        time_col=None,
        items_path=items,
        feature_cols=["kind"],
    )
    raises("no such file or directory", load_csv, good, items_path=tmp_path / "missing.csv")
    with pytest.raises(EmptyHistoryError, match=r"h\.csv: interactions table is empty"):
        load_csv(write(tmp_path / "h.csv", "user_id,item_id\n"), time_col=None)
