"""Drift survives the bad inputs of BAD_INPUTS.md ("Drift", and the schema lines of "Profiles") and the issue.

Survive: a defined result or a typed error that names the column or parameter; never a crash, a division by
zero, a silent wrong answer, or a report that is not strict JSON. Every case runs on frames, on profiles and
on a profile against a frame.
"""
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import mlbench as mb
from mlbench.errors import ColumnError

RULES = {"p-value", "p-value + effect size (n > 10,000)", "insufficient data", "constant reference moved"}
TESTS = {"ks", "chi2", "missing_share", "infinite_share"}
MIXED = [1, "a", None, b"x", [1, 2], {"k": 1}, 2.5, "b", True]


def _strict_json(s: str):
    def no_constant(c):
        raise ValueError(f"non-standard JSON constant {c}")
    return json.loads(s, parse_constant=no_constant)


def _drift(ref, cur, mode: str, **kw):
    "mode: frames | profiles | profile_vs_frame | frame_vs_profile. Warnings (division by zero...) fail."
    if mode in ("profiles", "profile_vs_frame"):
        ref = mb.profile(ref)
    if mode in ("profiles", "frame_vs_profile"):
        cur = mb.profile(cur)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return mb.drift(ref, cur, **kw)


MODES = ["frames", "profiles", "profile_vs_frame", "frame_vs_profile"]


def _rows(report, column: str) -> pd.DataFrame:
    f = report.to_frame()
    return f[f.column == column].set_index("test")


def _check_well_formed(report):
    "Invariants every report keeps, whatever went in."
    f = report.to_frame()
    assert set(f.test) <= TESTS, set(f.test)
    assert set(f.rule) <= RULES, set(f.rule)
    assert f.drifted.map(lambda v: isinstance(v, (bool, np.bool_))).all()
    insufficient = f.rule == "insufficient data"
    assert f.loc[insufficient, "p_value"].isna().all() and f.loc[insufficient, "p_adjusted"].isna().all()
    assert not f.loc[insufficient, "drifted"].any()
    p = f.loc[~insufficient, ["p_value", "p_adjusted"]].to_numpy(float)
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all(), f
    assert set(report.drifted_columns) == set(f.loc[f.drifted, "column"])
    assert isinstance(report.drifted, bool)
    schema_cols = {s["column"] for s in report.schema}
    assert not schema_cols & set(report.drifted_columns)  # a schema finding is not drift
    doc = _strict_json(report.to_json())
    assert doc["drifted_columns"] == report.drifted_columns and len(doc["tests"]) == len(f)
    return f


# ---------------------------------------------------------------- the cases

def _base(n=150, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "i": rng.integers(0, 20, n),
                         "s": pd.Series(rng.choice(list("abc"), n), dtype="str")})


def _with(df, **cols):
    return df.assign(**cols)


N = 150
_r = np.random.default_rng(42)
INF_SOME = np.where(_r.random(N) < 0.05, np.inf, np.where(_r.random(N) < 0.05, -np.inf, _r.normal(size=N)))
INF_SOME2 = np.where(_r.random(N) < 0.05, np.inf, np.where(_r.random(N) < 0.05, -np.inf, _r.normal(size=N)))

CASES = {
    "only_one_side": lambda: (_with(_base(), only_ref=1.0), _with(_base(seed=1), only_cur="z")),
    "kind_numeric_to_string": lambda: (_base(), _with(_base(seed=1), x=_base(seed=1).x.round(2).astype("str"))),
    "empty_current": lambda: (_base(), _base().iloc[:0]),
    "empty_reference": lambda: (_base().iloc[:0], _base()),
    "current_no_columns": lambda: (_base(), pd.DataFrame()),
    "all_nan_both": lambda: (_with(_base(), z=np.nan), _with(_base(seed=1), z=np.nan)),
    "all_nan_current": lambda: (_base(), _with(_base(seed=1), x=np.nan, s=None)),
    "all_none_object_current": lambda: (_base(), _with(_base(seed=1), x=pd.Series([None] * N, dtype=object))),
    "constant_equal": lambda: (_with(_base(), k=5.0, c="a"), _with(_base(seed=1), k=5.0, c="a")),
    "constant_moved": lambda: (_with(_base(), k=5.0, c="a"), _with(_base(seed=1), k=6.0, c="b")),
    "constant_ref_spread_cur": lambda: (_with(_base(), k=5.0), _with(_base(seed=1), k=np.linspace(4, 6, N))),
    "n8_vs_150": lambda: (_base(), _base(seed=1).iloc[:8]),
    "n150_vs_8": lambda: (_base(seed=1).iloc[:8], _base()),
    "mixed_objects": lambda: (pd.DataFrame({"m": pd.Series(MIXED * 20, dtype=object)}),
                              pd.DataFrame({"m": pd.Series(MIXED[::-1] * 20, dtype=object)})),
    "inf_both": lambda: (_with(_base(), x=INF_SOME), _with(_base(seed=1), x=INF_SOME2)),
    "inf_current_only": lambda: (_base(), _with(_base(seed=1), x=np.where(np.arange(N) % 3 == 0, np.inf,
                                                                          _base(seed=1).x))),
    "all_inf_current": lambda: (_base(), _with(_base(seed=1), x=np.inf)),
    "int_names": lambda: (pd.DataFrame({0: np.arange(100.0), 1: list("ab") * 50}),
                          pd.DataFrame({0: np.arange(100.0) + 0.5, 1: list("ab") * 50})),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(CASES))
