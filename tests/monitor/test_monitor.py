"""mlbench.monitor against independent computations: windows() vs pandas over the logged
predictions and the known latencies, drift_over_time on the flights months, CBPE vs realized
accuracy (train January-June, serve July-December), alert rules, a loopback webhook receiver,
a pipeline action, the CLI's exit codes, damaged stores, and a real served model."""
import json
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlbench as mb
from mlbench import monitor
from mlbench.data import logstore
from mlbench.cli import main as cli_main
from mlbench.data.logstore import WindowLogger

pytestmark = pytest.mark.timeout(300)
TESTS = Path(__file__).parents[1]
FEATURES = ["sched_dep_time", "distance", "carrier", "origin", "dep_delay", "air_time"]
T0 = pd.Timestamp("2026-01-05", tz="UTC").timestamp()  # long sealed: the readers compact it


def cli(*args) -> int:
    with pytest.raises(SystemExit) as e:
        cli_main([str(a) for a in args])
    return e.value.code


def _log_minutes(root, n_min=180, seed=0, model="m", tag="m:v1", worker="w1", cols=("x",), shift=0.0):
    "n_min minutes of traffic, 1-4 one-or-two-row requests a minute; returns the latencies and request ids."
    rng = np.random.default_rng(seed)
    log = WindowLogger(root, model, tag, window_s=60, worker=worker, classes=[0, 1])
    lats, ids = [], []
    for i in range(n_min):
        k = int(rng.integers(1, 5))
        counts = rng.integers(1, 3, k).tolist()
        n = sum(counts)
        X = pd.DataFrame({c: rng.normal(shift, 1, n) for c in cols})
        p1 = 1 / (1 + np.exp(-2 * X[cols[0]].to_numpy()))
        lat = rng.gamma(2, 15, k)
        rid = [f"{worker}-{i}-{j}" for j in range(k)]
        log.add(X, (p1 > 0.5).astype(int), np.c_[1 - p1, p1], rid, counts, lat.tolist(), t=T0 + i * 60 + 5,
                flagged=int(i % 7 == 0))
        lats.append(lat)
        ids += rid
        if i % 10 == 0:
            log.count(422, t=T0 + i * 60 + 6, latency_ms=0.5)
        if i % 45 == 0:
            log.count(500, t=T0 + i * 60 + 7, latency_ms=2.0)
    log.flush()
    return log, np.concatenate(lats), ids


# --- windows() against independent computations -------------------------------------------
def test_windows_counts_latency_and_labels_match_independent_computation(tmp_path):
    root = tmp_path / "mon"
    log, lats, ids = _log_minutes(root)
    preds = logstore.predictions("m", root)
    y = pd.DataFrame({"request_id": preds["request_id"], "row": preds["row"],
                      "label": (np.random.default_rng(1).random(len(preds)) < 0.7).astype(int)}).iloc[::3]
    log.feedback(y)
    log.flush()
    for freq in ("1h", "10min"):
        w = monitor.windows("m", freq=freq, store=root)
        p = preds.assign(w=preds["time"].dt.floor(freq))
        assert w["window"].tolist() == sorted(p["w"].unique().tolist())
        assert w["rows"].tolist() == p.groupby("w").size().tolist()
        assert w["predictions"].tolist() == w["rows"].tolist()
        assert w["requests"].sum() == len(ids) + 18 + 4
        assert w["validation_failures"].sum() == 18 and w["errors_5xx"].sum() == 4 and w["errors"].sum() == 22
        assert w["flagged_rows"].sum() == len(range(0, 180, 7))
        lab = p.merge(y, on=["request_id", "row"])
        acc = lab.assign(ok=lab["__prediction__"] == lab["label"]).groupby("w")["ok"].mean()
        np.testing.assert_allclose(w["accuracy"], acc.to_numpy())
        np.testing.assert_allclose(w["labels"], lab.groupby("w").size().to_numpy())
        np.testing.assert_allclose(w["label_coverage"], (lab.groupby("w").size() / p.groupby("w").size()).to_numpy())
        np.testing.assert_allclose(w["estimated_accuracy"], p[["__proba__0", "__proba__1"]].max(axis=1)
                                   .groupby(p["w"]).mean().to_numpy())
        shares = p.groupby("w")["__prediction__"].mean().to_numpy()
        np.testing.assert_allclose([s.get("1", 0.0) for s in w["prediction_shares"]], shares, atol=1e-6)
    # latency quantiles of the whole 3 hours: within the KLL sketch's rank error of numpy's
    w = monitor.windows("m", freq="1d", store=root)
    for q in (0.5, 0.99):
        est = w[f"latency_p{int(q * 100)}_ms"].iloc[0]
        ok_lat = np.concatenate([lats, np.full(18, 0.5), np.full(4, 2.0)])
        rank = (ok_lat <= est).mean()
        assert abs(rank - q) <= 0.02, (q, est, np.quantile(ok_lat, q), rank)
    # a second read comes from the day's rollup and gives the same counts
    assert "hours-20260105.json" in logstore.open_store(root).names("m", monitor.ROLLUP)
    w2 = monitor.windows("m", freq="1d", store=root)
    assert w2["rows"].tolist() == w["rows"].tolist() and w2["labels"].tolist() == w["labels"].tolist()


