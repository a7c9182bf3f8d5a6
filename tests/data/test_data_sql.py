"""Integration tests of `mlbench.data.load` against real sources: PostgreSQL, SQLite, fsspec memory://, files on disk."""
import gzip
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid

import fsspec
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import mlbench as mb
from mlbench.errors import DataError

N_BIG = 2_500  # rows of the table that is scanned in chunks


def _mixed(n: int = 5) -> pd.DataFrame:
    "Ints, floats with NULL, text with NULL and unicode, naive and tz-aware timestamps."
    base = pd.DataFrame({
        "i": np.array([3, -7, 0, 2**40, 11], dtype=np.int64),
        "f": [1.5, np.nan, -2.25, None, 1e-300],
        "s": pd.Series(["a", "é ✓", None, "x y", ""], dtype="str"),
        "t": pd.to_datetime(["2024-01-01 10:00:00.123456", None, "2024-03-01 00:00:00.000000",
                             "1999-12-31 23:59:59.000000", "2024-02-29 12:00:00.000000"]),
        "tz": pd.to_datetime(["2024-01-01 10:00", "2024-06-01 00:00", None, "2024-10-27 02:30",
                              "2024-03-31 03:30"]).tz_localize("Europe/Berlin", ambiguous=True),
    })
    return base.iloc[:n]


def _big(n: int = N_BIG) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.normal(10, 3, n)
    x[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"id": np.arange(n, dtype=np.int64), "x": x,
                         "g": pd.Series(rng.choice(["a", "b", "c", None], n), dtype="str"),
                         "k": rng.integers(-5, 5, n).astype(np.int64)})


def _assert_same_mixed(out: pd.DataFrame, df: pd.DataFrame, tz_as_text: bool = False):
    "A mixed frame read back from SQL equals the frame written, value by value."
    assert list(out.columns) == list(df.columns)
    assert out["i"].dtype == np.int64 and out["i"].tolist() == df["i"].tolist()
    assert out["f"].dtype == np.float64
    np.testing.assert_array_equal(out["f"].isna().to_numpy(), df["f"].isna().to_numpy())
    np.testing.assert_array_equal(out["f"].dropna().to_numpy(), df["f"].dropna().to_numpy())
    assert out["s"].isna().tolist() == df["s"].isna().tolist()
    assert out["s"].dropna().tolist() == df["s"].dropna().tolist()
    t = pd.to_datetime(out["t"]) if tz_as_text else out["t"]
    pd.testing.assert_series_equal(t, df["t"], check_dtype=False, check_index_type=False)
    if tz_as_text:  # pandas writes tz-aware timestamps to SQLite as local wall time, offset dropped
        pd.testing.assert_series_equal(pd.to_datetime(out["tz"]), df["tz"].dt.tz_localize(None), check_dtype=False)
        return
    tz = out["tz"]
    assert getattr(tz.dtype, "tz", None) is not None, f"tz-aware timestamps came back naive: {tz.dtype}"
    pd.testing.assert_series_equal(tz.dt.tz_convert("UTC"), df["tz"].dt.tz_convert("UTC"), check_dtype=False)


# ---------------------------------------------------------------- PostgreSQL

@pytest.fixture(scope="module")
def pg(postgres_url):
    "The PostgreSQL URL with tables `mixed` and `big` written by pandas."
    engine = sa.create_engine(postgres_url)
    with engine.begin() as con:
        _mixed().to_sql("mixed", con, index=False, if_exists="replace")
        _big().to_sql("big", con, index=False, if_exists="replace")
    engine.dispose()
    return postgres_url