def test_survives(case, mode):
    ref, cur = CASES[case]()
    report = _drift(ref, cur, mode)
    _check_well_formed(report)


# ---------------------------------------------------------------- schema: columns on one side, kind changes

@pytest.mark.parametrize("mode", MODES)
def test_columns_on_one_side_are_schema_findings(mode):
    ref, cur = CASES["only_one_side"]()
    report = _drift(ref, cur, mode)
    f = _check_well_formed(report)
    found = {s["column"]: s["change"] for s in report.schema}
    assert set(found) == {"only_ref", "only_cur"}, report.schema
    assert "reference" in found["only_ref"] and "current" in found["only_cur"]
    assert not {"only_ref", "only_cur"} & set(f.column)
    assert set(f.column) == {"x", "i", "s"}


def _kind_changes():
    "name -> (reference, current, the column whose kind changed)"
    b, c = _base(), _base(seed=1)
    t = pd.Series(pd.date_range("2024-01-01", periods=N, freq="h", tz="UTC"))
    return {
        "numeric->string": (b, _with(c, x=c.x.round(2).astype("str")), "x"),
        "numeric->object strings": (b, _with(c, x=c.x.round(2).astype(str).astype(object)), "x"),
        "integer->string": (b, _with(c, i=c.i.astype("str")), "i"),
        "numeric->categorical": (b, _with(c, x=pd.Categorical(c.x.round(1))), "x"),
        "string->numeric": (b, _with(c, s=np.arange(N, dtype=float)), "s"),
        "numeric->boolean": (b, _with(c, x=c.x > 0), "x"),
        "datetime->integer": (_with(b, t=t), _with(c, t=(t - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
                                                   .astype("int64")), "t"),
    }


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("change", list(_kind_changes()))
def test_kind_change_is_schema_finding_not_drift(change, mode):
    ref, cur, col = _kind_changes()[change]
    report = _drift(ref, cur, mode)
    f = _check_well_formed(report)
    findings = [s for s in report.schema if s["column"] == col]
    assert len(findings) == 1, (change, report.schema, f[f.column == col])
    assert col not in set(f.column) and col not in report.drifted_columns
    assert not report.drifted


@pytest.mark.parametrize("mode", MODES)
def test_int_to_float_with_nan_is_not_a_kind_change(mode):
    "int64 that gains a missing value becomes float64: both sides are numbers, they are compared."
    ref = pd.DataFrame({"i": np.arange(200) % 50})
    cur = pd.DataFrame({"i": np.where(np.arange(200) % 10 == 0, np.nan, np.arange(200) % 50)})
    report = _drift(ref, cur, mode)
    _check_well_formed(report)
    assert report.schema == []
    rows = _rows(report, "i")
    assert rows.loc["ks", "rule"] == "p-value" and not rows.loc["ks", "drifted"]
    assert rows.loc["missing_share", "drifted"]  # 10% missing against none: that part moved
    assert rows.loc["missing_share", "effect"] == pytest.approx(0.1)


# ---------------------------------------------------------------- empty, all-NaN, constant

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", ["empty_current", "empty_reference"])
def test_empty_frame_insufficient_data(case, mode):
    ref, cur = CASES[case]()
    report = _drift(ref, cur, mode)
    f = _check_well_formed(report)
    assert report.schema == []
    dist = f[f.test != "missing_share"]
    assert set(dist.column) == {"x", "i", "s"}
    assert (dist.rule == "insufficient data").all() and dist.p_value.isna().all()
    assert report.drifted_columns == [] and not report.drifted


@pytest.mark.parametrize("mode", MODES)
def test_current_without_columns(mode):
    ref, cur = CASES["current_no_columns"]()
    report = _drift(ref, cur, mode)
    f = _check_well_formed(report)
    assert f.empty and not report.drifted
    assert {s["column"] for s in report.schema} == {"x", "i", "s"}


@pytest.mark.parametrize("mode", MODES)
def test_all_nan_columns(mode):
    ref, cur = CASES["all_nan_both"]()
    report = _drift(ref, cur, mode)
    _check_well_formed(report)
    z = _rows(report, "z")
    assert z.loc["ks", "rule"] == "insufficient data" and math.isnan(z.loc["ks", "p_value"])
    assert not z.drifted.any() and "z" not in report.drifted_columns
    # values in the reference, none in the current: the missing share moved from 0 to 1
    ref, cur = CASES["all_nan_current"]()
    report = _drift(ref, cur, mode)
    _check_well_formed(report)
    for col in ("x", "s"):
        rows = _rows(report, col)
        assert rows.drop(index="missing_share").rule.eq("insufficient data").all()
        assert rows.loc["missing_share", "drifted"] and rows.loc["missing_share", "effect"] == pytest.approx(1.0)
        assert col in report.drifted_columns
    assert "i" not in report.drifted_columns


@pytest.mark.parametrize("mode", MODES)
def test_all_none_object_column_is_not_a_kind_change(mode):
    ref, cur = CASES["all_none_object_current"]()
    report = _drift(ref, cur, mode)
    _check_well_formed(report)
    assert report.schema == []
    assert "x" in report.drifted_columns
    assert _rows(report, "x").loc["missing_share", "effect"] == pytest.approx(1.0)


@pytest.mark.parametrize("mode", MODES)
def test_constant_columns(mode):
    ref, cur = CASES["constant_equal"]()
    report = _drift(ref, cur, mode)  # warnings are errors: no division by zero
    f = _check_well_formed(report)
    for col in ("k", "c"):
        rows = f[f.column == col]
        assert not rows.drifted.any() and col not in report.drifted_columns
        assert (rows.rule != "constant reference moved").all()
        assert np.isfinite(rows.effect.to_numpy(float)).all() and np.isfinite(rows.statistic.to_numpy(float)).all()
    assert _rows(report, "k").loc["ks", "statistic"] == 0

    ref, cur = CASES["constant_moved"]()
    report = _drift(ref, cur, mode)
    _check_well_formed(report)
    k = _rows(report, "k").loc["ks"]
    assert k.rule == "constant reference moved" and k.drifted
    assert k.statistic == pytest.approx(1.0)
    assert {"k", "c"} <= set(report.drifted_columns)
    assert _strict_json(report.to_json())  # the infinite effect is null in JSON, not Infinity

    ref, cur = CASES["constant_ref_spread_cur"]()
    report = _drift(ref, cur, mode)
    _check_well_formed(report)
    k = _rows(report, "k").loc["ks"]
    assert k.rule == "constant reference moved" and k.drifted


# ---------------------------------------------------------------- too few values

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", ["n8_vs_150", "n150_vs_8"])
def test_n8_vs_150_insufficient_data(case, mode):
    ref, cur = CASES[case]()
    cur = cur.assign(x=cur.x + 100) if case == "n8_vs_150" else cur  # even a huge move is not judged on 8
    report = _drift(ref, cur, mode)
    f = _check_well_formed(report)
    for col, test in (("x", "ks"), ("i", "ks"), ("s", "chi2")):
        row = _rows(report, col).loc[test]
        assert row.rule == "insufficient data", (col, row)
        assert math.isnan(row.p_value) and math.isnan(row.p_adjusted) and not row.drifted
    assert not f[f.test != "missing_share"].drifted.any()
    assert not report.drifted
    # the JSON names the test and the n, with null (not NaN) for the p-value
    doc = _strict_json(report.to_json())
    ks = next(t for t in doc["tests"] if t["column"] == "x" and t["test"] == "ks")
    assert ks["p_value"] is None and ks["rule"] == "insufficient data"
    assert ks.get("n") == 8 or "8" in str(ks.get("note", "")), ks


@pytest.mark.parametrize("mode", MODES)
def test_min_n_boundary(mode):
    "29 values: insufficient data; 30 values: tested."
    ref = _base(n=200)
    for n, insufficient in ((29, True), (30, False)):
        report = _drift(ref, _base(n=n, seed=3), mode)
        _check_well_formed(report)
        assert (_rows(report, "x").loc["ks", "rule"] == "insufficient data") is insufficient, n


# ---------------------------------------------------------------- mixed objects, infinities

@pytest.mark.parametrize("mode", MODES)
def test_mixed_type_objects(mode):
    ref, cur = CASES["mixed_objects"]()
    report = _drift(ref, cur, mode)
    _check_well_formed(report)
    rows = _rows(report, "m")
    assert rows.loc["chi2", "rule"] == "p-value" and not rows.loc["chi2", "drifted"]
    assert rows.loc["chi2", "p_value"] == pytest.approx(1.0)
    # the same mixture with one value taking over: a change
    moved = pd.DataFrame({"m": pd.Series(MIXED * 5 + ["a"] * 135, dtype=object)})
    report = _drift(ref, moved, mode)
    _check_well_formed(report)
    assert "m" in report.drifted_columns


@pytest.mark.parametrize("mode", MODES)
def test_inf_on_both_sides(mode):
    ref, cur = CASES["inf_both"]()
    report = _drift(ref, cur, mode)
    _check_well_formed(report)
    ks = _rows(report, "x").loc["ks"]
    assert np.isfinite([ks.statistic, ks.p_value, ks.effect]).all(), ks  # inf never turns a number into NaN
    assert "x" not in report.drifted_columns


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", ["inf_current_only", "all_inf_current"])
def test_inf_appearing_is_not_silent(case, mode):
    "A third (or all) of the values turn +inf: that is a change, never a silent 'no drift'."
    ref, cur = CASES[case]()
    report = _drift(ref, cur, mode)
    f = _check_well_formed(report)
    flagged = "x" in report.drifted_columns or "x" in {s["column"] for s in report.schema}
    assert flagged, f[f.column == "x"]


# ---------------------------------------------------------------- a profile against a frame

def test_profile_vs_frame_equals_profile_vs_profile():
    ref, cur = _with(_base(n=3000), x2=np.linspace(0, 1, 3000)), _with(_base(n=2000, seed=1),
                                                                         x2=np.linspace(0.1, 1.1, 2000))
    pr, pc = mb.profile(ref), mb.profile(cur)
    both = mb.drift(pr, pc).to_frame()
    pd.testing.assert_frame_equal(mb.drift(pr, cur).to_frame(), both)
    pd.testing.assert_frame_equal(mb.drift(ref, pc).to_frame(), both)
    assert "x2" in mb.drift(pr, cur).drifted_columns


# ---------------------------------------------------------------- arguments

def test_columns_selects():
    ref, cur = _base(), _base(seed=1)
    report = mb.drift(ref, cur, columns=["x"])
    assert set(report.to_frame().column) == {"x"}


@pytest.mark.parametrize("mode", ["frames", "profiles"])
@pytest.mark.parametrize("missing, where", [("zzz", "neither"), ("only_ref", "reference")])
def test_columns_missing_names_it(missing, where, mode):
    ref, cur = _with(_base(), only_ref=1.0), _base(seed=1)
    with pytest.raises(ColumnError) as e:
        _drift(ref, cur, mode, columns=["x", missing])
    assert e.value.column == missing and repr(missing) in str(e.value)
    assert isinstance(e.value, ValueError)
    msg = str(e.value)
    if "in both" in msg:  # a list of the usable columns must not include the one that is missing
        assert missing not in msg.split("in both", 1)[1], msg


def test_columns_as_single_string():
    "columns='xy' (a name, not a list): treat it as ['xy'] or say the parameter is wrong, never split it up."
    ref, cur = _with(_base(), xy=np.arange(N, dtype=float)), _with(_base(seed=1), xy=np.arange(N, dtype=float))
    try:
        report = mb.drift(ref, cur, columns="xy")
    except (TypeError, ValueError) as e:
        assert "columns" in str(e) and not isinstance(e, ColumnError), e
    else:
        assert set(report.to_frame().column) == {"xy"}


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, float("nan"), float("inf")])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        mb.drift(_base(), _base(seed=1), alpha=alpha)


