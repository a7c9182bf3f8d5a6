"""Rollouts under a real `bentoml serve`: a 10% canary over 2,000 requests, shadow answers that
never reach the client, the stores answering "which model served request X and why", and
`mlbench verify` failing (naming rows) against a model retrained with another seed."""
import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import mlbench as mb
from mlbench import models
from mlbench.data import logstore
from mlbench.serve import rollout
from mlbench.serve import process as serving

pytestmark = pytest.mark.timeout(600)
FEATURES = ["day", "sched_dep_time", "distance", "carrier", "origin"]


@pytest.fixture(scope="module")
def two_models():
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    df = mb.flights().query("month == 3").dropna(subset=["arr_delay"]).sample(6000, random_state=0).reset_index(drop=True)
    X, y = df[FEATURES], (df["arr_delay"] > 15).astype(int)
    fit = lambda seed: make_pipeline(  # noqa: E731
        make_column_transformer((OrdinalEncoder(), ["carrier", "origin"]), remainder="passthrough"),
        RandomForestClassifier(25, max_depth=8, random_state=seed)).fit(X.iloc[:4000], y.iloc[:4000])
    a, b = fit(0), fit(1)
    ta = mb.package(a, "rollout-delay", reference=X.iloc[:4000], golden=X.iloc[4000:4150])
    tb = mb.package(b, "rollout-delay", reference=X.iloc[:4000], golden=X.iloc[4000:4150])
    models.promote(ta, "production", reason="first model", who="ana")
    return ta, tb, a, b, X.iloc[4000:].reset_index(drop=True), y.iloc[4000:].reset_index(drop=True)


def _rows(X):
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in X.to_dict("records")]


async def _send(url, rows, n, conc=16, path="/predict"):
    out = []
    it = iter(range(n))
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        async def worker():
            for i in it:
                r = await c.post(path, json={"rows": [rows[i % len(rows)]]})
                out.append((i, r.status_code, r.json(), r.headers.get("x-model-tag")))
        await asyncio.gather(*(worker() for _ in range(conc)))
    return sorted(out)


def test_canary_share_and_the_stores_answer_who_served(two_models, tmp_path):
    ta, tb, a, b, Xh, yh = two_models
    rows = _rows(Xh)
    mon = tmp_path / "mon"
    with serving.serve(ta, challenger_tag=tb, route="canary", canary_share=0.1, monitor=str(mon), flush_s=0.5) as srv:
        info = httpx.get(srv.url + "/info").json()["rollout"]
        assert info == {**info, "champion": ta, "challenger": tb, "route": "canary", "canary_share": 0.1}
        answers = asyncio.run(_send(srv.url, rows, 2000))
        assert [(s, body) for _, s, body, _ in answers if s != 200][:3] == []
        by = {ta: a, tb: b}
        for i, _, body, hdr in answers:  # each answer is the named model's own prediction
            assert body["model"] == hdr
            assert body["predictions"][0] == by[hdr].predict(Xh.iloc[[i % len(rows)]])[0]
        n_b = sum(1 for _, _, body, _ in answers if body["model"] == tb)
        sd = (2000 * 0.1 * 0.9) ** 0.5
        assert abs(n_b - 200) < 4 * sd, n_b  # binomial tolerance (4 sigma)
        # a client's own request id is only echoed: the server's id picks the route (tests/serve/test_auth.py)
        fixed = [httpx.post(srv.url + "/predict", json={"rows": rows[:1]}, headers={"x-request-id": "client-42"})
                 for _ in range(5)]
        assert all(r.json()["correlation_id"] == "client-42" != r.json()["request_id"] for r in fixed)
        fixed = [r.json()["model"] for r in fixed]
        target = answers[7][2]["request_id"]
    # from the stores alone: which model served request X, and why was it promoted
    preds = logstore.predictions("rollout-delay", str(mon))
    served_by = preds.loc[preds["request_id"] == target, "tag"].tolist()
    assert served_by == [answers[7][3]]
    assert preds["tag"].value_counts().to_dict() == {ta: 2000 - n_b + fixed.count(ta), tb: n_b + fixed.count(tb)}
    h = models.history("rollout-delay")
    assert h[(h["tag"] == ta) & (h["to_stage"] == "production")]["reason"].tolist() == ["first model"]
    st = logstore.stats("rollout-delay", str(mon))
    assert set().union(*st["tags"]) == {ta, tb}


