"""Property tests: profiles merge like the data they summarise (hypothesis, hypothesis.extra.pandas)."""
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

import mlbench as mb

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXACT = ["kind", "count", "null_count", "nan_count", "posinf_count", "neginf_count", "min", "max",
         "distinct_exact", "len_min", "len_max"]
QS = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)

_specials = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0])
_text = st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["a", "b", "é", "日本", ""]))
COLUMNS = [
    column("f", dtype=float, elements=st.floats(allow_nan=True, allow_infinity=True)),  # any float64
    column("g", dtype=float, elements=st.one_of(st.floats(-1e3, 1e3), st.just(np.nan))),  # moderate values
    column("i", dtype=np.int64, elements=st.integers(-(2**63), 2**63 - 1)),
    column("j", dtype=np.int64, elements=st.integers(-20, 20)),  # small range: the bincount path
    column("s", dtype=object, elements=_text),
    column("b", dtype=bool),
    column("id", dtype=np.int64, elements=st.integers(2**62, 2**62 + 64)),  # snowflake-style IDs beyond 2**53
]


def _frames(max_size: int = 25):
    return data_frames(COLUMNS, index=range_indexes(min_size=0, max_size=max_size))


def _concat(*dfs) -> pd.DataFrame:
    out = pd.concat(dfs, ignore_index=True)
    for c in out.columns:  # concat of an all-empty part must not change the dtype
        out[c] = out[c].astype(dfs[0][c].dtype)
    return out


def _finite(df: pd.DataFrame, col: str) -> np.ndarray:
    s = df[col]
    if s.dtype == bool:
        return np.sort(s.to_numpy(float))
    v = pd.to_numeric(s, errors="coerce").to_numpy(float)
    return np.sort(v[np.isfinite(v)])


def _scale(df: pd.DataFrame, col: str) -> float:
    v = _finite(df, col)
    return float(np.abs(v).max()) if len(v) else 0.0


def _close(a, b, scale: float, n: int) -> bool:
    """Equal within rel 1e-9, or within an absolute tolerance set by the data's magnitude (cancellation); below the
    smallest normal float (subnormals: 5e-324 vs 0.0) floats have no relative precision left, so that is the floor."""
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=max(1e-12 * max(n, 1) * scale, sys.float_info.min * max(n, 1)))


def _rank_gap(sorted_values: np.ndarray, v: float, q: float) -> float:
    "How far q lies outside [rank(< v), rank(<= v)] of v in the data (0 when inside)."
    n = len(sorted_values)
    lo = np.searchsorted(sorted_values, v, side="left") / n
    hi = np.searchsorted(sorted_values, v, side="right") / n
    return max(lo - q, q - hi, 0.0)


def assert_profiles_match(got: mb.Profile, ref: mb.Profile, data: pd.DataFrame):
    "`got` (merged) agrees with `ref` (of the concatenated data): exact counts, close moments, bounded sketches."
    assert got.n_rows == ref.n_rows == len(data)
    assert got.duplicate_rows == ref.duplicate_rows
    a, b = got.to_frame(), ref.to_frame()
    assert list(a.index) == list(b.index)
    for col in EXACT:
        pd.testing.assert_series_equal(a[col], b[col], obj=col)
    for name in a.index:
        g, r = got[name], ref[name]
        scale, n = _scale(data, name), len(data)
        for stat in ("mean", "std"):
            assert _close(a.loc[name, stat], b.loc[name, stat], scale, n), (name, stat, a.loc[name, stat],
                                                                            b.loc[name, stat])
        if r.distinct.is_exact:
            assert g.distinct.is_exact and g.distinct.count() == r.distinct.count(), name
        else:
            tol = 3 * max(g.distinct.rel_error, r.distinct.rel_error) * r.distinct.count()
            assert abs(g.distinct.count() - r.distinct.count()) <= tol, name
        if g.kind in ("numeric", "integer", "boolean") and g.moments.n:
            values = _finite(data, name)
            eps = 2 * max(g.kll.normalized_rank_error(False), r.kll.normalized_rank_error(False))
            for q in QS:
                assert _rank_gap(values, float(got.quantile(name, q)), q) <= eps, (name, q)
                assert _rank_gap(values, float(ref.quantile(name, q)), q) <= eps, (name, q)
        if g.topk is not None and r.topk is not None and g.topk.error == 0 and r.topk.error == 0:
            gk, rk = got.top_k(name, 10_000), ref.top_k(name, 10_000)
            assert dict(gk) == dict(rk), name
            assert [c for _, c in gk] == sorted((c for _, c in gk), reverse=True), name


@SETTINGS
@given(a=_frames(), b=_frames())
def test_merge_equals_profile_of_concatenation(a, b):
    both = _concat(a, b)
    assert_profiles_match(mb.profile(a).merge(mb.profile(b)), mb.profile(both), both)


@SETTINGS
@given(a=_frames(15), b=_frames(15), c=_frames(15))
def test_merge_is_associative(a, b, c):
    pa, pb, pc = mb.profile(a), mb.profile(b), mb.profile(c)
    left, right = pa.merge(pb).merge(pc), pa.merge(pb.merge(pc))
    abc = _concat(a, b, c)
    assert_profiles_match(left, right, abc)
    assert_profiles_match(left, mb.profile(abc), abc)


@SETTINGS
@given(a=_frames(), b=_frames())
def test_chunked_profile_equals_whole(a, b):
    "Profiling an iterable of chunks is merging their profiles."
    both = _concat(a, b)
    assert_profiles_match(mb.profile(iter([a, b])), mb.profile(both), both)


