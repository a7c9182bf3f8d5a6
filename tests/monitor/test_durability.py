"""The window logger never loses what it was given: a store that fails (disk full, a database
that does not answer, a label the store cannot take) keeps every prediction, event and label,
memory stays bounded while it is down (the oldest windows go to a local spill directory,
counted), and everything arrives once the store is back. Worker ids are unique per logger,
temp files do not outlive a failed write, and the directory is fsynced after the rename."""
import errno
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from mlbench.data import logstore
from mlbench.data.logstore import WindowLogger

pytestmark = pytest.mark.timeout(300)
T0 = pd.Timestamp("2026-01-05", tz="UTC").timestamp()


def _traffic(log, minutes, start=0, rows=2):
    "One two-row request, one 422 and one label per minute; returns the request ids."
    ids = []
    for i in range(start, start + minutes):
        X = pd.DataFrame({"x": np.arange(rows, dtype=float) + i})
        rid = f"r{i}"
        log.add(X, np.zeros(rows, dtype=int), np.tile([0.6, 0.4], (rows, 1)), [rid], [rows], [1.0 + i], t=T0 + i * 60 + 5)
        log.count(422, t=T0 + i * 60 + 6, latency_ms=0.5)
        log.feedback(pd.DataFrame({"request_id": [rid], "row": [0], "label": [i % 2]}))
        ids.append(rid)
    return ids


class _DiskFull:
    "os.fsync raises ENOSPC for files under `root` while `full` (the write the store makes last before its rename)."

    def __init__(self, monkeypatch, root):
        self.root, self.full, self.real = str(Path(root).resolve()), True, os.fsync
        monkeypatch.setattr(os, "fsync", self)

    def __call__(self, fd):
        path = os.readlink(f"/proc/self/fd/{fd}")
        if self.full and path.startswith(self.root):
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real(fd)


def _in_store(root_or_url, model="m"):
    st = logstore.stats(model, root_or_url)
    return int(st["requests"].sum()), int(st["rows"].sum()), len(logstore.predictions(model, root_or_url)), \
        len(logstore.feedback(model, root_or_url))


def test_a_full_disk_keeps_everything_spills_the_oldest_windows_and_delivers_when_back(tmp_path, monkeypatch):
    root, spill = tmp_path / "mon", tmp_path / "spill"
    root.mkdir()
    disk = _DiskFull(monkeypatch, root)
    log = WindowLogger(root, "m", "m:v1", window_s=60, worker="w1", classes=[0, 1], spill=spill, max_windows=5)
    for k in range(6):  # six flushes while the disk is full, 10 minutes of traffic each
        _traffic(log, 10, start=10 * k)
        log.flush()
        assert len(log._windows) <= 5 and not log._feedback  # memory stays bounded: the rest went to the spill directory
    assert log.errors >= 6 and log.spilled > 0
    assert list(spill.rglob("preds-*.parquet")) and list(spill.rglob("feedback/*.parquet")) and not list(root.rglob("*.parquet"))
    assert not list(root.rglob("*.tmp"))
    disk.full = False
    log.flush()
    assert _in_store(root) == (120, 120, 120, 60)  # 60 requests + 60 refusals, 60 x 2 rows, 60 labels
    assert not [p for p in spill.rglob("*") if p.is_file() and p.suffix != ".lock" and p.name != "STORE"]  # drained


def test_an_unreachable_database_keeps_everything_and_delivers_when_back(tmp_path, postgres_url):
    st = logstore.SqlStore(postgres_url)
    log = WindowLogger(st, "pg-down", "pg-down:v1", window_s=60, worker="w1", classes=[0, 1],
                       spill=tmp_path / "spill", max_windows=3)
    good, st.engine = st.engine, sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:1/mlbench")  # nothing listens
    for k in range(3):
        _traffic(log, 5, start=5 * k)
        log.flush()
    assert log.errors >= 3 and len(log._windows) <= 3 and log.spilled > 0
    st.engine = good
    log.flush()
    assert _in_store(postgres_url, "pg-down") == (30, 30, 30, 15)