def test_cbpe_roc_auc_equals_expected_auc_by_simulation():
    rng = np.random.default_rng(3)
    p = rng.beta(2, 3, 3000)
    from sklearn.metrics import roc_auc_score

    sims = [roc_auc_score(rng.random(len(p)) < p, p) for _ in range(200)]
    assert abs(monitor.cbpe_roc_auc(p) - np.mean(sims)) < 0.005


def test_sql_store_reads_the_same_as_a_directory(tmp_path):
    _log_minutes(tmp_path / "dir", n_min=90)
    url = f"sqlite:///{tmp_path / 'mon.sqlite'}"
    _log_minutes(url, n_min=90)
    a, b = (monitor.windows("m", freq="10min", store=s) for s in (tmp_path / "dir", url))
    cols = ["window", "requests", "rows", "errors", "labels", "estimated_accuracy"]
    pd.testing.assert_frame_equal(a[cols], b[cols])


# --- damaged and odd stores ---------------------------------------------------------------
def test_corrupt_and_truncated_files_are_skipped_and_reported(tmp_path):
    root = tmp_path / "mon"
    _log_minutes(root, n_min=30)
    keys = logstore.open_store(root).windows("m")
    (root / "m" / keys[3] / "stats-w1.json").write_text('{"requests": 3, "rows"')  # truncated JSON
    pq = root / "m" / keys[5] / "preds-w1.parquet"
    pq.write_bytes(pq.read_bytes()[:40])  # truncated Parquet
    (root / "m" / "not-a-window").mkdir()
    w = monitor.windows("m", freq="1min", store=root)
    warns = w.attrs["warnings"]
    assert any(keys[3] in x and "stats-w1.json" in x for x in warns) and any(keys[5] in x and "preds" in x for x in warns)
    assert keys[3] not in set(w["window"].dt.strftime("%Y%m%dT%H%M%S")) and len(w) == 29
    h = monitor.windows("m", freq="1h", store=root)  # and through the rollup, reported again on every read
    assert any("stats-w1.json" in x for x in h.attrs["warnings"])
    h2 = monitor.windows("m", freq="1h", store=root)
    assert any("stats-w1.json" in x for x in h2.attrs["warnings"]) and h2["requests"].tolist() == h["requests"].tolist()


