"""Large frames are profiled by column groups in forked processes: results equal the one-thread path, and a child that dies is covered by the parent."""
import os

import numpy as np
import pandas as pd
import pytest

import mlbench as mb
import sys

P = sys.modules["mlbench.profile"]


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


def test_stream_of_chunks_runs_side_by_side(frame, monkeypatch):
    calls = []
    real = P._run_forked
    monkeypatch.setattr(P, "_run_forked", lambda tasks: calls.append(len(tasks)) or real(tasks))
    half = len(frame) // 2
    streamed = mb.profile(iter([frame.iloc[:half], frame.iloc[half:]]), n_jobs=2)
    assert calls == [2]  # both chunks in one forked batch, a chunk per process
    _same(streamed, mb.profile(frame, n_jobs=1))


def test_stream_survives_a_dead_child(frame, monkeypatch):
    monkeypatch.setattr(P, "_child", lambda *a: os._exit(1))
    half = len(frame) // 2
    _same(mb.profile(iter([frame.iloc[:half], frame.iloc[half:]]), n_jobs=2), mb.profile(frame, n_jobs=1))
