"Compact profiles: the row-hash set replaced by a bounded HLL sketch, with its duplicate estimate's stated error."

import pickle

import numpy as np
import pandas as pd
import pytest

from mlbench.data.profile import Profile, _merge_all, profile


def frame(n: int, dup_share: float = 0.1, seed: int = 0) -> pd.DataFrame:
    "n rows of which about `dup_share` repeat an earlier row (float, small-range int and string columns)."
    rng = np.random.default_rng(seed)
    u = n - int(n * dup_share)
    df = pd.DataFrame({"x": rng.normal(size=u), "k": rng.integers(0, 100, u),
                       "s": pd.Series(np.array(["a", "b", "c"], dtype=object)[rng.integers(0, 3, u)], dtype="str")})
    return pd.concat([df, df.iloc[rng.integers(0, u, n - u)]], ignore_index=True)


def test_compact_file_size_is_bounded(tmp_path):
    sizes = {}
    for n in (10_000, 1_000_000):
        p = profile(frame(n))
        sizes[n, "exact"] = p.save(tmp_path / f"e{n}.mbp").stat().st_size
        sizes[n, "compact"] = p.save(tmp_path / f"c{n}.mbp", compact=True).stat().st_size
    assert sizes[1_000_000, "exact"] > sizes[10_000, "exact"] + 5_000_000  # 8 bytes a distinct row
    assert sizes[1_000_000, "compact"] < sizes[10_000, "compact"] + 50_000, sizes  # bounded


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compact_duplicate_estimate_within_stated_bounds(seed):
    df = frame(300_000, 0.05, seed)
    truth = int(df.duplicated().sum())
    exact, compact = profile(df), profile(df, rows="sketch")
    assert exact.duplicate_rows == truth and exact.duplicate_rows_bounds() == (truth, truth)
    lo, hi = compact.duplicate_rows_bounds(3)
    assert lo <= truth <= hi
    distinct = len(df) - truth  # the stated error: ~0.8% of the distinct rows a standard deviation
    assert hi - lo < 6 * 0.012 * distinct and abs(compact.duplicate_rows - truth) < 3 * 0.012 * distinct


def test_compact_merges_chunks_and_loads(tmp_path):
    df = frame(200_000, 0.2)
    truth = int(df.duplicated().sum())
    chunks = [df.iloc[i:i + 25_000] for i in range(0, len(df), 25_000)]
    streamed = profile(iter(chunks), rows="sketch")  # batched chunks, merged as sketches
    tree = _merge_all(*(profile(c, rows="sketch") for c in chunks))
    mixed = profile(chunks[0]).merge(_merge_all(*(profile(c, rows="sketch") for c in chunks[1:])))
    for p in (streamed, tree, mixed):
        assert p.rows.exact is None and p.rows.sketch is not None
        lo, hi = p.duplicate_rows_bounds(3)
        assert lo <= truth <= hi, (lo, truth, hi)
    back = Profile.load(tree.save(tmp_path / "t.mbp"))
    assert back.duplicate_rows == tree.duplicate_rows and back.duplicate_rows_bounds() == tree.duplicate_rows_bounds()
    assert pickle.loads(pickle.dumps(tree)).duplicate_rows == tree.duplicate_rows  # Dask ships profiles pickled
    cols = ["count", "null_count", "mean", "std", "min", "max", "distinct", "top_count"]  # KLL quantiles are randomized
    pd.testing.assert_frame_equal(profile(df).to_frame()[cols], profile(df, rows="sketch").to_frame()[cols])


def test_profiles_saved_before_compact_mode_still_load():
    p = profile(frame(5_000))
    d = p.to_dict()
    del d["rows_sketch"], d["rows_mode"]
    q = Profile.from_dict(d)
    assert q.rows.is_exact and q.duplicate_rows == p.duplicate_rows


def test_rows_mode_is_checked():
    with pytest.raises(ValueError, match="rows must be"):
        profile(frame(100), rows="approx")
