"""The monitor store: the SQL backend (real PostgreSQL) reads back what the directory backend
does; a writer SIGKILLed mid-write never leaves a torn file; windows merge across workers."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from mlbench.data import logstore
from mlbench.data.logstore import WindowLogger

T0 = 1_800_000_000.0


def _traffic(store, worker="w1"):
    rng = np.random.default_rng(0)
    lg = WindowLogger(store, "m", "m:v1", window_s=60, worker=worker, classes=[0, 1])
    for k in range(6):
        n = 50
        X = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b"], n)})
        p1 = rng.uniform(size=n)
        lg.add(X, (p1 > 0.5).astype(int), np.column_stack([1 - p1, p1]), [f"{worker}-{k}-{i}" for i in range(10)],
               [5] * 10, rng.uniform(1, 20, 10).tolist(), t=T0 + 25 * k)
    lg.count(422, t=T0 + 1, latency_ms=0.5)
    lg.feedback(pd.DataFrame({"request_id": [f"{worker}-0-0", f"{worker}-1-3"], "row": [2, 4], "label": [1, 0]}))
    lg.flush()
    return lg


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sql_store_reads_back_like_the_directory_store(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'mon.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    _traffic(str(tmp_path / "dir"))
    _traffic(url)
    a, b = logstore.stats("m", str(tmp_path / "dir")), logstore.stats("m", url)
    pd.testing.assert_frame_equal(a.drop(columns="status"), b.drop(columns="status"))
    assert a["status"].tolist() == b["status"].tolist() and a["requests"].sum() == 60 + 1 and a["rows"].sum() == 300
    pa, pb = logstore.profiles("m", str(tmp_path / "dir")), logstore.profiles("m", url)
    assert list(pa) == list(pb)
    for k in pa:
        pd.testing.assert_frame_equal(pa[k].to_frame()[["count", "mean", "min", "max"]],
                                      pb[k].to_frame()[["count", "mean", "min", "max"]])
    la = logstore.labeled("m", str(tmp_path / "dir")).sort_values(["request_id", "row"]).reset_index(drop=True)
    lb = logstore.labeled("m", url).sort_values(["request_id", "row"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(la, lb)
    assert len(la) == 2


def test_windows_merge_across_workers_and_match_one_pass(tmp_path):
    root = str(tmp_path / "mon")
    _traffic(root, "w1")
    _traffic(root, "w2")
    st = logstore.stats("m", root)
    assert st["workers"].tolist() == [2, 2, 2] and st["rows"].sum() == 600
    preds = logstore.predictions("m", root)
    assert len(preds) == 600 and preds["request_id"].nunique() == 120
    # the windows' profiles together equal a profile of everything (counts and means exactly)
    merged = None
    for p in logstore.profiles("m", root).values():
        merged = p if merged is None else merged.merge(p)
    assert merged.n_rows == 600
    assert merged.to_frame().loc["__proba__1", "mean"] == pytest.approx(preds["__proba__1"].mean(), rel=1e-12)


WRITER = """
import sys, numpy as np, pandas as pd
from mlbench.data.logstore import DirStore
s = DirStore(sys.argv[1])
big = np.random.default_rng(0).bytes(4_000_000)
i = 0
while True:
    s.put("m", "20260101T000000", f"blob-{i % 3}.bin", big + i.to_bytes(8, "little"))
    i += 1
"""


def test_sigkill_mid_write_leaves_no_torn_file(tmp_path):
    root = tmp_path / "mon"
    for attempt in range(5):
        p = subprocess.Popen([sys.executable, "-c", WRITER, str(root)])
        time.sleep(1.0 + 0.13 * attempt)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        store = logstore.DirStore(root)
        names = store.names("m", "20260101T000000")
        assert names and all(n.startswith("blob-") for n in names)  # leftovers are hidden temp files only
        for n in names:
            assert len(store.get("m", "20260101T000000", n)) == 4_000_008, n


def test_bad_names_and_unreachable_url(tmp_path):
    s = logstore.DirStore(tmp_path)
    with pytest.raises(logstore.StoreError, match="model"):
        s.put("../escape", "w", "n", b"x")
    with pytest.raises(logstore.StoreError, match="window_s"):
        WindowLogger(str(tmp_path), "m", "m:v1", window_s=0)
    with pytest.raises(logstore.StoreError, match=r"\*\*\*@127.0.0.1:1/db: cannot open") as e:
        logstore.SqlStore("postgresql+psycopg2://u:secret@127.0.0.1:1/db")
    assert "secret" not in str(e.value)


@pytest.mark.parametrize("backend", ["dir", "sqlite", "postgres"])
def test_windows_say_whether_served_or_batch_traffic_wrote_them(backend, tmp_path, request):
    "A window's stats carry its source (serve by default, batch for mb.predict); a file written before the field reads as serve."
    url = {"dir": str(tmp_path / "dir"), "sqlite": f"sqlite:///{tmp_path / 'mon.db'}"}.get(backend) \
        or request.getfixturevalue("postgres_url")
    model = f"src-{backend}"  # the PostgreSQL database is shared by the session's tests
    served = WindowLogger(url, model, f"{model}:v1", window_s=60, worker="srv", classes=[0, 1])
    job = WindowLogger(url, model, f"{model}:v1", window_s=60, worker="job", classes=[0, 1], source="batch")
    old = WindowLogger(url, model, f"{model}:v1", window_s=60, worker="old", classes=[0, 1])
    X = pd.DataFrame({"x": [0.5, 1.5], "c": ["a", "b"]})
    for lg, t in ((served, T0), (job, T0 + 60), (old, T0 + 120)):
        lg.add(X, np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]), [f"{lg.worker}-0"], [2], [3.0], t=t)
        lg.flush()
    st = logstore.open_store(url)
    key = logstore.window_key(T0 + 120, 60)
    s = json.loads(st.get(model, key, "stats-old.json"))
    assert s.pop("source") == "serve"
    st.put(model, key, "stats-old.json", json.dumps(s).encode())  # as a store written before the marker holds it
    got = logstore.stats(model, url)
    assert got["source"].tolist() == ["serve", "batch", "serve"] and got["rows"].tolist() == [2, 2, 2]
    with pytest.raises(logstore.StoreError, match="source"):
        WindowLogger(url, model, f"{model}:v1", source="nightly/../x")


def test_batch_predictions_are_appended_as_parts_never_rewritten(tmp_path):
    "A batch logger writes each flush's predictions as a new part and lets them go: no window file grows per flush."
    root = str(tmp_path / "mon")
    lg = WindowLogger(root, "m", "m:v1", window_s=60, worker="job", classes=[0, 1], source="batch", max_windows=1)
    rows = 0
    for i in range(5):
        n = 100 + i
        X = pd.DataFrame({"x": np.arange(n, dtype=float)})
        lg.add(X, np.ones(n, int), np.c_[np.zeros(n), np.ones(n)], [f"batch-chunk-{i}"], [n], [1.0], t=T0 + 1 + 20 * i)
        lg.flush()
        rows += n
        assert all(not w.preds for w in lg._windows.values())  # written, let go
    st = logstore.open_store(root)
    parts = [n for k in st.windows("m") for n in st.names("m", k) if n.startswith("preds-")]
    assert len(parts) == 5 and len(set(parts)) == 5
    p = logstore.predictions("m", root)
    assert len(p) == rows and sorted(p["request_id"].unique()) == [f"batch-chunk-{i}" for i in range(5)]
    assert logstore.stats("m", root)["rows"].sum() == rows
