"""Profiles survive the inputs listed in BAD_INPUTS.md, "Profiles and validation"; pandas/numpy are the reference."""
import math
import unicodedata
import warnings

import numpy as np
import pandas as pd
import pytest

import mlbench as mb
from mlbench.errors import DataError
from mlbench.data.column import MAX_KEY_CHARS
from mlbench.data.sketch import TOPK_CAPACITY


def _row(p: mb.Profile, col: str) -> pd.Series:
    return p.to_frame().loc[col]


def _no_warnings_raised(df: pd.DataFrame) -> mb.Profile:
    "Profile `df`; warnings (RuntimeWarning: overflow, invalid value) count as failures here."
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return mb.profile(df)


def _round_trip(p: mb.Profile, tmp_path) -> mb.Profile:
    back = mb.Profile.load(p.save(tmp_path / "p.json.gz"))
    pd.testing.assert_frame_equal(back.to_frame(), p.to_frame())
    return back


# ---------------------------------------------------------------- empty shapes

EMPTY_COLUMNS = {
    "f": pd.Series([], dtype=float), "i": pd.Series([], dtype="int64"), "ni": pd.Series([], dtype="Int64"),
    "s": pd.Series([], dtype="str"), "o": pd.Series([], dtype=object), "c": pd.Series(pd.Categorical([])),
    "b": pd.Series([], dtype=bool), "t": pd.Series([], dtype="datetime64[ns, UTC]"),
    "td": pd.Series([], dtype="timedelta64[ns]"),
}


def test_zero_rows(tmp_path):
    df = pd.DataFrame(EMPTY_COLUMNS)
    p = _no_warnings_raised(df)
    assert p.n_rows == 0 and p.duplicate_rows == 0
    f = p.to_frame()
    assert list(f.index) == list(df.columns)
    assert (f["count"] == 0).all() and (f["null_count"] == 0).all() and (f["distinct"] == 0).all()
    assert math.isnan(p.quantile("f", 0.5))
    assert p.top_k("s", 5) == [] and p.top_k("f", 5) == []
    assert p.warnings() == []
    _round_trip(p, tmp_path)
    merged = p.merge(mb.profile(pd.DataFrame({"f": [1.0, 2.0]})))  # empty parts merge away
    assert _row(merged, "f")["count"] == 2 and _row(merged, "f")["mean"] == 1.5
    assert _row(merged, "s")["count"] == 2 and _row(merged, "s")["null_count"] == 2


@pytest.mark.parametrize("df", [pd.DataFrame(), pd.DataFrame(index=range(5))], ids=["empty", "rows-no-columns"])
def test_zero_columns(df, tmp_path):
    p = _no_warnings_raised(df)
    assert p.n_rows == len(df)
    assert p.columns == {} and p.to_frame().empty
    assert all(w["column"] is None for w in p.warnings())
    back = _round_trip(p, tmp_path)
    assert back.n_rows == len(df)
    with pytest.raises(mb.ColumnError):
        p.quantile("x", 0.5)


# ---------------------------------------------------------------- all-missing, infinities, extremes

