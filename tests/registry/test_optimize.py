"""mb.optimize, ONNX versions in the store and mb.models.export: metrics against scikit-learn's own on the same
rows, packaging with parent and parity, integrity refusals, disagreement refused with rows named, and a fresh
venv holding only onnxruntime and numpy reproducing the exported golden outputs."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mlbench as mb
from mlbench import models
from mlbench.registry import store
from mlbench.registry.onnx import OnnxModel, to_onnx
from mlbench.registry.optimize import n_trees

pytest.importorskip("skl2onnx")
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def data():
    df = mb.flights().query("month == 5").dropna(subset=["arr_delay"]).head(5000).reset_index(drop=True)
    X = df[["month", "day", "sched_dep_time", "distance", "carrier", "origin"]]
    y = (df["arr_delay"] > 15).astype(int).to_numpy()
    return X.iloc[:3500], y[:3500], X.iloc[3500:], y[3500:]


def _ct(dense=False):
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    return make_column_transformer((OneHotEncoder(handle_unknown="ignore", sparse_output=not dense),
                                    ["carrier", "origin"]), remainder="passthrough")


@pytest.fixture(scope="module")
def forest(data):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline

    X, y, Xe, _ = data
    model = make_pipeline(_ct(), RandomForestClassifier(40, max_depth=10, min_samples_leaf=5, random_state=0)).fit(X, y)
    return model, mb.package(model, "opt-rf", reference=X, metrics={"roc_auc": 0.6}, golden=Xe.head(150))


@pytest.fixture(scope="module")
def result(forest, data):
    _, tag = forest
    _, _, Xe, ye = data
    return mb.optimize(tag, Xe, ye)


def test_candidates_are_measured_against_scikit_learn(forest, data, result):
    from sklearn.metrics import roc_auc_score

    model, tag = forest
    _, _, Xe, ye = data
    assert [c.name for c in result.candidates][:2] == ["original", "onnx"]
    assert result.metric == "roc_auc" and result.original.metric == roc_auc_score(ye, model.predict_proba(Xe)[:, 1])
    onx = result["onnx"]
    assert onx.within and onx.golden == {**onx.golden, "rows": 150, "flipped": 0}
    assert onx.evaluation["rows"] == len(Xe) and onx.evaluation["label_agreement"] == 1.0
    assert onx.metric == pytest.approx(result.original.metric, abs=1e-6) and onx.delta_lo <= 0 <= onx.delta_hi
    assert onx.size == len(to_onnx(model, Xe)) and onx.p50_ms > 0 and onx.p99_ms >= onx.p50_ms and onx.rows_per_s > 0
    assert dict(result.skipped)["quantize"].startswith("no MatMul/Gemm")  # trees stay float32: said, not hidden
    (pruned,) = [c for c in result.candidates if c.name.startswith("prune-")]
    k = n_trees(pruned.source)
    assert pruned.name == f"prune-{k}" and k < 40
    # its metric, recomputed from the forest's first k trees by hand
    by_hand = np.mean([t.predict_proba(model[:-1].transform(Xe)) for t in model[-1].estimators_[:k]], axis=0)
    assert pruned.metric == pytest.approx(roc_auc_score(ye, by_hand[:, 1]), abs=1e-6)
    assert result.original.metric - pruned.metric <= 0.001 + 1e-9
    assert result.best.name in ("onnx", pruned.name) and result.best.within


def test_result_views(result):
    df = result.to_frame()
    assert list(df.index) == [c.name for c in result.candidates]
    assert {"size_mb", "p50_ms", "p99_ms", "rows_per_s", "peak_mb", "metric", "delta", "delta_lo", "delta_hi",
            "eval_agreement", "max_abs_diff", "flipped_rows", "within"} <= set(df.columns)
    d = json.loads(result.to_json())
    assert d["best"] == result.best.name and d["skipped"][0][0] == "quantize"
    page = result.to_html()
    assert "<script" not in page and "http" not in page and result.best.name in page


def test_package_stores_an_onnx_version_that_loads_without_scikit_learn(forest, data, result, tmp_path):
    model, tag = forest
    _, _, Xe, _ = data
    new = result.package("onnx")
    pm = models.get(new)
    assert pm.name == "opt-rf" and pm.framework == "onnx" and pm.lineage["parent"] == tag
    meta = json.loads(store._bento(new).info.metadata["mlbench"])
    assert meta["runtime"] == "onnx" and meta["parent"] == tag and meta["parity"]["golden"]["flipped"] == 0
    assert set(meta["sha256"]) >= {"model.onnx", "parity.json", "golden.parquet", "schema.json"}
    loaded = models.load(new)
    assert isinstance(loaded, OnnxModel) and (loaded.predict(Xe) == model.predict(Xe)).all()
    assert models.list("opt-rf").set_index("tag").loc[new, "intact"]
    code = textwrap.dedent(f"""
        import sys, mlbench as mb
        m = mb.models.load("{new}")
        g = mb.models.get("{new}").golden()
        assert (m.predict(g) == g["__prediction__"].to_numpy()).all()
        print(sorted(k for k in ("sklearn", "torch") if k in sys.modules))
        """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"  # neither scikit-learn nor torch was imported to load and run it


def test_a_changed_onnx_file_is_refused(result):
    new = result.package("onnx")
    p = models.get(new).path / "model.onnx"
    orig = p.read_bytes()
    p.write_bytes(orig[:100] + bytes([orig[100] ^ 1]) + orig[101:])
    try:
        with pytest.raises(models.IntegrityError, match="model.onnx"):
            models.load(new)
        with pytest.raises(models.IntegrityError, match="changed: model.onnx"):
            models.verify(new)
    finally:
        p.write_bytes(orig)
    assert isinstance(models.load(new), OnnxModel)


def test_disagreeing_onnx_is_not_packaged_and_the_rows_are_named(forest, data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model, tag = forest
    X, y, Xe, ye = data
    other = make_pipeline(_ct(), LogisticRegression(max_iter=2000, class_weight="balanced")).fit(X, y)
    gold = models.get(tag).golden()[X.columns]
    expect = [int(i) for i in np.flatnonzero(other.predict(gold) != model.predict(gold))[:50]]
    assert expect
    before = len(models.list("opt-rf"))
    with pytest.raises(models.ParityError, match=r"another label on \d+ of 150 golden rows \(rows (\[.*\])\)") as e:
        models.package_onnx(tag, to_onnx(other, X))
    assert str(expect) in str(e.value)
    # golden rows agree but the evaluation rows measured by optimize do not
    report = {"evaluation": {"rows": 1000, "label_agreement": 0.99, "flipped_rows": [7, 9]}}
    with pytest.raises(models.ParityError, match=r"99\.0000% of 1000 evaluation rows.*\[7, 9\]"):
        models.package_onnx(tag, to_onnx(model, X), report=report)
    assert len(models.list("opt-rf")) == before


def hundredths(v):  # a named function: a package pickles it (a lambda is refused by pickle before ONNX)
    return v / 100


def test_unconvertible_model_names_the_step_and_packages_nothing(data):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y, Xe, ye = data
    model = make_pipeline(make_column_transformer((FunctionTransformer(hundredths), ["distance"]),
                                                  remainder="drop"), LogisticRegression()).fit(X, y)
    tag = mb.package(model, "opt-lambda", reference=X)
    res = mb.optimize(tag, Xe, ye)
    assert [c.name for c in res.candidates] == ["original"] and res.best is None
    why = dict(res.skipped)
    assert "columntransformer > functiontransformer" in why["onnx"] and "func=hundredths" in why["onnx"]
    assert "not a tree ensemble" in why["prune"]
    with pytest.raises(models.ModelError, match="no candidate is within the tolerance"):
        res.package()


def test_mlp_is_quantized(data):
    from sklearn.compose import make_column_transformer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y, Xe, ye = data
    ct = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["carrier", "origin"]),
                                 remainder=StandardScaler())
    model = make_pipeline(ct, MLPClassifier((64, 64), max_iter=60, random_state=0)).fit(X, y)
    tag = mb.package(model, "opt-mlp", reference=X)
    res = mb.optimize(tag, Xe, ye, targets=("onnx", "quantize"))
    q = res["onnx-int8"]
    assert q.size < res["onnx"].size and q.metric is not None and q.evaluation["rows"] == len(Xe)
    assert q.evaluation["max_abs_diff"] > res["onnx"].evaluation["max_abs_diff"]  # int8 weights move the answers
    assert [t for t, _ in res.skipped] == []


def test_export_runs_in_a_fresh_venv_with_only_onnxruntime_and_numpy(forest, data, result, tmp_path):
    model, tag = forest
    new = result.package("onnx")
    out_sk = models.export(tag, tmp_path / "from-sklearn")  # converted on the way
    out_onnx = models.export(new, tmp_path / "from-onnx", format="onnx")
    for d in (out_sk, out_onnx):
        assert sorted(p.name for p in d.iterdir()) == ["README.md", "golden.json", "model.onnx", "schema.json"]
        s = json.loads((d / "schema.json").read_text())
        assert s["classes"] == [0, 1] and [i["name"] for i in s["inputs"]] == list(data[0].columns)
    with pytest.raises(models.ModelError, match="format"):
        models.export(tag, tmp_path / "x", format="pmml")
    gold = models.get(tag).golden()
    (tmp_path / "expected.json").write_text(json.dumps(
        {"labels": gold["__prediction__"].tolist(), "p1": gold["__proba__1"].tolist()}))  # scikit-learn's answers
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "onnxruntime==1.32.0", "numpy"],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr[-2000:]
    check = textwrap.dedent("""
        import json, sys, importlib.util
        import numpy as np, onnxruntime as ort
        exp = json.load(open(sys.argv[2]))
        for d in sys.argv[1].split(","):
            g = json.load(open(d + "/golden.json"))
            s = ort.InferenceSession(d + "/model.onnx", providers=["CPUExecutionProvider"])
            feed = {i.name: np.array(g["inputs"][i.name], dtype=object if i.type == "tensor(string)" else np.float32)
                    for i in s.get_inputs()}
            label, proba = s.run(None, feed)
            assert label.tolist() == g["outputs"]["label"], d
            first = np.argmax(proba >= proba.max(axis=1, keepdims=True) - 1e-5, axis=1)  # the README's rule
            assert first.tolist() == g["labels"] == exp["labels"], d
            assert np.abs(proba - np.array(g["outputs"]["probabilities"])).max() < 1e-6
            assert np.abs(proba[:, 1] - np.array(exp["p1"])).max() < 1e-5
        print([m for m in ("sklearn", "mlbench", "pandas", "skl2onnx") if importlib.util.find_spec(m)])
        """)
    r = subprocess.run([str(venv / "bin" / "python"), "-c", check, f"{out_sk},{out_onnx}", str(tmp_path / "expected.json")],
                       capture_output=True, text=True, timeout=120, env={"PATH": os.environ["PATH"]}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_histgradientboosting_converts_and_prunes(data, task):
    "The issue's HistGradientBoosting case: an ONNX form equal on every row, and a shorter prefix within the budget."
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import r2_score, roc_auc_score
    from sklearn.pipeline import make_pipeline

    X, y, Xe, ye = data
    if task == "regression":
        y, ye = X["sched_dep_time"].to_numpy() / 100.0, Xe["sched_dep_time"].to_numpy() / 100.0  # from the rest
        X, Xe = X.drop(columns="sched_dep_time"), Xe.drop(columns="sched_dep_time")
        est = HistGradientBoostingRegressor(max_iter=80, random_state=0)
    else:
        est = HistGradientBoostingClassifier(max_iter=80, random_state=0)
    model = make_pipeline(_ct(dense=True), est).fit(X, y)
    tag = mb.package(model, f"opt-hgb-{task[:3]}", reference=X)
    res = mb.optimize(tag, Xe, ye, targets=("onnx", "prune"), max_metric_drop=0.005)
    onx = res["onnx"]
    assert onx.within and onx.evaluation["flipped"] == 0 and onx.golden["flipped"] == 0
    own = r2_score(ye, model.predict(Xe)) if task == "regression" else roc_auc_score(ye, model.predict_proba(Xe)[:, 1])
    assert res.metric == ("r2" if task == "regression" else "roc_auc") and res.original.metric == own
    assert abs(onx.delta) < 1e-4
    (pruned,) = [c for c in res.candidates if c.name.startswith("prune-")]
    k = n_trees(pruned.source)
    assert k < 80 and pruned.evaluation["flipped"] == 0  # the ONNX prefix agrees with the scikit-learn prefix
    assert own - pruned.metric <= 0.005 + 1e-9 and pruned.size < onx.size
    new = res.package(pruned.name)
    assert models.get(new).lineage["parent"] == tag
    assert json.loads(models.get(new).read("parity.json"))["candidate"] == pruned.name


def test_tabularnet_is_exported_quantized_and_packaged(data):
    from sklearn.metrics import roc_auc_score

    from mlbench.tune.torch import TabularNetClassifier

    X, y, Xe, ye = data
    net = TabularNetClassifier(hidden=(64, 32), max_epochs=5, seed=0).fit(X, y)
    tag = mb.package(net, "opt-net", reference=X)
    res = mb.optimize(tag, Xe, ye)
    assert [c.name for c in res.candidates] == ["original", "onnx", "onnx-int8"]
    assert "not a tree ensemble" in dict(res.skipped)["prune"]
    assert res.original.metric == roc_auc_score(ye, net.predict_proba(Xe)[:, 1])
    onx, q = res["onnx"], res["onnx-int8"]
    assert onx.within and onx.evaluation["max_abs_diff"] < 1e-4 and abs(onx.delta) < 1e-4
    assert q.size < onx.size and q.evaluation["rows"] == len(Xe)
    new = res.package("onnx")
    loaded = models.load(new)
    assert isinstance(loaded, OnnxModel) and np.abs(loaded.predict_proba(Xe) - net.predict_proba(Xe)).max() < 1e-4
