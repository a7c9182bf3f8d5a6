"""The promotion gate on real packaged models (flights of February 2013): a passing verdict
with every condition checked (the golden set through a real `bentoml serve`), each condition
failing alone and being named, skips with reasons, and the CLI's exit codes and JSON."""
import json
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.metrics import log_loss, roc_auc_score

import mlbench as mb
from mlbench import models
from mlbench.serve import process as serving
from mlbench.pipeline.gate import GateError, GateFailed, gate

pytestmark = pytest.mark.timeout(300)
FEATURES = ["day", "sched_dep_time", "distance", "dep_delay", "carrier"]


def _strong():
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    enc = make_column_transformer((OrdinalEncoder(), ["carrier"]), remainder="passthrough")
    return make_pipeline(enc, HistGradientBoostingClassifier(max_iter=30, random_state=0))


def _weak():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(make_column_transformer(("passthrough", ["day", "distance"])), LogisticRegression())


@pytest.fixture(scope="module")
def setup():
    df = mb.flights().query("month == 2").dropna(subset=["arr_delay", "dep_delay"])
    df = df.sample(5000, random_state=0).reset_index(drop=True)
    X, y = df[FEATURES], (df["arr_delay"] > 15).astype(int)
    Xt, yt = X.iloc[:3500], y.iloc[:3500]
    # held-out rows the service accepts: inside the training ranges and categories (the packaged suite's rules)
    Xe, ye = X.iloc[3500:], y.iloc[3500:]
    ok = Xe["carrier"].isin(Xt["carrier"])
    for c in ("day", "sched_dep_time", "distance", "dep_delay"):
        ok &= Xe[c].between(Xt[c].min(), Xt[c].max())
    Xe, ye = Xe[ok].reset_index(drop=True), ye[ok].reset_index(drop=True)
    strong, weak = _strong().fit(Xt, yt), _weak().fit(Xt, yt)
    prod = models.package(weak, "gate-delay", reference=Xt, metrics={"roc_auc": 0.55})
    cand = models.package(strong, "gate-delay", reference=Xt, metrics={"roc_auc": 0.9}, golden=Xe.iloc[:120])
    models.promote(prod, "production", reason="first model", who="ana")
    return dict(Xt=Xt, yt=yt, Xe=Xe, ye=ye, strong=strong, weak=weak, prod=prod, cand=cand)


def _statuses(res):
    return {c.name: c.status for c in res.conditions}


def test_passes_with_every_condition_checked(setup):
    s = setup
    res = gate(s["cand"], X=s["Xe"], y=s["ye"])  # baseline: gate-delay:production; golden through a real server
    assert _statuses(res) == dict.fromkeys(["metric", "suite", "drift", "environment", "golden"], "pass"), res.to_frame()
    assert res.passed and res.baseline == s["prod"] and res.candidate == s["cand"]
    m = res["metric"].evidence
    # both models scored on the same rows, the values scikit-learn gives
    assert m["candidate"] == pytest.approx(roc_auc_score(s["ye"], s["strong"].predict_proba(s["Xe"])[:, 1]), abs=1e-12)
    assert m["baseline"] == pytest.approx(roc_auc_score(s["ye"], s["weak"].predict_proba(s["Xe"])[:, 1]), abs=1e-12)
    assert m["diff_low"] <= m["candidate"] - m["baseline"] <= m["diff_high"] and "same" in m["mode"]
    assert res["golden"].evidence["rows"] == 120 and res["golden"].evidence["mismatched_rows"] == []
    d = json.loads(res.to_json())
    assert d["passed"] is True and [c["name"] for c in d["conditions"]] == ["metric", "suite", "drift", "environment", "golden"]
    assert res.raise_if_failed() is res and "PASSED" in res._repr_html_()
    assert mb.gate is gate


