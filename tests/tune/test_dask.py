"""Profiling a dask DataFrame on a real `LocalCluster` (worker processes on loopback) equals profiling it in pandas."""
import math
import pickle

import numpy as np
import pandas as pd
import pytest

import mlbench as mb

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")

N = 60_000
QS = (0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=40)
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _frame(n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    x = rng.lognormal(0, 1.5, n)
    x[rng.random(n) < 0.05] = np.nan
    x[rng.random(n) < 0.001] = np.inf
    return pd.DataFrame({
        "x": x,
        "k": rng.integers(-300, 300, n).astype(np.int64),  # fewer distinct values than top-k counters
        "k2": rng.integers(-3000, 3000, n).astype(np.int64),  # more: top-k counts become bounds
        "big": rng.integers(-2**62, 2**62, n, dtype=np.int64),
        "ni": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 50, n)), dtype="Int64"),
        "b": rng.random(n) < 0.3,
        "s": pd.Series(rng.choice(["alpha", "beta", "gamma", "δέλτα", None], n), dtype="str"),
        "t": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
    })


def _true_rank_gap(values: np.ndarray, v: float, q: float) -> float:
    "How far q lies outside [rank(< v), rank(<= v)] of v in the sorted data (0 when inside)."
    lo = np.searchsorted(values, v, side="left") / len(values)
    hi = np.searchsorted(values, v, side="right") / len(values)
    return max(lo - q, q - hi, 0.0)


def test_profile_pickles():
    "Partition profiles travel between worker processes by pickle: a Profile must survive it."
    pdf = _frame(2_000)
    p = mb.profile(pdf)
    back = pickle.loads(pickle.dumps(p))
    pd.testing.assert_frame_equal(back.to_frame(), p.to_frame())
    assert back.quantile("x", 0.5) == p.quantile("x", 0.5)


def test_dask_profile_equals_pandas_profile(client):
    pdf = _frame()
    ddf = dd.from_pandas(pdf, npartitions=6)
    assert ddf.npartitions >= 4
    with distributed.get_task_stream(client) as ts:
        pd_ = mb.profile(ddf)
    workers = {t["worker"] for t in ts.data}
    assert workers and workers <= set(client.scheduler_info()["workers"]), "profile did not run on the cluster"
    pp = mb.profile(pdf)
    assert pd_.n_rows == pp.n_rows == N
    a, b = pd_.to_frame(), pp.to_frame()
    assert list(a.index) == list(b.index) == list(pdf.columns)
    for col in ["kind", "count", "null_count", "nan_count", "posinf_count", "neginf_count", "min", "max",
                "distinct", "distinct_exact", "len_min", "len_max", "tz"]:
        pd.testing.assert_series_equal(a[col], b[col], obj=col)
    for name in ["x", "k", "k2", "big", "ni", "b"]:
        for stat in ["mean", "std"]:
            assert math.isclose(a.loc[name, stat], b.loc[name, stat], rel_tol=1e-9), (name, stat)
    # independent reference: pandas itself
    fin = pdf["x"][np.isfinite(pdf["x"])]
    assert a.loc["x", "count"] == N and a.loc["x", "null_count"] == pdf["x"].isna().sum()
    assert math.isclose(a.loc["x", "mean"], fin.mean(), rel_tol=1e-9)
    assert math.isclose(a.loc["x", "std"], fin.std(), rel_tol=1e-9)
    assert a.loc["big", "min"] == pdf["big"].min() and a.loc["big", "max"] == pdf["big"].max()
    assert a.loc["t", "min"] == pdf["t"].min() and a.loc["t", "max"] == pdf["t"].max()
    assert a.loc["s", "null_count"] == pdf["s"].isna().sum() and a.loc["s", "distinct"] == pdf["s"].nunique()
    assert dict(pd_.top_k("s", 10)) == pdf["s"].value_counts().to_dict()
    assert pd_["k"].topk.error == 0
    assert dict(pd_.top_k("k", 5000)) == pdf["k"].value_counts().to_dict()
    true = pdf["k2"].value_counts()
    err = pd_["k2"].topk.error
    for v, c in pd_.top_k("k2", 100):
        assert c <= true[v] <= c + err, (v, c, true[v], err)
    # quantiles: the rank of each answer in the true data is within the sketch's rank error
    for name, values in [("x", np.sort(fin.to_numpy())), ("k", np.sort(pdf["k"].to_numpy(float)))]:
        eps = pd_[name].kll.normalized_rank_error(False)
        for q in QS:
            assert _true_rank_gap(values, pd_.quantile(name, q), q) <= eps, (name, q)
            assert _true_rank_gap(values, pp.quantile(name, q), q) <= eps, (name, q)


def test_dask_uneven_and_empty_partitions(client):
    pdf = _frame(5_000)
    ddf = dd.from_pandas(pdf, npartitions=5)
    ddf = ddf[ddf["k"] > 0]  # partition sizes now differ; filtering to nothing leaves empty partitions
    none = ddf[ddf["k"] > 10_000]
    p = mb.profile(ddf)
    ref = pdf[pdf["k"] > 0]
    assert p.n_rows == len(ref)
    f = p.to_frame()
    assert f.loc["k", "min"] == ref["k"].min() and f.loc["k", "max"] == ref["k"].max()
    assert math.isclose(f.loc["k", "mean"], ref["k"].mean(), rel_tol=1e-9)
    assert f.loc["s", "null_count"] == ref["s"].isna().sum()
    e = mb.profile(none)
    assert e.n_rows == 0
    assert set(e.columns) == set(pdf.columns)
    assert (e.to_frame()["count"] == 0).all()