@SETTINGS
@given(df=_frames())
def test_save_load_round_trip(df):
    p = mb.profile(df)
    with tempfile.TemporaryDirectory() as d:
        back = mb.Profile.load(p.save(Path(d) / "p.json.gz"))
    pd.testing.assert_frame_equal(back.to_frame(), p.to_frame())
    assert back.n_rows == p.n_rows and back.duplicate_rows == p.duplicate_rows
    for name in p.columns:
        assert back.top_k(name, 50) == p.top_k(name, 50), name


@SETTINGS
@given(df=_frames())
def test_profile_agrees_with_pandas(df):
    "The independent reference: pandas' own counts, min/max and moments of the finite values."
    f = mb.profile(df).to_frame()
    for name in df.columns:
        s = df[name]
        assert f.loc[name, "count"] == len(s)
        assert f.loc[name, "null_count"] == s.isna().sum()
        if name in ("f", "g", "i", "j"):
            fin = pd.Series(_finite(df, name))
            assert f.loc[name, "posinf_count"] == (s == np.inf).sum()
            assert f.loc[name, "neginf_count"] == (s == -np.inf).sum()
            if len(fin) and name in ("i", "j"):
                assert f.loc[name, "min"] == s.min() and f.loc[name, "max"] == s.max()
            elif len(fin):
                assert f.loc[name, "min"] == fin.min() and f.loc[name, "max"] == fin.max()
            if len(fin):  # numpy on data rescaled to [-1, 1]: sums of values near 1e308 overflow otherwise
                sc = _scale(df, name) or 1.0
                assert _close(f.loc[name, "mean"], float(np.mean(fin / sc)) * sc, sc, len(fin)), name
                if len(fin) > 1:
                    assert _close(f.loc[name, "std"], float(np.std(fin / sc, ddof=1)) * sc, sc, len(fin)), name
        if name == "s":
            assert dict(mb.profile(df).top_k(name, 100)) == s.value_counts().to_dict()


def _two_rows(**cols) -> pd.DataFrame:
    "A two-row frame of COLUMNS' dtypes, zeros unless given."
    base = {c.name: pd.Series([0, 0], dtype=c.dtype) for c in COLUMNS}
    base["s"] = pd.Series(["a", "a"], dtype=object)
    return pd.DataFrame({**base, **{k: pd.Series(v, dtype=base[k].dtype) for k, v in cols.items()}})


@SETTINGS
@given(df=_frames())
@example(df=_two_rows(id=[2**62, 2**62 + 1]))
def test_distinct_and_duplicate_rows_agree_with_pandas(df):
    "Exact distinct counts (small data) are pandas' nunique; duplicate rows are pandas' duplicated()."
    p = mb.profile(df)
    for name in df.columns:
        s = df[name]
        if s.dtype == float:
            s = s.replace(-0.0, 0.0)
        assert p[name].distinct.is_exact
        assert p[name].distinct.count() == s.nunique(dropna=True), name
    assert p.duplicate_rows == int(df.duplicated().sum())


# every normal float64 magnitude, decades drawn evenly
_any_float = st.one_of(st.builds(lambda m, e: m * 10.0**e, st.floats(1, 9.99) | st.floats(-9.99, -1),
                                 st.integers(-307, 307)),
                       _specials)
_x_frames = st.lists(_any_float, max_size=20).map(lambda v: pd.DataFrame({"x": np.array(v, dtype=float)}))


@settings(max_examples=200, deadline=None)
@given(a=_x_frames, b=_x_frames)
@example(a=pd.DataFrame({"x": [1e120]}), b=pd.DataFrame({"x": [0.0, 3e120, -2e120]}))
@example(a=pd.DataFrame({"x": [1e-120]}), b=pd.DataFrame({"x": [0.0, 3e-120, 2e-120]}))
@example(a=pd.DataFrame({"x": [0.0]}), b=pd.DataFrame({"x": [1e-108, 0.0]}))  # an all-zero part merged in
def test_moments_of_any_float_magnitude(a, b):
    "Any float64 data: profile, merge and to_frame work, and mean/std match numpy on rescaled data."
    both = _concat(a, b)
    merged = mb.profile(a).merge(mb.profile(b))
    whole = mb.profile(both)
    fin = _finite(both, "x")
    for p in (merged, whole):
        row = p.to_frame().loc["x"]
        if len(fin) == 0:
            continue
        s = float(np.abs(fin).max()) or 1.0
        assert _close(row["mean"], float(np.mean(fin / s)) * s, s, len(fin))
        if len(fin) > 1:
            assert _close(row["std"], float(np.std(fin / s, ddof=1)) * s, s, len(fin))


def _big_parts(seed: int) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    out = []
    for n in rng.integers(3_000, 12_000, size=3):
        x = rng.standard_t(3, n) * 10 ** rng.uniform(-3, 6)
        x[rng.random(n) < 0.05] = np.nan
        out.append(pd.DataFrame({
            "x": x,
            "id": pd.Series([f"u{v}" for v in rng.integers(0, 40_000, n)], dtype="str"),
            "n": rng.integers(0, 10**12, n).astype(np.int64),
        }))
    return out


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_merge_of_approximate_sketches(seed):
    "Large parts: KLL compacts, distinct counts switch to HyperLogLog; the merge stays within the sketches' errors."
    a, b, c = _big_parts(seed)
    abc = _concat(a, b, c)
    merged = mb.profile(a).merge(mb.profile(b)).merge(mb.profile(c))
    whole = mb.profile(abc)
    assert not whole["n"].distinct.is_exact  # the approximate regime is what this test is about
    assert_profiles_match(merged, whole, abc)
    for name in ("id", "n"):  # and both are within 3 standard errors of the truth
        truth = abc[name].nunique()
        for p in (merged, whole):
            assert abs(p[name].distinct.count() - truth) <= 3 * p[name].distinct.rel_error * truth, name