def test_all_nan_all_inf_all_none(tmp_path):
    n = 6
    df = pd.DataFrame({"nan": [np.nan] * n, "inf": [np.inf, -np.inf] * (n // 2), "pinf": [np.inf] * n,
                       "none": pd.Series([None] * n, dtype=object), "na": pd.array([pd.NA] * n, dtype="Float64")})
    p = _no_warnings_raised(df)
    f = p.to_frame()
    assert f.loc["nan", "null_count"] == n and f.loc["nan", "nan_count"] == n
    assert f.loc["inf", "null_count"] == 0 and f.loc["inf", "posinf_count"] == 3 and f.loc["inf", "neginf_count"] == 3
    assert f.loc["pinf", "posinf_count"] == n
    assert f.loc["none", "null_count"] == n and f.loc["na", "null_count"] == n
    for col in df.columns:  # no finite value: no mean, never inf or a crash
        assert f.loc[col, "count"] == n
        m = f.loc[col, "mean"]
        assert m is None or math.isnan(m), (col, m)
        assert math.isnan(p.quantile(col, 0.5)) if p[col].kind == "numeric" else True
    found = {(w["column"], w["warning"]) for w in p.warnings()}
    assert {("nan", "all_null"), ("none", "all_null"), ("na", "all_null"), ("inf", "infinite")} <= found
    _round_trip(p, tmp_path)


def test_infinities_are_counted_and_the_mean_stays_finite():
    x = np.array([1.0, np.inf, 2.0, -np.inf, np.nan, 6.0, np.inf])
    p = _no_warnings_raised(pd.DataFrame({"x": x}))
    r = _row(p, "x")
    fin = x[np.isfinite(x)]
    assert (r["posinf_count"], r["neginf_count"], r["null_count"], r["nan_count"]) == (2, 1, 1, 1)
    assert math.isfinite(r["mean"]) and r["mean"] == pytest.approx(fin.mean(), rel=1e-12)
    assert r["std"] == pytest.approx(fin.std(ddof=1), rel=1e-12)
    assert (r["min"], r["max"]) == (fin.min(), fin.max())
    assert any(w["warning"] == "infinite" for w in p.warnings())


@pytest.mark.parametrize("lo,hi", [(-1.7, 1.7), (1.0, 1.79), (-1.79, -1.5)])
def test_values_near_float_max(lo, hi):
    "Sums of 1e308 overflow; the mean and std must not (numpy on rescaled data is the reference)."
    x = np.random.default_rng(1).uniform(lo, hi, 10_001) * 1e308
    p = _no_warnings_raised(pd.DataFrame({"x": x}))
    r = _row(p, "x")
    s = 1e308
    assert r["mean"] == pytest.approx(float(np.mean(x / s)) * s, rel=1e-9, abs=1e-12 * s)
    assert r["std"] == pytest.approx(float(np.std(x / s, ddof=1)) * s, rel=1e-9)
    assert (r["min"], r["max"]) == (x.min(), x.max())
    assert math.isfinite(r["skew"])
    half = mb.profile(pd.DataFrame({"x": x[:5000]})).merge(mb.profile(pd.DataFrame({"x": x[5000:]})))
    assert _row(half, "x")["mean"] == pytest.approx(r["mean"], rel=1e-9, abs=1e-12 * s)
    assert _row(half, "x")["std"] == pytest.approx(r["std"], rel=1e-9)


@pytest.mark.parametrize("scale", [1e100, 1e120, 1e150, 1e200])
def test_large_magnitudes_moments_and_skew(scale):
    "Between 1e103 and 2**500 the cubed deviations overflow: skew and merges must still work."
    import scipy.stats

    base = np.random.default_rng(2).gamma(2.0, 1.0, 1_000)
    x = base * scale
    p = mb.profile(pd.DataFrame({"x": x}))
    r = _row(p, "x")  # to_frame computes the skew
    assert r["mean"] == pytest.approx(base.mean() * scale, rel=1e-9)
    assert r["std"] == pytest.approx(base.std(ddof=1) * scale, rel=1e-9)
    assert r["skew"] == pytest.approx(scipy.stats.skew(base), rel=1e-6)
    half = mb.profile(pd.DataFrame({"x": x[:400]})).merge(mb.profile(pd.DataFrame({"x": x[400:]})))
    assert _row(half, "x")["skew"] == pytest.approx(scipy.stats.skew(base), rel=1e-6)
    assert [w for w in p.warnings() if w["warning"] == "skewed"] == []  # gamma(2) skew is about 1.4


@pytest.mark.parametrize("scale", [1e-100, 1e-120, 1e-160, 1e-300])
def test_tiny_magnitudes_moments_and_skew(scale):
    "Below about 1e-108 the cube of the variance underflows; below 1e-154 squared deviations do."
    import scipy.stats

    base = np.random.default_rng(2).gamma(2.0, 1.0, 1_000)
    x = base * scale
    whole = mb.profile(pd.DataFrame({"x": x}))
    zeros_first = mb.profile(pd.DataFrame({"x": [0.0]})).merge(mb.profile(pd.DataFrame({"x": x[1:]})))
    ref = np.concatenate([[0.0], base[1:]])
    for p, b in ((whole, base), (zeros_first, ref)):
        r = _row(p, "x")
        assert r["mean"] == pytest.approx(b.mean() * scale, rel=1e-9)
        assert r["std"] == pytest.approx(b.std(ddof=1) * scale, rel=1e-9)
        assert r["skew"] == pytest.approx(scipy.stats.skew(b), rel=1e-6)


# ---------------------------------------------------------------- object columns of mixed types

def test_mixed_object_column():
    vals = [1, "a", None, b"\xff\x00raw", [1, 2], {"k": [1]}, 2, "a", 3.5, (1,), True, np.nan, {"k": [1]}]
    s = pd.Series(vals, dtype=object)
    p = mb.profile(pd.DataFrame({"m": s}))
    cp = p["m"]
    nonnull = [v for v in vals if not (v is None or (isinstance(v, float) and math.isnan(v)))]
    expected = {}
    for v in nonnull:
        expected[type(v).__name__] = expected.get(type(v).__name__, 0) + 1
    assert cp.type_counts == expected
    assert cp.count == len(vals) and cp.null_count == 2
    assert sum(c for _, c in p.top_k("m", 50)) == len(nonnull)
    assert dict(p.top_k("m", 50))["a"] == 2
    mixed = [w for w in p.warnings() if w["warning"] == "mixed_types" and w["column"] == "m"]
    assert len(mixed) == 1 and "bytes" in mixed[0]["detail"] and "dict" in mixed[0]["detail"]
    p.to_frame()  # never sorts mixed values


def test_mixed_object_column_merges_and_saves(tmp_path):
    a = pd.DataFrame({"m": pd.Series([1, "x", None], dtype=object)})
    b = pd.DataFrame({"m": pd.Series([b"y", [1], "x"], dtype=object)})
    p = mb.profile(a).merge(mb.profile(b))
    assert p["m"].type_counts == {"int": 1, "str": 2, "bytes": 1, "list": 1}
    back = _round_trip(p, tmp_path)
    assert back["m"].type_counts == p["m"].type_counts


# ---------------------------------------------------------------- pandas extension and special dtypes

def test_category():
    s = pd.Series(pd.Categorical(["x", "y", None, "x", "z"], categories=["x", "y", "z", "never-used"]))
    p = mb.profile(pd.DataFrame({"c": s}))
    r = _row(p, "c")
    assert r["kind"] == "categorical" and r["null_count"] == 1 and r["count"] == 5
    assert r["distinct"] == s.nunique() == 3  # unused categories are not values
    assert dict(p.top_k("c", 10)) == s.value_counts()[lambda v: v > 0].to_dict()


@pytest.mark.parametrize("dtype", ["Int64", "Int8", "UInt64"])
def test_nullable_integers_with_na(dtype):
    s = pd.Series(pd.array([5, None, 7, 100, None, 5], dtype=dtype))
    p = mb.profile(pd.DataFrame({"n": s}))
    r = _row(p, "n")
    assert r["kind"] == "integer" and r["null_count"] == 2 and r["count"] == 6
    assert r["mean"] == pytest.approx(s.mean()) and r["std"] == pytest.approx(s.std())
    assert (r["min"], r["max"]) == (s.min(), s.max())
    assert r["distinct"] == s.nunique()
    assert dict(p.top_k("n", 10)) == s.value_counts().to_dict()


def test_nullable_int64_extremes_with_na():
    s = pd.Series(pd.array([2**63 - 1, None, -(2**63), 2**63 - 2], dtype="Int64"))
    r = _row(mb.profile(pd.DataFrame({"n": s})), "n")
    assert r["null_count"] == 1
    assert r["min"] == -(2**63) and r["max"] == 2**63 - 1


def test_boolean_with_na():
    s = pd.Series(pd.array([True, None, False, True, True, None], dtype="boolean"))
    p = mb.profile(pd.DataFrame({"b": s}))
    r = _row(p, "b")
    assert r["kind"] == "boolean" and r["null_count"] == 2
    assert r["mean"] == pytest.approx(s.mean())  # share of True among non-null values
    assert dict(p.top_k("b", 5)) == {True: 3, False: 1}
    assert all(isinstance(v, bool) for v, _ in p.top_k("b", 5))


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "str", "string[python]"])
def test_string_dtypes(dtype):
    s = pd.Series(["a", None, "bb", "a", "ccc", ""], dtype=dtype)
    p = mb.profile(pd.DataFrame({"s": s}))
    r = _row(p, "s")
    assert r["kind"] == "string" and r["null_count"] == 1
    assert r["distinct"] == s.nunique()
    lens = s.dropna().str.len()
    assert (r["len_min"], r["len_max"]) == (lens.min(), lens.max())
    assert r["len_mean"] == pytest.approx(lens.mean())
    assert dict(p.top_k("s", 10)) == s.value_counts().to_dict()


