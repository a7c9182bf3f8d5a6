"""Benchmark: what `import mlbench` costs over `import pandas`, and that heavy extras stay lazy.

Fresh interpreters, alternating (mlbench, pandas, mlbench, ...), median of --reps (7).
Fails (non-zero exit) if `import mlbench; mlbench.data.profile`, or a first `mlbench.profile(df)`
call, loads any of torch, bentoml, dask, optuna, plotly, ipywidgets, whylogs.
Human-readable lines first, one JSON line last on stdout.

    .venv/bin/python bench/import_time.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HEAVY = ("torch", "bentoml", "dask", "optuna", "plotly", "ipywidgets", "whylogs")
TARGET_OVERHEAD_S = 0.1  # BENCHMARKS.md: import mlbench costs <= 0.1 s more than import pandas

STATEMENTS = {
    "pandas": "import pandas",
    "mlbench": "import mlbench",
    "mlbench.data.profile": "import mlbench; mlbench.data.profile",
}

# Prints the heavy top-level packages in sys.modules at two moments.
LAZY_PROBE = f"""
import json, sys
HEAVY = {HEAVY!r}
loaded = lambda: sorted(m for m in HEAVY if m in sys.modules)
import mlbench
mlbench.data.profile
after_import = loaded()
import pandas as pd
p = mlbench.profile(pd.DataFrame({{"x": [1.5, None, 3.0], "k": ["a", "b", "a"]}}))
assert p["x"].null_count == 1
print(json.dumps({{"import mlbench; mlbench.data.profile": after_import, "after mlbench.profile(df)": loaded()}}))
"""


def run_once(stmt: str) -> float:
    "Wall seconds of a fresh interpreter running `stmt` (interpreter start included)."
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", stmt], check=True, env=os.environ.copy())
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7, help="fresh interpreters per statement (median reported)")
    a = ap.parse_args(argv)

    for stmt in STATEMENTS.values():  # warm the OS file cache and the .pyc caches
        run_once(stmt)
    base = run_once("pass")
    times = {k: [] for k in STATEMENTS}
    for rep in range(a.reps):
        order = list(STATEMENTS.items())
        if rep % 2:
            order.reverse()
        for k, stmt in order:
            times[k].append(run_once(stmt))
    med = {k: statistics.median(v) for k, v in times.items()}

    r = subprocess.run([sys.executable, "-c", LAZY_PROBE], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"lazy-import probe failed:\n{r.stderr}")
    heavy = json.loads(r.stdout.strip().splitlines()[-1])
    lazy_ok = not any(heavy.values())

    overhead = med["mlbench"] - med["pandas"]
    print(f"python -c pass                   {base:.3f} s (interpreter start, included below)")
    for k, stmt in STATEMENTS.items():
        print(f"python -c {stmt!r:32} {med[k]:.3f} s  (median of {a.reps}; min {min(times[k]):.3f}, "
              f"max {max(times[k]):.3f})")
    print(f"import mlbench over import pandas: {overhead * 1000:+.0f} ms (target <= {TARGET_OVERHEAD_S * 1000:.0f} ms)")
    for when, mods in heavy.items():
        print(f"heavy modules loaded by {when!r}: {', '.join(mods) if mods else 'none'}")

    result = {
        "bench": "import", "reps": a.reps, "python_start_s": round(base, 4),
        "pandas_import_s": round(med["pandas"], 4), "mlbench_import_s": round(med["mlbench"], 4),
        "mlbench_profile_attr_s": round(med["mlbench.data.profile"], 4),
        "import_overhead_s": round(overhead, 4),
        "profile_attr_overhead_s": round(med["mlbench.data.profile"] - med["pandas"], 4),
        "heavy_loaded": heavy, "cpus": os.cpu_count(),
        "targets_met": {"import_overhead_s": overhead <= TARGET_OVERHEAD_S, "heavy_modules_lazy": lazy_ok},
    }
    print(json.dumps(result), flush=True)
    if not lazy_ok:
        print("FAILED: heavy modules were loaded eagerly (see heavy_loaded)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
