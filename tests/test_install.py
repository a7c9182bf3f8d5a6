"""Installed the way users install it: the wheel built once, then fresh virtual environments.

Core only (`pip install mlbench`): `import mlbench`, `mlbench --help`, and the core verbs
(`profile`, `suite`, `validate`, `drift`) on small CSV files; the verbs and modules of every
extra exit 2 / raise naming that extra and the command that installs it. Then each extra in
turn (`pip install "mlbench[X]"` on top of the core install) runs one smoke command of that extra.

Speed: pip's own cache keeps the downloaded wheels between runs; each extra's environment is
a hard-linked copy of the core one (what a user has after `pip install mlbench`) into which the
wheel is installed again with the extra, so the core's packages are not unpacked ten times.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(1500)
ROOT = Path(__file__).resolve().parents[1]
PIP = [sys.executable, "-m", "pip"]


def _run(cmd, cwd=None, env=None, timeout=900, check=True):
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "BENTOML_DO_NOT_TRACK": "True", **(env or {})}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exit {p.returncode}\nstdout:\n{p.stdout[-4000:]}\nstderr:\n{p.stderr[-4000:]}")
    return p


def _pip_install(venv: Path, *reqs, extra_args=()):
    "Install into `venv` with this interpreter's pip (`pip --python`), quietly; pip's cache is shared."
    _run([*PIP, "--python", venv / "bin" / "python", "install", "-q", *extra_args, *reqs], timeout=1200)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    _run([*PIP, "wheel", ROOT, "--no-deps", "-w", out], timeout=900)
    (whl,) = out.glob("mlbench-*.whl")
    return whl


@pytest.fixture(scope="module")
def core(wheel, tmp_path_factory):
    venv = tmp_path_factory.mktemp("venvs") / "core"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    _pip_install(venv, wheel)
    return venv


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    import numpy as np
    import pandas as pd

    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    n = 400
    ref = pd.DataFrame({"x": rng.normal(size=n), "k": rng.choice(["a", "b", "c"], n), "y": rng.integers(0, 2, n)})
    cur = ref.assign(x=ref["x"] + 3.0)  # plainly drifted
    ref.to_csv(d / "ref.csv", index=False)
    cur.to_csv(d / "cur.csv", index=False)
    return d


def _mlbench(venv, *args, cwd=None, check=False, env=None):
    return _run([venv / "bin" / "mlbench", *args], cwd=cwd, check=check, env=env)


def _py(venv, code, cwd=None, env=None):
    return _run([venv / "bin" / "python", "-c", textwrap.dedent(code)], cwd=cwd, env=env)


def test_core_install_imports_and_runs_the_core_verbs(core, data, tmp_path):
    out = _py(core, """
        import importlib.util, mlbench as mb, pandas as pd
        df = mb.load("ref.csv")
        assert mb.fingerprint(df) == mb.fingerprint(pd.read_csv("ref.csv"))
        p = mb.profile(df); s = mb.Suite.infer(p)
        assert s.validate(df).ok and mb.drift(df, mb.load("cur.csv")).drifted_columns == ["x"]
        assert sum(len(c) for c in mb.scan("ref.csv", chunk_rows=100)) == len(df)
        missing = [m for m in ("fastcore", "bentoml", "optuna", "ipywidgets", "torch", "dask", "papermill", "voila")
                   if importlib.util.find_spec(m)]
        print("present:", missing)
        """, cwd=data)
    assert out.stdout.strip() == "present: []", out.stdout  # a core install has none of the extras (nor fastcore)
    assert "Usage: mlbench" in _mlbench(core, "--help", check=True).stdout
    r = _mlbench(core, "profile", data / "ref.csv", "--json", tmp_path / "p.json", check=True)
    assert "400 rows × 3 columns" in r.stdout and json.loads((tmp_path / "p.json").read_text())
    _mlbench(core, "suite", data / "ref.csv", "-o", tmp_path / "s.yaml", check=True)
    r = _mlbench(core, "validate", data / "ref.csv", "--suite", tmp_path / "s.yaml")
    assert r.returncode == 0 and "checks passed" in r.stdout, r.stdout + r.stderr
    r = _mlbench(core, "validate", data / "cur.csv", "--suite", tmp_path / "s.yaml")
    assert r.returncode == 1 and "failed" in r.stdout  # x moved by 3 sd: its range check fails
    r = _mlbench(core, "drift", data / "ref.csv", data / "cur.csv", "--drift-share", "0.3", "--html", tmp_path / "d.html")
    assert r.returncode == 1 and "DRIFTED" in r.stdout and (tmp_path / "d.html").stat().st_size > 1000


VERBS = [  # (verb and arguments, extra it needs)
    (["serve", "m:1"], "serve"),
    (["tune", "sweep.yaml"], "tune"),
    (["dashboard"], "dashboard"),
    (["run", "pipeline.yaml"], "pipeline"),
    (["models"], "serve"),
    (["verify", "m:1"], "serve"),
    (["gate", "m:1"], "serve"),
]


def test_core_install_names_the_missing_extra(core, tmp_path):
    for args, extra in VERBS:
        r = _mlbench(core, *args, cwd=tmp_path)
        want = f'mlbench {args[0]} needs the "{extra}" extra: pip install "mlbench[{extra}]"'
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert want in r.stderr and "Traceback" not in r.stderr + r.stdout, (args, r.stderr)
    api = {  # library entry points: one MissingExtra naming the extra
        "tune": "mb.tune(None, {}, [[0]], [0])",
        "serve": "mb.package(None, 'm', reference=None)",
        "widgets": "import mlbench.views.widgets",
        "torch": "from mlbench.tune.torch import TabularNetClassifier; TabularNetClassifier().fit([[0.0]], [0])",
        "whylogs": "mb.profile(pd.DataFrame({'a': [1]})).to_whylogs()",
        "dashboard": "from mlbench.views.dashboard import Dashboard; Dashboard()",
    }
    for extra, code in api.items():
        out = _py(core, f"""
            import mlbench as mb, pandas as pd
            try:
                {code}
            except mb.errors.MissingExtra as e:
                print(e.extra, "|", e)
            """)
        assert out.stdout.startswith(f"{extra} | ") and f'pip install "mlbench[{extra}]"' in out.stdout, (extra, out)


SMOKE = {
    "whylogs": ("py", """
        import mlbench as mb, pandas as pd
        p = mb.profile(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "x"]}))
        q = mb.Profile.from_whylogs(p.to_whylogs())
        assert q.n_rows == 3 and q["a"].summary()["max"] == 3.0
        """),
    "dask": ("py", """
        import dask.dataframe as dd, mlbench as mb, pandas as pd
        df = pd.DataFrame({"a": range(1000)})
        assert mb.profile(dd.from_pandas(df, npartitions=4)).n_rows == 1000
        """),
    "widgets": ("py", """
        import mlbench as mb, pandas as pd
        from mlbench.views.widgets import ProfileView
        v = ProfileView(mb.profile(pd.DataFrame({"a": [1, 2, 3]})))
        assert v is not None
        """),
    "torch": ("py", """
        import numpy as np
        from mlbench.tune.torch import TabularNetClassifier
        X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
        m = TabularNetClassifier(max_epochs=3).fit(X, y)
        assert m.predict(X).shape == (200,)
        """),
    "onnx": ("py", """
        import numpy as np, pandas as pd
        from sklearn.linear_model import LogisticRegression
        from mlbench.registry.onnx import OnnxModel, to_onnx
        X = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 3)), columns=list("abc"))
        y = (X["a"] > 0).astype(int)
        m = LogisticRegression().fit(X, y)
        assert (OnnxModel(to_onnx(m, X)).predict(X) == m.predict(X)).all()
        """),
    "tune": ("py", """
        import numpy as np, mlbench as mb
        from sklearn.linear_model import LogisticRegression
        X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
        sw = mb.tune(LogisticRegression(), {"C": mb.space.float(0.01, 10, log=True)}, X, y, cv=2, n_trials=3,
                     storage="sweeps.db", study_name="smoke", progress=False)
        assert 0.5 < sw.best_score <= 1 and "C" in sw.best_params
        """),
    "serve": ("py", """
        import os, httpx, numpy as np, pandas as pd, mlbench as mb
        from mlbench.serve import process as serving
        from sklearn.linear_model import LogisticRegression
        X = pd.DataFrame({"a": np.arange(100.0), "b": np.arange(100.0) % 7}); y = (X["a"] > 50).astype(int)
        tag = mb.package(LogisticRegression().fit(X, y), "smoke", reference=X)
        srv = serving.serve(tag, wait=180)
        try:
            r = httpx.post(srv.url + "/predict", json={"rows": [{"a": 99.0, "b": 1.0}]}, timeout=30)
            assert r.status_code == 200 and r.json()["predictions"] == [1], r.text
        finally:
            srv.stop()
        """),
    "pipeline": ("cli", ["run", "p.yaml", "-p", "n=3"]),
    "dashboard": ("cli", ["dashboard", "--static", "dash.html", "--store", "store"]),
    "lab": ("lab", None),
}


def _plain(text: str) -> str:
    "Terminal colour codes removed."
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _extra_venv(core: Path, wheel: Path, extra: str) -> Path:
    venv = core.parent / extra
    if venv.exists():
        shutil.rmtree(venv)
    _run(["cp", "-al", core, venv])  # hard links: the core install, as a user has it before adding an extra
    # the copy's scripts name the core's interpreter: reinstalling mlbench rewrites ours, the extra brings its own
    _pip_install(venv, f"{wheel}[{extra}]", extra_args=["--force-reinstall", "--no-deps"])
    _pip_install(venv, f"{wheel}[{extra}]")
    return venv


def _smoke(core, wheel, data, tmp_path, extra):
    venv = _extra_venv(core, wheel, extra)
    work = tmp_path / extra
    work.mkdir()
    kind, what = SMOKE[extra]
    env = {"BENTOML_HOME": str(work / "bentoml"), "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    if kind == "py":
        _py(venv, what, cwd=work, env=env)
    elif kind == "cli":
        for f in (ROOT / "tests" / "fixtures" / "pipeline").glob("ok.ipynb"):
            shutil.copy(f, work / f.name)
        (work / "p.yaml").write_text("steps:\n  make: {notebook: ok.ipynb, outputs: [result.json]}\n")
        (work / "store").mkdir()
        r = _mlbench(venv, *what, cwd=work, env=env)
        assert r.returncode == 0, (extra, r.stdout[-3000:], r.stderr[-3000:])
    else:  # lab: both extension lists say enabled and OK, with no Node.js anywhere on PATH
        env["PATH"] = str(venv / "bin")
        assert shutil.which("node", path=env["PATH"]) is None
        labext = _run([venv / "bin" / "jupyter", "labextension", "list"], cwd=work, env=env)
        lab_out = labext.stdout + labext.stderr
        assert re.search(r"@mlbench/labextension v\S+ .*enabled.* .*OK", _plain(lab_out)), lab_out
        srvext = _run([venv / "bin" / "jupyter", "server", "extension", "list"], cwd=work, env=env)
        srv_out = _plain(srvext.stdout + srvext.stderr)
        assert re.search(r"mlbench\.jupyter\s+enabled", srv_out) and re.search(r"mlbench\.jupyter\s+OK", srv_out), srv_out
    shutil.rmtree(venv)  # keep the disk use of the test bounded
    return extra


def test_each_extra_installs_and_runs_its_smoke_command(core, wheel, data, tmp_path):
    "Two extras at a time (installs wait on disk and network as much as on the CPU)."
    with ThreadPoolExecutor(2) as ex:
        done = list(ex.map(lambda e: _smoke(core, wheel, data, tmp_path, e), SMOKE))
    assert done == list(SMOKE)


def test_all_extra_names_every_extra():
    import tomllib

    opt = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    (line,) = opt["all"]
    named = set(line.split("[", 1)[1].rstrip("]").split(","))
    assert named == set(opt) - {"all", "dev"} == set(SMOKE), named
    assert "mlbench[all]" in opt["dev"]
