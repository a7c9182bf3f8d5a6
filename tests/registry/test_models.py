"""Packaging and the registry: bad arguments, stages and their history under concurrency,
integrity refusals, trust for foreign models, export/import, a PyTorch model's weights, and
`bentoml build` from the written bentofile."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlbench as mb
from mlbench import models
from mlbench.registry import store

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def data():
    df = mb.flights().query("month == 1").dropna(subset=["arr_delay"]).head(3000)
    X = df[["month", "day", "sched_dep_time", "distance", "carrier", "origin"]].reset_index(drop=True)
    y = (df["arr_delay"] > 15).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def clf(data):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = data
    return make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["carrier", "origin"]),
                                                 remainder=StandardScaler()), LogisticRegression(max_iter=500)).fit(X, y)


def test_package_records_schema_profile_suite_lineage(clf, data):
    X, y = data
    tag = mb.package(clf, "pkg-basic", reference=X, metrics={"acc": 0.8}, labels={"team": "ops"})
    pm = models.get(tag)
    assert pm.tag == tag and pm.framework == "sklearn" and pm.labels == {"team": "ops"}
    cols = {c["name"]: c for c in pm.schema["columns"]}
    assert list(cols) == list(X.columns)
    # the suite's range: the training extremes widened by a tail estimate, never below 0 for a column that never was
    assert 0 <= cols["distance"]["min"] <= X["distance"].min() and cols["distance"]["max"] >= X["distance"].max()
    assert cols["origin"]["categories"] == sorted(X["origin"].unique())
    assert cols["month"]["kind"] == "integer" and not cols["month"]["nullable"]
    ref = pm.reference_profile()
    assert ref.n_rows == len(X) and ref.to_frame().loc["distance", "mean"] == pytest.approx(X["distance"].mean())
    assert pm.suite().validate(X).ok
    lin = pm.lineage
    assert lin["data"] == mb.fingerprint(X) and lin["rows"] == len(X)
    assert lin["versions"]["scikit-learn"] and lin["versions"]["bentoml"].startswith("1.4")
    gold = pm.golden()
    assert (gold["__prediction__"].to_numpy() == clf.predict(gold[X.columns])).all()
    # BentoML's own scikit-learn loader reads the artifact too
    import bentoml

    assert (bentoml.sklearn.load_model(tag).predict(X) == clf.predict(X)).all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="Bad Name"), "name"),
    (dict(name=""), "name"),
    (dict(reference="not a frame"), "reference"),
    (dict(reference=pd.DataFrame()), "reference"),
    (dict(reference="drop distance"), "reference: lacks columns"),
    (dict(metrics={"acc": float("nan")}), "metrics"),
    (dict(metrics={"acc": "high"}), "metrics"),
    (dict(labels={"team": 3}), "labels"),
    (dict(labels={"mlbench.stage": "x"}), "reserved"),
    (dict(suite="not a suite"), "suite"),
    (dict(golden="rows"), "golden"),
])
def test_package_refuses_bad_arguments(clf, data, kwargs, match):
    X, _ = data
    args = dict(name="pkg-bad", reference=X)
    args.update(kwargs)
    if isinstance(args["reference"], str) and args["reference"] == "drop distance":
        args["reference"] = X.drop(columns="distance")
    with pytest.raises(models.ModelError, match=match):
        mb.package(clf, **args)


def test_package_refuses_unfitted_model(data):
    from sklearn.ensemble import RandomForestClassifier

    with pytest.raises(models.ModelError, match="not fitted"):
        mb.package(RandomForestClassifier(), "pkg-unfitted", reference=data[0])


def test_stages_history_and_aliases(clf, data):
    X, _ = data
    a = mb.package(clf, "pkg-stages", reference=X)
    b = mb.package(clf, "pkg-stages", reference=X)
    models.promote(a, "staging", reason="candidate", who="ana")
    models.promote(a, "production", reason="passed the gate", who="ana")
    models.promote(b, "production", reason="retrained", who="ben")
    assert models.get("pkg-stages:production").tag == b
    assert models.get(a).stage == "archived"
    h = models.history("pkg-stages")
    moves = h[["tag", "from_stage", "to_stage", "who", "reason"]].values.tolist()
    assert moves[-4:] == [[a, "none", "staging", "ana", "candidate"], [a, "staging", "production", "ana", "passed the gate"],
                          [a, "production", "archived", "ben", f"replaced by {b}"], [b, "none", "production", "ben", "retrained"]]
    assert h["at"].is_monotonic_increasing
    lst = models.list("pkg-stages")
    assert set(lst["tag"]) == {a, b} and dict(zip(lst["tag"], lst["stage"])) == {a: "archived", b: "production"}
    with pytest.raises(models.ModelError, match="stage"):
        models.promote(a, "prod")
    with pytest.raises(models.ModelError, match="no 'pkg-stages' model is in stage 'staging'"):
        models.get("pkg-stages:staging")
    with pytest.raises(models.ModelError, match="not in the model store"):
        models.get("pkg-stages:doesnotexist")


def test_concurrent_promotions_leave_one_production(clf, data):
    X, _ = data
    tags = [mb.package(clf, "pkg-race", reference=X) for _ in range(4)]
    code = ("import sys; from mlbench import models; models.promote(sys.argv[1], 'production', reason='race')")
    procs = [subprocess.Popen([sys.executable, "-c", code, t]) for t in tags]
    assert all(p.wait(120) == 0 for p in procs)
    lst = models.list("pkg-race")
    assert (lst["stage"] == "production").sum() == 1
    h = models.history("pkg-race")
    assert (h["to_stage"] == "production").sum() == 4 and (h["to_stage"] == "archived").sum() == 3


def test_integrity_changed_missing_added_files(clf, data):
    X, _ = data
    tag = mb.package(clf, "pkg-integrity", reference=X)
    path = models.get(tag).path
    assert (models.load(tag).predict(X) == clf.predict(X)).all()
    pkl = path / "saved_model.pkl"
    orig = pkl.read_bytes()
    pkl.write_bytes(orig[:-1] + bytes([orig[-1] ^ 1]))
    with pytest.raises(models.IntegrityError, match="changed: saved_model.pkl"):
        models.load(tag)
    pkl.write_bytes(orig)
    (path / "schema.json").rename(path / "schema.bak")
    with pytest.raises(models.IntegrityError, match="missing: schema.json"):
        models.verify(tag)
    (path / "schema.bak").rename(path / "schema.json")
    (path / "extra.py").write_text("import os")
    with pytest.raises(models.IntegrityError, match="added: extra.py"):
        models.load(tag)
    (path / "extra.py").unlink()
    assert models.load(tag) is not None


def test_unregistered_model_needs_trust_and_export_import(clf, data, tmp_path):
    X, _ = data
    tag = mb.package(clf, "pkg-foreign", reference=X)
    archive = models.export_model(tag, str(tmp_path / "model.bentomodel"))
    import bentoml

    bentoml.models.delete(tag)
    with pytest.raises(models.IntegrityError, match="trust=True"):
        models.import_model(archive)
    assert models.import_model(archive, trust=True) == tag
    assert (models.load(tag).predict(X) == clf.predict(X)).all()
    # a model folder that appears in the store with no registry record: refused without trust
    from contextlib import closing

    with closing(store._db()) as con:
        con.execute("DELETE FROM models WHERE tag = ?", (tag,))
    with pytest.raises(models.IntegrityError, match="no record"):
        models.load(tag)
    assert models.load(tag, trust=True) is not None
    with pytest.raises(models.ModelError, match="does not exist"):
        models.import_model(tmp_path / "nope.bentomodel", trust=True)


def test_torch_model_weights_travel_apart(data):
    pytest.importorskip("torch")
    from mlbench.tune.torch import TabularNetClassifier

    X, y = data
    net = TabularNetClassifier(hidden=(16,), max_epochs=3, seed=0).fit(X, y)
    tag = mb.package(net, "pkg-torch", reference=X)
    pm = models.get(tag)
    assert pm.framework == "torch" and (pm.path / "weights.pt").exists()
    import torch

    weights = torch.load(pm.path / "weights.pt", weights_only=True)  # a plain tensor dict: no code runs
    assert all(isinstance(v, torch.Tensor) for v in weights.values())
    again = models.load(tag)
    np.testing.assert_array_equal(again.predict_proba(X), net.predict_proba(X))


def test_bentofile_builds_a_bento(clf, data, tmp_path):
    X, _ = data
    tag = mb.package(clf, "pkg-build", reference=X)
    bf = models.bentofile(tag, tmp_path / "build")
    spec = bf.read_text()
    assert "service:ModelService" in spec and tag in (tmp_path / "build" / "service.py").read_text()
    r = subprocess.run([sys.executable, "-m", "bentoml", "build", "-f", str(bf), str(tmp_path / "build"),
                        "--output", "tag"], capture_output=True, text=True, timeout=300,
                       env={**__import__("os").environ, "BENTOML_DO_NOT_TRACK": "True"})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    import bentoml

    bento_tag = r.stdout.strip().splitlines()[-1].replace("__tag__:", "")
    bento = bentoml.bentos.get(bento_tag)
    assert tag in {str(m.tag) for m in bento.info.all_models}


def test_cli_models_list_promote_history(clf, data):
    X, _ = data
    tag = mb.package(clf, "pkg-cli", reference=X)
    exe = Path(sys.executable).parent / "mlbench"
    r = subprocess.run([str(exe), "models", "pkg-cli", "--promote", f"{tag}=production", "--reason", "cli test"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert models.get("pkg-cli:production").tag == tag
    r = subprocess.run([str(exe), "models", "pkg-cli", "--history"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "cli test" in r.stdout
    r = subprocess.run([str(exe), "models", "--promote", f"{tag}=prod"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "stage" in r.stderr
