"""Batch scoring (`mb.predict`): exact predictions, rejects as the service rejects, a Parquet dataset that a killed job
resumes row for row, and chunks logged to a real monitor store."""
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

import mlbench as mb
from mlbench.data import logstore
from mlbench.errors import DataError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def packaged():
    rng = np.random.default_rng(3)
    n = 4000
    X = pd.DataFrame({"dist": rng.gamma(2.0, 400.0, n).round(), "hour": rng.integers(5, 23, n),
                      "carrier": pd.Categorical(rng.choice(["AA", "DL", "UA", "B6"], n)), "key": np.arange(n)})
    y = ((X["hour"] > 16) ^ (X["carrier"] == "B6")).astype(int)
    feats = X.drop(columns="key")
    model = HistGradientBoostingClassifier(max_iter=30, categorical_features="from_dtype").fit(feats, y)
    return mb.package(model, "batch-test", reference=feats), X


def test_predictions_equal_the_models_own(packaged):
    tag, X = packaged
    res = mb.predict(tag, X, proba=True, chunk_rows=900, keep=["key"], progress=False)
    model = mb.models.load(tag)
    feats = X.drop(columns="key")
    got = res.predictions
    assert (res.rows, res.scored, res.rejected, res.chunks) == (4000, 4000, 0, 5)
    assert got["row_id"].tolist() == list(range(4000)) and got["key"].tolist() == X["key"].tolist()
    assert np.array_equal(got["prediction"].to_numpy(), model.predict(feats))
    assert np.array_equal(got[["proba_0", "proba_1"]].to_numpy(), model.predict_proba(feats))
    assert set(got["model"]) == {tag}


def test_bad_rows_are_rejected_with_row_and_field_never_scored(packaged, tmp_path):
    tag, X = packaged
    bad = X.astype({"carrier": object, "dist": object})
    bad.loc[10, "carrier"] = "ZZ"  # never seen in training
    bad.loc[20, "dist"] = "far"  # not a number
    bad.loc[30, "hour"] = 99  # outside the range the suite allows
    bad.loc[40, "dist"] = None  # training had no missing distance
    bad.to_csv(tmp_path / "in.csv", index=False)
    res = mb.predict(tag, tmp_path / "in.csv", out=tmp_path / "out", chunk_rows=1500, progress=False)
    rej = res.rejects().sort_values("row_id")
    assert list(zip(rej["row_id"], rej["field"])) == [(10, "carrier"), (20, "dist"), (30, "hour"), (40, "dist")]
    assert rej["reason"].str.len().gt(5).all() and (res.scored, res.rejected) == (3996, 4)
    got = res.read()
    ok = X.drop(index=[10, 20, 30, 40]).drop(columns="key")
    assert got["row_id"].tolist() == ok.index.tolist()
    assert np.array_equal(got["prediction"].to_numpy(), mb.models.load(tag).predict(ok))
    summary = json.loads((tmp_path / "out" / "_summary.json").read_text())
    assert summary["rejected"] == 4 and summary["rows"] == 4000


JOB = """
import sys, mlbench as mb
mb.predict(sys.argv[1], sys.argv[2], out=sys.argv[3], chunk_rows=100, keep=["key"], progress=False)
"""


def test_a_killed_job_resumes_to_the_same_output(packaged, tmp_path):
    tag, X = packaged
    big = pd.concat([X] * 10, ignore_index=True).assign(key=lambda d: np.arange(len(d)))
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):  # a folder of Parquet files, read in order
        big.iloc[i * 10_000:(i + 1) * 10_000].to_parquet(src / f"part-{i}.parquet")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "killed"
    log = open(tmp_path / "job.log", "w+")
    p = subprocess.Popen([sys.executable, "-c", JOB, tag, str(src), str(out)], env=env, stdout=log, stderr=log)
    deadline = time.time() + 120
    done = 0
    while time.time() < deadline and p.poll() is None:
        try:
            done = len(json.loads((out / "_manifest.json").read_text())["chunks"])
        except (OSError, ValueError):
            done = 0
        if done >= 5:
            break
        time.sleep(0.02)
    assert p.poll() is None, f"the job ended ({p.returncode}, {done} chunks) before it could be killed: " + \
        (tmp_path / "job.log").read_text()[-2000:]
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert not (out / "_summary.json").exists() and 5 <= done < 400, done
    (out / ".part-00199.parquet.1.dead.tmp").write_bytes(b"half a part")  # as a kill inside a write leaves it
    res = mb.predict(tag, src, out=out, chunk_rows=100, keep=["key"], progress=False)
    assert res.resumed_chunks >= 5 and res.chunks == 400, res.summary()
    whole = mb.predict(tag, src, out=tmp_path / "whole", chunk_rows=100, keep=["key"], progress=False)
    a, b = res.read(), whole.read()
    assert len(a) == len(big)
    pd.testing.assert_frame_equal(a, b)
    assert not list(out.glob(".*.tmp"))  # no temp file left behind