def test_missing_store_empty_store_and_clock_skew(tmp_path):
    with pytest.raises(logstore.StoreError, match="no such directory"):
        monitor.windows(store=tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    w = monitor.windows(store=tmp_path / "empty")
    assert len(w) == 0 and list(w.columns) == monitor.COLUMNS
    d = monitor.drift_over_time("m", reference=mb.profile(pd.DataFrame({"x": [1.0, 2.0]})), store=tmp_path / "empty")
    assert len(d) == 0 and list(d.columns) == monitor.DRIFT_COLUMNS
    assert not monitor.check([{"metric": "latency_p99_ms", "op": ">", "threshold": 1}], store=tmp_path / "empty").fired
    with pytest.raises(monitor.MonitorError, match="freq"):
        monitor.windows(store=tmp_path / "empty", freq="often")
    # two workers, one with its clock 30 minutes behind, the batches added out of order
    root = tmp_path / "skew"
    a = WindowLogger(root, "m", "m:v1", worker="a", classes=[0, 1])
    b = WindowLogger(root, "m", "m:v1", worker="b", classes=[0, 1])
    X = pd.DataFrame({"x": [0.1, 0.2]})
    for t, lg in ((T0 + 3600, a), (T0 + 1800, b), (T0 + 60, a), (T0 + 1790, b)):
        lg.add(X, np.array([0, 1]), np.array([[0.6, 0.4], [0.3, 0.7]]), [f"r{t}"], [2], [1.0], t=t)
    a.flush(), b.flush()
    w = monitor.windows("m", freq="30min", store=root)
    assert w["window"].is_monotonic_increasing and w["rows"].tolist() == [4, 2, 2]


def test_schema_change_between_versions(tmp_path):
    root = tmp_path / "mon"
    _log_minutes(root, n_min=60, tag="m:v1", worker="v1", cols=("a", "b"))
    _log_minutes(root, n_min=60, seed=2, tag="m:v2", worker="v2", cols=("a", "c"), shift=1.0)
    w = monitor.windows("m", freq="1h", store=root)
    assert set(w["tags"].iloc[0]) == {"m:v1", "m:v2"}
    rng = np.random.default_rng(0)
    ref = mb.profile(pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000), "c": rng.normal(size=3000)}))
    d = monitor.drift_over_time("m", reference=ref, freq="1h", store=root)
    got = d.groupby("tag")["column"].apply(sorted).to_dict()
    assert got == {"m:v1": ["a", "b"], "m:v2": ["a", "c"]}  # each version's own columns, no nulls from the other
    assert d.set_index(["tag", "column"])["drifted"].to_dict() == {
        ("m:v1", "a"): False, ("m:v1", "b"): False, ("m:v2", "a"): True, ("m:v2", "c"): True}


# --- real data: drift and CBPE on the flights months ---------------------------------------
@pytest.fixture(scope="module")
def flights():
    df = mb.flights().dropna(subset=["arr_delay", "dep_delay", "air_time"]).reset_index(drop=True)
    X = df[FEATURES].astype({"carrier": "category", "origin": "category"})
    return df, X, (df["arr_delay"] > 15).astype(int).to_numpy()


def _fit(X, y, mask):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=40, categorical_features="from_dtype", random_state=0).fit(X[mask], y[mask])


def _serve_days(root, name, tag, clf, df, X, y, mask):
    "Log the rows of `mask` one batch per day at the flights' own dates, with their labels."
    log = WindowLogger(root, name, tag, window_s=60, worker="w", classes=[0, 1])
    days = df.loc[mask, "time_hour"].dt.floor("1D")
    for day, idx in days.groupby(days).groups.items():
        Xd = X.loc[idx]
        P = clf.predict_proba(Xd)
        ids = [f"{day:%m%d}-{i}" for i in idx]
        log.add(Xd.reset_index(drop=True), clf.predict(Xd), P, ids, [1] * len(idx), [1.0] * len(idx), t=day.timestamp())
        log.feedback(pd.DataFrame({"request_id": ids, "row": 0, "label": y[idx]}))
    log.flush()


def _deploy(flights, root, name, train, served) -> None:
    "Fit on the `train` rows, package with their profile and accuracy, and log the `served` rows day by day."
    df, X, y = flights
    clf = _fit(X, y, train)
    tag = mb.package(clf, name, reference=X[train], metrics={"accuracy": float(clf.score(X[train], y[train]))})
    _serve_days(root, name, tag, clf, df, X, y, served)