def test_worse_metric_fails_alone_and_margins(setup):
    s = setup
    res = gate(s["prod"], baseline=s["cand"], X=s["Xe"], y=s["ye"], check_golden=False)
    assert res.failed == ["metric"] and _statuses(res)["suite"] == "pass" and _statuses(res)["drift"] == "pass"
    assert "roc_auc" in res["metric"].summary and res["metric"].evidence["improvement"] < 0
    with pytest.raises(GateFailed, match="metric: roc_auc"):
        res.raise_if_failed()
    gain = gate(s["cand"], X=s["Xe"], y=s["ye"], check_golden=False, check_env=False)["metric"].evidence["improvement"]
    assert gate(s["cand"], X=s["Xe"], y=s["ye"], min_delta=gain + 0.001, check_golden=False).failed == ["metric"]
    assert gate(s["cand"], X=s["Xe"], y=s["ye"], min_delta=gain - 0.001, check_golden=False).passed
    base = gate(s["cand"], X=s["Xe"], y=s["ye"], check_golden=False)["metric"].evidence["baseline"]
    assert gate(s["cand"], X=s["Xe"], y=s["ye"], min_rel_delta=(gain + 0.001) / base, check_golden=False).failed == ["metric"]
    # a loss metric: lower is better, computed as scikit-learn does
    ll = gate(s["cand"], X=s["Xe"], y=s["ye"], metric="log_loss", check_golden=False)["metric"]
    assert ll.status == "pass" and ll.evidence["better"] == "lower"
    assert ll.evidence["candidate"] == pytest.approx(log_loss(s["ye"], s["strong"].predict_proba(s["Xe"])), abs=1e-12)
    assert gate(s["prod"], baseline=s["cand"], X=s["Xe"], y=s["ye"], metric="log_loss", check_golden=False).failed == ["metric"]
    # without evaluation data: the packaged metrics, and the verdict says so
    pk = gate(s["cand"], check_golden=False, min_delta=0.4)
    assert pk.failed == ["metric"] and "packaged" in pk["metric"].summary
    assert _statuses(pk)["suite"] == _statuses(pk)["drift"] == "skip"
    nolab = gate(s["cand"], X=s["Xe"], check_golden=False)  # features without labels: suite and drift, packaged metrics
    assert nolab.passed and "no evaluation labels" in nolab["metric"].summary and _statuses(nolab)["drift"] == "pass"


def test_broken_suite_data_fails_alone(setup):
    s = setup
    X = s["Xe"].copy()
    bad = X.index[::10]
    X.loc[bad, "distance"] = -5  # negative distances in a tenth of the rows: outside the training range
    res = gate(s["cand"], X=X, y=s["ye"], check_golden=False)
    assert res.failed == ["suite"], res.to_frame()
    fails = res["suite"].evidence["failures"]
    assert "distance" in res["suite"].summary and (fails[0]["column"], fails[0]["failing"]) == ("distance", len(bad))


def test_drifted_eval_data_fails_drift_and_quantiles(setup):
    s = setup
    late = s["Xe"]["sched_dep_time"] > s["Xe"]["sched_dep_time"].quantile(0.6)
    X, y = s["Xe"][late], s["ye"][late]
    res = gate(s["cand"], X=X, y=y, check_golden=False)
    # the selection also breaks the calibrated suite's quantiles of sched_dep_time (none below its training median)
    assert res.failed == ["suite", "drift"], res.to_frame()
    assert [(f["constraint"], f["column"]) for f in res["suite"].evidence["failures"]] == [("quantiles", "sched_dep_time")]
    ev = res["drift"].evidence
    assert "sched_dep_time" in ev["drifted_columns"] and ev["share"] > 0.3 and "sched_dep_time" in res["drift"].summary
    # the same report, computed directly
    rep = mb.drift(models.get(s["cand"]).reference_profile(), X)
    assert ev["share"] == pytest.approx(rep.share) and set(ev["drifted_columns"]) == set(rep.drifted_columns)
    assert gate(s["cand"], X=X, y=y, check_golden=False, max_drift_share=1.0).failed == ["suite"]