def test_a_resumed_job_removes_every_temp_file_a_killed_writer_left(packaged, tmp_path):
    "A kill can land inside the write of a part, a reject part or the manifest: each leaves its own temp file."
    tag, X = packaged
    out = tmp_path / "out"
    mb.predict(tag, X, out=out, chunk_rows=1000, progress=False)
    (out / "part-00002.parquet").unlink()
    manifest = json.loads((out / "_manifest.json").read_text())
    del manifest["chunks"]["2"]
    (out / "_manifest.json").write_text(json.dumps(manifest))
    stray = [out / "._manifest.json.99.0badf00d.tmp", out / ".part-00002.parquet.99.0badf00d.tmp",
             out / "rejects" / ".part-00002.parquet.99.0badf00d.tmp"]
    (out / "rejects").mkdir(exist_ok=True)
    for p in stray:
        p.write_bytes(b"half")
    res = mb.predict(tag, X, out=out, chunk_rows=1000, progress=False)
    assert res.resumed_chunks == 3 and res.scored == 4000
    assert not [p for p in stray if p.exists()]


def test_chunks_are_logged_to_the_monitor_store(packaged, tmp_path):
    tag, X = packaged
    store = tmp_path / "store"
    res = mb.predict(tag, X, chunk_rows=1000, monitor=store, progress=False)
    st = logstore.stats(tag.split(":")[0], store)
    assert st["rows"].sum() == res.scored == 4000 and st["requests"].sum() == 4
    logged = logstore.predictions(tag.split(":")[0], store)
    assert len(logged) == 4000 and logged["__prediction__"].sum() == res.predictions["prediction"].sum()


def test_misuse_is_named(packaged, tmp_path):
    tag, X = packaged
    with pytest.raises(ValueError, match="chunk_rows"):
        mb.predict(tag, X, chunk_rows=0)
    with pytest.raises(DataError, match=r"\['hour'\] are missing"):
        mb.predict(tag, X.drop(columns="hour"), progress=False)
    with pytest.raises(DataError, match="keep"):
        mb.predict(tag, X, keep=["nope"], progress=False)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a batch output"):
        mb.predict(tag, X, out=tmp_path / "busy", progress=False)
    mb.predict(tag, X, out=tmp_path / "o", chunk_rows=1000, progress=False)
    with pytest.raises(ValueError, match="another job"):
        mb.predict(tag, X, out=tmp_path / "o", chunk_rows=500, progress=False)


