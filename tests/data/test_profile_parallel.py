"""Large frames are profiled by column groups in forked processes: results equal the one-thread path, and a child that dies is covered by the parent."""
import os

import numpy as np
import pandas as pd
import pytest

import mlbench as mb
import sys

P = sys.modules["mlbench.data.profile"]


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(3)
    n = 250_000
    df = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(4)})
    df["f0"] = df["f0"].where(rng.random(n) > 0.05)
    df["i"] = rng.integers(0, 50, n)
    df["s"] = pd.Series(rng.choice(["a", "b", "c", None], n), dtype="str")
    df["cat"] = pd.Categorical(rng.choice(["x", "y"], n))
    df["t"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s")
    df = pd.concat([df, df.iloc[:1000]], ignore_index=True)  # 1000 duplicated rows
    assert df.size >= P.FORK_MIN_CELLS
    return df


def _same(a, b):
    fa, fb = a.to_frame(), b.to_frame()
    exact = ["kind", "count", "null_count", "nan_count", "min", "max", "distinct", "top", "top_count"]
    pd.testing.assert_frame_equal(fa[exact], fb[exact])
    for c in a.columns:
        assert np.isclose(a[c].moments.mean, b[c].moments.mean, rtol=1e-12, equal_nan=True), c
    assert a.duplicate_rows == b.duplicate_rows == 1000


def test_forked_equals_single_thread(frame, monkeypatch):
    assert P._can_fork()
    calls = []
    real = P._forked
    monkeypatch.setattr(P, "_forked", lambda *a: calls.append(1) or real(*a))
    _same(mb.profile(frame, n_jobs=2), mb.profile(frame, n_jobs=1))
    assert calls == [1]  # the two-worker run went through the forked path


def test_dead_child_is_covered_by_parent(frame, monkeypatch):
    def die(*args):
        os._exit(1)

    monkeypatch.setattr(P, "_child", die)  # inherited by the forked child, which then dies
    _same(mb.profile(frame, n_jobs=2), mb.profile(frame, n_jobs=1))


def test_threads_when_fork_disabled(frame, monkeypatch):
    monkeypatch.setenv("MLBENCH_NO_FORK", "1")
    assert not P._can_fork()
    _same(mb.profile(frame, n_jobs=2), mb.profile(frame, n_jobs=1))


def test_stream_of_small_chunks_is_profiled_in_batches(frame, monkeypatch):
    sizes = []
    real = P._profile_frame
    monkeypatch.setattr(P, "_profile_frame", lambda df, n_jobs=None, rows="exact": sizes.append(sum(map(len, df)) if isinstance(df, list) else len(df)) or real(df, n_jobs, rows))
    chunks = [frame.iloc[i:i + 20_000] for i in range(0, len(frame), 20_000)]
    streamed = mb.profile(iter(chunks), n_jobs=2)
    assert sizes == [len(frame)]  # 13 chunks of one schema joined into one batch (under BATCH_ROWS)
    _same(streamed, mb.profile(frame, n_jobs=1))


def test_chunks_of_another_schema_are_not_joined(monkeypatch):
    sizes = []
    real = P._profile_frame
    monkeypatch.setattr(P, "_profile_frame", lambda df, n_jobs=None, rows="exact": sizes.append(sum(map(len, df)) if isinstance(df, list) else len(df)) or real(df, n_jobs, rows))
    a = pd.DataFrame({"x": [1.0, None, 3.0]})
    b = pd.DataFrame({"x": [None, None]}, dtype=object)  # all null: read as objects
    p = mb.profile(iter([a, a, b, a]))
    assert sizes == [6, 2, 3] and p["x"].kind == "numeric" and p["x"].null_count == 3 * 1 + 2
