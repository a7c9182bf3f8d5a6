"""The installed `mlbench` command, run as a real subprocess: outputs and exit codes (0 ok, 1 data failed, 2 unusable input)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

MLBENCH = shutil.which("mlbench", path=str(Path(sys.executable).parent))


def run(*args):
    return subprocess.run([MLBENCH, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=500), "k": rng.integers(0, 5, 500), "c": rng.choice(["a", "b"], 500)})
    df.to_parquet(tmp_path / "ref.parquet")
    bad = df.copy()
    bad.loc[:4, "c"] = "zzz"
    bad.to_csv(tmp_path / "cur.csv", index=False)
    bad.loc[:49, "c"] = "zzz"  # a tenth of the rows
    bad.to_csv(tmp_path / "broken.csv", index=False)
    return tmp_path


def test_profile_validate_roundtrip(data):
    assert MLBENCH, "the mlbench console script is not installed"
    r = run("profile", data / "ref.parquet", "--json", data / "p.json", "--html", data / "p.html",
            "--save", data / "ref.mbp")
    assert r.returncode == 0, r.stderr
    out = json.loads((data / "p.json").read_text())
    assert out["n_rows"] == 500 and {c["column"] for c in out["columns"]} == {"x", "k", "c"}
    html = (data / "p.html").read_text()
    assert "<script src" not in html and "cdn" not in html.lower()
    assert run("suite", data / "ref.mbp", "-o", data / "s.yaml").returncode == 0
    assert "false_alarm: 0.01" in (data / "s.yaml").read_text()
    assert run("validate", data / "ref.parquet", "--suite", data / "s.yaml").returncode == 0
    # the calibrated suite tolerates 5 unseen values in 500 rows (a 500-row reference cannot rule out 1%) ...
    assert run("validate", data / "cur.csv", "--suite", data / "s.yaml").returncode == 0
    # ... and fails a tenth of the rows with a value it never saw, naming the column
    r = run("validate", data / "broken.csv", "--suite", data / "s.yaml", "--json", data / "v.json")
    assert r.returncode == 1, r.stdout + r.stderr
    checks = json.loads((data / "v.json").read_text())["checks"]
    failed = [c for c in checks if c["status"] == "fail"]
    assert [(c["column"], c["constraint"], c["failing"]) for c in failed] == [("c", "allowed", 50)]
    assert failed[0]["surprise"] > 10 and failed[0]["observed_share"] == 0.1
    # --false-alarm 0: the strict suite, every row must pass
    assert run("suite", data / "ref.mbp", "-o", data / "strict.yaml", "--false-alarm", "0").returncode == 0
    r = run("validate", data / "cur.csv", "--suite", data / "strict.yaml", "--json", data / "v.json")
    assert r.returncode == 1, r.stdout + r.stderr
    failed = [c for c in json.loads((data / "v.json").read_text())["checks"] if c["status"] == "fail"]
    assert [(c["column"], c["constraint"], c["failing"]) for c in failed] == [("c", "allowed", 5)]


def test_unusable_input_exits_2(data):
    r = run("profile", data / "nope.parquet")
    assert r.returncode == 2 and "nope.parquet" in r.stderr and "Traceback" not in r.stderr
    (data / "corrupt.parquet").write_bytes(b"PAR1garbage")
    r = run("profile", data / "corrupt.parquet")
    assert r.returncode == 2 and "corrupt.parquet" in r.stderr
    (data / "bad.yaml").write_text("constraints: [{type: nosuch, column: x}]")
    r = run("validate", data / "ref.parquet", "--suite", data / "bad.yaml")
    assert r.returncode == 2 and "nosuch" in r.stderr
    r = run("profile", "sqlite:///" + str(data / "db.sqlite"), "--query", "SELECT * FROM missing_table")
    assert r.returncode == 2 and "missing_table" in r.stderr
    assert run().returncode in (0, 2)  # no arguments: help


def test_drift_exit_codes(data):
    rng = np.random.default_rng(1)
    moved = pd.DataFrame({"x": rng.normal(2, 1, 500), "k": rng.integers(0, 5, 500), "c": rng.choice(["a", "b"], 500)})
    moved.to_parquet(data / "moved.parquet")
    r = run("drift", data / "ref.parquet", data / "moved.parquet", "--json", data / "d.json", "--html", data / "d.html",
            "--drift-share", "0.3")
    assert r.returncode == 1, r.stdout + r.stderr
    rep = json.loads((data / "d.json").read_text())
    assert rep["drifted"] and "x" in rep["drifted_columns"]
    assert "<script src" not in (data / "d.html").read_text()
    assert run("profile", data / "ref.parquet", "--save", data / "ref.mbp").returncode == 0
    assert run("drift", data / "ref.mbp", data / "ref.parquet").returncode == 0  # a stored profile vs its own data
    r = run("drift", data / "ref.parquet", data / "missing.parquet")
    assert r.returncode == 2 and "missing.parquet" in r.stderr
