"""The Jupyter server extension (mlbench.jupyter) against the library's own answers: a real jupyter_server in this
process (pytest-jupyter), a seeded model store, a pipeline run with a failing step in the ledger, an Optuna sweep
and a monitor store with a fired alert. Every endpoint: its content, 403 without a token, 400 on bad input, 403 on
paths leading out of the server root; the status answer stays fast while a ~200 MB file is profiled."""
import json
import logging
import os
import re
import sys
import time
import uuid
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from jupyter_server.auth import Authorizer
from pytest_jupyter.jupyter_server import *  # noqa: F401,F403 - the jp_* fixtures, local to this module

import mlbench as mb
from mlbench import models, monitor

sys.path.insert(0, str(Path(__file__).parents[1]))
from seed_helpers import seed_monitor, step_notebook  # noqa: E402 - shared with the browser tests

pytestmark = pytest.mark.timeout(300)
EXT = {"mlbench.jupyter": True, "jupyter_server_terminals": False}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    "A server root with data files, three packaged models, a run (one step fails), a sweep and a monitor store."
    root = tmp_path_factory.mktemp("jroot").resolve()
    w = SimpleNamespace(root=root)
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 2000), "y": rng.normal(0, 1, 2000), "c": rng.choice(list("abc"), 2000)})
    cur = ref.assign(x=ref["x"] + 1.5)
    data = root / "data"
    data.mkdir()
    ref.to_csv(data / "ref.csv", index=False)
    cur.to_csv(data / "cur.csv", index=False)
    mb.Suite.infer(ref).save(data / "suite.yaml")
    w.profile = mb.profile(ref)
    w.profile.save(data / "ref.mbp")
    w.drift = mb.drift(ref, cur)
    w.drift.to_json(data / "drift.json")
    (data / "notes.json").write_text('{"hello": 1}')

    from sklearn.linear_model import LogisticRegression

    X, y = ref[["x", "y"]], (ref["x"] + ref["y"] > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    w.name = f"jl-{uuid.uuid4().hex[:6]}"
    w.tag1 = mb.package(clf, w.name, reference=X, metrics={"acc": 0.9, "auc": 0.95})
    w.tag2 = mb.package(clf, w.name, reference=X, metrics={"acc": 0.91})
    w.other = mb.package(clf, w.name + "-b", reference=X)

    proj = root / "proj"
    proj.mkdir()
    verdict = {"candidate": w.tag1, "passed": True, "conditions": [{"name": "suite", "status": "pass",
                                                                   "summary": "all checks passed"}]}
    step_notebook(proj / "train.ipynb", 'tag = "m:1"\noutput_dir = "."',
                  "import json\nfrom pathlib import Path\nfrom mlbench.pipeline import record",
                  f"Path(output_dir, 'verdict.json').write_text(json.dumps({verdict!r}))\n"
                  "record(model=tag, metrics={'acc': 0.9})")
    step_notebook(proj / "bad.ipynb", "x = 1", "raise ValueError(f'boom {x}')")
    (proj / "pipeline.yaml").write_text(
        f"steps:\n  train: {{notebook: train.ipynb, parameters: {{tag: '{w.tag1}'}}, outputs: [verdict.json]}}\n"
        "  bad: {notebook: bad.ipynb, depends_on: [train]}\n")
    from mlbench.pipeline import run

    w.run = run(proj / "pipeline.yaml", root=root / "runs")
    assert w.run.failed_step == "bad" and w.run["train"].status == "SUCCEEDED"

    w.sweep = mb.tune(LogisticRegression(max_iter=300), {"C": mb.space.float(0.01, 10, log=True)}, X, y, cv=3,
                      n_trials=5, storage=root / ".mlbench" / "sweeps.db", study_name="jl-sweep", progress=False,
                      refit=False, pruner=None)

    w.alerts = seed_monitor(root / ".mlbench" / "monitor", w.name, w.tag1, rng)  # rules "slow" and "busy" fire
    assert len(w.alerts) == 2
    return w


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": dict(EXT), "allow_unauthenticated_access": False}}


@pytest.fixture
def jp_root_dir(world):
    return world.root


class Api:
    "Requests to the extension through pytest-jupyter's client, run to completion on the test's event loop."

    def __init__(self, fetch, loop, app):
        self.fetch, self.loop, self.app = fetch, loop, app
        self.state = app.web_app.settings["mlbench"]

    def raw(self, path, method="GET", body=None, params=None, token=True, timeout=60):
        kw = {"method": method, "raise_error": False, "request_timeout": timeout, "params": params}
        if body is not None:
            kw["body"] = body if isinstance(body, str) else json.dumps(body)
        elif method in ("POST", "PUT"):
            kw["body"] = ""
        if method == "DELETE":
            kw["allow_nonstandard_methods"] = True
        if not token:
            kw["headers"] = {"Authorization": ""}
        return self.loop.run_until_complete(self.fetch("mlbench", "api", path, **kw))

    def call(self, path, method="GET", body=None, status=200, **kw):
        r = self.raw(path, method, body, **kw)
        assert r.code == status, (path, r.code, r.body[:500])
        return json.loads(r.body) if "json" in r.headers.get("Content-Type", "") else r.body.decode()

    def wait(self, job, timeout=120):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            j = self.call(f"jobs/{job['id']}")
            if j["state"] in ("done", "error"):
                return j
            time.sleep(0.2)
        raise AssertionError(f"job {job['id']} still {j['state']} after {timeout} s")


@pytest.fixture
def api(jp_serverapp, jp_fetch, jp_asyncio_loop):
    a = Api(jp_fetch, jp_asyncio_loop, jp_serverapp)
    yield a
    a.state.close()


# --- authentication and authorization -----------------------------------------------------
ROUTES = [("GET", "status"), ("GET", "config"), ("POST", "config"), ("GET", "models"), ("GET", "models/a/b"),
          ("POST", "models/a/b/promote"), ("GET", "models/a/b/serve"), ("POST", "models/a/b/serve"),
          ("DELETE", "models/a/b/serve"), ("POST", "models/a/b/verify"), ("GET", "runs"), ("POST", "runs"),
          ("GET", "runs/r1"), ("GET", "sweeps"), ("GET", "sweeps/s"), ("GET", "monitor"), ("GET", "monitor/alerts"),
          ("POST", "monitor/alerts/ack"), ("GET", "monitor/dashboard"), ("POST", "profile"), ("POST", "validate"),
          ("POST", "drift"), ("POST", "pipeline/new"), ("GET", "report"), ("GET", "jobs"), ("GET", "jobs/x"),
          ("DELETE", "jobs/x"), ("GET", "jobs/x/report")]


def test_every_endpoint_refuses_requests_without_a_token(api):
    for method, path in ROUTES:
        r = api.raw(path, method, body={"path": "data/ref.csv"} if method == "POST" else None, token=False)
        assert r.code == 403, (method, path, r.code, r.body[:200])
        assert json.loads(r.body)["status"] == 403
    assert api.state.jobs.all() == []  # nothing started


def test_cookie_authenticated_writes_need_the_xsrf_token(api):
    token = api.app.identity_provider.token
    r = api.loop.run_until_complete(api.fetch("api", "status", params={"token": token}, headers={"Authorization": ""}))
    cookies = {}
    for c in r.headers.get_list("Set-Cookie"):
        k, v = c.split(";", 1)[0].split("=", 1)
        cookies[k] = v
    assert any(k.startswith("username-") for k in cookies)  # the login cookie
    cookies["_xsrf"] = os.urandom(16).hex()  # what a page sets; tornado compares it with the X-XSRFToken header
    jar = "; ".join(f"{k}={v}" for k, v in cookies.items())

    def send(method, path, xsrf):
        headers = {"Authorization": "", "Cookie": jar, **({"X-XSRFToken": cookies["_xsrf"]} if xsrf else {})}
        kw = {"body": json.dumps({"path": "nope.csv"})} if method == "POST" else {"allow_nonstandard_methods": True}
        return api.loop.run_until_complete(api.fetch("mlbench", "api", path, method=method, headers=headers,
                                                      raise_error=False, **kw))
    assert send("GET", "status", False).code == 200  # the cookie authenticates reads
    for method, path in [("POST", "profile"), ("POST", "config"), ("DELETE", "jobs/x")]:
        r = send(method, path, False)
        assert r.code == 403 and "_xsrf" in json.loads(r.body)["error"], (method, path, r.body)
    assert send("POST", "profile", True).code == 400  # with the token: through to the handler (missing file)
    assert send("DELETE", "jobs/x", True).code == 404


class DenyMlbench(Authorizer):
    def is_authorized(self, handler, user, action, resource):
        return resource != "mlbench"


@pytest.mark.parametrize("jp_server_config", [{"ServerApp": {"jpserver_extensions": EXT,
                                                               "authorizer_class": DenyMlbench}}])
def test_the_authorizer_is_asked_for_the_mlbench_resource(api):
    for method, path in [("GET", "status"), ("GET", "models"), ("POST", "profile"), ("DELETE", "jobs/x")]:
        r = api.raw(path, method, body={"path": "data/ref.csv"} if method == "POST" else None)
        assert r.code == 403 and "mlbench" in json.loads(r.body)["error"], (path, r.body)


def test_no_auth_warning_with_unauthenticated_access_disallowed(jp_configurable_serverapp, monkeypatch):
    records, handle = [], logging.Logger.handle
    monkeypatch.setattr(logging.Logger, "handle", lambda self, r: (records.append(r), handle(self, r))[1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = jp_configurable_serverapp(config={"ServerApp": {"jpserver_extensions": dict(EXT),
                                                              "allow_unauthenticated_access": False}})
    try:
        assert not app.allow_unauthenticated_access and "mlbench" in app.web_app.settings
        logged = [r.getMessage() for r in records]
        assert any("mlbench extension: API at" in m for m in logged), logged[-10:]  # the log was seen
        auth = re.compile(r"authenticat|authoriz", re.I)
        bad = [str(w.message) for w in caught if "Auth" in type(w.message).__name__ or auth.search(str(w.message))]
        bad += [r.getMessage() for r in records if r.levelno >= logging.WARNING and auth.search(r.getMessage())]
        assert bad == [], bad
    finally:
        app.web_app.settings["mlbench"].close()


# --- status and configuration -------------------------------------------------------------
def test_status_and_config(api, world):
    s = api.call("status")
    assert s["version"] == mb.__version__ and s["root_dir"] == str(world.root) and s["jobs_running"] == 0
    c = api.call("config")
    assert c == {"model_store": str(models.home()), "monitor_store": ".mlbench/monitor", "runs_root": "runs",
                 "ledger": "runs/lineage.sqlite", "sweep_storage": ".mlbench/sweeps.db"}
    assert s["config"] == c
    new = api.call("config", "POST", {"monitor_store": "postgresql://u:secret@db.example/mon", "runs_root": "proj/runs"})
    assert new["monitor_store"] == "postgresql://u:***@db.example/mon" and new["runs_root"] == "proj/runs"
    assert new["ledger"] is None  # proj/runs has no ledger
    assert "secret" not in api.raw("status").body.decode()
    again = api.call("config", "POST", new)  # sent back masked: unchanged
    assert api.state.config.effective()["monitor_store"] == "postgresql://u:secret@db.example/mon" and again == new
    back = api.call("config", "POST", {"monitor_store": None, "runs_root": ""})
    assert back == c
    for body, status, field in [({"nope": 1}, 400, "nope"), ({"runs_root": 3}, 400, "runs_root"),
                                ({"model_store": "elsewhere"}, 400, "model_store"),
                                ({"ledger": "sqlite://"}, 400, "ledger"), ("[1]", 400, "body"), ("{", 400, "body"),
                                ({"monitor_store": "file:///etc"}, 403, "monitor_store")]:
        r = api.raw("config", "POST", body)
        assert r.code == status and json.loads(r.body)["error"].startswith(field), (body, r.body)


# --- models -------------------------------------------------------------------------------
def _all(api, path, **params):
    out, off = [], 0
    while True:
        p = api.call(path, params={**params, "offset": off, "limit": 7})
        out += p["items"]
        off += 7
        if off >= p["total"]:
            return out, p


def test_models_list_matches_the_library(api, world):
    items, p = _all(api, "models")
    lib = models.list()
    assert p["total"] == len(lib) and [i["tag"] for i in items] == lib["tag"].tolist()
    for i, r in zip(items, lib.itertuples()):
        assert i["name"] == r.name and i["version"] == r.tag.split(":")[1]
        assert i["stage"] == (None if r.stage in (None, "none") else r.stage)
        assert pd.Timestamp(i["created"]) == pd.Timestamp(r.created)
        assert i["metric"] == ({"name": next(iter(r.metrics)), "value": next(iter(r.metrics.values()))}
                               if r.metrics else None)
    mine = api.call("models", params={"name": world.name})
    assert [i["tag"] for i in mine["items"]] == [world.tag2, world.tag1] and mine["total"] == 2
    assert mine["items"][1]["metric"] == {"name": "acc", "value": 0.9}
    assert api.call("models", params={"offset": 1, "limit": 1, "name": world.name})["items"][0]["tag"] == world.tag1
    for params, field in [({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"offset": -1}, "offset"),
                          ({"limit": "x"}, "limit")]:
        r = api.raw("models", params=params)
        assert r.code == 400 and json.loads(r.body)["error"].startswith(field)


def test_model_detail_lineage_gate_and_promotion(api, world):
    name, version = world.tag1.split(":")
    d = api.call(f"models/{name}/{version}")
    pm = models.get(world.tag1)
    assert d["tag"] == world.tag1 and d["metrics"] == pm.metrics and d["stage"] is None and d["serving"] is None
    assert d["lineage"]["run"] == world.run.run_id and d["lineage"]["fingerprint"] == pm.lineage["data"]
    assert d["lineage"]["step"] == "train" and d["lineage"]["error"] is None
    assert d["gate"] == {"passed": True, "run": world.run.run_id,
                         "conditions": [{"name": "suite", "status": "pass", "reason": "all checks passed"}]}
    assert [h["to"] for h in d["history"]] == [None]
    other = api.call("models/{}/{}".format(*world.tag2.split(":")))
    assert other["lineage"]["run"] is None and "recorded by no pipeline step" in other["lineage"]["error"]
    for body, field in [({"stage": "production"}, "reason"), ({"stage": "production", "reason": "  "}, "reason"),
                        ({"stage": "live", "reason": "x"}, "stage"), ({}, "stage")]:
        r = api.raw(f"models/{name}/{version}/promote", "POST", body)
        assert r.code == 400 and json.loads(r.body)["error"].startswith(field), r.body
    assert api.raw(f"models/{name}/nope/promote", "POST", {"stage": "staging", "reason": "x"}).code == 404
    assert api.raw("models/no-such-model/1", "GET").code == 404
    p = api.call(f"models/{name}/{version}/promote", "POST", {"stage": "production", "reason": "beats baseline"})
    h = models.history(name)
    assert p["tag"] == world.tag1 and p["stage"] == "production"
    assert p["history"][-1]["to"] == "production" and p["history"][-1]["reason"] == "beats baseline"
    assert h.iloc[-1]["tag"] == world.tag1 and h.iloc[-1]["to_stage"] == "production"
    assert h.iloc[-1]["reason"] == "beats baseline" and p["history"][-1]["who"] == h.iloc[-1]["who"]
    listed = {i["tag"]: i["stage"] for i in api.call("models", params={"name": name})["items"]}
    assert listed[world.tag1] == "production" == models.get(world.tag1).stage
    p2 = api.call("models/{}/{}/promote".format(*world.tag2.split(":")), "POST",
                  {"stage": "production", "reason": "newer"})
    assert p2["stage"] == "production" and models.get(world.tag1).stage == "archived"
    assert api.call(f"models/{name}/{version}")["stage"] == "archived"


# --- pipeline runs ------------------------------------------------------------------------
def test_runs_list_and_detail_match_the_ledger(api, world):
    from mlbench.pipeline.lineage import Ledger

    p = api.call("runs")
    led = Ledger(world.root / "runs" / "lineage.sqlite")
    lib = led.runs().iloc[::-1]
    assert p["total"] == len(lib) and [i["run_id"] for i in p["items"]] == lib["run_id"].tolist()
    first = next(i for i in p["items"] if i["run_id"] == world.run.run_id)
    assert first == {"run_id": world.run.run_id, "pipeline": "pipeline", "started": first["started"],
                     "status": "failed", "failed_step": "bad", "trigger": None, "folder": f"runs/{world.run.run_id}"}
    d = api.call(f"runs/{world.run.run_id}")
    steps = {s["step"]: s for s in d["steps"]}
    assert steps["train"]["status"] == "SUCCEEDED" and steps["train"]["failed_cell"] is None
    assert steps["train"]["notebook"] == f"runs/{world.run.run_id}/train/train.ipynb"
    bad = steps["bad"]
    assert bad["status"] == "FAILED" and bad["failed_cell"] == world.run["bad"].cell == 1
    assert "ValueError: boom 1" in bad["error"] and bad["duration_s"] == pytest.approx(world.run["bad"].duration_s)
    assert (world.root / bad["notebook"]).is_file()
    assert api.raw("runs/no-such-run").code == 404
    assert api.raw("runs", params={"limit": 1000}).code == 400


def test_post_runs_starts_a_run_in_a_child_process(api, world):
    for body, status, field in [({"pipeline": "proj/missing.yaml"}, 400, "pipeline"), ({}, 400, "pipeline"),
                                ({"pipeline": "data/suite.yaml"}, 400, "pipeline"),
                                ({"pipeline": "proj/pipeline.yaml", "params": [1]}, 400, "params"),
                                ({"pipeline": "proj/pipeline.yaml", "force": "yes"}, 400, "force"),
                                ({"pipeline": "proj/pipeline.yaml", "resume": "nope"}, 404, "run"),
                                ({"pipeline": "../pipeline.yaml"}, 403, "pipeline")]:
        r = api.raw("runs", "POST", body)
        assert r.code == status and json.loads(r.body)["error"].startswith(field), (body, r.body)
    job = api.call("runs", "POST", {"pipeline": "proj/pipeline.yaml"})
    assert job["kind"] == "run" and job["state"] == "running"
    seen_running = False
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120:
        j = api.call(f"jobs/{job['id']}")
        run_id = (j["result"] or {}).get("run_id")
        if run_id and j["state"] == "running":
            listed = {i["run_id"]: i["status"] for i in api.call("runs")["items"]}
            seen_running |= listed.get(run_id) == "running"
        if j["state"] in ("done", "error"):
            break
        time.sleep(0.2)
    assert j["state"] == "done", j
    assert j["result"]["ok"] is False and j["result"]["failed_step"] == "bad" and j["progress"] == 1.0
    assert j["result"]["folder"] == f"runs/{j['result']['run_id']}" and seen_running
    listed = api.call("runs")["items"]
    assert listed[0]["run_id"] == j["result"]["run_id"] and listed[0]["status"] == "failed"
    assert listed[0]["trigger"] == "jupyter"
    steps = {s["step"]: s for s in api.call(f"runs/{j['result']['run_id']}")["steps"]}
    assert steps["train"]["status"] == "CACHED" and steps["train"]["cache_hit"] and steps["bad"]["status"] == "FAILED"
    j = api.wait(api.call("runs", "POST", {"pipeline": "proj/pipeline.yaml", "params": {"nope": 1}}))
    assert j["state"] == "error" and "parameter 'nope' is declared by no step" in j["error"], j
    job = api.call("runs", "POST", {"pipeline": "proj/pipeline.yaml", "force": True})
    assert api.call(f"jobs/{job['id']}", "DELETE")["id"] == job["id"]
    j = api.wait(job)
    assert j["state"] == "error" and j["error"] == "cancelled" and api.call("status")["jobs_running"] == 0
    if (j["result"] or {}).get("run_id"):  # it got as far as the ledger: not left "running"
        assert {i["run_id"]: i["status"] for i in api.call("runs")["items"]}[j["result"]["run_id"]] == "failed"


def test_runs_page_is_fast_with_ten_thousand_runs(api, world):
    import sqlalchemy as sa

    from mlbench.pipeline.lineage import Ledger

    led = Ledger(world.root / "data" / "big-ledger.sqlite")
    with led.engine.begin() as c:
        c.execute(led.meta.tables["runs"].insert(), [
            {"run_id": f"r{i:05d}", "pipeline": "p", "started": f"2026-01-01T00:00:00.{i:06d}+00:00",
             "status": "SUCCEEDED" if i % 3 else "FAILED", "failed_step": None if i % 3 else "s"} for i in range(10_000)])
        assert c.execute(sa.text("select count(*) from runs")).scalar() == 10_000
    api.call("config", "POST", {"ledger": "data/big-ledger.sqlite"})
    api.call("runs")
    t0 = time.perf_counter()
    p = api.call("runs", params={"offset": 5000, "limit": 100})
    assert time.perf_counter() - t0 < 0.5
    assert p["total"] == 10_000 and [i["run_id"] for i in p["items"]] == [f"r{i:05d}" for i in range(4999, 4899, -1)]
    assert p["items"][1]["status"] == "failed" and p["items"][0]["status"] == "succeeded"


# --- sweeps -------------------------------------------------------------------------------
def test_sweeps_list_and_detail_match_the_library(api, world):
    p = api.call("sweeps")
    sw = mb.Sweep.load("jl-sweep", world.root / ".mlbench" / "sweeps.db")
    s = sw.summary()
    assert p["total"] == 1
    item = p["items"][0]
    assert item == {"name": "jl-sweep", "storage": ".mlbench/sweeps.db", "trials": s["trials"], "complete": s["complete"],
                    "running": 0, "pruned": s["pruned"], "failed": s["fail"], "best_score": s["best_score"],
                    "direction": "maximize"}
    d = api.call("sweeps/jl-sweep")
    assert d["best_params"] == sw.best_params and len(d["history"]) == len(sw.trials)
    scores = sw.trials.set_index("number")["score"]
    for h in d["history"]:
        assert h["value"] == pytest.approx(scores[h["number"]]) and h["state"] == "COMPLETE"
    assert d["history"][-1]["best_so_far"] == pytest.approx(sw.best_score)
    assert api.raw("sweeps/no-such-sweep").code == 404


# --- monitor ------------------------------------------------------------------------------
def test_monitor_summary_alerts_and_acknowledgement(api, world):
    s = api.call("monitor")
    assert s["error"] is None and s["alerts_total"] == len(world.alerts)
    m = next(x for x in s["models"] if x["model"] == world.name)
    w = monitor.windows(world.name, freq="1h", store=world.root / ".mlbench" / "monitor").iloc[-1]
    assert m["alerts"] == 2 and m["latest"]["window"] == w["window"].isoformat()
    assert m["latest"]["requests"] == w["requests"] and m["latest"]["p99_ms"] == pytest.approx(w["latency_p99_ms"])
    assert m["latest"]["drifted_share"] is not None and m["latest"]["drifted_share"] > 0  # x served shifted by 2
    a = api.call("monitor/alerts", params={"model": world.name})
    lib = world.alerts.iloc[::-1]
    assert [x["id"] for x in a["items"]] == lib["id"].tolist() and a["unacknowledged"] == 2
    assert [x["rule"] for x in a["items"]] == lib["rule"].tolist() == ["busy", "slow"]
    assert a["items"][0]["window_start"] == lib.iloc[0]["window_start"].isoformat()
    assert not any(x["acknowledged"] for x in a["items"])
    first = int(lib["id"].iloc[0])
    for body, status, field in [({}, 400, "body"), ({"ids": "1"}, 400, "ids"), ({"ids": [True]}, 400, "ids"),
                                ({"ids": ["x"]}, 400, "ids"), ({"ids": [10_000]}, 404, "ids")]:
        r = api.raw("monitor/alerts/ack", "POST", body)
        assert r.code == status and json.loads(r.body)["error"].startswith(field), (body, r.body)
    assert api.call("monitor/alerts/ack", "POST", {"ids": [str(first)]}) == {"acknowledged": 1}
    assert api.call("monitor/alerts/ack", "POST", {"ids": [first]}) == {"acknowledged": 0}  # already
    a = api.call("monitor/alerts")
    assert {x["id"]: x["acknowledged"] for x in a["items"]}[first] and a["unacknowledged"] == 1
    assert api.call("monitor")["models"][0]["alerts"] == 1
    assert api.call("monitor")["alerts_total"] == 1  # unacknowledged, as the status bar shows
    assert api.call("monitor/alerts/ack", "POST", {"all": True}) == {"acknowledged": 1}
    assert api.call("monitor/alerts")["unacknowledged"] == 0
    assert (Path(api.app.data_dir) / "mlbench" / "alert-acks.sqlite").is_file()
    assert api.raw("monitor/alerts", params={"limit": -2}).code == 400


def test_monitor_dashboard_is_the_static_snapshot(api, world):
    r = api.raw("monitor/dashboard", params={"model": world.name}, timeout=180)
    assert r.code == 200, r.body[:500]
    html = r.body.decode()
    assert r.headers["Content-Type"].startswith("text/html") and "sandbox" in r.headers["Content-Security-Policy"]
    assert world.name in html and "plotly" in html.lower() and 'src="http' not in html
    assert api.raw("monitor/dashboard", params={"model": "nobody"}).code == 404


def test_damaged_stores_give_messages_not_500(api, world):
    bad = world.root / "data" / "garbage"
    bad.mkdir(exist_ok=True)
    (bad / "alerts.sqlite").write_bytes(b"not a database" * 100)
    (world.root / "data" / "garbage.sqlite").write_bytes(b"not a database" * 100)
    api.call("config", "POST", {"monitor_store": "data/garbage", "ledger": "data/garbage.sqlite",
                                "sweep_storage": "data/garbage.sqlite"})
    assert api.call("monitor")["error"] and api.call("monitor/alerts")["error"]
    r = api.call("runs")
    assert r["items"] == [] and "garbage.sqlite" in r["error"]
    s = api.call("sweeps")
    assert s["items"] == [] and s["error"]
    assert api.raw("sweeps/jl-sweep").code == 404
    d = api.call("models/{}/{}".format(*world.tag1.split(":")))
    assert d["lineage"]["error"] and d["lineage"]["fingerprint"]
    assert api.raw(f"runs/{world.run.run_id}").code == 404
    api.call("config", "POST", {"monitor_store": "data/nothing-here"})
    assert "no such directory" in api.call("monitor")["error"]
    yml = models.get(world.other).path / "model.yaml"  # a damaged model folder: named, the others still listed
    text = yml.read_text()
    try:
        yml.write_text("::: not yaml [")
        api.state.caches.clear()  # as a server started after the damage (the list is cached per model name)
        p = api.call("models", params={"limit": 500})
        assert world.other.split(":")[0] in p["error"] and world.tag1 in {i["tag"] for i in p["items"]}
        assert world.other not in {i["tag"] for i in p["items"]}
        r = api.raw("models/{}/{}".format(*world.other.split(":")))
        assert r.code == 409 and "damaged" in json.loads(r.body)["error"]
    finally:
        yml.write_text(text)
    assert world.other in {i["tag"] for i in api.call("models", params={"limit": 500})["items"]}


# --- data actions, jobs and reports --------------------------------------------------------
def test_profile_validate_drift_jobs_and_their_reports(api, world):
    j = api.wait(api.call("profile", "POST", {"path": "data/ref.csv"}))
    assert j["state"] == "done" and j["kind"] == "profile" and j["progress"] == 1.0, j
    assert j["result"]["n_rows"] == world.profile.n_rows and j["result"]["n_columns"] == 3
    assert {c["column"]: c["mean"] for c in j["result"]["columns"]}["x"] == pytest.approx(
        world.profile.to_frame().loc["x", "mean"])
    r = api.raw(f"jobs/{j['id']}/report")
    assert r.code == 200 and r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp
    html = r.body.decode()
    assert "Profile of data/ref.csv" in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html

    j = api.wait(api.call("validate", "POST", {"path": "data/cur.csv", "suite": "data/suite.yaml"}))
    res = mb.Suite.load(world.root / "data" / "suite.yaml").validate(pd.read_csv(world.root / "data" / "cur.csv"))
    assert j["state"] == "done" and j["result"]["ok"] == res.ok is False and j["result"]["failures"] == len(res.failures)
    assert "Validation of data/cur.csv" in api.call(f"jobs/{j['id']}/report")

    j = api.wait(api.call("drift", "POST", {"reference": "data/ref.csv", "current": "data/cur.csv"}))
    assert j["state"] == "done" and j["result"]["drifted_columns"] == world.drift.drifted_columns == ["x"]
    assert "Drift: data/cur.csv vs data/ref.csv" in api.call(f"jobs/{j['id']}/report")
    j = api.wait(api.call("drift", "POST", {"reference": "data/ref.mbp", "current": "data/ref.mbp"}))
    assert j["state"] == "done" and j["result"]["drifted"] is False

    j = api.wait(api.call("validate", "POST", {"path": "data/ref.csv", "suite": "data/ref.csv"}))
    assert j["state"] == "error" and "constraints" in j["error"], j
    assert api.raw(f"jobs/{j['id']}/report").code == 404
    jobs = api.call("jobs")
    assert jobs["total"] == 5 and jobs["items"][0]["id"] == j["id"] and api.call("status")["jobs_running"] == 0
    assert [x["id"] for x in api.call("jobs", params={"offset": 4, "limit": 2})["items"]] == [jobs["items"][4]["id"]]
    for path, body, field in [("profile", {}, "path"), ("profile", {"path": "nope.csv"}, "path"),
                              ("profile", {"path": 3}, "path"), ("profile", {"path": "s3://bucket/x.csv"}, "path"),
                              ("validate", {"path": "data/ref.csv"}, "suite"),
                              ("validate", {"path": "data/ref.csv", "suite": "data"}, "suite"),
                              ("drift", {"reference": "data/ref.csv"}, "current"), ("profile", "[]", "body")]:
        r = api.raw(path, "POST", body)
        assert r.code == 400 and json.loads(r.body)["error"].startswith(field), (path, body, r.body)
    assert api.raw("jobs/nope").code == 404 and api.raw("jobs/nope/report").code == 404


def test_report_of_saved_profile_and_drift_json(api, world):
    r = api.raw("report", params={"path": "data/ref.mbp"})
    assert r.code == 200 and "sandbox" in r.headers["Content-Security-Policy"]
    assert r.body.decode() == world.profile.to_html(title="Profile of data/ref.mbp")
    html = api.call("report", params={"path": "data/drift.json"})
    verdict = world.drift.to_html().split("<p>", 1)[1].split("</p>", 1)[0]  # the same verdict as the original
    assert verdict in html and "1 of 3 columns" in verdict and ">x<" in html
    for params, status in [({}, 400), ({"path": "data/notes.json"}, 400), ({"path": "data/ref.csv"}, 400),
                           ({"path": "data"}, 400), ({"path": "data/missing.mbp"}, 400)]:
        r = api.raw("report", params=params)
        assert r.code == status and json.loads(r.body)["error"].startswith("path"), (params, r.body)


def test_new_pipeline_copies_the_template(api, world):
    p = api.call("pipeline/new", "POST", {"dir": "flights"})
    assert p == {"pipeline": "flights/pipeline.yaml"} and (world.root / "flights" / "ingest.ipynb").is_file()
    assert api.raw("pipeline/new", "POST", {"dir": "flights"}).code == 409
    (world.root / "empty").mkdir()
    assert api.call("pipeline/new", "POST", {"dir": "empty"}) == {"pipeline": "empty/pipeline.yaml"}
    for body, status in [({}, 400), ({"dir": "."}, 400), ({"dir": "../out"}, 403), ({"dir": "/tmp/x"}, 403),
                         ({"dir": "data/ref.csv"}, 409)]:
        assert api.raw("pipeline/new", "POST", body).code == status, body


def test_paths_leading_outside_the_root_are_refused(api, world):
    data = world.root / "data"
    if not (data / "escape.csv").is_symlink():
        (data / "escape.csv").symlink_to("/etc/passwd")
        (data / "linkdir").symlink_to("/etc")
        (data / "mixed").mkdir()
        (data / "mixed" / "a.csv").write_text("a\n1\n")
        (data / "mixed" / "b.csv").symlink_to("/etc/hostname")
    outside = ["../etc/passwd", "/etc/passwd", "data/escape.csv", "data/linkdir/passwd", "data/../../etc/passwd",
               "~/x.csv"]
    for p in outside + ["data/mixed"]:
        for path, body in [("profile", {"path": p}), ("validate", {"path": p, "suite": "data/suite.yaml"}),
                           ("validate", {"path": "data/ref.csv", "suite": p}),
                           ("drift", {"reference": p, "current": "data/cur.csv"}),
                           ("drift", {"reference": "data/ref.csv", "current": p})]:
            if body.get("suite") == "data/mixed":
                continue  # a folder is no suite: 400
            r = api.raw(path, "POST", body)
            assert r.code == 403, (path, body, r.code, r.body)
    for p in outside:
        assert api.raw("report", params={"path": p}).code == 403, p
        assert api.raw("runs", "POST", {"pipeline": p}).code == 403, p
        for key in ("runs_root", "monitor_store", "ledger", "sweep_storage"):
            assert api.raw("config", "POST", {key: p}).code == 403, (key, p)
    for key, url in [("ledger", "sqlite:////etc/ledger.sqlite"), ("sweep_storage", "journal:../j.log"),
                     ("monitor_store", "sqlite:///../x.db"), ("sweep_storage", "file:///etc/x")]:
        assert api.raw("config", "POST", {key: url}).code == 403, (key, url)
    assert api.state.jobs.all() == []  # nothing was read


def test_status_answers_fast_while_a_big_file_is_profiled(api, world):
    big = world.root / "data" / "big.csv"
    rng = np.random.default_rng(1)
    n = 100_000
    block = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 1000, n), "c": rng.choice(["x", "yy", "zzz"], n),
                          "d": rng.random(n), "user": [f"user-{i}" for i in range(n)], "f": rng.choice(list("abcdefgh"), n)})
    text = block.to_csv(index=False)
    head, body = text.split("\n", 1)
    with open(big, "w") as f:
        f.write(head + "\n")
        while f.tell() < 200e6:
            f.write(body)
    try:
        job = api.call("profile", "POST", {"path": "data/big.csv"})
        lat, progress, t_end = [], [], time.monotonic() + 60
        while time.monotonic() < t_end:
            t0 = time.perf_counter()
            s = api.call("status")
            lat.append(time.perf_counter() - t0)
            j = api.call(f"jobs/{job['id']}")
            if j["state"] in ("done", "error"):
                lat.pop()  # measured after the job ended
                break
            if j["state"] == "queued":  # its process is starting
                lat.pop()
            else:
                assert s["jobs_running"] == 1
                progress.append(j["progress"] or 0)
            time.sleep(0.02)
        assert j["state"] == "done" and j["result"]["n_rows"] == (len(block) * ((big.stat().st_size - len(head) - 1)
                                                                               // len(body)))
        assert len(lat) >= 10 and 0 < max(progress) < 1, (len(lat), progress)
        # 200 ms is the target for every answer; a loaded CI machine may stall the client itself now and then,
        # so the test holds 95% of answers to it and every answer to 1 s (a profile on the event loop blocks it
        # for the whole job: ~10 s for this file)
        p95, worst = np.percentile(lat, 95), max(lat)
        assert p95 <= 0.2 and worst <= 1.0, f"status latency while profiling: p95 {p95:.3f} s, max {worst:.3f} s, median {np.median(lat):.3f} s"
        job = api.call("profile", "POST", {"path": "data/big.csv"})  # a job is cancelled between chunks
        assert api.call(f"jobs/{job['id']}", "DELETE")["id"] == job["id"]
        j = api.wait(job, timeout=120)
        assert j["state"] == "error" and j["error"] == "cancelled" and api.call("status")["jobs_running"] == 0
    finally:
        big.unlink()


# --- serving and golden-set verification ---------------------------------------------------
def test_serve_and_verify(api, world):
    name, version = world.tag2.split(":")
    base = f"models/{name}/{version}"
    assert api.call(f"{base}/serve") == {"serving": None}
    assert api.raw(f"{base}/serve", "POST", {"port": 80}).code == 400
    assert api.raw(f"{base}/serve", "POST", {"port": "x"}).code == 400
    assert api.raw(f"{base}/serve", "DELETE").code == 404
    assert api.raw("models/nope/1/serve", "POST", {}).code == 404
    job = api.call(f"{base}/verify", "POST")
    s = api.call(f"{base}/serve", "POST", {}, timeout=180)
    assert s["healthy"] is True and s["url"].startswith("http://127.0.0.1:") and s["pid"] > 0
    assert api.raw(f"{base}/serve", "POST", {}).code == 409
    assert api.call(f"{base}/serve")["healthy"] is True
    assert api.call(base)["serving"]["url"] == s["url"]
    import urllib.request

    with urllib.request.urlopen(s["url"] + "/info", timeout=10) as r:
        assert json.loads(r.read())["tag"] == world.tag2
    assert api.call(f"{base}/serve", "DELETE") == {"stopped": True}
    assert api.call(f"{base}/serve") == {"serving": None}
    j = api.wait(job, timeout=180)
    assert j["state"] == "done", j
    assert j["result"]["ok"] is True and j["result"]["rows"] == len(models.get(world.tag2).golden())
    assert j["result"]["tag"] == world.tag2
    assert api.raw("models/nope/1/verify", "POST").code == 404
    assert os.environ.get("BENTOML_HOME") and str(models.home()) == os.environ["BENTOML_HOME"]
