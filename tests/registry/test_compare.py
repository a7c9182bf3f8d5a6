"""mb.models.compare against independent computations: scikit-learn on the full data, the
bootstrap rounds recomputed here with scikit-learn and the documented resampling rule, the
interval's coverage for equal models, and the A/B report read back from a monitor store."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

import mlbench as mb
from mlbench.registry.compare import CompareError, compare_models
from mlbench.data.logstore import WindowLogger, labeled

T0 = 1_800_000_000.0


def _clf_data(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "x3": rng.normal(size=n)})
    y = (X.x1 + 0.5 * X.x2 + rng.normal(size=n) > 0).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def clf_pair():
    X, y = _clf_data()
    a = LogisticRegression().fit(X[:1000][["x1"]].assign(x2=0.0, x3=0.0), y[:1000])  # sees x1 only
    b = LogisticRegression().fit(X[:1000], y[:1000])
    return a, b, X[1000:], y[1000:]


def _quantiles(v, alpha=0.05):
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    return np.quantile(v, [alpha / 2, 1 - alpha / 2])


def test_metrics_equal_sklearn_on_full_data(clf_pair):
    a, b, X, y = clf_pair
    c = compare_models(a, b, X, y, n_boot=50)
    m = c.metrics.set_index("metric")
    for side, model in (("a", a), ("b", b)):
        p = model.predict_proba(X)
        assert m.loc["roc_auc", side] == skm.roc_auc_score(y, p[:, 1])
        assert m.loc["accuracy", side] == skm.accuracy_score(y, model.predict(X))
        assert m.loc["log_loss", side] == skm.log_loss(y, p)
    assert (m["diff"] == m["b"] - m["a"]).all()
    rng = np.random.default_rng(1)
    Xr = pd.DataFrame({"u": rng.normal(size=800), "v": rng.normal(size=800)})
    yr = 2 * Xr.u - Xr.v + rng.normal(size=800)
    ra, rb = Ridge(alpha=300).fit(Xr[:500], yr[:500]), LinearRegression().fit(Xr[:500], yr[:500])
    r = compare_models(ra, rb, Xr[500:], yr[500:], n_boot=50).metrics.set_index("metric")
    assert list(r.index) == ["r2", "mae", "rmse"]
    for side, model in (("a", ra), ("b", rb)):
        pred = model.predict(Xr[500:])
        assert r.loc["r2", side] == skm.r2_score(yr[500:], pred)
        assert r.loc["mae", side] == skm.mean_absolute_error(yr[500:], pred)
        assert r.loc["rmse", side] == skm.root_mean_squared_error(yr[500:], pred)
    assert r.loc["rmse", "better"] == "b" and r.loc["r2", "better"] == "b"  # the unshrunk fit wins, clearly


def test_paired_intervals_match_an_independent_bootstrap(clf_pair):
    a, b, X, y = clf_pair
    n_boot, seed = 200, 7
    c = compare_models(a, b, X, y, n_boot=n_boot, seed=seed, metric=["roc_auc", "accuracy", "log_loss", "f1"])
    pa, pb = a.predict_proba(X), b.predict_proba(X)
    la, lb = a.predict(X), b.predict(X)
    rng = np.random.default_rng(seed)
    vals = {k: ([], []) for k in ("roc_auc", "accuracy", "log_loss", "f1")}
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))  # one resample of rows, scored by both models
        for k, (va, vb) in vals.items():
            if k == "roc_auc":
                va.append(skm.roc_auc_score(y[i], pa[i, 1]))
                vb.append(skm.roc_auc_score(y[i], pb[i, 1]))
            elif k == "log_loss":
                va.append(skm.log_loss(y[i], pa[i], labels=[0, 1]))
                vb.append(skm.log_loss(y[i], pb[i], labels=[0, 1]))
            else:
                fn = skm.accuracy_score if k == "accuracy" else skm.f1_score
                va.append(fn(y[i], la[i]))
                vb.append(fn(y[i], lb[i]))
    m = c.metrics.set_index("metric")
    for k, (va, vb) in vals.items():
        va, vb = np.array(va), np.array(vb)
        assert m.loc[k, ["a_low", "a_high"]].tolist() == pytest.approx(_quantiles(va), abs=1e-9)
        assert m.loc[k, ["b_low", "b_high"]].tolist() == pytest.approx(_quantiles(vb), abs=1e-9)
        assert m.loc[k, ["diff_low", "diff_high"]].tolist() == pytest.approx(_quantiles(vb - va), abs=1e-9)
    # paired: the difference's interval is narrower than the unpaired one would be
    auc = m.loc["roc_auc"]
    assert auc["diff_high"] - auc["diff_low"] < (auc["a_high"] - auc["a_low"]) + (auc["b_high"] - auc["b_low"])
    assert auc["better"] == "b"
    # same seed, same result; another seed, other intervals
    again = compare_models(a, b, X, y, n_boot=n_boot, seed=seed, metric=["roc_auc", "accuracy", "log_loss", "f1"])
    pd.testing.assert_frame_equal(again.metrics, c.metrics)


class _Fixed:
    "A 'model' whose prediction is a column of X (to simulate two equally good models)."

    def __init__(self, col):
        self.col = col

    def predict(self, X):
        return X[self.col].to_numpy()


def test_interval_of_equal_models_covers_zero_about_95_percent():
    rng = np.random.default_rng(2024)
    trials, n, covered = 200, 150, 0
    for _ in range(trials):
        y = rng.normal(size=n)
        X = pd.DataFrame({"pa": y + rng.normal(size=n), "pb": y + rng.normal(size=n)})  # same error distribution
        m = compare_models(_Fixed("pa"), _Fixed("pb"), X, y, metric="mae", n_boot=300,
                           seed=int(rng.integers(1 << 31))).metrics.iloc[0]
        covered += m["diff_low"] <= 0 <= m["diff_high"]
    sd = np.sqrt(0.95 * 0.05 / trials)
    assert 0.95 - 3.5 * sd <= covered / trials <= 1.0, covered


def _log(store, tag, model, X, y, ids, t0=T0, name="m"):
    "Replay `X` through `model` into the store as requests of 10 rows under `tag`, with labels."
    lg = WindowLogger(store, name, tag, window_s=60, classes=[*model.classes_] if hasattr(model, "classes_") else None)
    proba = model.predict_proba(X) if hasattr(model, "predict_proba") else None
    pred = model.predict(X)
    for k in range(0, len(X), 10):
        s = slice(k, k + 10)
        lg.add(X.iloc[s], pred[s], None if proba is None else proba[s], [ids[k // 10]], [len(X.iloc[s])], [3.0],
               t=t0 + k)
        lg.feedback(pd.DataFrame({"request_id": ids[k // 10], "row": range(len(X.iloc[s])), "label": y[s]}))
    lg.flush()


def test_logged_ab_report_matches_the_logged_outcomes(clf_pair, tmp_path):
    a, b, X, y = clf_pair
    store = str(tmp_path / "mon")
    _log(store, "m:v1", a, X[:300], y[:300], [f"a{k}" for k in range(30)])  # champion: 300 labeled rows
    _log(store, "m:v2", b, X[300:420], y[300:420], [f"b{k}" for k in range(12)])  # canary: 120
    c = mb.models.compare("m:v1", "m:v2", store=store, n_boot=300, seed=3)
    assert c.mode == "logged" and (c.n_a, c.n_b) == (300, 120) and (c.a, c.b) == ("m:v1", "m:v2")
    lab = labeled("m", store)
    sa, sb = lab[lab.tag == "m:v1"].reset_index(drop=True), lab[lab.tag == "m:v2"].reset_index(drop=True)
    m = c.metrics.set_index("metric")
    direct = {k: (fn(sb["label"], sb[col]) - fn(sa["label"], sa[col]))
              for k, fn, col in (("roc_auc", skm.roc_auc_score, "__proba__1"),
                                 ("accuracy", skm.accuracy_score, "__prediction__"))}
    assert m.loc["roc_auc", "diff"] == direct["roc_auc"] and m.loc["accuracy", "diff"] == direct["accuracy"]
    assert m.loc["log_loss", "b"] == skm.log_loss(sb["label"], sb[["__proba__0", "__proba__1"]].to_numpy())
    # unpaired: each side resampled on its own (a's rows, then b's, in each round)
    rng = np.random.default_rng(3)
    diffs = []
    for _ in range(300):
        i, j = rng.integers(0, len(sa), len(sa)), rng.integers(0, len(sb), len(sb))
        diffs.append(skm.roc_auc_score(sb["label"][j], sb["__proba__1"][j])
                     - skm.roc_auc_score(sa["label"][i], sa["__proba__1"][i]))
    assert m.loc["roc_auc", ["diff_low", "diff_high"]].tolist() == pytest.approx(_quantiles(diffs), abs=1e-9)
    assert c.disagreements.empty  # a canary answers each request with one model
    assert c.drift is not None and c.drift.rows[0]["column"] == "prediction"


def test_logged_shadow_traffic_gives_disagreements(clf_pair, tmp_path):
    a, b, X, y = clf_pair
    store = str(tmp_path / "mon")
    ids = [f"r{k}" for k in range(20)]
    _log(store, "champ:v1", a, X[:200], y[:200], ids, name="champ")  # two names: no tag filter needed
    _log(store, "chall:v1", b, X[:200], y[:200], ids, name="chall")  # shadow: the same requests
    c = compare_models("champ", "chall", store=store, n_boot=100, top=5)
    gap = np.abs(b.predict_proba(X[:200])[:, 1] - a.predict_proba(X[:200])[:, 1])
    d = c.disagreements
    assert len(d) == 5 and d["gap"].to_numpy() == pytest.approx(np.sort(gap)[::-1][:5], abs=1e-12)
    assert {"request_id", "row", "a", "b", "y"} <= set(d.columns)


def test_report_is_offline_html_and_strict_json(clf_pair, tmp_path):
    a, b, X, y = clf_pair
    c = compare_models(a, b, X, y, n_boot=100, top=7)
    html = c.to_html(tmp_path / "c.html")
    assert (tmp_path / "c.html").read_text() == html and "<script" not in html and "https://" not in html
    assert "roc_auc" in html and "<svg" in html and "Prediction drift" in html
    d = json.loads(c.to_json(tmp_path / "c.json"))
    assert len(d["disagreements"]) == 7 and [r["metric"] for r in d["metrics"]] == ["roc_auc", "accuracy", "log_loss"]
    assert "<table" in c._repr_html_()
    assert c.to_frame().equals(c.metrics) and c.to_frame() is not c.metrics


def test_packaged_tags_compare_through_the_registry(clf_pair):
    a, b, X, y = clf_pair
    ta = mb.package(a, "cmp-test", reference=X)
    tb = mb.package(b, "cmp-test", reference=X)
    c = mb.models.compare(ta, tb, X, y, n_boot=50)
    assert (c.a, c.b) == (ta, tb)
    assert c.metrics.set_index("metric").loc["roc_auc", "b"] == skm.roc_auc_score(y, b.predict_proba(X)[:, 1])


def test_bad_arguments_are_named(clf_pair, tmp_path):
    a, b, X, y = clf_pair

    def err(**kw):
        with pytest.raises(CompareError) as e:
            compare_models(**{"a": a, "b": b, **kw})
        return str(e.value)

    assert err(X=X).startswith("y: X was given without y")
    assert err(y=y).startswith("X: y was given without X")
    assert err().startswith("X: give X and y")
    assert err(X=X, y=y[:5]).startswith("y: has shape (5,), X has 500 rows")
    assert err(X=X, y=y, store=str(tmp_path)).startswith("store: give X and y")
    e = err(X=X, y=y, metric="auc")
    assert e.startswith("metric: unknown metric 'auc'") and "roc_auc, accuracy, f1, log_loss, r2, mae, rmse" in e
    assert err(X=X, y=y, metric="r2").startswith("metric: 'r2' does not apply to these models (binary)")
    reg = LinearRegression().fit(X, y.astype(float))
    assert err(b=reg, X=X, y=y).startswith("b: is a regressor and a is a classifier")
    assert err(a=reg, X=X, y=y).startswith("b: is a classifier and a is a regressor")
    three = LogisticRegression().fit(X, np.arange(len(X)) % 3)
    assert err(b=three, X=X, y=y).startswith("b: predicts classes [0, 1, 2], a predicts [0, 1]")
    assert err(b="not a model".split(), X=X, y=y).startswith("b: expected a packaged model's tag or a fitted estimator")
    e = err(a="m:v1", b="m:v2", store=str(tmp_path / "empty"))
    assert e.startswith("a: no labeled predictions for 'm:v1' in store") and "empty" in e
    assert err(X=X, y=y, n_boot=-1).startswith("n_boot: must be a non-negative integer")
    assert err(X=X, y=y, alpha=1.5).startswith("alpha: must be a float between 0 and 1")