def test_cli_predict(packaged, tmp_path):
    import shutil

    tag, X = packaged
    cli = shutil.which("mlbench", path=str(Path(sys.executable).parent))
    X.to_parquet(tmp_path / "in.parquet")
    r = subprocess.run([cli, "predict", tag, str(tmp_path / "in.parquet"), "--out", str(tmp_path / "out"), "--proba",
                        "--keep", "key", "--chunk-rows", "1500"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "4,000 rows: 4,000 scored, 0 rejected" in r.stdout, r.stdout + r.stderr
    got = pd.concat([pd.read_parquet(p) for p in sorted((tmp_path / "out").glob("part-*.parquet"))], ignore_index=True)
    assert got["key"].tolist() == X["key"].tolist() and {"proba_0", "proba_1", "prediction"} <= set(got.columns)
    r = subprocess.run([cli, "predict", tag, str(tmp_path / "in.parquet"), "--out", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "another job" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_dask_partitions_are_scored_on_a_cluster_like_one_process(packaged, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("dask.distributed")
    tag, X = packaged
    bad = X.astype({"carrier": object})
    bad.loc[[7, 2500], "carrier"] = "ZZ"
    local = mb.predict(tag, bad, proba=True, keep=["key"], chunk_rows=1000, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=40) as cluster, distributed.Client(cluster):
        ddf = dd.from_pandas(bad, npartitions=6)
        res = mb.predict(tag, ddf, out=tmp_path / "out", proba=True, keep=["key"])
        assert (res.rows, res.scored, res.rejected, res.chunks) == (4000, 3998, 2, 6)
        got = res.read()
        pd.testing.assert_frame_equal(got, local.predictions)
        assert sorted(res.rejects()["row_id"]) == [7, 2500]
        (tmp_path / "out" / "part-00003.parquet").unlink()  # as if that partition's worker had died
        again = mb.predict(tag, ddf, out=tmp_path / "out", proba=True, keep=["key"])
        assert again.resumed_chunks == 5 and again.read().equals(got)


def test_dask_partitions_are_logged_as_batch_windows(packaged, tmp_path, postgres_url):
    "Each worker logs the partitions it scores (source batch), into a folder store and into PostgreSQL."
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("dask.distributed")
    tag, X = packaged
    name = tag.split(":")[0]
    local = mb.predict(tag, X, progress=False).predictions
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=40) as cluster, distributed.Client(cluster):
        for i, store in enumerate([tmp_path / "store", logstore.open_store(postgres_url)]):
            res = mb.predict(tag, dd.from_pandas(X, npartitions=5), out=tmp_path / f"out{i}", monitor=store)
            st = logstore.stats(name, store)
            assert st["rows"].sum() == res.scored == 4000 and st["requests"].sum() == 5
            assert set(st["source"]) == {"batch"}
            logged = logstore.predictions(name, store)
            assert len(logged) == 4000 and logged["__prediction__"].sum() == local["prediction"].sum()


def _folder(X, d: Path, n_files=3):
    d.mkdir()
    step = len(X) // n_files
    for i in range(n_files):
        X.iloc[i * step:(i + 1) * step].to_parquet(d / f"f{i}.parquet")
    return d


def test_a_corrupt_file_among_good_ones_is_named_and_skipped_only_when_asked(packaged, tmp_path):
    tag, X = packaged
    src = _folder(X, tmp_path / "src")
    (src / "f1.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(DataError, match=r"f1\.parquet.*skip_bad"):
        mb.predict(tag, src, out=tmp_path / "stop", chunk_rows=500, progress=False)
    res = mb.predict(tag, src, out=tmp_path / "skip", chunk_rows=500, skip_bad=True, progress=False)
    assert [Path(f["file"]).name for f in res.skipped_files] == ["f1.parquet"] and res.scored == 2 * (len(X) // 3)
    assert json.loads((tmp_path / "skip" / "_summary.json").read_text())["skipped_files"][0]["file"].endswith("f1.parquet")


def test_a_file_with_another_schema_is_named(packaged, tmp_path):
    tag, X = packaged
    src = _folder(X, tmp_path / "src")
    X.iloc[:100].rename(columns={"hour": "hr"}).to_parquet(src / "f1.parquet")  # renamed upstream
    with pytest.raises(DataError, match=r"f1\.parquet: columns \['hour'\] are missing"):
        mb.predict(tag, src, out=tmp_path / "o", chunk_rows=500, progress=False)
    res = mb.predict(tag, src, out=tmp_path / "o2", chunk_rows=500, skip_bad=True, progress=False)
    assert [Path(f["file"]).name for f in res.skipped_files] == ["f1.parquet"]


def test_a_full_disk_leaves_no_partial_part_and_the_job_resumes(packaged, tmp_path, monkeypatch):
    import errno

    from mlbench.data import spill

    tag, X = packaged
    calls = {"n": 0}
    real = spill.os.fsync

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] == 7:  # the disk fills up in the middle of the job
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(spill.os, "fsync", fsync)
    with pytest.raises(DataError, match="No space left on device.*resume"):
        mb.predict(tag, X, out=tmp_path / "o", chunk_rows=500, progress=False)
    monkeypatch.setattr(spill.os, "fsync", real)
    out = tmp_path / "o"
    assert not list(out.rglob("*.tmp"))
    for part in out.glob("part-*.parquet"):  # every part under its final name is whole
        assert len(pd.read_parquet(part)) == 500
    res = mb.predict(tag, X, out=out, chunk_rows=500, progress=False)
    assert res.resumed_chunks >= 1 and res.read().equals(mb.predict(tag, X, chunk_rows=500, progress=False).predictions)


def test_batch_windows_are_marked_batch_beside_served_ones(packaged, tmp_path):
    tag, X = packaged
    store = tmp_path / "store"
    mb.predict(tag, X, chunk_rows=1000, monitor=store, progress=False)
    name = tag.split(":")[0]
    assert set(logstore.stats(name, store)["source"]) == {"batch"}
    w = mb.monitor.windows(name, freq="1min", store=store, source="batch")
    assert w["rows"].sum() == w["predictions"].sum() == 4000 and set(w["source"]) == {"batch"}
    st = logstore.open_store(store)
    parts = [pd.read_parquet(io.BytesIO(st.get(name, k, n))) for k in st.windows(name) for n in st.names(name, k)
             if n.startswith("preds-")]
    assert sum(map(len, parts)) == 4000  # appended as parts, each row once (a window's file is never rewritten)
    assert len(mb.monitor.windows(name, freq="1min", store=store, source="serve")) == 0
