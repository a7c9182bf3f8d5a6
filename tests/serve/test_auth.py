"""Who may do what, under a real `bentoml serve` on loopback: API keys and scopes, the bind rule,
server-issued request ids (canary routing, labels once), /info and error bodies that leak
nothing, and the Host-header check against DNS rebinding."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import mlbench as mb
from mlbench.data import logstore
from mlbench.serve import process as serving
from mlbench.serve.batcher import ServeError

pytestmark = pytest.mark.timeout(600)
TESTS = Path(__file__).parents[1]
MLBENCH = shutil.which("mlbench", path=str(Path(sys.executable).parent))
PREDICT, FEEDBACK, ADMIN = "pk-predict-0123456789abcdef", "fk-feedback-0123456789abcdef", "ak-admin-0123456789abcdef"
BOTH = "bk-both-0123456789abcdef"
CATS = ["alpha", "beta", "gamma-secret-category"]


def _auth(key):
    return {"Authorization": f"Bearer {key}"}


def _frame(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "cat": rng.choice(CATS, n)})


def _rows(X, n=1, start=0):
    return [{"x": float(r["x"]), "cat": str(r["cat"])} for r in X.iloc[start:start + n].to_dict("records")]


def _clf(C, X):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    y = (X["x"] > 0).astype(int)
    return make_pipeline(make_column_transformer((OneHotEncoder(), ["cat"]), remainder="passthrough"),
                         LogisticRegression(C=C)).fit(X, y)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    "A 50% canary with keys: predict and feedback keys from a keys file, the admin key from the environment."
    X = _frame()
    ta = mb.package(_clf(1.0, X), "auth-clf", reference=X, metrics={"train_acc": 0.97})
    tb = mb.package(_clf(0.01, X), "auth-clf", reference=X)
    d = tmp_path_factory.mktemp("keyed")
    keys = d / "keys.txt"
    keys.write_text(f"# mlbench API keys: KEY SCOPES\n{PREDICT} predict\n{FEEDBACK} feedback\n\n{BOTH} predict,feedback\n")
    srv = serving.serve(ta, challenger_tag=tb, route="canary", canary_share=0.5, monitor=str(d / "mon"), flush_s=0.3,
                        api_keys_file=str(keys), access_log=True, env={"MLBENCH_API_KEYS": f"{ADMIN} admin"})
    srv.tags, srv.X, srv.mon = (ta, tb), X, d / "mon"
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def open_regressor(tmp_path_factory):
    "No keys, loopback: open as before; a regression model; a second label overwrites (--feedback-overwrite)."
    from sklearn.linear_model import LinearRegression

    X = pd.DataFrame({"x": np.linspace(0, 1, 50), "z": np.linspace(1, 2, 50)})
    tag = mb.package(LinearRegression().fit(X, 2 * X["x"] + X["z"]), "auth-reg", reference=X, metrics={"r2": 1.0})
    d = tmp_path_factory.mktemp("open")
    srv = serving.serve(tag, monitor=str(d / "mon"), flush_s=0.3, feedback_overwrite=True)
    srv.tag, srv.mon = tag, d / "mon"
    yield srv
    srv.stop()


# --- 1. keys and scopes -------------------------------------------------------------------------
def test_keys_and_scopes(keyed):
    rows = _rows(keyed.X, 2)
    u = keyed.url
    with httpx.Client(base_url=u, timeout=30) as c:
        for path, body in (("/predict", {"rows": rows}), ("/predict_proba", {"rows": rows}), ("/score", {"rows": rows}),
                           ("/feedback", {"feedback": [{"request_id": "x", "label": 1}]})):
            r = c.post(path, json=body)
            assert r.status_code == 401, (path, r.text)
            if path != "/score":  # the typed BentoML route answers BentoML's own error shape
                assert r.headers["www-authenticate"].startswith("Bearer")
                assert r.json()["error"]["type"] == "unauthorized" and r.json()["request_id"]
            r = c.post(path, json=body, headers=_auth("not-a-key-but-long-enough-xyz"))
            assert r.status_code == 401 and "not-a-key" not in r.text, (path, r.text)
        assert c.get("/info").status_code == 401
        unauthorized = c.post("/predict", json={"rows": rows}).json()["request_id"]  # no id that can take a label
        r = c.post("/feedback", json={"feedback": [{"request_id": unauthorized, "label": 1}]}, headers=_auth(FEEDBACK))
        assert r.status_code == 404, r.text
        for path in ("/livez", "/readyz", "/healthz", "/metrics"):  # health stays open
            assert c.get(path).status_code == 200, path

        p = c.post("/predict", json={"rows": rows}, headers=_auth(PREDICT))
        assert p.status_code == 200 and len(p.json()["predictions"]) == 2
        assert c.post("/predict_proba", json={"rows": rows}, headers=_auth(PREDICT)).status_code == 200
        s = c.post("/score", json={"rows": rows}, headers=_auth(PREDICT))
        assert s.status_code == 200 and len(s.json()["predictions"]) == 2
        assert c.get("/info", headers=_auth(PREDICT)).status_code == 200
        # predicting does not allow posting labels, and labelling does not allow predicting
        label = {"feedback": [{"request_id": p.json()["request_id"], "row": 0, "label": 1}]}
        r = c.post("/feedback", json=label, headers=_auth(PREDICT))
        assert r.status_code == 403 and r.json()["error"]["type"] == "forbidden" and "feedback" in r.json()["error"]["message"]
        assert c.post("/predict", json={"rows": rows}, headers=_auth(FEEDBACK)).status_code == 403
        assert c.post("/score", json={"rows": rows}, headers=_auth(FEEDBACK)).status_code == 403
        assert c.post("/feedback", json=label, headers=_auth(FEEDBACK)).status_code == 200
        assert c.post("/predict", json={"rows": rows}, headers=_auth(BOTH)).status_code == 200
        assert c.post("/predict", json={"rows": rows}, headers=_auth(ADMIN)).status_code == 200  # admin may do all
    log = keyed.log()
    for key in (PREDICT, FEEDBACK, ADMIN, BOTH):  # never logged (BentoML's access log is on here)
        assert key not in log
    assert "/predict" in log  # the access log did write lines


# --- 2. beyond loopback: keys or an explicit --insecure-no-auth ------------------------------------
def test_non_loopback_bind_needs_keys(keyed, tmp_path):
    ta, _ = keyed.tags
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLBENCH_API_KEYS")}
    r = subprocess.run([MLBENCH, "serve", ta, "--host", "0.0.0.0", "--port", str(serving.free_port())],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "--insecure-no-auth" in r.stderr and "--keys-file" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([MLBENCH, "serve", ta, "--host", "0.0.0.0", "--keys-file", str(tmp_path / "missing.txt")],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 2 and "missing.txt" in r.stderr, r.stderr[-2000:]
    with pytest.raises(ServeError, match="insecure_no_auth"):
        serving.serve(ta, host="0.0.0.0")


# --- 3. the server's request id picks the canary route ----------------------------------------------
def test_client_request_id_cannot_pick_the_route(keyed):
    ta, tb = keyed.tags
    rows = _rows(keyed.X)
    with httpx.Client(base_url=keyed.url, timeout=30, headers=_auth(PREDICT)) as c:
        answers = [c.post("/predict", json={"rows": rows}, headers={"X-Request-ID": "client-42"}) for _ in range(40)]
    assert all(r.status_code == 200 for r in answers), answers[0].text
    served = [r.json()["model"] for r in answers]
    assert set(served) == {ta, tb}, served  # before: one fixed id always took the same route
    assert len({r.json()["request_id"] for r in answers}) == 40
    for r in answers:  # the client's id is echoed as its correlation id; the request id is the server's
        assert r.headers["x-correlation-id"] == "client-42" and r.json()["correlation_id"] == "client-42"
        assert r.headers["x-request-id"] == r.json()["request_id"] != "client-42"


# --- 4. labels: only for ids the server issued, once, of the model's label type ---------------------
def test_labels_only_for_issued_ids_once_and_typed(keyed):
    with httpx.Client(base_url=keyed.url, timeout=30) as c:
        rid = c.post("/predict", json={"rows": _rows(keyed.X, 3)}, headers=_auth(PREDICT)).json()["request_id"]
        other = c.post("/predict", json={"rows": _rows(keyed.X)}, headers=_auth(PREDICT)).json()["request_id"]
        fb = _auth(FEEDBACK)

        def post(*items):
            return c.post("/feedback", json={"feedback": [dict(zip(("request_id", "row", "label"), i)) for i in items]},
                          headers=fb)

        forged = rid[:-4] + ("0000" if not rid.endswith("0000") else "1111")
        for bad in ("made-up-id", forged):
            r = post((bad, 0, 1))
            assert r.status_code == 404 and r.json()["error"]["type"] == "unknown_request_id", r.text
        r = post((rid, 0, "yes"))  # a string label for a 0/1 classifier
        assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_label", r.text
        assert r.json()["error"]["details"][0]["row"] == 0
        assert post((rid, 0, 7)).status_code == 422  # not one of the model's classes
        assert post((rid, 0, True)).status_code == 422  # a bool is not the class 1
        assert post((rid, 0, 1), (other, 0, "no")).status_code == 422  # all or nothing: the good one is not stored
        r = post((rid, 0, 1), (rid, 2, 0))
        assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
        r = post((rid, 0, 0))
        assert r.status_code == 409 and r.json()["error"]["type"] == "already_labeled", r.text
        assert post((other, 0, 1), (other, 0, 0)).status_code == 409  # twice in one body
        assert post((rid, 1, 1)).status_code == 200  # another row of the same request
    end = time.monotonic() + 30
    while True:
        got = logstore.feedback("auth-clf", keyed.mon)
        mine = got[got["request_id"].isin([rid, other, "made-up-id", forged])]
        if len(mine) >= 3 or time.monotonic() > end:
            break
        time.sleep(0.3)
    time.sleep(1.0)  # one more flush: nothing else arrives
    got = logstore.feedback("auth-clf", keyed.mon)
    mine = got[got["request_id"].isin([rid, other, "made-up-id", forged])]
    assert sorted(zip(mine["request_id"], mine["row"], mine["label"].astype(int))) == [(rid, 0, 1), (rid, 1, 1), (rid, 2, 0)]
    keyed.labeled_rid = rid


def test_a_label_stays_one_label_across_a_restart(keyed, tmp_path):
    "Another server process on the same store (and the same secret, kept in the model store's home) refuses it too."
    rid = getattr(keyed, "labeled_rid", None)
    if rid is None:
        pytest.skip("needs the labels of test_labels_only_for_issued_ids_once_and_typed")
    with serving.serve(keyed.tags[0], monitor=str(keyed.mon), flush_s=0.3) as srv:  # no keys, loopback
        r = httpx.post(srv.url + "/feedback", json={"feedback": [{"request_id": rid, "row": 0, "label": 0}]})
        assert r.status_code == 409 and r.json()["error"]["type"] == "already_labeled", r.text
        r = httpx.post(srv.url + "/feedback", json={"feedback": [{"request_id": rid, "row": 2, "label": 1}]})
        assert r.status_code == 409, r.text


def test_regression_labels_are_numbers_and_overwrite_when_asked(open_regressor):
    with httpx.Client(base_url=open_regressor.url, timeout=30) as c:  # no keys on loopback: open, as before
        r = c.post("/predict", json={"rows": [{"x": 0.5, "z": 1.5}]})
        assert r.status_code == 200, r.text
        rid = r.json()["request_id"]
        for bad in ("2.5", True):
            r = c.post("/feedback", json={"feedback": [{"request_id": rid, "label": bad}]})
            assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_label", r.text
        assert c.post("/feedback", json={"feedback": [{"request_id": rid, "label": 2.5}]}).status_code == 200
        assert c.post("/feedback", json={"feedback": [{"request_id": rid, "label": 2}]}).status_code == 200  # overwrite on
        assert c.post("/feedback", json={"feedback": [{"request_id": "nope", "label": 2}]}).status_code == 404


# --- 5. /info and error bodies leak nothing -----------------------------------------------------------
def test_info_without_admin_is_names_and_types(keyed, open_regressor):
    ta, tb = keyed.tags
    basic = httpx.get(keyed.url + "/info", headers=_auth(PREDICT))
    assert basic.status_code == 200
    b = basic.json()
    assert b["tag"] == ta and b["task"] == "classification" and b["classes"] == [0, 1]
    assert b["columns"] == [{"name": "x", "kind": "numeric", "nullable": False},
                            {"name": "cat", "kind": "categorical", "nullable": False}] or \
        [c["name"] for c in b["columns"]] == ["x", "cat"]
    assert all(set(c) == {"name", "kind", "nullable"} for c in b["columns"])
    text = basic.text
    for leak in ("gamma-secret-category", "train_acc", "lineage", "git", "versions", "metrics", tb, "limits", "min", "max"):
        assert leak not in text, leak
    full = httpx.get(keyed.url + "/info", headers=_auth(ADMIN)).json()
    assert full["metrics"]["train_acc"] == 0.97 and "gamma-secret-category" in str(full["schema"])
    assert full["rollout"]["challenger"] == tb
    assert "api_keys_file" not in str(full["limits"]) and "keys.txt" not in str(full)
    # no keys, loopback: the full /info as before
    assert httpx.get(open_regressor.url + "/info").json()["metrics"] == {"r2": 1.0}


def test_error_bodies_never_echo_exception_text_or_paths(tmp_path):
    sys.path.insert(0, str(TESTS))
    from serve_helpers import RaisingModel

    X = pd.DataFrame({"boom": [0.0, 1.0, 0.0, 1.0], "x": [1.0, 2.0, 3.0, 4.0]})
    env = {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    tag = mb.package(RaisingModel().fit(X, [0, 1, 0, 1]), "auth-raising", reference=X,
                     golden=pd.DataFrame({"boom": [0.0, 0.0], "x": [1.0, 2.0]}))
    with serving.serve(tag, monitor=str(tmp_path / "mon"), env=env) as srv:
        r = httpx.post(srv.url + "/predict", json={"rows": [{"boom": 1.0, "x": 1.0}]}, timeout=30)
        assert r.status_code == 500 and r.json()["error"]["type"] == "model_error"
        assert "/srv/secret" not in r.text and "FileNotFoundError" not in r.text, r.text
        assert r.json()["request_id"] in srv.log() and "/srv/secret" in srv.log()  # the operator sees it, with the id
    broken = mb.package(RaisingModel(fail_load=True).fit(X, [0, 1, 0, 1]), "auth-broken", reference=X,
                        golden=pd.DataFrame({"boom": [0.0, 0.0], "x": [1.0, 2.0]}))
    port = serving.free_port()
    proc = subprocess.Popen(serving.command(broken, port), stdout=open(tmp_path / "broken.log", "w+b"),
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, **env, "MLBENCH_MODEL_TAG": broken, "MLBENCH_MONITOR": str(tmp_path / "m2"),
                                 "BENTOML_HOME": str(mb.models.home())})
    srv = serving.Server(proc, f"http://127.0.0.1:{port}", open(tmp_path / "broken.log", "rb"))
    try:
        end = time.monotonic() + 90
        while True:
            try:
                r = httpx.get(srv.url + "/info", timeout=2)
                if r.status_code == 503 and r.json()["error"]["type"] == "model_failed":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < end and proc.poll() is None, (tmp_path / "broken.log").read_text()[-3000:]
            time.sleep(0.3)
        for r in (r, httpx.post(srv.url + "/predict", json={"rows": [{"boom": 0.0, "x": 1.0}]}),
                  httpx.post(srv.url + "/score", json={"rows": [{"boom": 0.0, "x": 1.0}]})):
            assert r.status_code == 503, r.text
            assert "/srv/secret" not in r.text and "OSError" not in r.text and "disk on fire" not in r.text, r.text
        assert "disk on fire" in (tmp_path / "broken.log").read_text()
    finally:
        srv.stop()


# --- 6. loopback servers check the Host header ----------------------------------------------------------
def test_loopback_server_checks_the_host_header(open_regressor, keyed):
    port = open_regressor.url.rsplit(":", 1)[1]
    row = {"rows": [{"x": 0.5, "z": 1.5}]}
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", "localhost.evil.example:80"):
        for method, path in (("POST", "/predict"), ("GET", "/info"), ("POST", "/feedback")):
            r = httpx.request(method, open_regressor.url + path, json=row, headers={"Host": host})
            assert r.status_code == 403 and r.json()["error"]["type"] == "forbidden_host", (host, path, r.text)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}", "LOCALHOST"):
        r = httpx.post(open_regressor.url + "/predict", json=row, headers={"Host": host})
        assert r.status_code == 200, (host, r.text)
    r = httpx.post(keyed.url + "/predict", json={"rows": _rows(keyed.X)}, headers={**_auth(PREDICT), "Host": "evil.example"})
    assert r.status_code == 403
    r = httpx.post(keyed.url + "/score", json={"rows": _rows(keyed.X)}, headers={**_auth(PREDICT), "Host": "evil.example"})
    assert r.status_code in (400, 403)


def test_any_worker_verifies_the_ids_another_issued(open_regressor, tmp_path):
    "Two workers share the server secret: a label for an id one issued is taken wherever it lands."
    with serving.serve(open_regressor.tag, workers=2, monitor=str(tmp_path / "mon"), flush_s=0.3) as srv:
        def post(path, body):  # a new connection each time: the kernel spreads them over both workers
            return httpx.post(srv.url + path, json=body, headers={"Connection": "close"}, timeout=30)

        ids = [post("/predict", {"rows": [{"x": 0.5, "z": 1.5}]}).json()["request_id"] for _ in range(30)]
        codes = [post("/feedback", {"feedback": [{"request_id": i, "label": 2.5}]}).status_code for i in ids]
        assert codes == [200] * 30, codes


def test_verify_starts_its_own_server_without_the_environments_keys(keyed, monkeypatch):
    "`mlbench verify TAG` on a machine whose environment configures keys: its own loopback server needs none."
    from mlbench.serve import rollout

    monkeypatch.setenv("MLBENCH_API_KEYS", f"{PREDICT} predict")
    res = rollout.verify(keyed.tags[0])
    assert res.ok, res.summary()
