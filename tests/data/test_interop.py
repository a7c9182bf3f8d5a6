"""whylogs interop, checked with whylogs' own API as the independent reader (examples live in nbs/04_interop)."""
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mlbench.data.interop import from_whylogs, import_whylogs, to_whylogs
from mlbench.data.profile import Profile, profile
from mlbench.data.sketch import EXACT_LIMIT, TOPK_CAPACITY

why = import_whylogs()
from whylogs.core.view.dataset_profile_view import DatasetProfileView  # noqa: E402

N = 20_000
NUM = ["x", "i", "b", "y"]  # numeric columns as whylogs sees them (booleans as 0/1)


@pytest.fixture(scope="module")
def df():
    rng = np.random.default_rng(7)
    x = rng.normal(10, 3, N)
    x[rng.random(N) < 0.1] = np.nan
    i = rng.integers(-50, 1000, N)
    s = pd.Series(rng.choice(["red", "green", "blue", "a much longer value"], N, p=[0.5, 0.3, 0.15, 0.05]))
    s[rng.random(N) < 0.02] = None
    return pd.DataFrame({"x": x, "i": i, "s": s, "b": rng.random(N) < 0.3,
                         "y": rng.exponential(2.0, N), "id": [f"u{k}" for k in range(N)]})


@pytest.fixture(scope="module")
def prof(df):
    return profile(df)


def test_import_is_cheap_and_whylogs_lazy():
    code = ("import numpy as np, sys; from mlbench.data import interop; "
            "assert 'whylogs' not in sys.modules and not hasattr(np, 'unicode_'); "
            "w = interop.import_whylogs(); assert np.unicode_ is np.str_ and w is sys.modules['whylogs']")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_to_whylogs_read_by_whylogs_matches_pandas(df, prof):
    view = prof.to_whylogs()
    assert isinstance(view, DatasetProfileView)
    w = view.to_pandas().loc[df.columns]
    assert (w["counts/n"] == N).all()
    assert (w["counts/null"] == df.isna().sum()).all()
    assert (w.loc[["x"], "counts/nan"] == df[["x"]].isna().sum()).all()
    assert np.allclose(w.loc[NUM, "distribution/mean"].astype(float), df[NUM].mean(), rtol=1e-12)
    assert np.allclose(w.loc[NUM, "distribution/stddev"].astype(float), df[NUM].std(), rtol=1e-9)
    assert (w.loc[NUM, "distribution/min"].astype(float) == df[NUM].min().astype(float)).all()
    assert (w.loc[NUM, "distribution/max"].astype(float) == df[NUM].max().astype(float)).all()
    assert (w.loc[NUM, "distribution/n"] == df[NUM].notna().sum()).all()
    assert w.loc["i", "ints/min"] == df.i.min() and w.loc["i", "ints/max"] == df.i.max()
    assert w.loc["b", "counts/true"] == df.b.sum()
    types = w.loc[df.columns, ["types/fractional", "types/integral", "types/string", "types/boolean"]]
    assert types.to_numpy().tolist() == [[N - df.x.isna().sum(), 0, 0, 0], [0, df.i.notna().sum(), 0, 0],
                                         [0, 0, df.s.notna().sum(), 0], [0, 0, 0, N], [N, 0, 0, 0], [0, 0, N, 0]]
    # quantiles: the value whylogs reports for q has a true rank within the KLL error of q
    for c in ("x", "y", "i"):
        v = np.sort(df[c].dropna().to_numpy(dtype=float))
        eps = 2 * prof[c].kll.normalized_rank_error(False)
        for name, q in (("q_01", 0.01), ("q_10", 0.10), ("q_25", 0.25), ("median", 0.5), ("q_90", 0.9), ("q_99", 0.99)):
            got = w.loc[c, f"distribution/{name}"]
            lo, hi = np.searchsorted(v, got, "left") / len(v), np.searchsorted(v, got, "right") / len(v)
            assert lo - eps <= q <= hi + eps, (c, name, got, lo, hi)
    # frequent items and cardinality, read back with whylogs' own accessors
    fs = view.get_column("s").get_metric("frequent_items").strings
    assert {f.value: f.est for f in fs} == df.s.value_counts().to_dict()
    assert all(f.lower == f.upper == f.est for f in fs)
    assert {f.value: f.est for f in view.get_column("b").get_metric("frequent_items").strings} == {
        "True": df.b.sum(), "False": N - df.b.sum()}
    card = w["cardinality/est"]
    for c in ("s", "b", "i"):
        assert abs(card[c] - df[c].nunique()) <= 0.01 * df[c].nunique(), c
    assert math.isnan(card["x"]) and math.isnan(card["id"])  # beyond our exact limit: left out, not invented