def test_a_label_the_store_rejects_loses_neither_the_predictions_nor_the_other_labels(tmp_path):
    root, spill = tmp_path / "mon", tmp_path / "spill"
    log = WindowLogger(root, "m", "m:v1", window_s=60, worker="w1", classes=[0, 1], spill=spill)
    _traffic(log, 3)
    log.feedback(pd.DataFrame({"request_id": ["r0", "r2"], "row": [1, 1], "label": [{"not": "a label"}, 1]}))
    log.feedback(pd.DataFrame({"request_id": ["r1"], "row": [1], "label": ["one"]}))  # a type of its own: stored apart
    log.flush()
    assert _in_store(root) == (6, 6, 6, 4)  # the three labels of _traffic and the one after the bad batch
    assert log.rejected == 1  # counted, and kept aside, not dropped
    kept = [p for p in spill.rglob("*") if p.is_file() and "rejected" in str(p)]
    assert kept and "not" in kept[0].read_text()


def test_two_loggers_with_the_same_hostname_and_pid_never_overwrite_each_other(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "getpid", lambda: 4242)
    root = tmp_path / "mon"
    a = WindowLogger(root, "m", "m:v1", window_s=60, classes=[0, 1])
    b = WindowLogger(root, "m", "m:v1", window_s=60, classes=[0, 1])  # a restarted container: same host, same pid
    assert a.worker != b.worker and "4242" in a.worker
    _traffic(a, 3)
    _traffic(b, 3)
    a.flush()
    b.flush()
    assert _in_store(root)[:3] == (12, 12, 12)


def test_a_failed_write_leaves_no_temp_file_and_the_directory_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    st = logstore.DirStore(tmp_path / "mon")
    calls, real_fsync, real_replace = [], os.fsync, os.replace

    def fsync(fd):
        calls.append(("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(a, b):
        calls.append(("replace", str(b)))
        return real_replace(a, b)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    st.put("m", "20260105T000000", "stats-w.json", b"{}")
    d = str((tmp_path / "mon" / "m" / "20260105T000000").resolve())
    i = calls.index(("replace", str(Path(d) / "stats-w.json")))
    assert ("fsync-dir", d) in calls[i + 1:]
    assert calls[i - 1][0] == "fsync-file"

    def fail(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        st.put("m", "20260105T000000", "stats-w.json", b'{"a": 1}')
    assert not [p.name for p in Path(d).iterdir() if p.name.endswith(".tmp")]
    assert (Path(d) / "stats-w.json").read_bytes() == b"{}"  # the old file is untouched


def test_a_late_batch_for_a_window_already_let_go_adds_to_it(tmp_path, monkeypatch):
    root = tmp_path / "mon"
    log = WindowLogger(root, "m", "m:v1", window_s=60, worker="w1", classes=[0, 1], spill=tmp_path / "spill")
    _traffic(log, 3)
    log.flush()
    assert not log._windows  # long closed: written and let go
    _traffic(log, 1, start=1)  # a batch that arrives late for minute 1
    log.flush()
    st = logstore.stats("m", root)
    assert st["requests"].tolist() == [2, 4, 2] and st["rows"].tolist() == [2, 4, 2]
    assert len(logstore.predictions("m", root)) == 8 and len(logstore.profiles("m", root)) == 3
    assert next(iter(logstore.profiles("m", root).values())).n_rows == 2


def test_a_worker_that_died_while_the_store_was_down_has_its_spill_uploaded_by_the_next(tmp_path, monkeypatch):
    root, spill = tmp_path / "mon", tmp_path / "spill"
    root.mkdir()
    disk = _DiskFull(monkeypatch, root)
    dead = WindowLogger(root, "m", "m:v1", window_s=60, classes=[0, 1], spill=spill)
    _traffic(dead, 4)
    dead.flush()
    assert dead.spilled > 0 and not list(root.rglob("*.json"))
    os.close(dead.spill._lock_fd)  # the process dies: its lock goes with it
    disk.full = False
    other = WindowLogger(tmp_path / "elsewhere", "m", "m:v1", window_s=60, classes=[0, 1], spill=spill)
    other.flush()  # another store: not its to upload
    assert not list(root.rglob("*.json"))
    nxt = WindowLogger(root, "m", "m:v1", window_s=60, classes=[0, 1], spill=spill)
    nxt.flush()
    assert _in_store(root) == (8, 8, 8, 4) and not (spill / dead.worker).exists()