def test_pandas3_str_and_object_strings_profile_alike():
    vals = ["a", None, "bb", "a"]
    a = mb.profile(pd.DataFrame({"s": pd.Series(vals, dtype="str")})).to_frame().drop(columns="dtype")
    b = mb.profile(pd.DataFrame({"s": pd.Series(vals, dtype=object)})).to_frame().drop(columns="dtype")
    pd.testing.assert_frame_equal(a, b)


def test_tz_aware_datetimes(tmp_path):
    s = pd.Series(pd.to_datetime(["2024-03-31 01:30", None, "2024-10-27 02:30", "2024-01-01 00:00",
                                  "2024-07-01 12:00"]).tz_localize("Europe/Berlin", ambiguous=True))
    p = mb.profile(pd.DataFrame({"t": s}))
    r = _row(p, "t")
    assert r["kind"] == "datetime" and r["tz"] == "Europe/Berlin" and r["null_count"] == 1
    assert r["min"] == s.min() and r["max"] == s.max()
    assert str(r["min"].tz) == "Europe/Berlin" and str(r["max"].tz) == "Europe/Berlin"
    assert abs(r["mean"] - s.mean()) <= pd.Timedelta("1ms")
    assert p.quantile("t", 0.0) == s.min() and p.quantile("t", 1.0) == s.max()
    assert {v for v, _ in p.top_k("t", 10)} == set(s.dropna())
    back = _round_trip(p, tmp_path)
    assert _row(back, "t")["tz"] == "Europe/Berlin" and _row(back, "t")["max"] == s.max()