def test_whylogs_serialization_round_trip(df, prof):
    raw = prof.to_whylogs().serialize()
    q = from_whylogs(DatasetProfileView.deserialize(raw))
    assert q.n_rows == prof.n_rows and list(q.columns) == list(prof.columns)
    a, b = prof.to_frame(), q.to_frame()
    same = ["kind", "dtype", "count", "null_count", "nan_count", "min", "max", "top", "top_count"]
    pd.testing.assert_frame_equal(a[same], b[same], check_exact=True)
    num = ["x", "i", "b", "y"]
    for c in num:  # whylogs carries the KLL sketch (built from exact counts where mlbench kept those)
        for qq in (0.25, 0.5, 0.75):
            assert q[c].quantile(qq) == float(prof[c].kll.get_quantile(qq)), (c, qq)
    assert np.allclose(a.loc[num, "mean"].astype(float), b.loc[num, "mean"].astype(float), rtol=1e-12)
    assert np.allclose(a.loc[num, "std"].astype(float), b.loc[num, "std"].astype(float), rtol=1e-12)
    assert (a.loc[["s", "b"], "distinct"] == b.loc[["s", "b"], "distinct"]).all()
    assert abs(b.loc["i", "distinct"] - a.loc["i", "distinct"]) <= 0.03 * a.loc["i", "distinct"]  # whylogs' HLL, 1.6% s.e.
    for c in ("x", "y"):  # the KLL sketch itself crosses unchanged
        assert q[c].kll.serialize() == prof[c].kll.serialize()
    assert q.top_k("s", 4) == prof.top_k("s", 4) and dict(q.top_k("b", 2)) == dict(prof.top_k("b", 2))
    assert prof["i"].topk.error > 0 and q["i"].topk.error == prof["i"].topk.error  # over capacity: carried as is
    assert q["i"].topk.counts.to_dict() == prof["i"].topk.counts.to_dict()
    assert all(type(v) is int for v in q["i"].topk.counts.index)
    assert q.duplicate_rows == prof.duplicate_rows
    # lost on the way: skewness, string lengths, exactness of distinct counts
    assert math.isnan(q["y"].moments.skew) and math.isnan(b.loc["s", "len_mean"]) and not b.distinct_exact.any()


def test_from_whylogs_of_whylogs_logged_frame_matches_pandas(df):
    results = why.log(df)
    for src in (results.view(), results.profile(), results):  # a view, a DatasetProfile, a ResultSet
        p = Profile.from_whylogs(src)
        assert p.n_rows == N
    f = p.to_frame()
    assert f.kind.to_dict() == {"x": "numeric", "i": "integer", "s": "string", "b": "boolean", "y": "numeric",
                                "id": "string"}
    assert (f["count"] == N).all() and (f.null_count == df.isna().sum()).all()
    assert np.allclose(f.loc[NUM, "mean"].astype(float), df[NUM].mean(), rtol=1e-12)
    assert np.allclose(f.loc[NUM, "std"].astype(float), df[NUM].std(ddof=1), rtol=1e-9)
    assert (f.loc[NUM, "min"].astype(float) == df[NUM].min().astype(float)).all()
    assert (f.loc[NUM, "max"].astype(float) == df[NUM].max().astype(float)).all()
    assert p["i"].int_min == df.i.min() and p["i"].int_max == df.i.max()
    assert dict(p.top_k("s", 10)) == df.s.value_counts().to_dict() and p["s"].topk.error == 0
    assert dict(p.top_k("b", 2)) == {True: df.b.sum(), False: N - df.b.sum()}
    top_i = df.i.value_counts()
    for v, c in p.top_k("i", 5):  # whylogs' frequent-items sketch (1000+ values): counts within its error
        assert c <= top_i[v] <= c + p["i"].topk.error
    for c in ("s", "b", "i", "x", "id"):
        assert abs(p[c].distinct.count() - df[c].nunique()) <= 0.03 * df[c].nunique(), c
    for c in ("x", "y"):
        v, k = np.sort(df[c].dropna()), p[c].kll
        for q in (0.05, 0.5, 0.95):
            assert abs(np.searchsorted(v, k.get_quantile(q)) / len(v) - q) < 2 * k.normalized_rank_error(False)
    # the result behaves like any profile: merge, save/load-ready dict, warnings
    m = p.merge(profile(df))
    assert m["x"].count == 2 * N and np.isclose(m["x"].moments.mean, df.x.mean())
    assert isinstance(p.warnings(), list)


def test_frequent_items_error_bound_from_whylogs():
    vals = pd.Series((np.random.default_rng(3).zipf(1.3, 30_000) % 5000).astype(str))
    p = from_whylogs(why.log(pd.DataFrame({"v": vals})))
    t, true = p["v"].topk, vals.value_counts()
    assert t.error > 0
    for v, c in p.top_k("v", 20):
        assert c <= true[v] <= c + t.error
    assert [v for v, _ in p.top_k("v", 3)] == list(true.index[:3])


