"""Benchmark: `mlbench.data.profile` against pandas `describe`, whylogs and ydata-profiling.

Builds a synthetic frame (fixed seed), checks that every side computed the same counts,
nulls, means and extremes, then times the sides alternately (A B A B ...) and reports the
median of the repetitions. Human-readable lines first, one JSON line last on stdout.

    .venv/bin/python bench/profile.py                   # 1,000,000 rows x 20 columns
    .venv/bin/python bench/profile.py --rows 100000     # quick run, under a minute

ydata-profiling needs pandas<3, so it runs from `.venv-peers` (`make .venv-peers`) as a
subprocess on a Parquet copy of the same frame; it times its own compute.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import importlib.metadata as md
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ratio, rnd, timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261123
N_CHUNKS = 10
TARGETS = dict(speedup_vs_whylogs=50.0, speedup_vs_ydata=30.0, speedup_vs_describe=1.5,  # issue 19
               peak_extra_mem_ratio=1.0, chunked_overhead=1.10)
REL = 1e-9  # tolerance for means, extremes and std against pandas


# ---------------------------------------------------------------- data

def make_frame(rows: int, seed: int = SEED) -> pd.DataFrame:
    "12 float64 (2% NaN), 4 int64 and 4 `str` categoricals of 20 levels."
    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(12):
        if i % 3 == 0:
            x = rng.normal(i, 1 + i, rows)
        elif i % 3 == 1:
            x = rng.lognormal(0.0, 0.5 + i / 12, rows)
        else:
            x = rng.uniform(-i, 10 * i, rows)
        x[rng.random(rows) < 0.02] = np.nan
        cols[f"f{i:02d}"] = x
    for i, hi in enumerate((100, 10_000, 1_000_000, 10**12)):  # two small-range, two wide-range
        cols[f"i{i:02d}"] = rng.integers(0, hi, rows, dtype=np.int64)
    for i in range(4):
        levels = np.array([f"col{i}_level_{j:02d}" for j in range(20)], dtype=object)
        cols[f"s{i:02d}"] = pd.Series(levels[rng.integers(0, 20, rows)], dtype="str")
    return pd.DataFrame(cols)


def chunks(df: pd.DataFrame, n: int = N_CHUNKS):
    "`n` contiguous row slices, like `np.array_split`."
    bounds = np.linspace(0, len(df), n + 1).astype(int)
    return (df.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:]))


# ---------------------------------------------------------------- memory (Linux /proc)

def _status(key: str) -> int:
    "A /proc/self/status field in bytes (VmRSS, VmHWM)."
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {key}")


def _release_free_memory():
    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:
        pass
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


def _children_private() -> int:
    "Memory private to this process's live children (forked workers), in bytes."
    total = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            pids = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    total += sum(int(line.split()[1]) * 1024 for line in f if line.startswith("Private_"))
            except OSError:  # the child already exited
                pass
    return total


class PeakRSS:
    """Peak extra memory while the block runs, over this process and its forked children.

    This process: the kernel's exact high-water mark (VmHWM, reset through clear_refs).
    Children (mlbench forks column workers on large frames): their private memory, sampled
    every 2 ms together with this process's RSS, so pages shared with the parent count once.
    """

    def __enter__(self):
        _release_free_memory()
        self.base = _status("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.hwm = True
        except OSError:
            self.hwm = False
        self._sampled, self.kids_peak, self._stop = self.base, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.002):
            kids = _children_private()
            self.kids_peak = max(self.kids_peak, kids)
            self._sampled = max(self._sampled, _status("VmRSS") + kids)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self._sampled, _status("VmHWM") if self.hwm else _status("VmRSS"))
        self.extra = max(0, self.peak - self.base)
        self.method = ("VmHWM after clear_refs" if self.hwm else "VmRSS sampled every 2 ms") + \
            (f"; forked workers' private memory sampled (peak {self.kids_peak / 1e6:.1f} MB)" if self.kids_peak else "")


def mem_child(rows: int, seed: int, mode: str) -> None:
    "Run in a fresh interpreter: peak extra RSS of one mlbench profile over the built frame."
    import mlbench as mb

    df = make_frame(rows, seed)
    warm = df.head(2000)
    mb.profile(warm) if mode == "onepass" else mb.profile(iter(chunks(warm)))  # imports, thread pool
    frame_bytes = int(df.memory_usage(deep=True).sum())
    with PeakRSS() as m:
        p = mb.profile(df) if mode == "onepass" else mb.profile(iter(chunks(df)))
    assert p.n_rows == rows
    print(json.dumps(dict(frame_bytes=frame_bytes, base_rss=m.base, peak_rss=m.peak, extra=m.extra,
                          children_peak=m.kids_peak, method=m.method)))


def measure_compact(df: pd.DataFrame, exact) -> dict:
    "Compact profiles (rows='sketch'): time, saved size against the exact profile's, the duplicate estimate's range."
    import tempfile

    import mlbench as mb

    t, p = timed(lambda: mb.profile(df, rows="sketch"))
    with tempfile.TemporaryDirectory() as d:
        size_exact = exact.save(Path(d) / "e.mbp").stat().st_size
        size_compact = p.save(Path(d) / "c.mbp").stat().st_size
    return {"profile_s": rnd(t), "saved_kb_exact": round(size_exact / 1e3, 1),
            "saved_kb_compact": round(size_compact / 1e3, 1), "duplicate_rows_exact": exact.duplicate_rows,
            "duplicate_rows_compact": p.duplicate_rows, "duplicate_rows_2sd": list(p.duplicate_rows_bounds(2))}


def measure_memory(rows: int, seed: int, mode: str) -> dict:
    cmd = [sys.executable, __file__, "--_mem-child", mode, "--rows", str(rows), "--seed", str(seed)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"memory child ({mode}) failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- ydata-profiling (subprocess)

# Runs in .venv-peers (pandas<3); times its own read and compute, and reports what it computed.
YDATA_CHILD = r'''
import json, sys, time, warnings
t0 = time.perf_counter()
warnings.filterwarnings("ignore")
import pandas as pd
from ydata_profiling import ProfileReport
import ydata_profiling
t1 = time.perf_counter()
df = pd.read_parquet(sys.argv[1])
t2 = time.perf_counter()

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

base = status("VmRSS")
try:
    open("/proc/self/clear_refs", "w").write("5")
    hwm = True
except OSError:
    hwm = False
t3 = time.perf_counter()
desc = ProfileReport(df, minimal=True, progress_bar=False).get_description()
t4 = time.perf_counter()
peak = status("VmHWM") if hwm else None

def num(v):
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None

cols = {name: {k: num(v.get(k)) for k in ("n", "n_missing", "mean", "min", "max", "n_distinct")}
        for name, v in desc.variables.items()}
print(json.dumps(dict(version=ydata_profiling.__version__, pandas=pd.__version__, import_s=t1 - t0,
                      read_s=t2 - t1, compute_s=t4 - t3, peak_extra=None if peak is None else peak - base,
                      columns=cols)))
'''


def run_ydata(python: Path, parquet: Path) -> dict:
    env = dict(os.environ, YDATA_PROFILING_NO_ANALYTICS="True", MPLBACKEND="Agg")
    t0 = time.perf_counter()
    r = subprocess.run([str(python), "-c", YDATA_CHILD, str(parquet)], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if r.returncode:
        sys.exit(f"ydata-profiling subprocess failed (exit {r.returncode}):\n{r.stderr[-4000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall
    return out


# ---------------------------------------------------------------- correctness

class Checks:
    "Collects mismatches; the run fails (non-zero exit) if there are any."

    def __init__(self):
        self.failures, self.n = [], 0

    def eq(self, what, got, want):
        self.n += 1
        if got != want:
            self.failures.append(f"{what}: mlbench {got} != {want}")

    def close(self, what, got, want, rel=REL):
        self.n += 1
        if got is None or want is None or not math.isclose(float(got), float(want), rel_tol=rel, abs_tol=0.0):
            self.failures.append(f"{what}: mlbench {got} vs {want} (rel tol {rel:g})")

    def true(self, what, ok, detail=""):
        self.n += 1
        if not ok:
            self.failures.append(f"{what}: {detail}")


def check_pandas(c: Checks, df: pd.DataFrame, fr: pd.DataFrame, desc: pd.DataFrame, label: str):
    "mlbench's per-column statistics against `describe(include='all')` (counts exact, floats rel 1e-9)."
    for col in df.columns:
        s, r, d = df[col], fr.loc[col], desc[col]
        c.eq(f"{label} {col} count", int(r["count"]), len(df))
        c.eq(f"{label} {col} non-null count", int(r["count"] - r["null_count"]), int(d["count"]))
        c.eq(f"{label} {col} null_count", int(r["null_count"]), int(s.isna().sum()))
        if pd.api.types.is_numeric_dtype(s.dtype):
            for stat in ("mean", "min", "max", "std"):
                c.close(f"{label} {col} {stat}", r[stat], d[stat])
            x = np.sort(s.dropna().to_numpy(dtype=np.float64))
            rank = np.searchsorted(x, r["p50"], side="right") / len(x)
            c.true(f"{label} {col} p50 rank", abs(rank - 0.5) <= 0.02, f"KLL median {r['p50']!r} has rank {rank:.4f}")
        else:
            c.eq(f"{label} {col} distinct", int(r["distinct"]), int(d["unique"]))
            c.eq(f"{label} {col} top count", int(r["top_count"]), int(d["freq"]))


def check_whylogs(c: Checks, fr: pd.DataFrame, wv: pd.DataFrame):
    "whylogs' counts/n and counts/null exactly; its mean (float sums) rel 1e-6, extremes rel 1e-9."
    for col in fr.index:
        r, w = fr.loc[col], wv.loc[col]
        c.eq(f"whylogs {col} counts/n", int(r["count"]), int(w["counts/n"]))
        c.eq(f"whylogs {col} counts/null", int(r["null_count"]), int(w["counts/null"]))
        if r["kind"] in ("numeric", "integer"):
            c.close(f"whylogs {col} mean", r["mean"], w["distribution/mean"], rel=1e-6)
            c.close(f"whylogs {col} min", r["min"], w["distribution/min"])
            c.close(f"whylogs {col} max", r["max"], w["distribution/max"])


def _int(v):
    return None if v is None else int(v)


def check_ydata(c: Checks, fr: pd.DataFrame, yd: dict):
    "ydata-profiling's n and n_missing exactly; mean, min, max rel 1e-9."
    cols = yd["columns"]
    c.eq("ydata columns", sorted(cols), sorted(fr.index))
    for col in fr.index:
        r, y = fr.loc[col], cols.get(col, {})
        c.eq(f"ydata {col} n", int(r["count"]), _int(y.get("n")))
        c.eq(f"ydata {col} n_missing", int(r["null_count"]), _int(y.get("n_missing")))
        if r["kind"] in ("numeric", "integer"):
            for stat in ("mean", "min", "max"):
                c.close(f"ydata {col} {stat}", r[stat], y.get(stat))
        else:
            c.eq(f"ydata {col} distinct", int(r["distinct"]), _int(y.get("n_distinct")))


# ---------------------------------------------------------------- timing

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in the synthetic frame")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of each fast side (median reported)")
    ap.add_argument("--whylogs-reps", type=int, default=None, help="repetitions of whylogs (default: --reps)")
    ap.add_argument("--ydata-reps", type=int, default=None, help="repetitions of ydata-profiling (default: --reps)")
    ap.add_argument("--skip-ydata", action="store_true", help="do not run ydata-profiling")
    ap.add_argument("--peers-python", type=Path, default=ROOT / ".venv-peers" / "bin" / "python",
                    help="python of the environment with ydata-profiling (pandas<3)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--_mem-child", dest="mem_child", choices=("onepass", "chunked"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.mem_child:
        return mem_child(a.rows, a.seed, a.mem_child)
    wl_reps = a.whylogs_reps or a.reps
    yd_reps = 0 if a.skip_ydata else (a.ydata_reps or a.reps)
    if yd_reps and not a.peers_python.exists():
        sys.exit(f"{a.peers_python} not found: run `make .venv-peers` first, or pass --skip-ydata")

    import mlbench as mb
    from mlbench.data.interop import import_whylogs

    why = import_whylogs()

    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    df = make_frame(a.rows, a.seed)
    frame_bytes = int(df.memory_usage(deep=True).sum())
    print(f"frame: {len(df):,} rows x {df.shape[1]} columns ({df.dtypes.astype(str).value_counts().to_dict()}), "
          f"{frame_bytes / 1e6:.1f} MB, built in {time.perf_counter() - t0:.2f} s; "
          f"{os.cpu_count()} CPUs", flush=True)

    parquet = None
    if yd_reps:
        parquet = ROOT / "bench" / "_data" / f"profile_{a.rows}_{a.seed}.parquet"
        parquet.parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(parquet, index=False)

    # warm-up on a small slice: imports and first-call costs stay out of the timings
    warm = df.head(2000)
    mb.profile(warm), mb.profile(iter(chunks(warm))), warm.describe(include="all"), why.log(warm).view()

    sides = ["mlbench", "mlbench_1core", "mlbench_chunked", "pandas_describe", "whylogs", "ydata"]
    times = {s: [] for s in sides}
    ydata_runs = []
    res = {}
    try:
        for rep in range(max(a.reps, wl_reps, yd_reps)):
            if rep < a.reps:
                t, res["mlbench"] = timed(lambda: mb.profile(df))
                times["mlbench"].append(t)
                t, res["one_core"] = timed(lambda: mb.profile(df, n_jobs=1))  # describe uses one core
                times["mlbench_1core"].append(t)
                t, res["chunked"] = timed(lambda: mb.profile(iter(chunks(df))))
                times["mlbench_chunked"].append(t)
                t, res["describe"] = timed(lambda: df.describe(include="all"))
                times["pandas_describe"].append(t)
            if rep < wl_reps:
                t, res["whylogs"] = timed(lambda: why.log(df).view())
                times["whylogs"].append(t)
            if rep < yd_reps:
                yd = run_ydata(a.peers_python, parquet)
                ydata_runs.append(yd)
                times["ydata"].append(yd["compute_s"])
            print(f"rep {rep + 1}: " + ", ".join(f"{s} {v[rep]:.3f} s" for s, v in times.items() if len(v) > rep),
                  flush=True)
    finally:
        if parquet is not None:
            parquet.unlink(missing_ok=True)

    # correctness before speed
    c = Checks()
    fr = res["mlbench"].to_frame()
    frc = res["chunked"].to_frame()
    check_pandas(c, df, fr, res["describe"], "pandas vs one-pass")
    check_pandas(c, df, frc, res["describe"], "pandas vs chunked")
    check_pandas(c, df, res["one_core"].to_frame(), res["describe"], "pandas vs one core")
    check_whylogs(c, fr, res["whylogs"].to_pandas())
    if ydata_runs:
        check_ydata(c, fr, ydata_runs[-1])
    if c.failures:
        print(f"CORRECTNESS FAILED: {len(c.failures)} of {c.n} checks", file=sys.stderr)
        for f in c.failures[:50]:
            print("  " + f, file=sys.stderr)
        sys.exit(1)
    print(f"correctness: {c.n} checks passed (mlbench one-pass and chunked vs pandas describe, whylogs"
          + (", ydata-profiling" if ydata_runs else "") + ")", flush=True)

    compact = measure_compact(df, res["mlbench"])
    mem = measure_memory(a.rows, a.seed, "onepass")
    mem_c = measure_memory(a.rows, a.seed, "chunked")

    med = {s: (statistics.median(v) if v else None) for s, v in times.items()}
    yd_wall = statistics.median(r["wall_s"] for r in ydata_runs) if ydata_runs else None
    yd_peak = statistics.median(r["peak_extra"] for r in ydata_runs) if ydata_runs and ydata_runs[0]["peak_extra"] is not None else None
    result = {
        "bench": "profile", "rows": len(df), "cols": df.shape[1],
        "mlbench_s": rnd(med["mlbench"]), "mlbench_1core_s": rnd(med["mlbench_1core"]),
        "mlbench_chunked_s": rnd(med["mlbench_chunked"]),
        "pandas_describe_s": rnd(med["pandas_describe"]), "whylogs_s": rnd(med["whylogs"]),
        "ydata_s": rnd(med["ydata"]), "ydata_wall_s": rnd(yd_wall),
        "speedup_vs_whylogs": rnd(ratio(med["whylogs"], med["mlbench"]), 2),
        "speedup_vs_ydata": rnd(ratio(med["ydata"], med["mlbench"]), 2),
        "speedup_vs_ydata_wall": rnd(ratio(yd_wall, med["mlbench"]), 2),
        "speedup_vs_describe": rnd(ratio(med["pandas_describe"], med["mlbench"]), 3),
        "speedup_vs_describe_1core": rnd(ratio(med["pandas_describe"], med["mlbench_1core"]), 3),
        "speedup_vs_whylogs_1core": rnd(ratio(med["whylogs"], med["mlbench_1core"]), 2),
        "values_per_s_1core": round(df.size / med["mlbench_1core"] / 1e6, 1),  # millions of cells/s, one core
        "chunked_overhead": rnd(ratio(med["mlbench_chunked"], med["mlbench"]), 3),
        "peak_extra_mem_ratio": rnd(mem["extra"] / frame_bytes, 3),
        "chunked_peak_extra_mem_ratio": rnd(mem_c["extra"] / frame_bytes, 3),
        "ydata_peak_extra_mem_ratio": rnd(None if yd_peak is None else yd_peak / frame_bytes, 2),
        "frame_mb": round(frame_bytes / 1e6, 1), "peak_extra_mem_mb": round(mem["extra"] / 1e6, 1),
        "reps": a.reps, "whylogs_reps": wl_reps, "ydata_reps": yd_reps, "chunks": N_CHUNKS,
        "cpus": os.cpu_count(), "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "seed": a.seed, "compact": compact,
        "versions": {"mlbench": mb.__version__, "pandas": pd.__version__, "numpy": np.__version__,
                     "whylogs": md.version("whylogs"),
                     "ydata_profiling": ydata_runs[0]["version"] if ydata_runs else None,
                     "peers_pandas": ydata_runs[0]["pandas"] if ydata_runs else None},
    }
    met = {}
    for key, target in TARGETS.items():
        v = result[key]
        lower_is_better = key in ("peak_extra_mem_ratio", "chunked_overhead")
        met[key] = None if v is None else (v <= target if lower_is_better else v >= target)
    result["targets_met"] = met

    print(f"mlbench one pass   {med['mlbench']:8.3f} s")
    cm = result["compact"]
    print(f"compact profile    {cm['profile_s']:8.3f} s  (rows='sketch': saved {cm['saved_kb_compact']:.0f} KB vs "
          f"{cm['saved_kb_exact']:.0f} KB exact; duplicates {cm['duplicate_rows_compact']:,}, 2 sd "
          f"{cm['duplicate_rows_2sd'][0]:,}-{cm['duplicate_rows_2sd'][1]:,}, exact {cm['duplicate_rows_exact']:,})")
    print(f"mlbench one core   {med['mlbench_1core']:8.3f} s  (n_jobs=1: describe {result['speedup_vs_describe_1core']:.2f}x, "
          f"whylogs {result['speedup_vs_whylogs_1core']:.1f}x, {result['values_per_s_1core']:.0f} M cells/s)")
    print(f"mlbench chunked    {med['mlbench_chunked']:8.3f} s  ({N_CHUNKS} chunks merged; "
          f"{result['chunked_overhead']:.3f}x one pass, target <= {TARGETS['chunked_overhead']}x)")
    print(f"pandas describe    {med['pandas_describe']:8.3f} s  (mlbench {result['speedup_vs_describe']:.2f}x faster, "
          f"target >= {TARGETS['speedup_vs_describe']}x)")
    print(f"whylogs            {med['whylogs']:8.3f} s  (median of {wl_reps}; mlbench "
          f"{result['speedup_vs_whylogs']:.1f}x faster, target >= {TARGETS['speedup_vs_whylogs']:g}x)")
    if ydata_runs:
        r0 = ydata_runs[-1]
        print(f"ydata minimal      {med['ydata']:8.3f} s  compute (median of {yd_reps}; mlbench "
              f"{result['speedup_vs_ydata']:.1f}x faster, target >= {TARGETS['speedup_vs_ydata']:g}x); "
              f"{yd_wall:.1f} s wall incl. interpreter, imports ({r0['import_s']:.1f} s) and Parquet read "
              f"({r0['read_s']:.2f} s)")
    else:
        print("ydata minimal      skipped")
    print(f"peak extra memory  {mem['extra'] / 1e6:8.1f} MB = {result['peak_extra_mem_ratio']:.3f}x the frame "
          f"({frame_bytes / 1e6:.1f} MB; chunked {result['chunked_peak_extra_mem_ratio']:.3f}x; {mem['method']}; "
          f"target <= {TARGETS['peak_extra_mem_ratio']:g}x)")
    missed = [k for k, v in met.items() if v is False]
    print("targets missed: " + (", ".join(missed) if missed else "none"))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
