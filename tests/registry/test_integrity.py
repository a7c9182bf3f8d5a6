"""Integrity of everything a packaged model carries (issue 17): model.yaml is hashed, what `get()`
reports comes from hashed bytes, files are hashed from the bytes that are parsed or unpickled,
symlinks are refused, and `import_model(trust=True)` still checks the archive's own hashes."""
import io
import json
import os
import tarfile

import numpy as np
import pandas as pd
import pytest
import yaml

import mlbench as mb
from mlbench import models
from mlbench.registry import store

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.integers(0, 10, 400), "c": rng.choice(["x", "y"], 400)})
    y = ((X["a"] > 0) ^ (X["c"] == "x")).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def clf(data):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, y = data
    enc = make_column_transformer((OneHotEncoder(), ["c"]), remainder="passthrough")
    return make_pipeline(enc, LogisticRegression()).fit(X, y)


def _edit_model_yaml(path, fn):
    "Edit a package's model.yaml the way an attacker would: valid YAML, metadata changed."
    p = path / "model.yaml"
    orig = p.read_bytes()
    doc = yaml.safe_load(orig)
    fn(doc)
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return orig


def test_model_yaml_is_hashed_and_get_reports_only_hashed_values(clf, data):
    X, _ = data
    tag = mb.package(clf, "int-yaml", reference=X, metrics={"roc_auc": 0.61}, labels={"team": "ops"})
    path = models.get(tag).path

    def better(doc):
        meta = json.loads(doc["metadata"]["mlbench"])
        meta["metrics"]["roc_auc"] = 0.99
        meta["lineage"]["rows"] = 10 ** 9
        doc["metadata"]["mlbench"] = json.dumps(meta)
        doc["labels"]["team"] = "attacker"

    orig = _edit_model_yaml(path, better)
    for call in (models.get, models.verify, models.load):
        with pytest.raises(models.IntegrityError, match="model.yaml"):
            call(tag)
    lst = models.list("int-yaml").set_index("tag")
    assert lst.loc[tag, "metrics"] != {"roc_auc": 0.99} and lst.loc[tag, "labels"] != {"team": "attacker"}
    assert not lst.loc[tag, "intact"]
    with pytest.raises(models.IntegrityError, match="model.yaml"):
        models.promote(tag, "production")
    (path / "model.yaml").write_bytes(orig)
    pm = models.get(tag)
    assert pm.metrics == {"roc_auc": 0.61} and pm.labels == {"team": "ops"} and pm.lineage["rows"] == len(X)
    assert models.list("int-yaml").set_index("tag").loc[tag, "intact"]
    # a custom_objects.pkl (BentoML unpickles it) that appears in the folder is refused
    (path / "custom_objects.pkl").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(models.IntegrityError, match="added: custom_objects.pkl"):
        models.load(tag)
    (path / "custom_objects.pkl").unlink()
    assert (models.load(tag).predict(X) == clf.predict(X)).all()


def test_artifacts_are_read_from_the_hashed_bytes(clf, data):
    X, _ = data
    tag = mb.package(clf, "int-bytes", reference=X)
    pm = models.get(tag)
    gold = pm.golden()
    # golden rows, suite and profile edited after get(): the methods refuse, they do not read the edit
    edited = gold.copy()
    edited["__prediction__"] = 1 - edited["__prediction__"]
    edited.to_parquet(pm.path / "golden.parquet", index=False)
    with pytest.raises(models.IntegrityError, match="golden.parquet"):
        pm.golden()
    (pm.path / "suite.yaml").write_text("mlbench_suite: 1\nconstraints: []\n")
    with pytest.raises(models.IntegrityError, match="suite.yaml"):
        pm.suite()
    (pm.path / "schema.json").write_text(json.dumps({"columns": []}))
    with pytest.raises(models.IntegrityError, match="schema.json"):
        models.get(tag)


def test_the_pickle_unpickled_is_the_pickle_hashed(clf, data, monkeypatch):
    "No check-then-reopen: a pickle swapped in after the check is never the one unpickled."
    import joblib
    from sklearn.dummy import DummyClassifier

    X, y = data
    tag = mb.package(clf, "int-swap", reference=X)
    pkl = models.get(tag).path / "saved_model.pkl"
    buf = io.BytesIO()
    joblib.dump(DummyClassifier(strategy="constant", constant=7).fit(X, y * 0 + 7), buf)
    real_verify = store.verify

    def verify_then_swap(t, trust=False):  # the file changes right after the check, before the model is read
        out = real_verify(t, trust=trust)
        pkl.write_bytes(buf.getvalue())
        return out

    monkeypatch.setattr(store, "verify", verify_then_swap)
    try:
        model = models.load(tag)
    except models.IntegrityError as e:
        assert "saved_model.pkl" in str(e)
    else:
        assert (model.predict(X) == clf.predict(X)).all(), "unpickled a file other than the one hashed"


@pytest.mark.parametrize("victim", ["schema.json", "saved_model.pkl", "model.yaml"])
def test_symlinks_in_a_model_folder_are_refused(clf, data, tmp_path, victim):
    X, _ = data
    tag = mb.package(clf, "int-link", reference=X)
    path = models.get(tag).path
    outside = tmp_path / victim
    outside.write_bytes((path / victim).read_bytes())  # the same bytes: only the link is wrong
    (path / victim).unlink()
    os.symlink(outside, path / victim)
    for call in (models.verify, models.load):
        with pytest.raises(models.IntegrityError, match=f"{victim}.*symlink|symlink.*{victim}"):
            call(tag)


def _tamper_archive(src, dst, member_suffix, fn):
    with tarfile.open(src, "r:*") as tin, tarfile.open(dst, "w:xz") as tout:
        hit = False
        for m in tin.getmembers():
            f = tin.extractfile(m) if m.isfile() else None
            data = f.read() if f else None
            if data is not None and m.name.endswith(member_suffix):
                data, hit = fn(data), True
                m.size = len(data)
            tout.addfile(m, io.BytesIO(data) if data is not None else None)
    assert hit, member_suffix


@pytest.mark.parametrize("member", ["schema.json", "saved_model.pkl"])
def test_import_with_trust_still_checks_the_archives_own_hashes(clf, data, tmp_path, member):
    import bentoml

    X, _ = data
    tag = mb.package(clf, f"int-archive-{member[:4]}", reference=X)
    archive = models.export_model(tag, str(tmp_path / "model.bentomodel"))
    bentoml.models.delete(tag)
    bad = tmp_path / "tampered.bentomodel"
    _tamper_archive(archive, bad, member, lambda b: b[:-1] + bytes([b[-1] ^ 1]))
    with pytest.raises(models.IntegrityError, match=member):
        models.import_model(bad, trust=True)
    with pytest.raises(models.ModelError, match="not in the model store"):
        models.get(tag)  # the refused archive left nothing behind
    assert models.import_model(archive, trust=True) == tag  # the untouched archive imports
    assert (models.load(tag).predict(X) == clf.predict(X)).all()


def test_the_server_s_read_checks_the_record_too(clf, data):
    "mlbench.serve reads the model with `_read_model(pm.path, pm.framework)`: that call checks the registry's record."
    import joblib
    from sklearn.dummy import DummyClassifier

    X, y = data
    tag = mb.package(clf, "int-serve", reference=X)
    pm = models.verify(tag)
    buf = io.BytesIO()
    joblib.dump(DummyClassifier().fit(X, y), buf)
    (pm.path / "saved_model.pkl").write_bytes(buf.getvalue())  # swapped after the server's verify
    with pytest.raises(models.IntegrityError, match="saved_model.pkl"):
        store._read_model(pm.path, pm.framework)
