"""An ONNX version served by a real `bentoml serve` process (issue 20): answers equal ONNX Runtime's and, on labels,
the scikit-learn parent's; the serving processes never load scikit-learn or torch (checked in /proc/PID/maps);
`mlbench verify` works on it unchanged."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

import mlbench as mb
from mlbench import models
from mlbench.serve import process as serving

pytest.importorskip("skl2onnx")
pytestmark = pytest.mark.timeout(600)
FEATURES = ["month", "day", "sched_dep_time", "distance", "carrier", "origin"]


@pytest.fixture(scope="module")
def onnx_version():
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    df = mb.flights().query("month == 3").dropna(subset=["arr_delay"]).head(6000).reset_index(drop=True)
    X, y = df[FEATURES], (df["arr_delay"] > 15).astype(int).to_numpy()
    pipe = make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["carrier", "origin"]),
                                                 remainder="passthrough"),
                         RandomForestClassifier(20, max_depth=8, random_state=0, n_jobs=1)).fit(X[:4000], y[:4000])
    parent = mb.package(pipe, "svc-onnx", reference=X[:4000], golden=X[4000:4100])
    res = mb.optimize(parent, X[4000:], y[4000:], targets=("onnx",))
    return res.package("onnx"), parent, pipe, X[4000:].reset_index(drop=True)


def _maps(pid: int) -> str:
    "The memory maps of a process and all its descendants (what shared libraries each has loaded)."
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            out.append(Path(f"/proc/{p}/maps").read_text())
            for t in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (t / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return "\n".join(out)


def test_an_onnx_version_is_served_without_scikit_learn(onnx_version, tmp_path):
    tag, parent, pipe, X = onnx_version
    pm = models.verify(tag)
    assert pm.framework == "onnx"
    srv = serving.serve(tag, monitor=str(tmp_path / "mon"))
    try:
        rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in X.iloc[i].to_dict().items()} for i in range(60)]
        r = httpx.post(srv.url + "/predict", json={"rows": rows}, timeout=60)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["model"] == tag
        assert body["predictions"] == models.load(tag).predict(X.head(60)).tolist()
        assert body["predictions"] == pipe.predict(X.head(60)).tolist()  # the parent agrees on these rows
        p = httpx.post(srv.url + "/predict_proba", json={"rows": rows}, timeout=60).json()["probabilities"]
        np.testing.assert_allclose(p, pipe.predict_proba(X.head(60)), atol=1e-5)
        bad = httpx.post(srv.url + "/predict", json={"rows": [{**rows[0], "distance": "far"}]}, timeout=60)
        assert bad.status_code == 422 and "distance" in bad.text  # the same checks as any version
        maps = _maps(srv.proc.pid)
        assert "onnxruntime" in maps  # the check can see what a server loaded
        assert "/sklearn/" not in maps and "/torch/" not in maps
    finally:
        srv.stop()


def test_verify_cli_on_an_onnx_version(onnx_version):
    tag, *_ = onnx_version
    exe = shutil.which("mlbench", path=str(Path(sys.executable).parent))
    r = subprocess.run([exe, "verify", tag], capture_output=True, text=True, timeout=300, env={**os.environ})
    assert r.returncode == 0, r.stdout + r.stderr