@pytest.mark.parametrize("alpha", ["0.05", None, [0.05]])
def test_alpha_of_wrong_type_names_it(alpha):
    with pytest.raises((ValueError, TypeError), match="alpha"):
        mb.drift(_base(), _base(seed=1), alpha=alpha)


@pytest.mark.parametrize("tests", ["bogus", None, "AUTO", "", "ks"])
def test_bad_tests(tests):
    with pytest.raises(ValueError, match="tests"):
        mb.drift(_base(), _base(seed=1), tests=tests)


@pytest.mark.parametrize("drift_share", [-0.1, 1.5, float("nan")])
def test_bad_drift_share(drift_share):
    "Outside [0, 1] (or NaN) the dataset verdict is meaningless; NaN would even make to_json() non-strict."
    with pytest.raises(ValueError, match="drift_share"):
        mb.drift(_base(), _base(seed=1), drift_share=drift_share)


@pytest.mark.parametrize("bad", [None, [1, 2], np.zeros((3, 2))])
def test_bad_reference_or_current_type(bad):
    with pytest.raises(TypeError, match="reference"):
        mb.drift(bad, _base())
    with pytest.raises(TypeError, match="current"):
        mb.drift(_base(), bad)
    with pytest.raises(TypeError, match="current"):
        mb.drift(mb.profile(_base()), bad)


def test_duplicate_column_names_refused():
    dup = pd.concat([_base(), _base(seed=1)[["x"]]], axis=1)
    with pytest.raises(ValueError, match="'x'"):
        mb.drift(dup, _base())
    with pytest.raises(ValueError, match="'x'"):
        mb.drift(_base(), dup)