def test_drift_over_time_flags_the_later_months_on_flights(flights, tmp_path):
    df, X, y = flights
    u = np.random.default_rng(0).random(len(df))
    train = (df["month"] <= 3).to_numpy() & (u < 0.15)
    _deploy(flights, tmp_path / "mon", "flights-q1", train, (u >= 0.15) & (u < 0.19))  # served: 4% of every month
    d = monitor.drift_over_time("flights-q1", freq="28d", store=tmp_path / "mon")  # reference: the packaged profile
    share = monitor.drift_share(d).set_index("window")["share"]
    start = share.index.to_series()
    q1 = start + pd.Timedelta("28D") <= pd.Timestamp("2013-04-01", tz="UTC")
    assert q1.sum() >= 2 and share[q1].max() <= 0.2, share  # windows inside the training months
    summer = start.between(pd.Timestamp("2013-06-15", tz="UTC"), pd.Timestamp("2013-09-30", tz="UTC"))
    assert summer.sum() >= 3 and (share[summer] >= 0.3).all(), share  # summer delays, seasonal winds, schedules
    later = start >= pd.Timestamp("2013-05-15", tz="UTC")
    assert (share[later] >= 0.3).mean() >= 0.7, share  # (November looks like the winter it was trained on)
    assert {"dep_delay", "air_time"} <= set(d.loc[d["drifted"], "column"])
    det = monitor.distribution("flights-q1", "dep_delay", "2013-07-10", freq="28d", store=tmp_path / "mon")
    assert det["kind"] == "numbers" and len(det["reference"]) == len(det["current"]) == 41
    # the drift rule fires on the latest windows; its firing is recorded with the drifted features as evidence
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: drift, metric: drifted_feature_share, op: '>', threshold: 0.3, for: 1, freq: 28d}\n")
    assert cli("monitor", "check", rules, "--store", tmp_path / "mon", "--json", tmp_path / "out.json") == 1
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["fired"] and out["firings"][0]["evidence"]["windows"][-1]["drifted"]
    hist = monitor.alerts("flights-q1", store=tmp_path / "mon")
    assert hist["rule"].tolist() == ["drift"] and hist["window"].iloc[0].month == 12


def test_cbpe_estimates_realized_accuracy_on_flights(flights, tmp_path):
    df, X, y = flights
    u = np.random.default_rng(1).random(len(df))
    _deploy(flights, tmp_path / "mon", "flights-h1", (df["month"] <= 6).to_numpy() & (u < 0.15),
            (df["month"] >= 7).to_numpy() & (u < 0.2))
    w = monitor.windows("flights-h1", freq="7d", store=tmp_path / "mon")
    w = w[w["labels"] >= 500]
    err_acc = (w["estimated_accuracy"] - w["accuracy"]).abs()
    err_auc = (w["estimated_roc_auc"] - w["roc_auc"]).abs()
    print(f"\nCBPE on flights (train Jan-Jun, serve Jul-Dec, {len(w)} weekly windows, "
          f"{int(w['labels'].median())} labels each): accuracy error mean {err_acc.mean():.4f} max {err_acc.max():.4f}; "
          f"ROC AUC error mean {err_auc.mean():.4f} max {err_auc.max():.4f}")
    assert len(w) >= 20 and (w["label_coverage"] == 1).all()
    # measured (2 cores, this seed): accuracy error mean 0.023, max 0.067 (weeks of storms: P(y | x) moved,
    # which no estimate from inputs can see); the bounds leave room for a retrained model's seed, not for a broken estimate
    assert err_acc.mean() < 0.035 and err_acc.max() < 0.09
    assert err_auc.mean() < 0.05 and err_auc.max() < 0.12  # measured: mean 0.035, max 0.092
    assert np.corrcoef(w["estimated_accuracy"], w["accuracy"])[0, 1] > 0.5  # it follows the weeks up and down