def test_environment_mismatch_is_named(setup, tmp_path):
    s = setup
    here = models.environment()
    res = gate(s["cand"], X=s["Xe"], y=s["ye"], env={**here, "scikit-learn": "0.24.2"}, check_golden=False)
    assert res.failed == ["environment"] and f"scikit-learn {here['scikit-learn']} -> 0.24.2" in res["environment"].summary
    # a pip-freeze lock of the serving image (no Python line): equal passes, a missing package fails
    lock = tmp_path / "serving.txt"
    lock.write_text("".join(f"{k}=={v}\n" for k, v in here.items() if k != "python"))
    assert gate(s["cand"], env=lock, check_golden=False)["environment"].status == "pass"
    lock.write_text("".join(f"{k}=={v}\n" for k, v in here.items() if k not in ("python", "pandas")))
    env = gate(s["cand"], env=lock, check_golden=False)["environment"]
    assert env.status == "fail" and f"pandas {here['pandas']} missing" in env.summary


def _edit_meta(tag, fn):
    "Edit mlbench's metadata in a package's model.yaml (hashed like every file: `_rehash` records the edit)."
    p = models.get(tag).path / "model.yaml"
    doc = yaml.safe_load(p.read_text())
    meta = json.loads(doc["metadata"]["mlbench"])
    fn(meta)
    doc["metadata"]["mlbench"] = json.dumps(meta)
    p.write_text(yaml.safe_dump(doc, sort_keys=False))


def _rehash(tag, drop=()):
    "Rewrite the registry's record of a package to its current model.yaml (and without `drop`): a registry edited too."
    import hashlib

    from mlbench.registry import store

    y = __import__("pathlib").Path(store._bento(tag).path) / "model.yaml"
    with closing(sqlite3.connect(models.home() / "mlbench-registry.db")) as con, con:
        files = json.loads(con.execute("SELECT files FROM models WHERE tag = ?", (tag,)).fetchone()[0])
        files["model.yaml"] = hashlib.sha256(y.read_bytes()).hexdigest()
        for f in drop:
            del files[f]
        con.execute("UPDATE models SET files = ? WHERE tag = ?", (json.dumps(files), tag))


def test_tampered_environment_hash_fails_and_old_packages_fall_back(setup):
    s = setup
    t = models.package(s["strong"], "gate-env", reference=s["Xt"])
    assert gate(t, check_golden=False)["environment"].status == "pass"
    _edit_meta(t, lambda m: m["lineage"]["environment"].update(sha256="0" * 64))
    with pytest.raises(models.IntegrityError, match="model.yaml"):  # the edit itself is caught: model.yaml is hashed
        gate(t, check_golden=False)
    _rehash(t)  # the registry's record rewritten along with it: the environment condition still sees the mismatch
    env = gate(t, check_golden=False)["environment"]
    assert env.status == "fail" and "metadata was edited" in env.summary and env.evidence["recorded_sha256"] == "0" * 64
    # a package made before environments were recorded: no lock file, no hash; its few versions are compared
    t2 = models.package(s["strong"], "gate-env", reference=s["Xt"])
    pm = models.get(t2)
    (pm.path / "environment.txt").unlink()

    def old(m):
        del m["lineage"]["environment"]
        del m["sha256"]["environment.txt"]
    _edit_meta(t2, old)
    _rehash(t2, drop=["environment.txt"])
    env = gate(t2, check_golden=False)["environment"]
    assert env.status == "pass" and "packaged before" in env.summary and "scikit-learn" in env.evidence["compared"]
    env = gate(t2, check_golden=False, env={**models.environment(), "numpy": "1.0"})["environment"]
    assert env.status == "fail" and "numpy" in env.summary