def test_datetimes_in_two_time_zones_merge_to_one_instant_order():
    ny = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 00:00"]).tz_localize("America/New_York")})
    tokyo = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 10:00"]).tz_localize("Asia/Tokyo")})
    p = mb.profile(ny).merge(mb.profile(tokyo))
    r = _row(p, "t")
    both = [ny["t"].iloc[0], tokyo["t"].iloc[0]]
    assert r["min"] == min(both) and r["max"] == max(both)  # compared as instants


def _seconds(v) -> float:
    return v.total_seconds() if isinstance(v, pd.Timedelta) else float(v)


def test_timedelta():
    s = pd.Series(pd.to_timedelta(["1 day", None, "2h", "-30s", "1ms"]))
    p = mb.profile(pd.DataFrame({"d": s}))
    r = _row(p, "d")
    sec = s.dt.total_seconds()
    assert r["null_count"] == 1 and r["count"] == 5
    assert _seconds(r["mean"]) == pytest.approx(sec.mean())
    assert _seconds(r["std"]) == pytest.approx(sec.std())
    assert (_seconds(r["min"]), _seconds(r["max"])) == (sec.min(), sec.max())


def test_uint64_and_int64_extremes(tmp_path):
    df = pd.DataFrame({"u": np.array([0, 2**64 - 1, 5, 2**64 - 2], dtype=np.uint64),
                       "i": np.array([-(2**63), 2**63 - 1, 0, 1], dtype=np.int64)})
    p = mb.profile(df)
    r = p.to_frame()
    assert r.loc["u", "min"] == 0 and r.loc["u", "max"] == 2**64 - 1
    assert r.loc["i", "min"] == -(2**63) and r.loc["i", "max"] == 2**63 - 1
    back = _round_trip(p, tmp_path)
    assert _row(back, "u")["max"] == 2**64 - 1
    merged = mb.profile(df.iloc[:2]).merge(mb.profile(df.iloc[2:]))
    assert _row(merged, "u")["max"] == 2**64 - 1 and _row(merged, "i")["min"] == -(2**63)


