"""`mlbench optimize` and `mlbench export` as a user runs them (a real process): the verdict first, exit codes,
--json, --package storing an ONNX version with its parent, and the export folder."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlbench as mb
from mlbench.registry import store

pytest.importorskip("skl2onnx")
pytestmark = pytest.mark.timeout(600)


MLBENCH = shutil.which("mlbench", path=str(Path(sys.executable).parent))


def _cli(*args):
    return subprocess.run([MLBENCH, *args], capture_output=True, text=True, env={**os.environ}, timeout=300)


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    from sklearn.ensemble import GradientBoostingClassifier

    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000), "c": rng.integers(0, 9, 3000)})
    y = ((X.a + 0.5 * X.b + rng.normal(0, 0.5, 3000)) > 0).astype(int)
    model = GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0).fit(X.iloc[:2000], y.iloc[:2000])
    tag = mb.package(model, "opt-cli", reference=X.iloc[:2000], golden=X.iloc[2000:2100])
    d = tmp_path_factory.mktemp("eval")
    X.iloc[2000:].assign(y=y.iloc[2000:]).to_csv(d / "eval.csv", index=False)
    return tag, d / "eval.csv"


def test_optimize_prints_the_verdict_first_and_packages_the_best(packaged, tmp_path):
    tag, ev = packaged
    r = _cli("optimize", tag, "--eval", str(ev), "--target", "y", "--package", "--html", str(tmp_path / "r.html"))
    assert r.returncode == 0, r.stdout + r.stderr
    first = r.stdout.splitlines()[0]
    assert first.startswith(f"{tag}: best ") and "ms against" in first, r.stdout
    new = r.stdout.strip().splitlines()[-1].split()[1]
    pm = store.verify(new)
    assert pm.name == "opt-cli" and pm.framework == "onnx" and pm.tag != tag
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")


def test_optimize_json_and_exit_1_when_nothing_is_within(packaged):
    tag, ev = packaged
    r = _cli("optimize", tag, "--eval", str(ev), "--target", "y", "--targets", "prune", "--max-metric-drop", "-1",
             "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["best"] is None and out["tag"] == tag and out["candidates"][0]["candidate"] == "original"


def test_bad_arguments_are_named(packaged):
    tag, ev = packaged
    r = _cli("optimize", tag, "--eval", str(ev), "--target", "nope")
    assert r.returncode == 2 and "'nope' is not a column" in r.stdout + r.stderr
    r = _cli("optimize", tag, "--targets", "onnx,zip")
    assert r.returncode == 2 and "zip" in r.stderr


def test_export_writes_the_folder(packaged, tmp_path):
    tag, _ = packaged
    r = _cli("export", tag, str(tmp_path / "x"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert {"model.onnx", "schema.json", "golden.json", "README.md"} <= {p.name for p in (tmp_path / "x").iterdir()}
