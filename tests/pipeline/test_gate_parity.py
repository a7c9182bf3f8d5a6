"""The gate's `parity` condition (issue 20): an optimized version passes when its labels equal its parent's on the
golden set, a pruned one that changed answers fails naming the rows, and ordinary versions have no such condition."""
import numpy as np
import pandas as pd
import pytest

import mlbench as mb

pytest.importorskip("skl2onnx")
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def versions():
    from sklearn.ensemble import GradientBoostingClassifier

    rng = np.random.default_rng(11)
    X = pd.DataFrame({"a": rng.normal(size=4000), "b": rng.normal(size=4000), "c": rng.normal(size=4000)})
    y = ((X.a + X.b * X.c + rng.normal(0, 0.7, 4000)) > 0).astype(int)
    model = GradientBoostingClassifier(n_estimators=80, max_depth=3, random_state=0).fit(X[:2500], y[:2500])
    parent = mb.package(model, "gate-parity", reference=X[:2500], golden=X[2500:2800])
    res = mb.optimize(parent, X[2800:], y[2800:], targets=("onnx", "prune"), max_metric_drop=0.05)
    pruned = [c.name for c in res.candidates if c.name.startswith("prune-")]
    assert pruned, res.to_frame()
    return parent, res.package("onnx"), res.package(pruned[0]), X[2800:], y[2800:]


def _gate(tag, X, y):
    return mb.gate(tag, X=X, y=y, check_golden=False, check_env=False)


def test_an_onnx_version_passes_parity_with_its_parent(versions):
    parent, onnx, _, X, y = versions
    res = _gate(onnx, X, y)
    p = res["parity"]
    assert p.status == "pass" and p.evidence["parent"] == parent and p.evidence["flipped"] == 0
    assert p.evidence["rows"] == 300


def test_a_pruned_version_that_changed_labels_fails_naming_the_rows(versions):
    parent, _, pruned, X, y = versions
    from mlbench.registry import store

    par = mb.models.load(parent).predict(store.verify(parent).golden()[["a", "b", "c"]])
    mine = mb.models.load(pruned).predict(store.verify(parent).golden()[["a", "b", "c"]])
    flipped = np.flatnonzero(par != mine).tolist()
    assert flipped, "the pruned prefix must differ somewhere for this test to mean anything"
    res = _gate(pruned, X, y)
    assert "parity" in res.failed and not res.passed
    assert res["parity"].evidence["flipped"] == len(flipped) and res["parity"].evidence["flipped_rows"][:5] == flipped[:5]


def test_ordinary_versions_have_no_parity_condition(versions):
    parent, _, _, X, y = versions
    res = _gate(parent, X, y)
    assert "parity" not in [c.name for c in res.conditions]