def test_cardinality_merges_with_whylogs_own():
    """to_whylogs feeds whylogs' HLL the values themselves, hashed as whylogs hashes them."""
    rng = np.random.default_rng(5)
    a = pd.DataFrame({"n": rng.integers(0, 300, 2000), "f": rng.integers(0, 300, 2000) / 4,
                      "s": rng.integers(0, 300, 2000).astype(str), "b": rng.random(2000) < 0.5})
    b = pd.DataFrame({"n": rng.integers(200, 500, 2000), "f": rng.integers(200, 500, 2000) / 4,
                      "s": rng.integers(200, 500, 2000).astype(str), "b": np.ones(2000, bool)})
    merged = to_whylogs(profile(a)).merge(why.log(b).view()).to_pandas()
    both = pd.concat([a, b])
    for c in a.columns:
        assert abs(merged.loc[c, "cardinality/est"] - both[c].nunique()) <= 0.02 * both[c].nunique(), c
    assert merged.loc["n", "counts/n"] == 4000 and np.isclose(merged.loc["f", "distribution/mean"], both.f.mean())
    assert merged.loc["n", "ints/max"] == both.n.max() and merged.loc["b", "counts/true"] == both.b.sum()


def test_cardinality_of_large_integers():
    big = 10**18 + np.arange(50)  # distinct as int64, not as float64: hashed as integers, as whylogs does
    df = pd.DataFrame({"n": big})
    w = to_whylogs(profile(df)).merge(why.log(df).view()).to_pandas()
    assert abs(w.loc["n", "cardinality/est"] - 50) < 1 and w.loc["n", "ints/max"] == big.max()


def test_cardinality_from_hashes_between_topk_and_exact_limit():
    n = np.arange(5000) % 3000  # more distinct values than the top-k holds, fewer than the exact limit
    assert TOPK_CAPACITY < 3000 < EXACT_LIMIT
    w = to_whylogs(profile(pd.DataFrame({"n": n}))).to_pandas()
    assert abs(w.loc["n", "cardinality/est"] - 3000) < 0.02 * 3000


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # whylogs' mean of ±inf
def test_infinities():
    x = np.r_[np.random.default_rng(1).normal(size=5000), [np.inf] * 7, [-np.inf] * 3, [np.nan] * 2]
    df = pd.DataFrame({"x": x})
    w = to_whylogs(profile(df)).to_pandas().loc["x"]
    ref = why.log(df).view().to_pandas().loc["x"]  # what whylogs itself records
    for k in ("counts/n", "counts/null", "counts/nan", "counts/inf", "distribution/n", "distribution/min",
              "distribution/max"):
        assert w[k] == ref[k], k
    assert np.isnan(w["distribution/mean"]) and np.isnan(ref["distribution/mean"])
    for src in (why.log(df), to_whylogs(profile(df))):
        cp = from_whylogs(src)["x"]
        assert (cp.posinf_count, cp.neginf_count, cp.null_count, cp.moments.n) == (7, 3, 2, 5000)
        assert math.isnan(cp.moments.mean)  # whylogs keeps infinities in its moments: the finite mean is lost
    only_pos = pd.DataFrame({"x": [1.0, 2.0, np.inf]})
    w = to_whylogs(profile(only_pos)).to_pandas().loc["x"]
    assert w["distribution/mean"] == only_pos.x.mean() == np.inf


def test_kinds_without_metadata():
    df = pd.DataFrame({"d": pd.date_range("2024-01-01", periods=4), "m": [1, "a", 2.5, None],
                       "e": [np.nan] * 4, "o": [None] * 4, "n": pd.array([1, None, 3, 4], dtype="Int64")})
    p = from_whylogs(why.log(df))
    assert {c: p[c].kind for c in df} == {"d": "string", "m": "string", "e": "numeric", "o": "string", "n": "integer"}
    assert p["m"].type_counts == {"int": 1, "str": 1, "float": 1} and p["n"].dtype == "Int64"
    assert p["d"].distinct.count() >= 1 and p.to_frame().shape[0] == 5  # no cardinality in whylogs for objects


def test_nullable_integers():
    df = pd.DataFrame({"n": pd.array([3, None, 1, 4], dtype="Int64")})
    w = to_whylogs(profile(df)).to_pandas().loc["n"]
    assert (w["counts/null"], w["ints/min"], w["ints/max"], w["distribution/mean"]) == (1, 1, 4, df.n.mean())


def test_bad_input():
    with pytest.raises(TypeError, match="DatasetProfileView"):
        from_whylogs(pd.DataFrame({"a": [1]}))