@pytest.mark.parametrize("values,dtype", [([2**63 - 1], np.int64), ([2**63 - 1, 2**63 - 5, 2**63 - 1], np.int64),
                                          ([2**64 - 1], np.uint64), ([2**64 - 1, 2**64 - 3], np.uint64),
                                          ([-(2**63), -(2**63) + 7], np.int64)])
def test_integers_clustered_at_the_ends_of_their_range(values, dtype):
    "Sentinels such as INT64_MAX: a narrow range of values (the bincount path) at the edge of the type."
    s = pd.Series(np.array(values, dtype=dtype))
    p = mb.profile(pd.DataFrame({"n": s}))
    r = _row(p, "n")
    assert (r["min"], r["max"]) == (int(s.min()), int(s.max()))
    assert r["distinct"] == s.nunique()
    assert sum(c for _, c in p.top_k("n", 10)) == len(s)


def test_large_integer_ids_are_distinct_and_kept_exactly():
    "Snowflake-style IDs (beyond 2**53) differ in low bits that float64 loses."
    ids = np.array([2**62 + 1] * 3 + [2**62 + 2] * 2 + [2**62 + 3, 2**64 - 1], dtype=np.uint64)
    s = pd.Series(ids)
    p = mb.profile(pd.DataFrame({"id": s}))
    assert _row(p, "id")["distinct"] == s.nunique() == 4
    assert p.top_k("id", 10) == [(int(k), int(c)) for k, c in s.value_counts().items()]
    dup = mb.profile(pd.DataFrame({"id": s, "k": 1}))
    assert dup.duplicate_rows == int(pd.DataFrame({"id": s}).duplicated().sum()) == 3


# ---------------------------------------------------------------- column names

def test_duplicate_column_names_are_renamed_with_a_warning():
    df = pd.DataFrame([[1, 10, "x"], [3, 30, "y"]], columns=["a", "a", "b"])
    with pytest.warns(UserWarning, match="duplicate column names"):
        p = mb.profile(df)
    assert list(p.columns) == ["a", "a__2", "b"]
    assert p.renamed == {"a__2": "a"}
    f = p.to_frame()
    assert (f.loc["a", "mean"], f.loc["a__2", "mean"]) == (2.0, 20.0)  # never merged
    assert (f.loc["a", "count"], f.loc["a__2", "count"]) == (2, 2)
    with pytest.warns(UserWarning):
        again = mb.profile(df)
    assert list(again.columns) == list(p.columns)  # deterministic


def test_non_string_and_multiindex_column_names(tmp_path):
    ts = pd.Timestamp("2024-01-01")
    df = pd.DataFrame({0: [1, 2], 1.5: [3, 4], None: [5, 6], ts: [7, 8], "0": [9, 9]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "0" and 0 share a name: one of them is renamed
        p = mb.profile(df)
    assert all(isinstance(c, str) for c in p.columns)
    assert len(p.columns) == 5
    assert {p.renamed.get(name, name) for name in p.columns} == set(df.columns)
    for name, cp in p.columns.items():  # the mapping back finds the original column
        assert cp.moments.mean == df[p.renamed.get(name, name)].mean(), name
    mi = pd.DataFrame(np.arange(6).reshape(2, 3), columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y"),
                                                                                      ("b", 1)]))
    q = mb.profile(mi)
    assert list(q.columns) == ["a/x", "a/y", "b/1"]
    assert q.renamed == {"a/x": ("a", "x"), "a/y": ("a", "y"), "b/1": ("b", 1)}
    for name in q.columns:
        assert mi[q.renamed[name]].tolist() == mi.iloc[:, list(q.columns).index(name)].tolist()


def test_renamed_mapping_survives_save_and_load(tmp_path):
    mi = pd.DataFrame(np.arange(4).reshape(2, 2), columns=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)]))
    p = mb.profile(mi)
    back = mb.Profile.load(p.save(tmp_path / "p.json.gz"))
    assert back.renamed == p.renamed
    assert mi[back.renamed["a/1"]].tolist() == [0, 2]


# ---------------------------------------------------------------- size