# --- alerts -------------------------------------------------------------------------------
class _Receiver(BaseHTTPRequestHandler):
    got: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        n = int(self.headers["Content-Length"])
        _Receiver.got.append((self.path, self.headers["Content-Type"], json.loads(self.rfile.read(n))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def test_rules_fire_or_not_webhook_receives_the_post_and_action_runs_a_pipeline(tmp_path):
    root = tmp_path / "mon"
    _log_minutes(root, n_min=180)
    srv = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(TESTS / "fixtures" / "pipeline" / "ok.ipynb", proj / "ok.ipynb")
    (proj / "p.yaml").write_text("steps:\n  make: {notebook: ok.ipynb, outputs: [result.json]}\n")
    hook = f"http://127.0.0.1:{srv.server_port}/hook"
    rules = [
        {"name": "slow", "metric": "latency_p99_ms", "op": ">", "threshold": 10, "for": 3, "freq": "1h",
         "webhook": hook, "action": {"run": str(proj / "p.yaml"), "params": {"text": "{start}/{end}"}}},
        {"name": "very-slow", "metric": "latency_p99_ms", "op": ">", "threshold": 10_000, "freq": "1h"},
        {"name": "refusals", "metric": "validation_failure_share", "op": ">", "threshold": 0.01, "for": 2},
        {"name": "acc", "metric": "accuracy_drop", "op": ">", "threshold": 0.0, "reference": 1.0, "min_labels": 10},
    ]
    try:
        res = monitor.check(rules, store=root)
    finally:
        srv.shutdown()
    fired = {f["rule"]: f for f in res.firings}
    assert set(fired) == {"slow", "refusals"}  # acc: no labels at all, so not judged
    ev = {e["rule"]: e for e in res.evaluated}
    assert ev["acc"]["value"] is None and not ev["very-slow"]["firing"] and ev["slow"]["streak"] == 3
    assert len(_Receiver.got) == 1
    path, ctype, body = _Receiver.got[0]
    assert path == "/hook" and ctype == "application/json" and body["rule"] == "slow" and body["model"] == "m"
    assert body["window_start"] == "2026-01-05T00:00:00+00:00" and body["window_end"] == "2026-01-05T03:00:00+00:00"
    assert len(body["evidence"]["windows"]) == 3
    f = fired["slow"]
    assert f["webhook_status"] == "204" and f["run_status"] == "SUCCEEDED"
    out = next((proj / "runs" / f["run_id"]).rglob("result.json"))
    assert json.loads(out.read_text())["text"] == "2026-01-05T00:00:00+00:00/2026-01-05T03:00:00+00:00"
    hist = monitor.alerts(store=root)
    assert hist.set_index("rule").loc["slow", "run_id"] == f["run_id"]
    # cron runs it again: the same windows are not fired twice (no second POST, no second run)
    again = monitor.check(rules, store=root)
    assert {f["rule"] for f in again.firings} == {"slow", "refusals"} and not any(f["new"] for f in again.firings)
    assert len(monitor.alerts(store=root)) == 2 and len(_Receiver.got) == 1


def test_unknown_metric_and_bad_rules_are_refused_at_load(tmp_path):
    with pytest.raises(monitor.MonitorError) as e:
        monitor.load_rules("rules:\n  - {metric: p99, op: '>', threshold: 1}\n")
    assert "unknown metric 'p99'" in str(e.value) and "latency_p99_ms" in str(e.value)
    bad = [({"metric": "requests", "op": "=>", "threshold": 1}, "op"),
           ({"metric": "requests", "op": ">", "threshold": "ten"}, "threshold"),
           ({"metric": "requests", "op": ">", "threshold": 1, "for": 0}, "for"),
           ({"metric": "requests", "op": ">", "threshold": 1, "webhook": "file:///etc/passwd"}, "webhook"),
           ({"metric": "requests", "op": ">", "threshold": 1, "when": "now"}, "unknown keys"),
           ({"metric": "requests", "op": ">", "threshold": 1, "action": {"run": 3}}, "action")]
    for rule, word in bad:
        with pytest.raises(monitor.MonitorError, match=word):
            monitor.load_rules([rule])
    (tmp_path / "mon").mkdir()
    (tmp_path / "r.yaml").write_text("rules:\n  - {metric: p99, op: '>', threshold: 1}\n")
    assert cli("monitor", "check", tmp_path / "r.yaml", "--store", tmp_path / "mon") == 2
    assert cli("monitor", "check", tmp_path / "none.yaml", "--store", tmp_path / "mon") == 2
    (tmp_path / "ok.yaml").write_text("rules:\n  - {metric: requests, op: '>', threshold: 1}\n")
    assert cli("monitor", "check", tmp_path / "ok.yaml", "--store", tmp_path / "nope") == 2
    assert cli("monitor", "check", tmp_path / "ok.yaml", "--store", tmp_path / "mon") == 0
    assert cli("monitor", "check", tmp_path / "ok.yaml", "--store", tmp_path / "mon", "--model", "typo") == 2


# --- a real served model -------------------------------------------------------------------
def test_windows_of_a_served_model_match_its_prediction_log(flights, tmp_path):
    import httpx

    from mlbench.serve import process as serving

    df, X, y = flights
    Xs = X.head(3000).astype({"carrier": str, "origin": str})
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=300).fit(Xs[["sched_dep_time", "distance", "dep_delay"]], y[:3000])
    Xn = Xs[["sched_dep_time", "distance", "dep_delay"]]
    tag = mb.package(clf, "mon-served", reference=Xn)
    srv = serving.serve(tag, monitor=str(tmp_path / "mon"), flush_s=0.3)
    try:
        ids = []
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            for i in range(60):
                rows = Xn.iloc[i * 3:i * 3 + 1 + i % 3].to_dict("records")
                r = c.post("/predict", json={"rows": rows})
                assert r.status_code == 200
                ids.append(r.json()["request_id"])
            for _ in range(5):
                assert c.post("/predict", json={"rows": [{"distance": "far"}]}).status_code == 422
            r = c.post("/feedback", json={"feedback": [{"request_id": i, "row": 0, "label": 1} for i in ids[:20]]})
            assert r.status_code == 200
    finally:
        srv.stop()
    w = monitor.windows("mon-served", freq="1h", store=tmp_path / "mon")
    preds = logstore.predictions("mon-served", tmp_path / "mon")
    assert w["rows"].sum() == len(preds) == sum(1 + i % 3 for i in range(60))
    assert w["requests"].sum() == 65 and w["validation_failures"].sum() == 5 and w["labels"].sum() == 20
    assert (w["latency_p99_ms"] > 0).all() and set(w["tags"].iloc[-1]) == {tag}


def test_cli_exit_codes_through_the_installed_command(tmp_path):
    root = tmp_path / "mon"
    _log_minutes(root, n_min=20)
    (tmp_path / "fire.yaml").write_text("rules:\n  - {metric: requests, op: '>', threshold: 0}\n")
    exe = Path(sys.executable).parent / "mlbench"
    r = subprocess.run([str(exe), "monitor", "check", str(tmp_path / "fire.yaml"), "--store", str(root)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "FIRING" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("backend", ["dir", "postgres"])
def test_windows_mark_batch_traffic_and_filter_by_source(backend, tmp_path, request):
    "A window holding batch scoring says source 'batch'; source= keeps one kind, counts and predictions included."
    store = str(tmp_path / "mon") if backend == "dir" else request.getfixturevalue("postgres_url")
    model = f"by-source-{backend}"
    _log_minutes(store, n_min=120, model=model, tag=f"{model}:v1")  # two hours served, then a batch job in the second
    job = WindowLogger(store, model, f"{model}:v1", window_s=60, worker="job", classes=[0, 1], source="batch")
    X = pd.DataFrame({"x": np.linspace(-1, 1, 50)})
    for i in range(3):
        job.add(X, np.zeros(50, int), np.c_[np.ones(50), np.zeros(50)], [f"batch-chunk-{i}"], [50], [9.0],
                t=T0 + 3600 + 300 + i * 60)
    job.flush()
    both = monitor.windows(model, freq="1h", store=store)
    assert both["source"].tolist() == ["serve", "batch+serve"]
    served = monitor.windows(model, freq="1h", store=store, source="serve")
    batch = monitor.windows(model, freq="1min", store=store, source="batch")
    assert batch["source"].tolist() == ["batch"] * 3 and batch["rows"].tolist() == [50] * 3
    assert batch["predictions"].tolist() == [50] * 3 and batch["requests"].tolist() == [1] * 3
    assert served["source"].tolist() == ["serve", "serve"]
    assert served["rows"].sum() + 150 == both["rows"].sum() and served["predictions"].sum() + 150 == both["predictions"].sum()
    with pytest.raises(monitor.MonitorError, match="source"):
        monitor.windows(model, store=store, source="Batch")
