"""One bad request or a slow model must not hurt others (issue 17), under a real `bentoml serve` on
loopback: unconvertible rows fail alone, timed-out requests are neither scored nor logged, queues
and shadow scoring are bounded, body limits hold on every route, and a hung model call is abandoned."""
import asyncio
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import mlbench as mb
from mlbench.data import logstore
from mlbench.serve import process as serving
from mlbench.serve.validation import ApiError, Validator

pytestmark = pytest.mark.timeout(600)
TESTS = Path(__file__).parents[1]
sys.path.insert(0, str(TESTS))
from serve_helpers import HANG, HangModel  # noqa: E402

NAME = "robust-hang"


@pytest.fixture(scope="module")
def hang_model():
    X = pd.DataFrame({"n": np.array([-2**62, 0, 5, 2**62], dtype=np.int64), "delay": [0.0, 0.0, 1.0, 100.0],
                      "t": pd.to_datetime(["2020-01-01", "2024-03-05", "2024-06-07", "2030-01-01"])})
    m = HangModel().fit(X, [0, 1, 0, 1])
    tag = mb.package(m, NAME, reference=X, golden=X.assign(delay=0.0))
    return tag, m


def _serve(tag, tmp_path, **kw):
    env = {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return serving.serve(tag, env=env, monitor=str(tmp_path / "mon"), flush_s=0.5, **kw)


def _row(n=1, delay=0.0, t="2024-01-01"):
    return {"n": n, "delay": delay, "t": t}


def _local(m, rows) -> list:
    "The model's own predictions on `rows`, each request's datetimes parsed as one column."
    X = pd.DataFrame({"n": np.array([r["n"] for r in rows], dtype=np.int64), "delay": [float(r["delay"]) for r in rows],
                      "t": pd.to_datetime([r["t"] for r in rows])})
    return m.predict(X).tolist()


def _statuses(name, mon) -> Counter:
    st = logstore.stats(name, str(mon))
    out = Counter()
    for s in st["status"]:
        out.update({int(k): v for k, v in s.items()})
    return out


# --- 1. one unconvertible row fails only its own request ---------------------------------------
GOOD_TIMES = ["2024-01-01", "2024-06-07T10:30:00", "2024-02-29 23:59", "2023-12-30"]  # formats differ per request
BAD = [("400-digit integer", {"n": 10**400}, "n"), ("integer >= 2**63", {"n": 2**63}, "n"),
       ("unparsable datetime", {"t": "not a date"}, "t")]


def test_unconvertible_row_fails_only_its_own_request(hang_model, tmp_path):
    tag, m = hang_model
    rounds = []
    with _serve(tag, tmp_path, out_of_range="flag", predict_in="thread", timeout_s=10) as srv:
        assert httpx.get(srv.url + "/info").json()["limits"]["max_batch_rows"] >= 20
        assert httpx.post(srv.url + "/predict", json={"rows": [_row()]}).status_code == 200  # the first request is slower

        async def one_round(bad):
            async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
                await c.get("/livez")  # the client's first request is slow: make it before the timed ones
                blocker = asyncio.ensure_future(c.post("/predict", json={"rows": [_row(delay=0.5)]}))
                await asyncio.sleep(0.2)  # the blocker is being scored: what follows queues and shares the next batch
                goods = [[_row(n=3 * i + k, t=ts) for k in range(2)] for i, ts in enumerate(GOOD_TIMES)]
                bodies = goods[:2] + [[_row(n=7), {**_row(), **bad}]] + goods[2:]
                answers = await asyncio.gather(*(c.post("/predict", json={"rows": b}) for b in bodies))
                return await blocker, goods, answers

        for name, bad, field in BAD:
            blocker, goods, answers = asyncio.run(one_round(bad))
            assert blocker.status_code == 200, (name, blocker.text)
            bad_answer = answers.pop(2)
            assert bad_answer.status_code == 422, (name, bad_answer.status_code, bad_answer.text[:300])
            assert any(d["field"] == field and d["row"] == 1 for d in bad_answer.json()["error"]["details"]), name
            for rows, a in zip(goods, answers):
                assert a.status_code == 200, (name, a.status_code, a.text[:300])
                assert a.json()["predictions"] == _local(m, rows), name
            rounds.append([a.json()["request_id"] for a in answers])
    preds = logstore.predictions(NAME, str(tmp_path / "mon"))
    for ids in rounds:  # the good requests of a round were scored in one batch (one logged time)
        assert preds.loc[preds["request_id"].isin(ids), "time"].nunique() == 1
        assert preds["request_id"].isin(ids).sum() == 2 * len(ids)


@pytest.mark.parametrize("policy", ["reject", "flag"])
def test_integers_beyond_the_column_dtype_are_422_at_parse(hang_model, policy):
    tag, _ = hang_model
    v = Validator(mb.models.get(tag).schema, policy)
    for n in (10**400, 2**63, -2**63 - 1):
        with pytest.raises(ApiError) as e:
            v.parse(json.dumps({"rows": [_row(), _row(n=n)]}).encode())
        assert e.value.status == 422 and e.value.details[0]["row"] == 1 and e.value.details[0]["field"] == "n"
        assert "int64" in e.value.details[0]["message"]
    assert v.parse(json.dumps({"rows": [_row(n=2**63 - 1)]}).encode())[0]["n"] == 2**63 - 1


# --- 2. timeouts, a bounded queue, bounded shadows, counts that add up ---------------------------
def test_timed_out_requests_are_not_scored_queue_is_bounded_and_counts_add_up(hang_model, tmp_path):
    tag, m = hang_model
    sent, rows_ok = Counter(), 0
    with _serve(tag, tmp_path, predict_in="thread", timeout_s=2.0, max_queue=3) as srv:
        async def timeouts():
            async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
                await c.get("/livez")  # the client's first request is slow: make it before the timed ones
                first = asyncio.ensure_future(c.post("/predict", json={"rows": [_row(delay=1.5)]}))  # 200 at 1.5 s
                await asyncio.sleep(0.3)
                # queued behind it, then scored from 1.5 s to 2.7 s: past their deadline (2.3 s), yet no hang (< 2 s)
                late = asyncio.gather(*(c.post("/predict", json={"rows": [_row(n=i, delay=1.2)] * 3}) for i in range(3)))
                return [await first, *await late]

        assert httpx.post(srv.url + "/predict", json={"rows": [_row()]}).status_code == 200  # the first request is slower
        sent[200] += 1
        rows_ok += 1
        t = time.perf_counter()
        answers = asyncio.run(timeouts())
        assert [a.status_code for a in answers] == [200, 504, 504, 504], [a.text[:200] for a in answers]
        assert time.perf_counter() - t < 3.5
        sent.update(a.status_code for a in answers)
        rows_ok += 1
        time.sleep(1.0)  # the late batch has finished scoring: its requests were answered 504, so never logged
        assert httpx.get(srv.url + "/readyz").status_code == 200  # slow, not hung

        async def burst():
            async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
                await c.get("/livez")  # the client's first request is slow: make it before the timed ones
                blocker = asyncio.ensure_future(c.post("/predict", json={"rows": [_row(delay=0.4)]}))
                await asyncio.sleep(0.15)
                rest = await asyncio.gather(*(c.post("/predict", json={"rows": [_row(n=i)]}) for i in range(8)))
                return [await blocker, *rest]

        answers = asyncio.run(burst())
        codes = Counter(a.status_code for a in answers)
        assert set(codes) == {200, 429} and codes[200] >= 4 and codes[429] >= 3, codes  # 3 queue, 1 in the batch
        busy = next(a for a in answers if a.status_code == 429)
        assert busy.headers["retry-after"] == "1" and busy.json()["error"]["type"] == "queue_full"
        sent.update(codes)
        rows_ok += codes[200]
        for i in range(3):
            r = httpx.post(srv.url + "/predict", json={"rows": [_row(n=i)] * 2})
            assert r.status_code == 200 and r.json()["predictions"] == _local(m, [_row(n=i)] * 2)
            sent[200] += 1
            rows_ok += 2
    got = _statuses(NAME, tmp_path / "mon")
    assert got == sent, (got, sent)
    st = logstore.stats(NAME, str(tmp_path / "mon"))
    assert st["rows"].sum() == rows_ok and len(logstore.predictions(NAME, str(tmp_path / "mon"))) == rows_ok


def test_shadow_scoring_is_bounded_and_drops_are_counted(hang_model, tmp_path):
    tag, m = hang_model
    X = pd.DataFrame({"n": np.array([-2**62, 2**62], dtype=np.int64), "delay": [0.0, 100.0],
                      "t": pd.to_datetime(["2020-01-01", "2030-01-01"])})
    other = mb.package(HangModel().fit(X, [0, 1]), NAME + "-b", reference=X, golden=X.assign(delay=0.0))
    with _serve(tag, tmp_path, predict_in="thread", timeout_s=10, challenger_tag=other, route="shadow",
                max_shadow=2) as srv:
        async def run():
            async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
                await c.get("/livez")  # the client's first request is slow: make it before the timed ones
                return await asyncio.gather(*(c.post("/predict", json={"rows": [_row(n=i, delay=0.3)]}) for i in range(12)))

        answers = asyncio.run(run())
        assert all(a.status_code == 200 and a.json()["model"] == tag for a in answers)
        time.sleep(1.5)  # shadows finish
    champ, shadow = _statuses(NAME, tmp_path / "mon"), _statuses(NAME + "-b", tmp_path / "mon")
    assert champ == {200: 12}
    assert sum(shadow.values()) == 12 and shadow[429] >= 5 and shadow[200] >= 1, shadow  # dropped, and counted


# --- 3. body limits and content types on every route; rows bounded before parsing ------------------
def test_score_route_has_the_same_body_limits(hang_model, tmp_path):
    import bentoml

    tag, m = hang_model
    with _serve(tag, tmp_path, max_body_bytes=50_000, max_rows=100) as srv:
        ok = httpx.post(srv.url + "/score", json={"rows": [_row(n=4)]})
        assert ok.status_code == 200 and ok.json()["predictions"] == _local(m, [_row(n=4)])
        for path in ("/predict", "/score"):
            big = httpx.post(srv.url + path, json={"rows": [_row(t="x" * 60_000)]})
            assert big.status_code == 413 and big.json()["error"]["type"] == "body_too_large", (path, big.text[:300])
            many = httpx.post(srv.url + path, json={"rows": [_row()] * 101})
            assert many.status_code == 413 and many.json()["error"]["type"] == "too_many_rows", (path, many.text[:300])
            for ctype in ("text/plain", "application/x-python-pickle", ""):
                r = httpx.post(srv.url + path, content=json.dumps({"rows": [_row()]}), headers={"content-type": ctype})
                assert r.status_code == 415 and r.json()["error"]["type"] == "unsupported_media_type", (path, ctype, r.text)
        c = bentoml.SyncHTTPClient(srv.url)  # BentoML's own client sees the same limits
        try:
            assert c.score(rows=[_row(n=4)])["predictions"] == _local(m, [_row(n=4)])
            with pytest.raises(bentoml.exceptions.BentoMLException) as e:
                c.score(rows=[_row(t="x" * 60_000)])
            assert e.value.error_code == 413
        finally:
            c.close()


POLL = """
import json, sys, threading, time, httpx
lat, done = [], threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
with httpx.Client(base_url=sys.argv[1], timeout=10) as c:
    print("ready", flush=True)
    while not done.is_set():
        t = time.perf_counter()
        assert c.get("/livez").status_code == 200
        lat.append(time.perf_counter() - t)
        time.sleep(0.01)
print(json.dumps(lat), flush=True)
"""


def test_10mb_of_empty_rows_is_refused_quickly_without_stalling_livez(hang_model, tmp_path):
    import subprocess

    tag, _ = hang_model
    with _serve(tag, tmp_path) as srv:
        limit = httpx.get(srv.url + "/info").json()["limits"]["max_body_bytes"]
        n = (limit - 20) // 3
        body = b'{"rows":[' + b",".join([b"{}"] * n) + b"]}"
        assert limit - 1000 < len(body) <= limit
        for path in ("/predict", "/score"):
            # /livez is polled from another process: this one's GIL (sending 10 MB) must not count as the server's stall
            poll = subprocess.Popen([sys.executable, "-c", POLL, srv.url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert poll.stdout.readline().strip() == "ready"
            time.sleep(0.2)
            t = time.perf_counter()
            r = httpx.post(srv.url + path, content=body, headers={"content-type": "application/json"}, timeout=60)
            secs = time.perf_counter() - t
            time.sleep(0.2)
            out, _ = poll.communicate("stop", timeout=30)
            lat = json.loads(out.strip().splitlines()[-1])
            assert r.status_code in (413, 422) and r.json()["error"]["type"] == "too_many_rows", (path, r.text[:300])
            assert secs < 2.0, (path, secs)
            assert len(lat) >= 10 and max(lat) < 0.2, (path, max(lat), len(lat))
        t = time.perf_counter()  # labels are counted before parsing too
        r = httpx.post(srv.url + "/feedback", content=body.replace(b'"rows"', b'"feedback"'),
                       headers={"content-type": "application/json"}, timeout=60)
        assert r.status_code == 413 and r.json()["error"]["type"] == "too_many_rows", r.text[:300]
        assert time.perf_counter() - t < 2.0


# --- 4. a hung model call ------------------------------------------------------------------------
@pytest.mark.parametrize("predict_in", ["thread", "auto"])
def test_hung_model_call_is_abandoned_and_the_worker_restarted(hang_model, tmp_path, predict_in):
    """thread: the watchdog abandons the stuck thread. auto: this fast model scores on the event loop, where
    the first hang is interrupted (SIGALRM) and scoring moves to the watched thread; the next hangs as above."""
    tag, m = hang_model
    with _serve(tag, tmp_path, predict_in=predict_in, timeout_s=1.0, max_abandoned=2 if predict_in == "thread" else 1) as srv:
        assert httpx.get(srv.url + "/readyz").status_code == 200
        assert httpx.get(srv.url + "/info").json()["predict_on_loop"] == (predict_in == "auto")
        for attempt in range(2):
            seen, done = [], threading.Event()

            def poll():
                with httpx.Client(base_url=srv.url, timeout=10) as c:
                    while not done.is_set():
                        seen.append((time.perf_counter(), c.get("/readyz").status_code))
                        time.sleep(0.05)

            th = threading.Thread(target=poll)
            th.start()
            t = time.perf_counter()
            r = httpx.post(srv.url + "/predict", json={"rows": [_row(delay=HANG)]}, timeout=30)
            assert r.status_code == 504 and r.json()["error"]["type"] == "timeout", r.text
            assert time.perf_counter() - t < 2.0
            end = time.perf_counter() + 15
            while not any(code == 503 for _, code in seen) or seen[-1][1] != 200:
                assert time.perf_counter() < end, (attempt, seen[-5:], srv.log()[-2000:])
                time.sleep(0.05)
            done.set()
            th.join()
            for i in range(3):  # recovered: answers again, correctly
                ok = httpx.post(srv.url + "/predict", json={"rows": [_row(n=i), _row(n=i + 1, t="2024-05-05")]}, timeout=10)
                assert ok.status_code == 200 and ok.json()["predictions"] == _local(m, [_row(n=i), _row(n=i + 1, t="2024-05-05")])
        assert httpx.get(srv.url + "/info").json()["predict_on_loop"] is False
        # a third hang strands one thread more than max_abandoned: the worker refuses from then on, and says why
        r = httpx.post(srv.url + "/predict", json={"rows": [_row(delay=HANG)]}, timeout=30)
        assert r.status_code == 504
        end = time.perf_counter() + 10
        while httpx.get(srv.url + "/readyz").status_code != 503:
            assert time.perf_counter() < end
            time.sleep(0.05)
        time.sleep(1.5)
        assert httpx.get(srv.url + "/readyz").status_code == 503
        r = httpx.post(srv.url + "/predict", json={"rows": [_row()]}, timeout=10)
        assert r.status_code == 503 and "hung" in r.json()["error"]["message"]