def test_shadow_answers_never_reach_the_client(two_models, tmp_path):
    ta, tb, a, b, Xh, yh = two_models
    rows = _rows(Xh)
    mon = tmp_path / "mon"
    # max_shadow above the 700 copies: this test checks what shadows score (the bound has its own test, test_robust)
    with serving.serve(ta, challenger_tag=tb, route="shadow", monitor=str(mon), flush_s=0.5, max_shadow=1000) as srv:
        answers = asyncio.run(_send(srv.url, rows, 600))
        proba = asyncio.run(_send(srv.url, rows, 100, path="/predict_proba"))
        labels = [{"request_id": body["request_id"], "row": 0, "label": int(yh.iloc[i % len(rows)])}
                  for i, _, body, _ in answers]
        assert httpx.post(srv.url + "/feedback", json={"feedback": labels}).status_code == 200
    assert all(s == 200 and body["model"] == ta and hdr == ta for _, s, body, hdr in answers + proba)
    for i, _, body, _ in proba:  # the champion's own probabilities, never the challenger's
        np.testing.assert_allclose(body["probabilities"][0], a.predict_proba(Xh.iloc[[i % len(rows)]])[0], atol=1e-12)
    preds = logstore.predictions("rollout-delay", str(mon))
    counts = preds["tag"].value_counts().to_dict()
    assert counts == {ta: 700, tb: 700}  # the challenger scored a copy of every request
    shadow = preds[preds["tag"] == tb].set_index("request_id")["__prediction__"]
    for i, _, body, _ in answers[:100]:
        assert shadow[body["request_id"]] == b.predict(Xh.iloc[[i % len(rows)]])[0]
    # the A/B outcome from the logged windows: both models labeled on the same requests
    lab = logstore.labeled("rollout-delay", str(mon))
    acc = lab.assign(hit=lab["__prediction__"] == lab["label"]).groupby("tag")["hit"].mean()
    direct = {t: float((m.predict(Xh.iloc[[i % len(rows) for i, _, _, _ in answers]]) ==
                        yh.iloc[[i % len(rows) for i, _, _, _ in answers]].to_numpy()).mean()) for t, m in ((ta, a), (tb, b))}
    assert acc.to_dict() == pytest.approx(direct, abs=1e-12)
    # the A/B report on the logged windows: its accuracy difference is the one in the logged outcomes
    rep = models.compare(ta, tb, store=str(mon), metric="accuracy", n_boot=200)
    row = rep.to_frame().set_index("metric").loc["accuracy"]
    assert rep.mode == "logged" and rep.n_a == rep.n_b == 600
    assert row["diff"] == pytest.approx(acc[tb] - acc[ta], abs=1e-12)
    assert row["diff_low"] <= row["diff"] <= row["diff_high"]


def test_verify_passes_and_fails_naming_rows(two_models, tmp_path):
    ta, tb, *_ = two_models
    ok = rollout.verify(ta)
    assert ok.ok and ok.rows == 150, ok.summary()
    with serving.serve(tb, log=False) as other:  # retrained with another seed
        bad = rollout.verify(ta, url=other.url)
        exe = Path(sys.executable).parent / "mlbench"
        r = subprocess.run([str(exe), "verify", ta, "--url", other.url, "--no-advice", "--json", str(tmp_path / "v.json")],
                           capture_output=True, text=True, timeout=300)
    assert not bad.ok
    rows = sorted(bad.mismatches["row"].unique())
    assert rows and f"rows {[int(x) for x in rows[:20]]}"[:40] in bad.summary()
    assert r.returncode == 1 and "answered differently" in r.stdout
    assert json.loads((tmp_path / "v.json").read_text())["mismatched_rows"] == [int(x) for x in rows]


def test_batching_advice_keeps_p95(two_models):
    ta, *_ = two_models
    adv = rollout.advise_batching(ta, max_batch_rows=(16,), max_latency_ms=(0.0,), concurrency=16, duration=2.0,
                                  warmup=0.5)
    t = adv.table
    assert list(t["max_batch_rows"]) == [1, 16] and (t["errors"] == 0).all()
    rec = t[(t["max_batch_rows"] == adv.recommended["max_batch_rows"])].iloc[0]
    assert rec["p95_ms"] <= adv.baseline_p95_ms or adv.recommended["max_batch_rows"] == 1
    assert rec["rps"] == t[t["p95_ms"] <= adv.baseline_p95_ms]["rps"].max()
    assert isinstance(adv.to_dict()["table"], list) and pd.DataFrame(adv.to_dict()["table"]).shape == t.shape