def _other_backends(url) -> list[str]:
    "Last statement of every other client session of this database."
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            rows = con.execute(sa.text(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")).fetchall()
    finally:
        engine.dispose()
    return [r[0] for r in rows]


def test_pg_load_table_and_query(pg):
    out = mb.load(pg, "mixed")
    _assert_same_mixed(out, _mixed())
    q = mb.load(pg, query="SELECT i, s FROM mixed WHERE i > 0 ORDER BY i")
    assert q["i"].tolist() == [3, 11, 2**40]
    assert q["s"].tolist() == ["a", "", "x y"]


def test_pg_scan_streams_bounded_chunks(pg):
    whole = mb.load(pg, "SELECT * FROM big ORDER BY id")
    it = mb.scan(pg, chunk_rows=300, query="SELECT * FROM big ORDER BY id")
    first = next(it)
    assert len(first) == 300
    # while the generator is suspended the server still holds the rest: a server-side cursor fetching
    active = _other_backends(pg)
    assert any(q.lstrip().upper().startswith("FETCH") for q in active), \
        f"no server-side cursor: other sessions last ran {active}"
    chunks = [first, *it]
    sizes = [len(c) for c in chunks]
    assert max(sizes) <= 300 and all(s == 300 for s in sizes[:-1]), sizes
    assert sum(sizes) == N_BIG
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)


def test_pg_scan_closed_early_releases_connection(pg):
    it = mb.scan(pg, chunk_rows=100, query="big")
    next(it)
    it.close()
    deadline = time.monotonic() + 10
    while _other_backends(pg) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _other_backends(pg) == [], "scan left a database session open after the generator was closed"


@pytest.mark.parametrize("query", ["SELECT no_such_column FROM big", "no_such_table",
                                   "SELECT 1/0 AS boom"])
def test_pg_failing_query_raises_data_error(pg, query):
    with pytest.raises(DataError) as e:
        mb.load(pg, query)
    assert query in str(e.value)
    assert query in e.value.source
    with pytest.raises(DataError) as e:
        list(mb.scan(pg, chunk_rows=10, query=query))
    assert query in str(e.value)
    with pytest.raises(DataError):
        mb.profile(pg, query=query)


def test_pg_error_hides_password(pg):
    url = sa.engine.make_url(pg).set(password="s3cret-pw").render_as_string(hide_password=False)
    assert "s3cret-pw" in url
    assert len(mb.load(url, "mixed")) == 5  # trust auth: the password is not checked
    with pytest.raises(DataError) as e:
        mb.load(url, "SELECT nope FROM mixed")
    assert "s3cret-pw" not in str(e.value)
    assert "SELECT nope FROM mixed" in str(e.value)


def test_pg_profile_equals_profile_of_loaded_frame(pg):
    ps = mb.profile(pg, query="SELECT * FROM big", chunk_rows=700)
    pf = mb.profile(mb.load(pg, "big"))
    _assert_profiles_agree(ps, pf, n=N_BIG)


def _gappy(n: int = 1_000) -> pd.DataFrame:
    "Columns whose first chunk is all NULL, and an integer column with NULLs in one chunk only."
    rng = np.random.default_rng(3)
    f = rng.normal(size=n)
    f[:300] = np.nan
    t = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"))
    t[:300] = pd.NaT
    s = pd.Series(rng.choice(["u", "v"], n), dtype="str")
    s[:300] = None
    i2 = pd.array(rng.integers(0, 100, n), dtype="Int64")
    i2[650:700] = pd.NA
    return pd.DataFrame({"f": f, "t": t, "s": s, "i2": i2})


@pytest.mark.parametrize("chunk_rows", [300, 1_000_000])
def test_pg_profile_of_chunks_with_all_null_parts(pg, chunk_rows):
    engine = sa.create_engine(pg)
    with engine.begin() as con:
        _gappy().to_sql("gappy", con, index=False, if_exists="replace")
    engine.dispose()
    ps = mb.profile(pg, query="SELECT * FROM gappy ORDER BY t NULLS FIRST", chunk_rows=chunk_rows)
    pf = mb.profile(mb.load(pg, "SELECT * FROM gappy ORDER BY t NULLS FIRST"))
    assert ps["t"].kind == "datetime" and ps["f"].kind == "numeric" and ps["s"].kind == "string"
    _assert_profiles_agree(ps, pf, n=1_000)
    ref = _gappy()
    f = ps.to_frame()
    for col in ref.columns:
        assert f.loc[col, "null_count"] == ref[col].isna().sum(), col
    assert f.loc["t", "min"] == ref["t"].min() and f.loc["t", "max"] == ref["t"].max()
    assert f.loc["i2", "min"] == ref["i2"].min() and f.loc["i2", "max"] == ref["i2"].max()


def _assert_profiles_agree(ps, pf, n):
    a, b = ps.to_frame(), pf.to_frame()
    assert ps.n_rows == pf.n_rows == n
    assert list(a.index) == list(b.index)
    for col in ["kind", "count", "null_count", "nan_count", "distinct", "min", "max"]:
        pd.testing.assert_series_equal(a[col], b[col], obj=col)
    num = a.index[a["kind"].isin(["numeric", "integer"])]
    assert len(num)
    np.testing.assert_allclose(a.loc[num, "mean"].astype(float), b.loc[num, "mean"].astype(float), rtol=1e-9)
    np.testing.assert_allclose(a.loc[num, "std"].astype(float), b.loc[num, "std"].astype(float), rtol=1e-9)


# ---------------------------------------------------------------- SQLite

@pytest.fixture
def lite(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as con:
        _mixed().to_sql("mixed", con, index=False)
        _big().to_sql("big", con, index=False)
    engine.dispose()
    return url


def test_sqlite_load_table_and_query(lite):
    # SQLite has no timestamp type: pandas stores timestamps as ISO text, which comes back as text
    _assert_same_mixed(mb.load(lite, "mixed"), _mixed(), tz_as_text=True)
    q = mb.load(lite, query="SELECT i, s FROM mixed WHERE i > 0 ORDER BY i")
    assert q["i"].tolist() == [3, 11, 2**40]


def test_sqlite_scan_chunks(lite):
    whole = mb.load(lite, "SELECT * FROM big ORDER BY id")
    chunks = list(mb.scan(lite, chunk_rows=400, query="SELECT * FROM big ORDER BY id"))
    sizes = [len(c) for c in chunks]
    assert max(sizes) <= 400 and all(s == 400 for s in sizes[:-1]) and sum(sizes) == N_BIG
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)


@pytest.mark.parametrize("query", ["SELECT no_such_column FROM big", "no_such_table"])
def test_sqlite_failing_query(lite, query):
    with pytest.raises(DataError) as e:
        mb.load(lite, query)
    assert query in str(e.value)
    with pytest.raises(DataError) as e:
        list(mb.scan(lite, chunk_rows=10, query=query))
    assert query in str(e.value)


def test_sqlite_profile_equals_profile_of_loaded_frame(lite):
    _assert_profiles_agree(mb.profile(lite, query="big", chunk_rows=999), mb.profile(mb.load(lite, "big")),
                           n=N_BIG)


def test_sql_source_without_query(lite):
    with pytest.raises(DataError, match="query"):
        mb.load(lite)


# ---------------------------------------------------------------- fingerprint

_FP_CHILD = textwrap.dedent("""
    import sys
    import mlbench as mb
    print(mb.fingerprint(mb.load(sys.argv[1])))
""")


def _fp_frame() -> pd.DataFrame:
    df = _mixed()
    df["c"] = pd.Categorical(["x", "y", None, "x", "z"])
    df["b"] = [True, False, True, True, False]
    df["o"] = pd.Series([b"raw", "txt", 1, None, 2.5], dtype=object)
    return df


def _fp_in_subprocess(path, hashseed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    r = subprocess.run([sys.executable, "-c", _FP_CHILD, str(path)], env=env, capture_output=True, text=True,
                       timeout=120, check=True)
    return r.stdout.strip()


def test_fingerprint_stable_across_processes(tmp_path):
    df = _fp_frame().drop(columns="o")  # parquet cannot hold a mixed object column
    path = tmp_path / "fp.parquet"
    df.to_parquet(path)
    here = mb.fingerprint(mb.load(path))
    assert len(here) == 32
    assert _fp_in_subprocess(path, "1") == here
    assert _fp_in_subprocess(path, "12345") == here


def test_fingerprint_same_for_equal_frames_in_this_process():
    assert mb.fingerprint(_fp_frame()) == mb.fingerprint(_fp_frame())


@pytest.mark.parametrize("col,value", [("i", 4), ("f", 1.5000000000000002), ("s", "b"),
                                       ("t", pd.Timestamp("2024-01-01 10:00:00.123457")),
                                       ("tz", pd.Timestamp("2024-01-01 10:00:01", tz="Europe/Berlin")),
                                       ("c", "z"), ("b", False), ("o", b"raX")])
def test_fingerprint_changes_with_one_cell(col, value):
    df = _fp_frame()
    changed = df.copy()
    changed.loc[0, col] = value
    assert changed.loc[0, col] != df.loc[0, col]
    assert mb.fingerprint(changed) != mb.fingerprint(df)


def test_fingerprint_sees_null_vs_value_and_column_order():
    df = _fp_frame()
    nulled = df.copy()
    nulled.loc[0, "f"] = np.nan
    assert mb.fingerprint(nulled) != mb.fingerprint(df)
    assert mb.fingerprint(df[df.columns[::-1]]) != mb.fingerprint(df)


# ---------------------------------------------------------------- fsspec memory:// and files

@pytest.fixture
def memdir():
    fs = fsspec.filesystem("memory")
    root = f"/mlbench-{uuid.uuid4().hex}"
    fs.mkdir(root)
    yield fs, root
    fs.rm(root, recursive=True)


def test_memory_csv_and_parquet(memdir):
    fs, root = memdir
    df = _big(500)
    with fs.open(f"{root}/d.csv", "wb") as f:
        df.to_csv(f, index=False)
    with fs.open(f"{root}/d.parquet", "wb") as f:
        df.to_parquet(f, index=False)
    from_csv = mb.load(f"memory://{root}/d.csv")
    pd.testing.assert_frame_equal(from_csv, df, check_dtype=False)
    from_pq = mb.load(f"memory://{root}/d.parquet")
    pd.testing.assert_frame_equal(from_pq, df)
    for ext, ref in (("csv", from_csv), ("parquet", from_pq)):
        chunks = list(mb.scan(f"memory://{root}/d.{ext}", chunk_rows=120))
        assert [len(c) for c in chunks] == [120, 120, 120, 120, 20]
        pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), ref, check_dtype=False)
    p = mb.profile(f"memory://{root}/d.parquet", chunk_rows=77)
    _assert_profiles_agree(p, mb.profile(df), n=500)