def test_five_megabyte_string_cell(tmp_path):
    big = "x" * 5_000_000
    s = pd.Series([big, "short", big[:-1] + "y", None, "short"], dtype="str")
    p = mb.profile(pd.DataFrame({"s": s}))
    r = _row(p, "s")
    assert r["len_max"] == 5_000_000 and r["len_min"] == 5
    assert r["distinct"] == s.nunique() == 3
    for v, _ in p.top_k("s", 10):
        assert len(v) <= MAX_KEY_CHARS + 1
    assert len(r["top"]) <= MAX_KEY_CHARS + 1
    path = p.save(tmp_path / "p.json.gz")
    assert path.stat().st_size < 50_000
    merged = p.merge(mb.profile(pd.DataFrame({"s": pd.Series([big], dtype="str")})))
    assert all(len(v) <= MAX_KEY_CHARS + 1 for v, _ in merged.top_k("s", 10))


def test_two_hundred_thousand_distinct_ids():
    n = 200_000
    df = pd.DataFrame({"id": pd.Series([f"user-{i:07d}" for i in range(n)], dtype="str"),
                       "num": np.arange(n, dtype=np.int64) * 7919 % 10**9,
                       "x": np.random.default_rng(3).random(n)})
    p = mb.profile(df)
    for col in df.columns:
        cp = p[col]
        assert not cp.distinct.is_exact and cp.distinct.rel_error > 0
        assert abs(cp.distinct.count() - n) <= 3 * cp.distinct.rel_error * n, col
        top = p.top_k(col, 10)
        assert len(top) <= 10
        if cp.topk is not None:
            assert len(cp.topk.counts) <= TOPK_CAPACITY
            true = df[col].value_counts()
            assert all(c <= true[v] <= c + cp.topk.error for v, c in top)
    assert p.duplicate_rows == 0
    assert any(w["warning"] == "high_cardinality" and w["column"] == "id" for w in p.warnings())


# ---------------------------------------------------------------- text

UNICODE = ["café", unicodedata.normalize("NFD", "café"), "日本語", "👩‍👩‍👧", "שלום", "a\u200bb", "", " ",
           "Ω", "Ω", "\x00nul", None, "🇩🇪", "e\u0301"]


@pytest.mark.parametrize("dtype", ["str", object])
def test_unicode_strings(dtype, tmp_path):
    s = pd.Series(UNICODE, dtype=dtype)
    p = mb.profile(pd.DataFrame({"u": s}))
    r = _row(p, "u")
    lens = s.dropna().str.len()
    assert r["distinct"] == s.nunique()  # NFC and NFD forms are different strings
    assert (r["len_min"], r["len_max"]) == (lens.min(), lens.max())
    assert r["len_mean"] == pytest.approx(lens.mean())
    assert dict(p.top_k("u", 50)) == s.value_counts().to_dict()
    back = _round_trip(p, tmp_path)
    assert back.top_k("u", 50) == p.top_k("u", 50)


def test_lone_surrogates():
    "Text decoded with errors='surrogateescape' (file names, bad bytes) holds lone surrogates."
    s = pd.Series([b"ok".decode(), b"caf\xe9".decode("utf-8", "surrogateescape"), "x"], dtype=object)
    p = mb.profile(pd.DataFrame({"s": s}))
    assert _row(p, "s")["distinct"] == 3
    assert sum(c for _, c in p.top_k("s", 5)) == 3


# ---------------------------------------------------------------- unreadable sources

def test_missing_file_is_a_data_error(tmp_path):
    missing = tmp_path / "no" / "such.parquet"
    with pytest.raises(DataError) as e:
        mb.profile(missing)
    assert str(missing) in str(e.value)


def test_corrupt_parquet_is_a_data_error_without_partial_profile(tmp_path):
    d = tmp_path / "parts"
    d.mkdir()
    pd.DataFrame({"x": range(100)}).to_parquet(d / "a.parquet")
    good = (d / "a.parquet").read_bytes()
    (d / "b.parquet").write_bytes(good[: len(good) // 3])
    with pytest.raises(DataError) as e:
        mb.profile(d)
    assert str(d / "b.parquet") in str(e.value)
    with pytest.raises(DataError) as e:
        mb.profile(d / "b.parquet")
    assert str(d / "b.parquet") in str(e.value)
