"""A Dask profile of 1,000 partitions on a real cluster (a `dask scheduler` and two `dask worker` processes on loopback,
so the client process holds only the client): partition profiles are merged on the workers (a tree), and the
client's memory does not grow with the partition count (issue 19)."""
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlbench as mb

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")


def _part(i: int) -> pd.DataFrame:
    "Partition i, made on the worker: 2,000 rows of distinct values (each partition profile is ~150 kB)."
    r = np.random.default_rng(i)
    return pd.DataFrame({"a": r.normal(size=2000), "b": r.integers(0, 10**9, 2000), "c": r.normal(size=2000),
                         "s": pd.Series([f"k{i}-{j}" for j in range(2000)], dtype="str")})


def _client_peak(client, n: int) -> tuple:
    ddf = dd.from_map(_part, range(n))
    tracemalloc.start()
    try:
        prof = mb.profile(ddf)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return prof, peak


@pytest.fixture
def cluster(tmp_path):
    "A scheduler and two single-threaded workers, each its own process, on loopback."
    sf = tmp_path / "scheduler.json"
    py = [sys.executable, "-m"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}  # they import _part
    procs = [subprocess.Popen([*py, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(sf)], stderr=subprocess.DEVNULL, env=env)]
    try:
        deadline = time.time() + 60
        while not sf.exists() and time.time() < deadline:
            time.sleep(0.2)
        for _ in range(2):
            procs.append(subprocess.Popen([*py, "distributed.cli.dask_worker", "--scheduler-file", str(sf),
                                           "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                                          stderr=subprocess.DEVNULL, env=env))
        with distributed.Client(scheduler_file=str(sf), timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            yield client
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            p.wait(30)


def test_a_thousand_partitions_merge_on_the_workers_in_flat_client_memory(cluster):
    client = cluster
    _client_peak(client, 8)  # warm-up: imports on the workers
    small, peak_small = _client_peak(client, 100)
    with distributed.get_task_stream(client) as ts:
        big, peak_big = _client_peak(client, 1000)
    merges = [t for t in ts.data if str(t["key"]).startswith(("_merge_all", "('_merge_all"))]
    workers = {t["worker"] for t in ts.data}
    assert big.n_rows == 2_000_000 and small.n_rows == 200_000
    assert big["a"].null_count == 0 and big["s"].distinct.count() > 1_800_000  # the HLL estimate of 2 M distinct keys
    # 1000 -> 125 -> 16 -> 2 -> 1 merges, all executed by workers (the client only gathers the root)
    assert len(merges) == 125 + 16 + 2 + 1, len(merges)
    assert workers and all(w.startswith("tcp://127.0.0.1") for w in workers)
    # a partition profile is ~150 kB: merging 1000 of them on the client would hold ~150 MB. The client holds the graph
    # (a few kB a partition) and one profile (its exact row hashes end at 1 M rows: 200k rows hold 1.6 MB, 2 M none)
    assert peak_big < peak_small + 10 * 2**20, (peak_small, peak_big)