def test_directory_of_parquet_files(tmp_path):
    df = _big(1_000)
    parts = tmp_path / "parts"
    parts.mkdir()
    for i, start in enumerate(range(0, 1_000, 300)):
        df.iloc[start:start + 300].to_parquet(parts / f"part-{i:03d}.parquet", index=False)
    (parts / "_SUCCESS").write_text("")  # writer markers are not data
    out = mb.load(parts)
    pd.testing.assert_frame_equal(out, df)
    chunks = list(mb.scan(str(parts), chunk_rows=250))
    assert max(len(c) for c in chunks) <= 250
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), df)
    _assert_profiles_agree(mb.profile(parts, chunk_rows=128), mb.profile(df), n=1_000)


def test_empty_directory_and_missing_file(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty"):
        mb.load(tmp_path / "empty")
    missing = tmp_path / "nope.parquet"
    for call in (lambda: mb.load(missing), lambda: list(mb.scan(missing)), lambda: mb.profile(missing)):
        with pytest.raises(DataError) as e:
            call()
        assert str(missing) in str(e.value)


def _bad_files(tmp_path) -> dict:
    "Broken data files: garbage and half a file for Parquet, cut gzip and an open quote for CSV."
    df = _big(2_000)
    good_pq = tmp_path / "good.parquet"
    df.to_parquet(good_pq)
    raw = good_pq.read_bytes()
    files = {"garbage.parquet": os.urandom(4096), "truncated.parquet": raw[:len(raw) // 2],
             "empty.parquet": b""}
    csv = df.to_csv(index=False).encode()
    files["truncated.csv.gz"] = gzip.compress(csv)[:3000]
    files["open_quote.csv"] = b'id,x\n1,2\n3,"never closed\n4,5\n'
    out = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        out[name] = tmp_path / name
    return out


@pytest.mark.parametrize("name", ["garbage.parquet", "truncated.parquet", "empty.parquet", "truncated.csv.gz",
                                  "open_quote.csv"])
def test_corrupt_or_truncated_file_names_the_path(tmp_path, name):
    path = _bad_files(tmp_path)[name]
    for call in (lambda: mb.load(path), lambda: list(mb.scan(path, chunk_rows=100)),
                 lambda: mb.profile(path, chunk_rows=100)):
        with pytest.raises(DataError) as e:
            call()
        assert str(path) in str(e.value)
        assert e.value.source == str(path)


def test_corrupt_part_in_directory_gives_no_partial_result(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    _big(100).to_parquet(parts / "a.parquet")
    (parts / "b.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    _big(100).to_parquet(parts / "c.parquet")
    for call in (lambda: mb.load(parts), lambda: mb.profile(parts)):
        with pytest.raises(DataError) as e:
            call()
        assert "b.parquet" in str(e.value)


def test_corrupt_memory_parquet(memdir):
    fs, root = memdir
    with fs.open(f"{root}/bad.parquet", "wb") as f:
        f.write(b"\x00" * 100)
    with pytest.raises(DataError) as e:
        mb.load(f"memory://{root}/bad.parquet")
    assert "bad.parquet" in str(e.value)


def test_unknown_file_type(tmp_path):
    p = tmp_path / "data.json"
    p.write_text(json.dumps({"a": 1}))
    with pytest.raises(DataError, match="unknown file type"):
        mb.load(p)
