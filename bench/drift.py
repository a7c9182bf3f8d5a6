"""Benchmark: `mlbench.drift.report` against Evidently's `DataDriftPreset`.

Builds a reference and a current frame (fixed seed) with drift planted in known columns,
checks that each tool names the planted columns (precision, recall) and that mlbench's KS
statistics match scipy's, measures false alarms on data without drift at n = 10^4, 10^5
and 10^6, then times the sides alternately (A B A B ...) and reports the median of the
repetitions. Human-readable lines first, one JSON line last on stdout.

    .venv/bin/python bench/drift.py                   # 1,000,000 rows x 20 columns per side
    .venv/bin/python bench/drift.py --rows 100000     # quick run, about a minute

Evidently needs pandas<3, so it runs from `.venv-peers` (`make .venv-peers`) as one
long-lived subprocess that reads Parquet copies of the same frames and times its own
`Report([DataDriftPreset()]).run(current, reference)`; its telemetry is switched off
(`DO_NOT_TRACK`, `EVIDENTLY_DISABLE_TELEMETRY`).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ratio, rnd, timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261124
ALPHA = 0.05
N_LEVELS = 20
# Planted drift (current side only); every other column has the same distribution on both sides.
PLANTED = {
    "f00": "mean +0.3 sd (normal)",
    "f03": "sd x1.3 (normal)",
    "f08": "mean +0.3 sd (uniform)",
    "i01": "mean +0.3 sd (integers 0..10^4)",
    "s01": "level 00's share 5% -> 20%",
    "s03": "levels 00-04's share 5% -> 9% each",
}
KS_COLUMNS = ["f00", "f01", "f03", "f05", "f08", "i00", "i01", "i03"]  # compared with scipy.stats.ks_2samp
KS_TOL = 0.01
FA_SIZES = (10_000, 100_000, 1_000_000)
TARGETS = dict(speedup_vs_evidently=100.0, precision=1.0, recall=1.0, false_alarm=0.07,
               ks_max_abs_diff=KS_TOL, profile_vs_profile_100_cols_ms=50.0)


# ---------------------------------------------------------------- data

def make_frame(rows: int, seed: int, drift: bool = False, n_float: int = 12, n_int: int = 4,
               n_str: int = 4) -> pd.DataFrame:
    """`n_float` float64 (normal, lognormal, uniform; 2% NaN), `n_int` int64 and `n_str` `str`
    columns of 20 levels. With `drift`, the columns of `PLANTED` move as described there."""
    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(n_float):
        name = f"f{i:02d}"
        if i % 3 == 0:
            mu, sd = float(i % 12), 1.0 + i % 12
            if drift and name == "f00":
                mu += 0.3 * sd
            if drift and name == "f03":
                sd *= 1.3
            x = rng.normal(mu, sd, rows)
        elif i % 3 == 1:
            x = rng.lognormal(0.0, 0.5 + (i % 12) / 12, rows)
        else:
            lo, hi = -float(i % 12), 10.0 * (i % 12)
            shift = 0.3 * (hi - lo) / math.sqrt(12) if drift and name == "f08" else 0.0
            x = rng.uniform(lo, hi, rows) + shift
        x[rng.random(rows) < 0.02] = np.nan
        cols[name] = x
    for i in range(n_int):
        name = f"i{i:02d}"
        hi = (100, 10_000, 1_000_000, 10**12)[i % 4]
        shift = round(0.3 * hi / math.sqrt(12)) if drift and name == "i01" else 0
        cols[name] = rng.integers(0, hi, rows, dtype=np.int64) + shift
    for i in range(n_str):
        name = f"s{i:02d}"
        p = np.full(N_LEVELS, 1 / N_LEVELS)
        if drift and name == "s01":
            p = p * 0.80 / 0.95
            p[0] = 0.20
        if drift and name == "s03":
            p[:5] = 0.09
            p[5:] = (1 - p[:5].sum()) / (N_LEVELS - 5)
        levels = np.array([f"col{i}_level_{j:02d}" for j in range(N_LEVELS)], dtype=object)
        cols[name] = pd.Series(levels[rng.choice(N_LEVELS, rows, p=p / p.sum())], dtype="str")
    return pd.DataFrame(cols)


def make_wide_frame(rows: int, seed: int, drift: bool) -> pd.DataFrame:
    "100 columns (60 float, 20 int, 20 str) for the profile-vs-profile timing."
    return make_frame(rows, seed, drift, n_float=60, n_int=20, n_str=20)


# ---------------------------------------------------------------- Evidently (subprocess)

# Runs in .venv-peers (pandas<3) and stays up: each line on stdin names a reference and a
# current Parquet file; it answers one line "@@" + JSON with the compute time and, per
# column, Evidently's method, threshold, score and verdict. The last pair read is cached.
EVIDENTLY_CHILD = r'''
import json, sys, time, warnings
warnings.filterwarnings("ignore")
t0 = time.perf_counter()
import pandas as pd
import evidently
from evidently import Report
from evidently.presets import DataDriftPreset
print("@@" + json.dumps(dict(ready=True, version=evidently.__version__, pandas=pd.__version__,
                             import_s=time.perf_counter() - t0)), flush=True)
cache = {}
for line in sys.stdin:
    job = json.loads(line)
    key = (job["ref"], job["cur"])
    if key not in cache:
        cache.clear()
        t1 = time.perf_counter()
        cache[key] = (pd.read_parquet(job["ref"]), pd.read_parquet(job["cur"]))
        read_s = time.perf_counter() - t1
    else:
        read_s = 0.0
    ref, cur = cache[key]
    t2 = time.perf_counter()
    snap = Report([DataDriftPreset()]).run(cur, ref)
    compute_s = time.perf_counter() - t2
    cols = {}
    for m in snap.dict()["metrics"]:
        cfg = m["config"]
        if not cfg["type"].endswith("ValueDrift"):
            continue
        method, thr, v = cfg["method"], cfg["threshold"], m["value"]
        # Evidently's rules: p-value tests drift below the threshold (K-S at or below), distances at or above it
        if "p_value" in method:
            drifted = v <= thr if method.startswith("K-S") else v < thr
        else:
            drifted = v >= thr
        cols[cfg["column"]] = dict(method=method, threshold=thr, value=v, drifted=bool(drifted))
    print("@@" + json.dumps(dict(compute_s=compute_s, read_s=read_s, n_rows=[len(ref), len(cur)], columns=cols)),
          flush=True)
'''


class Evidently:
    "The long-lived Evidently subprocess."

    def __init__(self, python: Path):
        env = dict(os.environ, DO_NOT_TRACK="1", EVIDENTLY_DISABLE_TELEMETRY="1", MPLBACKEND="Agg")
        self.p = subprocess.Popen([str(python), "-c", EVIDENTLY_CHILD], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env)
        self.info = self._answer()

    def _answer(self) -> dict:
        for line in self.p.stdout:
            if line.startswith("@@"):
                return json.loads(line[2:])
        sys.exit(f"Evidently subprocess ended (exit {self.p.wait()}); its errors are above")

    def run(self, ref: Path, cur: Path) -> dict:
        self.p.stdin.write(json.dumps(dict(ref=str(ref), cur=str(cur))) + "\n")
        self.p.stdin.flush()
        return self._answer()

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=60)


# ---------------------------------------------------------------- helpers

def prec_rec(found, planted) -> tuple[float | None, float]:
    found, planted = set(found), set(planted)
    hit = len(found & planted)
    return (hit / len(found) if found else None), hit / len(planted)


def ev_drifted(out: dict) -> list[str]:
    return sorted(c for c, v in out["columns"].items() if v["drifted"])


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    df.to_parquet(path, index=False)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of each of the reference and current frames")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of the mlbench sides (median reported)")
    ap.add_argument("--evidently-reps", type=int, default=3, help="repetitions of Evidently (median reported)")
    ap.add_argument("--fa-reps", default="20,3,2",
                    help="mlbench false-alarm repetitions at n = 1e4,1e5,1e6 (fresh data each)")
    ap.add_argument("--fa-evidently-reps", default="3,1,1",
                    help="Evidently false-alarm repetitions at n = 1e4,1e5,1e6 (the first of mlbench's)")
    ap.add_argument("--fa-max-rows", type=int, default=None,
                    help="skip false-alarm sizes above this (default: --rows)")
    ap.add_argument("--pvp-rows", type=int, default=100_000, help="rows behind each 100-column profile")
    ap.add_argument("--skip-evidently", action="store_true", help="do not run Evidently")
    ap.add_argument("--peers-python", type=Path, default=ROOT / ".venv-peers" / "bin" / "python",
                    help="python of the environment with Evidently (pandas<3)")
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args(argv)
    fa_reps = [int(x) for x in a.fa_reps.split(",")]
    fa_ev_reps = [0] * 3 if a.skip_evidently else [int(x) for x in a.fa_evidently_reps.split(",")]
    fa_max = a.fa_max_rows or a.rows
    ev_reps = 0 if a.skip_evidently else a.evidently_reps
    if not a.skip_evidently and not a.peers_python.exists():
        sys.exit(f"{a.peers_python} not found: run `make .venv-peers` first, or pass --skip-evidently")

    import scipy
    from scipy.stats import ks_2samp

    import mlbench as mb
    from mlbench.drift.report import drift

    load_before = os.getloadavg()[0]
    t_start = time.perf_counter()
    data_dir = ROOT / "bench" / "_data" / f"drift_{os.getpid()}"
    data_dir.mkdir(parents=True, exist_ok=True)
    ev = Evidently(a.peers_python) if ev_reps else None
    try:
        t0 = time.perf_counter()
        ref = make_frame(a.rows, a.seed)
        cur = make_frame(a.rows, a.seed + 1, drift=True)
        frame_bytes = int(ref.memory_usage(deep=True).sum())
        print(f"frames: 2 x {len(ref):,} rows x {ref.shape[1]} columns "
              f"({ref.dtypes.astype(str).value_counts().to_dict()}), {frame_bytes / 1e6:.1f} MB each, "
              f"built in {time.perf_counter() - t0:.2f} s; {os.cpu_count()} CPUs", flush=True)
        print("planted drift: " + "; ".join(f"{c} {d}" for c, d in PLANTED.items()), flush=True)
        if ev:
            print(f"Evidently {ev.info['version']} (pandas {ev.info['pandas']}) up; import "
                  f"{ev.info['import_s']:.1f} s", flush=True)
            ref_pq = write_parquet(ref, data_dir / "ref.parquet")
            cur_pq = write_parquet(cur, data_dir / "cur.parquet")
            warm_ref = write_parquet(ref.head(2000), data_dir / "warm_ref.parquet")
            warm_cur = write_parquet(cur.head(2000), data_dir / "warm_cur.parquet")
            ev.run(warm_ref, warm_cur)  # first-call costs out of the timings (its Parquet reads are never timed)
        # warm-up: imports and first calls
        w_ref, w_cur = ref.head(2000), cur.head(2000)
        drift(w_ref, w_cur, alpha=ALPHA), drift(mb.profile(w_ref), mb.profile(w_cur), alpha=ALPHA)

        sides = ["mlbench", "mlbench_profiling", "mlbench_profiles", "evidently"]
        times = {s: [] for s in sides}
        res = {}
        for rep in range(max(a.reps, ev_reps)):
            if rep < a.reps:
                t, res["mlbench"] = timed(lambda: drift(ref, cur, alpha=ALPHA))
                times["mlbench"].append(t)
                t, res["profiles"] = timed(lambda: (mb.profile(ref), mb.profile(cur)))
                times["mlbench_profiling"].append(t)
                p_ref, p_cur = res["profiles"]
                t, res["mlbench_p"] = timed(lambda: drift(p_ref, p_cur, alpha=ALPHA))
                times["mlbench_profiles"].append(t)
            if rep < ev_reps:
                res["evidently"] = ev.run(ref_pq, cur_pq)
                assert res["evidently"]["n_rows"] == [a.rows, a.rows], res["evidently"]["n_rows"]
                times["evidently"].append(res["evidently"]["compute_s"])
            print(f"rep {rep + 1}: " + ", ".join(f"{s} {v[rep]:.3f} s" for s, v in times.items() if len(v) > rep),
                  flush=True)

        print(f"timings done at {time.perf_counter() - t_start:.0f} s", flush=True)

        # correctness before speed
        failures = []
        planted = sorted(PLANTED)
        mb_found = sorted(res["mlbench"].drifted_columns)
        mbp_found = sorted(res["mlbench_p"].drifted_columns)
        ev_found = ev_drifted(res["evidently"]) if ev else None
        precision, recall = prec_rec(mb_found, planted)
        p_precision, p_recall = prec_rec(mbp_found, planted)
        ev_precision, ev_recall = prec_rec(ev_found, planted) if ev else (None, None)
        print(f"planted:            {planted}")
        print(f"mlbench (frames):   {mb_found}  precision {precision}, recall {recall}")
        print(f"mlbench (profiles): {mbp_found}  precision {p_precision}, recall {p_recall}")
        if ev:
            print(f"Evidently:          {ev_found}  precision {ev_precision}, recall {ev_recall}")
        if precision != 1.0 or recall != 1.0:
            failures.append(f"mlbench (frames) named {mb_found}, planted {planted}")
        if p_precision != 1.0 or p_recall != 1.0:
            failures.append(f"mlbench (profiles) named {mbp_found}, planted {planted}")

        fr, frp = res["mlbench"].to_frame(), res["mlbench_p"].to_frame()
        ks_rows = []
        for col in KS_COLUMNS:
            x, y = ref[col].to_numpy(np.float64), cur[col].to_numpy(np.float64)
            sp = ks_2samp(x[np.isfinite(x)], y[np.isfinite(y)])
            d = float(fr.loc[(fr.column == col) & (fr.test == "ks"), "statistic"].iloc[0])
            dp = float(frp.loc[(frp.column == col) & (frp.test == "ks"), "statistic"].iloc[0])
            ks_rows.append((col, float(sp.statistic), d, dp))
            print(f"KS {col}: scipy {sp.statistic:.5f}  mlbench frames {d:.5f} (diff {d - sp.statistic:+.5f})"
                  f"  profiles {dp:.5f} (diff {dp - sp.statistic:+.5f})")
        ks_diff = max(abs(d - s) for _, s, d, _ in ks_rows)
        ks_diff_p = max(abs(dp - s) for _, s, _, dp in ks_rows)
        if ks_diff > KS_TOL:
            failures.append(f"mlbench KS (frames) differs from scipy by {ks_diff:.4f} > {KS_TOL}")

        # false alarms on data without drift: share of (column, repetition) pairs flagged
        print("false alarms (share of no-drift columns flagged; reference and current from one distribution):",
              flush=True)
        false_alarm = {}
        for k, n in enumerate(FA_SIZES):
            key = f"1e{round(math.log10(n))}"
            if n > fa_max:
                false_alarm[key] = None
                print(f"  n = {n:>9,}: skipped (above --fa-max-rows {fa_max:,})")
                continue
            flags = {"mlbench": [], "mlbench_profiles": [], "evidently": []}
            runs_any = {s: [] for s in flags}
            fa_times = {"mlbench": [], "evidently": []}
            for r in range(max(fa_reps[k], fa_ev_reps[k])):
                s = a.seed + 1000 * (k + 1) + 2 * r
                fa_ref, fa_cur = make_frame(n, s), make_frame(n, s + 1)
                if r < fa_reps[k]:
                    t, rep_ = timed(lambda: drift(fa_ref, fa_cur, alpha=ALPHA))
                    fa_times["mlbench"].append(t)
                    found = rep_.drifted_columns
                    flags["mlbench"].append(len(found))
                    runs_any["mlbench"].append(bool(found))
                    found = drift(mb.profile(fa_ref), mb.profile(fa_cur), alpha=ALPHA).drifted_columns
                    flags["mlbench_profiles"].append(len(found))
                    runs_any["mlbench_profiles"].append(bool(found))
                if r < fa_ev_reps[k]:
                    # fresh file names: the subprocess caches the last pair by path
                    pq = [write_parquet(x, data_dir / f"fa_{n}_{r}_{side}.parquet")
                          for x, side in ((fa_ref, "ref"), (fa_cur, "cur"))]
                    out = ev.run(*pq)
                    for f in pq:
                        f.unlink()
                    assert out["n_rows"] == [n, n], out["n_rows"]
                    fa_times["evidently"].append(out["compute_s"])
                    flags["evidently"].append(len(ev_drifted(out)))
                    runs_any["evidently"].append(bool(ev_drifted(out)))
            ncol = fa_ref.shape[1]
            entry = {s: (rnd(sum(v) / (ncol * len(v)), 4) if v else None) for s, v in flags.items()}
            entry["any_column"] = {s: (rnd(sum(v) / len(v), 3) if v else None) for s, v in runs_any.items()}
            entry["reps"] = {s: len(v) for s, v in flags.items()}
            entry["cols"] = ncol
            entry["seconds"] = {s: (rnd(statistics.median(v), 4) if v else None) for s, v in fa_times.items()}
            false_alarm[key] = entry
            print(f"  n = {n:>9,}: mlbench {entry['mlbench']} ({sum(flags['mlbench'])} of "
                  f"{ncol * len(flags['mlbench'])}), mlbench profiles {entry['mlbench_profiles']} "
                  f"({sum(flags['mlbench_profiles'])} of {ncol * len(flags['mlbench_profiles'])}), Evidently "
                  f"{entry['evidently']} ({sum(flags['evidently'])} of {ncol * len(flags['evidently'])}); runs with "
                  f"any column flagged: {entry['any_column']}; median s: {entry['seconds']} [at {time.perf_counter() - t_start:.0f} s]", flush=True)
            fa_ref = fa_cur = None
        fa_worst = max((e["mlbench"] for e in false_alarm.values() if e), default=None)
        fa_worst_p = max((e["mlbench_profiles"] for e in false_alarm.values() if e), default=None)

        # profile-vs-profile drift over 100 columns: two stored profiles, loaded back
        t0 = time.perf_counter()
        w_ref, w_cur = make_wide_frame(a.pvp_rows, a.seed + 7, False), make_wide_frame(a.pvp_rows, a.seed + 8, True)
        mb.profile(w_ref).save(data_dir / "wide_ref.mlprofile")
        mb.profile(w_cur).save(data_dir / "wide_cur.mlprofile")
        w_ref = w_cur = None
        pw_ref, pw_cur = (mb.Profile.load(data_dir / f"wide_{s}.mlprofile") for s in ("ref", "cur"))
        built_s = time.perf_counter() - t0
        drift(pw_ref, pw_cur, alpha=ALPHA)  # warm
        pvp = []
        while len(pvp) < max(a.reps, 5) and not (len(pvp) >= 3 and sum(pvp) > 5.0):  # 3 reps when slow
            pvp.append(timed(lambda: drift(pw_ref, pw_cur, alpha=ALPHA))[0])
        pvp_ms = statistics.median(pvp) * 1000
        print(f"profile-vs-profile drift, {len(pw_ref.columns)} columns ({a.pvp_rows:,} rows behind each stored "
              f"profile; built, saved and loaded in {built_s:.1f} s): {pvp_ms:.1f} ms (median of {len(pvp)})",
              flush=True)
    finally:
        if ev:
            ev.close()
        shutil.rmtree(data_dir, ignore_errors=True)

    if failures:
        print(f"CORRECTNESS FAILED: {len(failures)} checks", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        sys.exit(1)

    med = {s: (statistics.median(v) if v else None) for s, v in times.items()}
    result = {
        "bench": "drift", "rows": len(ref), "cols": ref.shape[1],
        "mlbench_s": rnd(med["mlbench"]), "mlbench_profiles_s": rnd(med["mlbench_profiles"]),
        "mlbench_profiling_s": rnd(med["mlbench_profiling"]), "evidently_s": rnd(med["evidently"]),
        "speedup_vs_evidently": rnd(ratio(med["evidently"], med["mlbench"]), 1),
        "speedup_vs_evidently_profiles": rnd(ratio(med["evidently"], med["mlbench_profiles"]), 1),
        "speedup_vs_evidently_profiling_plus_drift": rnd(
            ratio(med["evidently"], None if med["mlbench_profiling"] is None
                  else med["mlbench_profiling"] + med["mlbench_profiles"]), 1),
        "precision": precision, "recall": recall,
        "profiles_precision": p_precision, "profiles_recall": p_recall,
        "evidently_precision": rnd(ev_precision, 3), "evidently_recall": rnd(ev_recall, 3),
        "planted": planted, "mlbench_drifted": mb_found, "mlbench_profiles_drifted": mbp_found,
        "evidently_drifted": ev_found,
        "evidently_methods": sorted({v["method"] for v in res["evidently"]["columns"].values()}) if ev else None,
        "ks_max_abs_diff": rnd(ks_diff, 5), "ks_profiles_max_abs_diff": rnd(ks_diff_p, 5),
        "ks_columns": KS_COLUMNS,
        "false_alarm": false_alarm,
        "profile_vs_profile_100_cols_ms": round(pvp_ms, 2), "pvp_rows": a.pvp_rows,
        "alpha": ALPHA, "reps": a.reps, "evidently_reps": ev_reps,
        "fa_reps": fa_reps, "fa_evidently_reps": fa_ev_reps,
        "frame_mb": round(frame_bytes / 1e6, 1),
        "cpus": os.cpu_count(), "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "seed": a.seed, "wall_s": round(time.perf_counter() - t_start, 1),
        "versions": {"mlbench": mb.__version__, "pandas": pd.__version__, "numpy": np.__version__,
                     "scipy": scipy.__version__, "evidently": ev.info["version"] if ev else None,
                     "peers_pandas": ev.info["pandas"] if ev else None, "pyarrow": md.version("pyarrow")},
    }
    result["targets_met"] = {
        "speedup_vs_evidently": None if result["speedup_vs_evidently"] is None
        else result["speedup_vs_evidently"] >= TARGETS["speedup_vs_evidently"],
        "precision": precision == TARGETS["precision"], "recall": recall == TARGETS["recall"],
        "false_alarm": None if fa_worst is None else fa_worst <= TARGETS["false_alarm"],
        "false_alarm_profiles": None if fa_worst_p is None else fa_worst_p <= TARGETS["false_alarm"],
        "ks_max_abs_diff": ks_diff <= TARGETS["ks_max_abs_diff"],
        "profile_vs_profile_100_cols_ms": pvp_ms <= TARGETS["profile_vs_profile_100_cols_ms"],
    }

    print(f"mlbench drift (frames)      {med['mlbench']:8.3f} s  (median of {a.reps})")
    print(f"mlbench drift (profiles)    {med['mlbench_profiles']:8.3f} s  (profiles made beforehand; "
          f"profiling both frames took {med['mlbench_profiling']:.3f} s)")
    if ev:
        print(f"Evidently DataDriftPreset   {med['evidently']:8.3f} s  (median of {ev_reps}, compute only; mlbench "
              f"{result['speedup_vs_evidently']:.1f}x faster on frames, target >= "
              f"{TARGETS['speedup_vs_evidently']:g}x; {result['speedup_vs_evidently_profiles']:.0f}x on stored "
              f"profiles, {result['speedup_vs_evidently_profiling_plus_drift']:.1f}x profiling + drift)")
    else:
        print("Evidently                   skipped")
    print(f"KS vs scipy: max |diff| {ks_diff:.5f} on frames (target <= {KS_TOL}), {ks_diff_p:.5f} on profiles")
    print(f"false alarms (mlbench, worst size): {fa_worst} (target <= {TARGETS['false_alarm']}); "
          f"profiles {fa_worst_p}")
    print(f"profile-vs-profile 100 columns: {pvp_ms:.1f} ms (target <= {TARGETS['profile_vs_profile_100_cols_ms']:g} ms)")
    missed = [k for k, v in result["targets_met"].items() if v is False]
    print("targets missed: " + (", ".join(missed) if missed else "none"))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
