"""Benchmark: `mlbench.pipeline.runner` (step cache, a kernel pre-started per step) against plain papermill.

Two targets from BENCHMARKS.md, measured in one run with papermill as the peer:

1. Re-running an unchanged pipeline costs <= 10% of the first run. A small real pipeline is
   built in a temporary folder: `load` (mlbench.flights() -> Parquet), `profile`
   (mb.profile of the Parquet), `fit` (HistGradientBoostingClassifier on January-June),
   `evaluate` (ROC AUC on July-December), `report` (JSON of both); each step reads its
   upstream steps' files. mlbench runs it once into a fresh run root (first run), then again
   unchanged (every step a cache hit): `rerun_ratio = rerun_s / first_run_s`. The peer runs
   the same notebooks one after another with `papermill.execute_notebook` (a cold kernel each,
   no cache: its re-run costs what its first run did). Both must report the same row counts
   and AUC, and mlbench's re-run must hand back the first run's files unchanged.
2. Per-step overhead <= 0.3 s. N chained steps of `time.sleep(1)` (the pre-started kernel has
   time to be ready) and, reported separately, N chained no-op steps (`x = 1`: nothing hides
   the kernel start), run by `mlbench.pipeline.runner.run` into a fresh run root vs the same notebooks
   run one after another by `papermill.execute_notebook`. Overhead per step =
   (wall - the steps' own work, N x 1 s or 0) / N.

Sides alternate in each repetition (mlbench, papermill); medians over `--reps`. An untimed
warm-up runs one no-op step through each side first (imports stay out of the timings).
Human-readable lines first, one JSON line last.

    .venv/bin/python bench/pipeline.py               # 5-step pipeline, 8 sleep + 8 no-op steps, 3 reps
    .venv/bin/python bench/pipeline.py --quick       # under a minute
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import rnd  # noqa: E402

TARGETS = dict(rerun_ratio=0.10, overhead_s=0.3)
SLEEP_S = 1.0


def notebook(params: str, *cells: str) -> dict:
    "A python3 notebook: a cell tagged `parameters`, then code cells."
    def cell(i, src, tags=()):
        return {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {"tags": list(tags)},
                "outputs": [], "source": src}
    return {"cells": [cell(0, params, ["parameters"]), *(cell(i + 1, s) for i, s in enumerate(cells))],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


IO = 'output_dir = "."\nupstream = {}'
FEATURES = ["month", "day", "sched_dep_time", "sched_arr_time", "distance", "hour", "minute", "carrier", "origin",
            "dest"]
PREP = ("import pandas as pd\nfrom pathlib import Path\n"
        f"FEATURES = {FEATURES!r}\n"
        "df = pd.read_parquet(Path(upstream['load'], 'flights.parquet'))\n"
        "df = df[df['arr_delay'].notna()]\n"
        "X = df[FEATURES].copy()\n"
        "for c in ('carrier', 'origin', 'dest'):\n"
        "    X[c] = X[c].astype('category')\n"
        "y = (df['arr_delay'] > 15).to_numpy()\n"
        "first = (df['month'] <= 6).to_numpy()")
STEPS = {
    "load": ([], notebook(IO, "import mlbench as mb\nfrom pathlib import Path\ndf = mb.flights()",
                          "df.to_parquet(Path(output_dir, 'flights.parquet'), index=False)\nprint(len(df))"),
             ["flights.parquet"]),
    "profile": (["load"], notebook(IO, "import json\nimport mlbench as mb\nfrom pathlib import Path\n"
                                       "p = mb.profile(Path(upstream['load'], 'flights.parquet'))",
                                   "p.save(Path(output_dir, 'profile.json.gz'))\n"
                                   "Path(output_dir, 'summary.json').write_text(json.dumps("
                                   "{'rows': p.n_rows, 'columns': len(p.columns)}))"),
                ["profile.json.gz", "summary.json"]),
    "fit": (["load"], notebook(IO + "\nrows = 40000\nmax_iter = 60", PREP,
                               "import joblib\nimport numpy as np\n"
                               "from sklearn.ensemble import HistGradientBoostingClassifier\n"
                               "idx = np.random.default_rng(0).choice(np.flatnonzero(first), rows, replace=False)\n"
                               "m = HistGradientBoostingClassifier(max_iter=max_iter, random_state=0, "
                               "categorical_features='from_dtype').fit(X.iloc[idx], y[idx])\n"
                               "joblib.dump(m, Path(output_dir, 'model.joblib'))"),
            ["model.joblib"]),
    "evaluate": (["load", "fit"], notebook(IO, PREP,
                                           "import json\nimport joblib\nfrom sklearn.metrics import roc_auc_score\n"
                                           "m = joblib.load(Path(upstream['fit'], 'model.joblib'))\n"
                                           "auc = roc_auc_score(y[~first], m.predict_proba(X[~first])[:, 1])\n"
                                           "Path(output_dir, 'score.json').write_text(json.dumps("
                                           "{'auc': auc, 'rows': int((~first).sum())}))"),
                 ["score.json"]),
    "report": (["profile", "evaluate"], notebook(IO, "import json\nfrom pathlib import Path\n"
                                                     "s = json.loads(Path(upstream['profile'], 'summary.json')"
                                                     ".read_text())\n"
                                                     "s.update(json.loads(Path(upstream['evaluate'], 'score.json')"
                                                     ".read_text()))\n"
                                                     "Path(output_dir, 'report.json').write_text(json.dumps(s))"),
               ["report.json"]),
}
QUICK_STEPS = ["load", "profile", "report"]  # --quick: no model; report reads the profile only


def write_pipeline(folder: Path, names: list) -> dict:
    "Notebooks and pipeline.yaml for `names` in `folder`; returns {step: (deps, notebook path, outputs)}."
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    spec, steps = {}, {}
    for n in names:
        deps, nb, outs = STEPS[n]
        deps = [d for d in deps if d in names]
        if n == "report" and "evaluate" not in names:  # quick: report only the profile
            nb = notebook(IO, "import json\nfrom pathlib import Path\n"
                              "s = json.loads(Path(upstream['profile'], 'summary.json').read_text())\n"
                              "Path(output_dir, 'report.json').write_text(json.dumps(s))")
        (folder / f"{n}.ipynb").write_text(json.dumps(nb, indent=1))
        spec[n] = {"notebook": f"{n}.ipynb", "depends_on": deps, "outputs": outs}
        steps[n] = (deps, folder / f"{n}.ipynb", outs)
    (folder / "pipeline.yaml").write_text(yaml.safe_dump({"steps": spec}, sort_keys=False))
    return steps


def write_chain(folder: Path, n: int, source: str, params: str = "") -> dict:
    "n identical chained step notebooks (each depends on the one before)."
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    spec, steps = {}, {}
    for i in range(n):
        name = f"s{i:02d}"
        (folder / f"{name}.ipynb").write_text(json.dumps(notebook(params, source), indent=1))
        deps = [f"s{i - 1:02d}"] if i else []
        spec[name] = {"notebook": f"{name}.ipynb", "depends_on": deps}
        steps[name] = (deps, folder / f"{name}.ipynb", [])
    (folder / "pipeline.yaml").write_text(yaml.safe_dump({"steps": spec}, sort_keys=False))
    return steps


def run_mlbench(folder: Path, root: str):
    "(seconds, RunResult) of one mlbench.pipeline.runner run of folder/pipeline.yaml into run root `root`."
    from mlbench.pipeline import runner as pl

    t0 = time.perf_counter()
    res = pl.run(folder / "pipeline.yaml", root=root)
    dt = time.perf_counter() - t0
    if not res.ok:
        bad = [(s.step, s.status, s.message) for s in res.steps if s.status != "SUCCEEDED"]
        raise SystemExit(f"mlbench pipeline failed in {folder}: {bad}")
    return dt, res


def run_papermill(folder: Path, steps: dict, out: Path) -> float:
    "Seconds to run the steps' notebooks one after another with plain papermill (cold kernel each)."
    import papermill

    t0 = time.perf_counter()
    for name, (deps, nb, _outs) in steps.items():
        d = out / name
        d.mkdir(parents=True, exist_ok=True)
        declared = json.loads(nb.read_text())["cells"][0]["source"]
        params = {"output_dir": str(d), "upstream": {x: str(out / x) for x in deps}} if "output_dir" in declared \
            else {}
        papermill.execute_notebook(str(nb), str(d / f"{name}.ipynb"), parameters=params or None,
                                   kernel_name="python3", progress_bar=False, cwd=str(folder))
    return time.perf_counter() - t0


def digest(folder: Path, names) -> str:
    h = hashlib.sha256()
    for n in names:
        h.update(n.encode() + b"\0" + (folder / n).read_bytes())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3-step pipeline, 3 chained steps, 1 repetition (< 1 min)")
    ap.add_argument("--steps", type=int, default=None, help="chained steps for the overhead part (default 8; 3 quick)")
    ap.add_argument("--reps", type=int, default=None, help="repetitions, medians reported (default 3; 1 quick)")
    a = ap.parse_args()
    n = a.steps or (3 if a.quick else 8)
    reps = a.reps or (1 if a.quick else 3)
    names = QUICK_STEPS if a.quick else list(STEPS)

    import papermill  # noqa: F401  (imports out of the timings)
    from mlbench import pipeline  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="mlbench-bench-pipeline-") as tmp:
        tmp = Path(tmp)
        # warm-up: one no-op step each way (imports, engine registration, first kernel start)
        warm = write_chain(tmp / "warm", 1, "x = 1")
        run_mlbench(tmp / "warm", "runs")
        run_papermill(tmp / "warm", warm, tmp / "warm" / "pm")

        # 1. first run vs unchanged re-run
        steps = write_pipeline(tmp / "pipe", names)
        first, rerun, pm_pipe, step_s = [], [], [], []
        for r in range(reps):
            t1, res1 = run_mlbench(tmp / "pipe", f"runs-{r}")
            t2, res2 = run_mlbench(tmp / "pipe", f"runs-{r}")
            tp = run_papermill(tmp / "pipe", steps, tmp / "pipe" / f"pm-{r}")
            if any(s.cache_hit for s in res1.steps) or not all(s.cache_hit for s in res2.steps):
                raise SystemExit("cache check failed: the first run must run every step and the re-run hit every one")
            for name, (_d, _nb, outs) in steps.items():
                if digest(Path(res1.folder) / name, outs) != digest(Path(res2.folder) / name, outs):
                    raise SystemExit(f"re-run's {name} outputs differ from the first run's")
            mine = json.loads((Path(res1.folder) / "report" / "report.json").read_text())
            peer = json.loads((tmp / "pipe" / f"pm-{r}" / "report" / "report.json").read_text())
            if mine.keys() != peer.keys() or any(
                    abs(mine[k] - peer[k]) > 1e-12 if isinstance(mine[k], float) else mine[k] != peer[k]
                    for k in mine):
                raise SystemExit(f"mlbench and papermill reports differ: {mine} vs {peer}")
            first.append(t1)
            rerun.append(t2)
            pm_pipe.append(tp)
            step_s.append(sum(s.duration_s for s in res1.steps))
            print(f"[rep {r}] pipeline ({len(names)} steps): mlbench first {t1:.2f} s (steps {step_s[-1]:.2f} s), "
                  f"re-run {t2:.3f} s; papermill {tp:.2f} s; report {mine}", flush=True)

        # 2. per-step overhead: sleep steps and no-op steps
        chains = {"sleep": (write_chain(tmp / "sleep", n, "import time\ntime.sleep(seconds)", f"seconds = {SLEEP_S}"),
                            n * SLEEP_S),
                  "noop": (write_chain(tmp / "noop", n, "x = 1"), 0.0)}
        wall = {(k, side): [] for k in chains for side in ("mlbench", "papermill")}
        for r in range(reps):
            for kind, (chain, work) in chains.items():
                tm, res = run_mlbench(tmp / kind, f"runs-{r}")
                if any(s.cache_hit for s in res.steps) or len(res.steps) != n:
                    raise SystemExit(f"{kind}: every step must run")
                tp = run_papermill(tmp / kind, chain, tmp / kind / f"pm-{r}")
                wall[kind, "mlbench"].append(tm)
                wall[kind, "papermill"].append(tp)
                print(f"[rep {r}] {n} {kind} steps: mlbench {tm:.2f} s ({(tm - work) / n:.3f} s/step), "
                      f"papermill {tp:.2f} s ({(tp - work) / n:.3f} s/step)", flush=True)

    med = statistics.median
    first_s, rerun_s = med(first), med(rerun)
    over = {(k, side): (med(wall[k, side]) - chains[k][1]) / n for k, side in wall}
    out = {
        "bench": "pipeline", "quick": a.quick, "pipeline_steps": len(names), "chain_steps": n, "reps": reps,
        "sleep_s_per_step": SLEEP_S,
        "first_run_s": rnd(first_s, 3), "rerun_s": rnd(rerun_s, 3), "rerun_ratio": rnd(rerun_s / first_s),
        "first_run_steps_s": rnd(med(step_s), 3), "papermill_pipeline_s": rnd(med(pm_pipe), 3),
        "mlbench_sleep_wall_s": rnd(med(wall["sleep", "mlbench"]), 3),
        "papermill_sleep_wall_s": rnd(med(wall["sleep", "papermill"]), 3),
        "mlbench_noop_wall_s": rnd(med(wall["noop", "mlbench"]), 3),
        "papermill_noop_wall_s": rnd(med(wall["noop", "papermill"]), 3),
        "mlbench_overhead_sleep_s": rnd(over["sleep", "mlbench"]),
        "papermill_overhead_sleep_s": rnd(over["sleep", "papermill"]),
        "mlbench_overhead_noop_s": rnd(over["noop", "mlbench"]),
        "papermill_overhead_noop_s": rnd(over["noop", "papermill"]),
    }
    out["targets_met"] = {
        "rerun_ratio": out["rerun_ratio"] <= TARGETS["rerun_ratio"],
        "overhead_sleep": out["mlbench_overhead_sleep_s"] <= TARGETS["overhead_s"],
        "overhead_noop": out["mlbench_overhead_noop_s"] <= TARGETS["overhead_s"],
    }
    missed = [k for k, v in out["targets_met"].items() if not v]
    print(f"re-run/first {out['rerun_ratio']:.3f} (target <= {TARGETS['rerun_ratio']}); overhead per step "
          f"mlbench {out['mlbench_overhead_sleep_s']:.3f} s (sleep steps), {out['mlbench_overhead_noop_s']:.3f} s "
          f"(no-op steps) vs papermill {out['papermill_overhead_sleep_s']:.3f} / "
          f"{out['papermill_overhead_noop_s']:.3f} s (target <= {TARGETS['overhead_s']})", flush=True)
    print("targets missed: " + (", ".join(missed) if missed else "none"), flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
