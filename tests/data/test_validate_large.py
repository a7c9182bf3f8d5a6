"""Validation and drift of data larger than memory: a Parquet folder read in chunks and a Dask DataFrame give the same
exact row counts and verdicts as the whole frame in memory."""
import numpy as np
import pandas as pd
import pytest

import mlbench as mb
from mlbench.data.validate import Range, Regex, Suite


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(11)
    n = 9000
    ref = pd.DataFrame({"x": rng.normal(10, 2, n), "k": rng.integers(0, 30, n),
                        "c": rng.choice(["red", "green", "blue"], n), "s": [f"id-{i:05d}" for i in range(n)]})
    cur = ref.sample(frac=1.0, random_state=1).reset_index(drop=True)
    cur.loc[cur.index[::50], "c"] = "purple"  # 2% unseen
    cur.loc[cur.index[::97], "x"] = np.nan
    cur.loc[cur.index[3::400], "x"] = 99.0
    return ref, cur


def _key(res):
    return [(c.column, c.constraint, c.status, c.failing) for c in res.checks]


@pytest.mark.parametrize("strict", [False, True], ids=["calibrated", "strict"])
def test_parquet_folder_in_chunks_equals_the_frame(frames, tmp_path, strict):
    ref, cur = frames
    suite = Suite.infer(ref, false_alarm=None if strict else 0.01)
    suite = Suite(suite.constraints + [Regex("s", r"id-\d{5}"), Range("x", 0, 50, severity="warn")], suite.false_alarm)
    for i in range(3):
        cur.iloc[i * 3000:(i + 1) * 3000].to_parquet(tmp_path / f"part-{i}.parquet")
    whole = suite.validate(cur)
    big = suite.validate(tmp_path, chunk_rows=1000)
    rows = ("max_nulls", "range", "allowed", "regex")
    want = [k for k in _key(whole) if k[1] in rows]
    assert [k for k in _key(big) if k[1] in rows] == want
    assert any(k[2] == "fail" for k in want) and big.ok == whole.ok
    # the other checks come from the merged profile: the same verdicts as the frame's profile gives
    prof = suite.validate(mb.profile(cur))
    assert [(c.column, c.constraint, c.status) for c in big.checks if c.constraint not in rows] == \
        [(c.column, c.constraint, c.status) for c in prof.checks if c.constraint not in rows]
    ex = big.examples("c")
    assert ex is not None and len(ex) <= 5 and ex["c"].eq("purple").all()


def test_dask_dataframe_equals_the_frame(frames):
    dd = pytest.importorskip("dask.dataframe")
    ref, cur = frames
    suite = Suite.infer(ref)
    whole = suite.validate(cur)
    big = suite.validate(dd.from_pandas(cur, npartitions=4))
    assert [k for k in _key(big) if k[1] in ("max_nulls", "range", "allowed")] == \
        [k for k in _key(whole) if k[1] in ("max_nulls", "range", "allowed")]
    assert not big.ok and {c.column for c in big.failures} >= {"c"}


def test_drift_of_paths_and_dask_equals_drift_of_profiles(frames, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    ref, cur = frames
    cur = cur.assign(x=cur["x"] + 1.0)  # a shift to find
    ref.to_parquet(tmp_path / "ref.parquet")
    (tmp_path / "cur").mkdir()
    cur.iloc[:4500].to_parquet(tmp_path / "cur" / "a.parquet")
    cur.iloc[4500:].to_parquet(tmp_path / "cur" / "b.parquet")
    want = mb.drift(mb.profile(ref), mb.profile(cur))
    got = mb.drift(tmp_path / "ref.parquet", str(tmp_path / "cur"))
    assert got.drifted_columns == want.drifted_columns and "x" in got.drifted_columns
    pd.testing.assert_frame_equal(got.to_frame(), want.to_frame())
    viadask = mb.drift(dd.from_pandas(ref, npartitions=3), dd.from_pandas(cur, npartitions=3))
    assert viadask.drifted_columns == want.drifted_columns


def test_many_partitions_merge_as_a_tree_to_the_frames_profile(frames):
    "300 partitions: merged on the workers 8 at a time, in order; the counts equal the whole frame's profile."
    dd = pytest.importorskip("dask.dataframe")
    from mlbench.data import profile as prof_mod

    _, cur = frames
    ddf = dd.from_pandas(cur, npartitions=300)
    calls = []
    real = prof_mod._merge_all
    prof_mod._merge_all = lambda *ps: calls.append(len(ps)) or real(*ps)
    try:
        got = mb.profile(ddf)
    finally:
        prof_mod._merge_all = real
    want = mb.profile(cur)
    assert max(calls) <= 8 and len(calls) == 38 + 5 + 1  # 300 -> 38 -> 5 -> 1
    cols = ["count", "null_count", "distinct", "min", "max", "len_min", "len_max"]  # (top: ties of a unique column)
    pd.testing.assert_frame_equal(got.to_frame()[cols], want.to_frame()[cols])
    assert got.n_rows == len(cur) and got.duplicate_rows == want.duplicate_rows
