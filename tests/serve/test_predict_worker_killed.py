"""`mb.predict` of a Dask DataFrame when a worker is SIGKILLed midway: Dask reruns the lost partitions on the
restarted worker, and the output holds every row exactly once, equal to one process's predictions (issue 19)."""
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

import mlbench as mb

distributed = pytest.importorskip("dask.distributed")
dd = pytest.importorskip("dask.dataframe")

N_PARTS, ROWS = 40, 250


def _rows(i: int) -> pd.DataFrame:
    "Partition i (made on the worker, slowly, so that the kill lands while partitions are being scored)."
    time.sleep(0.15)
    r = np.random.default_rng(100 + i)
    return pd.DataFrame({"dist": r.gamma(2.0, 400.0, ROWS).round(), "hour": r.integers(5, 23, ROWS),
                         "carrier": pd.Categorical(r.choice(["AA", "DL", "UA"], ROWS), categories=["AA", "DL", "UA"]),
                         "key": np.arange(i * ROWS, (i + 1) * ROWS)})


def test_a_killed_worker_leaves_each_row_once(tmp_path):
    X = pd.concat([_rows(i) for i in range(4)], ignore_index=True)
    y = ((X["hour"] > 14) ^ (X["carrier"] == "UA")).astype(int)
    feats = X.drop(columns="key")
    tag = mb.package(HistGradientBoostingClassifier(max_iter=20, categorical_features="from_dtype").fit(feats, y),
                     "batch-kill", reference=feats)
    whole = pd.concat([_rows(i) for i in range(N_PARTS)], ignore_index=True)
    want = mb.predict(tag, whole, proba=True, keep=["key"], progress=False).predictions

    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        ddf = dd.from_map(_rows, range(N_PARTS), meta=_rows(0).iloc[:0])
        result = {}
        job = threading.Thread(target=lambda: result.update(r=mb.predict(tag, ddf, out=out, proba=True, keep=["key"])))
        job.start()
        deadline = time.time() + 120
        while len(list(out.glob("part-*.parquet"))) < 5 and time.time() < deadline:
            time.sleep(0.05)
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        written_before = len(list(out.glob("part-*.parquet")))
        os.kill(victim, signal.SIGKILL)
        job.join(300)
        assert not job.is_alive(), "the job did not finish after the worker was killed"
        assert victim not in client.run(os.getpid).values()  # the nanny started a new worker process
    assert 5 <= written_before < N_PARTS, written_before  # the kill landed midway
    res = result["r"]
    assert (res.rows, res.scored, res.chunks) == (N_PARTS * ROWS, N_PARTS * ROWS, N_PARTS)
    got = res.read()
    assert got["row_id"].is_unique and len(got) == len(whole)
    pd.testing.assert_frame_equal(got, want)
