"""Seeded worlds for the tests of the Jupyter server extension (tests/test_jupyter_server.py) and of the JupyterLab
extension in a browser (tests/test_lab_extension.py): step notebooks, pipeline runs with a failing step, packaged
models with stages, and a monitor store with fired alerts.

BentoML reads BENTOML_HOME once per process: `seed_lab_world` packages models into the store of the process that
calls it, so the browser tests call it in a child process (`python tests/seed_helpers.py ROOT` with BENTOML_HOME set;
it prints what it made as JSON)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd

FIXTURES = Path(__file__).parent / "fixtures" / "pipeline"
T0 = pd.Timestamp("2026-01-05", tz="UTC").timestamp()  # long sealed monitor windows
ALERT_RULES = [{"name": "slow", "metric": "latency_p99_ms", "op": ">", "threshold": 1, "freq": "1h"},
               {"name": "busy", "metric": "requests", "op": ">", "threshold": 10, "freq": "1h"}]


def step_notebook(path: Path, params: str, *cells: str) -> None:
    "A pipeline step notebook: a `parameters`-tagged first cell, then one code cell per string."
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    first = nbformat.v4.new_code_cell(params)
    first.metadata["tags"] = ["parameters"]
    nb.cells = [first] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)


def log_traffic(store: Path, name: str, tag: str, rng, minutes: int = 90, t0: float = T0) -> None:
    "`minutes` one-minute windows of served traffic for model `name` (features x, y; x shifted by 2) in `store`."
    from mlbench.data.logstore import WindowLogger

    log = WindowLogger(store, name, tag, window_s=60, worker="w1", classes=[0, 1])
    for i in range(minutes):
        Xi = pd.DataFrame({"x": rng.normal(2, 1, 4), "y": rng.normal(0, 1, 4)})
        p1 = 1 / (1 + np.exp(-Xi["x"].to_numpy()))
        log.add(Xi, (p1 > 0.5).astype(int), np.c_[1 - p1, p1], [f"r{i}-{k}" for k in range(2)], [2, 2],
                [20.0 + i % 7, 35.0], t=t0 + i * 60 + 5)
    log.flush()


def seed_monitor(store: Path, name: str, tag: str, rng) -> pd.DataFrame:
    "Traffic for `name` in `store`, then `mb.monitor.check` with two rules that both fire; returns the fired alerts."
    from mlbench import monitor

    log_traffic(store, name, tag, rng)
    monitor.check(ALERT_RULES, store=store)
    return monitor.alerts(store=store)


# --- the world of the browser tests ---------------------------------------------------------
LAB_DATA = "data/trips.csv"
LAB_PIPELINES = "pipelines"  # nightly.yaml (its `check` step raises), daily.yaml (succeeds)
LAB_RUNS = "pipelines/runs"  # not the server's default: the extension's settings must point there
LAB_MONITOR = "monitoring/store"  # idem
FAILING_STEP, FAILING_CODE, FAILING_ERROR = "check", 'raise ValueError(f"boom {y}")', "ValueError: boom 2"


def seed_lab_world(root) -> dict:
    """Under `root` (a Jupyter server root) and in this process's BentoML store: a small CSV, three packaged models
    (fare-model v1 in production, v2 in staging; churn-model without a stage), a ledger with a failed run (the
    fixture notebook raises.ipynb as step `check`) and a succeeded one, and a monitor store with two fired alerts.
    Returns the tags, run ids, paths (relative to `root`) and alert count as plain JSON values."""
    from sklearn.linear_model import LogisticRegression

    import mlbench as mb
    from mlbench.pipeline import run

    root = Path(root).resolve()
    rng = np.random.default_rng(0)
    out: dict = {}

    n = 60
    trips = pd.DataFrame({"fare_usd": rng.gamma(2.0, 12.0, n).round(2), "trip_km": rng.gamma(2.0, 3.0, n).round(1),
                          "passenger_count": rng.integers(1, 5, n),
                          "pickup_zone": rng.choice(["midtown", "harlem", "soho"], n),
                          "paid_by_card": rng.random(n) < 0.7})
    (root / LAB_DATA).parent.mkdir(parents=True, exist_ok=True)
    trips.to_csv(root / LAB_DATA, index=False)
    out["csv"], out["csv_columns"] = LAB_DATA, trips.columns.tolist()

    X = pd.DataFrame({"x": rng.normal(0, 1, 300), "y": rng.normal(0, 1, 300)})
    y = (X["x"] + X["y"] > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    prod = mb.package(clf, "fare-model", reference=X, metrics={"auc": 0.91})
    mb.models.promote(prod, "production", reason="seeded: first production model")
    staging = mb.package(LogisticRegression(C=0.5).fit(X, y), "fare-model", reference=X, metrics={"auc": 0.93})
    mb.models.promote(staging, "staging", reason="seeded: candidate")
    other = mb.package(clf, "churn-model", reference=X, metrics={"auc": 0.8})
    out["models"] = {"production": prod, "staging": staging, "none": other}

    pipes = root / LAB_PIPELINES
    pipes.mkdir(parents=True, exist_ok=True)
    for f in ("ok.ipynb", "raises.ipynb"):
        shutil.copy(FIXTURES / f, pipes / f)
    (pipes / "nightly.yaml").write_text(
        "steps:\n  prepare: {notebook: ok.ipynb, outputs: [result.json]}\n"
        f"  {FAILING_STEP}: {{notebook: raises.ipynb, depends_on: [prepare]}}\n")
    (pipes / "daily.yaml").write_text("steps:\n  prepare: {notebook: ok.ipynb, outputs: [result.json]}\n")
    bad = run(pipes / "nightly.yaml", root=root / LAB_RUNS)
    assert not bad.ok and bad.failed_step == FAILING_STEP and bad[FAILING_STEP].status == "FAILED", bad.to_frame()
    good = run(pipes / "daily.yaml", root=root / LAB_RUNS)
    assert good.ok, good.to_frame()
    out["runs"] = {"failed": bad.run_id, "succeeded": good.run_id}
    out["failed_cell"] = bad[FAILING_STEP].cell
    out["failed_notebook"] = (Path(bad.folder) / FAILING_STEP / f"{FAILING_STEP}.ipynb").relative_to(root).as_posix()

    alerts = seed_monitor(root / LAB_MONITOR, "fare-model", prod, rng)
    out["alerts"] = len(alerts)
    return out


if __name__ == "__main__":
    print(json.dumps(seed_lab_world(sys.argv[1])))