def test_golden_mismatch_through_another_served_model_fails_alone(setup):
    s = setup
    with serving.serve(s["prod"], log=False) as other:  # the service answering is not the candidate
        res = gate(s["cand"], X=s["Xe"], y=s["ye"], url=other.url)
    assert res.failed == ["golden"], res.to_frame()
    g = res["golden"]
    assert g.evidence["mismatched_rows"] and g.evidence["url"] == other.url and "answered differently" in g.summary
    # the rows named are those where the two models' predictions differ
    gold = models.get(s["cand"]).golden()[FEATURES]
    differ = np.flatnonzero(s["strong"].predict(gold) != s["weak"].predict(gold)).tolist()
    labels = [m["row"] for m in g.evidence["mismatches"] if m["output"] == "prediction"]  # the first 20 are kept
    assert differ and labels == differ[:20] and set(differ) <= set(g.evidence["mismatched_rows"])


def test_no_production_baseline_is_skipped_not_passed(setup):
    s = setup
    t = models.package(s["strong"], "gate-fresh", reference=s["Xt"], metrics={"roc_auc": 0.9})
    res = gate(t, X=s["Xe"], y=s["ye"], check_golden=False)
    assert res["metric"].status == "skip" and "no 'gate-fresh' model is in production" in res["metric"].summary
    assert res.passed and res.skipped == ["metric", "golden"] and "2 skipped" in res.summary()
    assert not gate(t, X=s["Xe"], y=s["ye"], check_golden=False, strict=True).passed
    models.promote(t, "production")
    assert "is the baseline itself" in gate(t, check_golden=False)["metric"].summary


def test_bad_input_is_refused_naming_the_argument(setup):
    s = setup
    for kw, match in [(dict(X=s["Xe"].to_numpy()), "X: needs"), (dict(X=s["Xe"], y=s["ye"][:10]), "y: has 10"),
                      (dict(y=s["ye"]), "y: labels were given without X"),
                      (dict(max_drift_share=2), "max_drift_share"), (dict(min_delta=float("nan")), "min_delta"),
                      (dict(X=s["Xe"], y=s["ye"], metric="auc"), "metric: 'auc'"), (dict(env=42), "env: needs")]:
        with pytest.raises(GateError, match=match):
            gate(s["cand"], check_golden=False, **kw)
    with pytest.raises(models.ModelError, match="nope"):
        gate("gate-delay:nope", check_golden=False)


MLBENCH = shutil.which("mlbench", path=str(Path(sys.executable).parent))


def _cli(*args):
    return subprocess.run([MLBENCH, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_cli_exit_codes_and_json(setup, tmp_path):
    s = setup
    good = tmp_path / "eval.parquet"
    s["Xe"].assign(late=s["ye"]).to_parquet(good)
    late = s["Xe"]["sched_dep_time"] > s["Xe"]["sched_dep_time"].quantile(0.6)
    drifted = tmp_path / "drifted.parquet"
    s["Xe"][late].assign(late=s["ye"][late]).to_parquet(drifted)
    r = _cli("gate", s["cand"], "--eval", good, "--target", "late", "--no-golden", "--json", tmp_path / "ok.json")
    assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads((tmp_path / "ok.json").read_text())
    assert d["passed"] is True and d["baseline"] == s["prod"] and d["skipped"] == ["golden"]
    assert "PASS  metric" in r.stdout and "SKIP  golden" in r.stdout
    r = _cli("gate", s["cand"], "--eval", drifted, "--target", "late", "--no-golden", "--json", tmp_path / "bad.json",
             "--html", tmp_path / "bad.html")
    assert r.returncode == 1, r.stdout + r.stderr
    d = json.loads((tmp_path / "bad.json").read_text())
    assert d["failed"] == ["suite", "drift"] and "FAIL  drift" in r.stdout and "must not be promoted" in r.stdout
    assert "sched_dep_time" in (tmp_path / "bad.html").read_text()
    from mlbench.cli import main

    for args, msg in [(["gate", "gate-delay:nope"], "nope"), (["gate", s["cand"], "--eval", tmp_path / "x.csv"], "x.csv"),
                      (["gate", s["cand"], "--eval", good, "--target", "arr"], "'arr'"),
                      (["gate", s["cand"], "--target", "late"], "--target")]:
        with pytest.raises(SystemExit) as e:
            main([str(a) for a in args] + ["--no-golden"])
        assert e.value.code == 2, args
