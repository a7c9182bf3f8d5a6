"""mlbench.tune.torch.TabularNet: scikit-learn's estimator checks, devices, out-of-memory, import cost, speed, sweeps."""
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from sklearn.base import clone, is_classifier, is_regressor  # noqa: E402
from sklearn.utils.estimator_checks import check_regressors_train, parametrize_with_checks  # noqa: E402

from mlbench.tune.net import _resolve_device  # noqa: E402
from mlbench.tune.torch import TabularNet, TabularNetClassifier, TabularNetRegressor  # noqa: E402

# check_estimator runs ~50 checks per estimator; 5 epochs of batches of 64 keep them at a few seconds each.
CHECKED = [TabularNetClassifier(max_epochs=5, batch_size=64), TabularNetRegressor(max_epochs=5, batch_size=64)]


def _expected_failures(est) -> dict:
    if isinstance(est, TabularNetRegressor):
        return {"check_regressors_train": (
            "needs R² > 0.5 on a 200-row training set, and 5 epochs of 3 batches (15 AdamW steps at lr=1e-3) "
            "is too little training for an MLP to get there (R² ~0.16); with the default max_epochs=50 it does: "
            "test_regressors_train_with_default_epochs runs the same check")}
    return {}


@parametrize_with_checks(CHECKED, expected_failed_checks=_expected_failures, xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_regressors_train_with_default_epochs():
    "The check expected to fail above passes once the network trains for its default number of epochs."
    check_regressors_train("TabularNetRegressor", TabularNetRegressor(batch_size=64))
    check_regressors_train("TabularNetRegressor", TabularNetRegressor(batch_size=64), readonly_memmap=True)


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y", "z"], n)})
    y = (X.a + (X.c == "x") > 0.5).astype(int)
    return X, y


def test_task_tags_and_predict_proba_availability():
    assert is_classifier(TabularNetClassifier()) and is_regressor(TabularNetRegressor())
    assert is_classifier(TabularNet(task="classification")) and is_regressor(TabularNet(task="regression"))
    assert not is_classifier(TabularNet()) and not is_regressor(TabularNet())  # auto: decided at fit time
    assert "task" not in TabularNetClassifier().get_params() and TabularNet().get_params()["task"] == "auto"
    assert not hasattr(TabularNetRegressor(), "predict_proba") and hasattr(TabularNetClassifier(), "predict_proba")
    X, y = _data()
    auto_reg = TabularNet(max_epochs=2).fit(X, X.a * 3.0)
    assert auto_reg.task_ == "regression" and not hasattr(auto_reg, "predict_proba")
    auto_clf = TabularNet(max_epochs=2).fit(X, y)
    assert auto_clf.task_ == "classification" and auto_clf.predict_proba(X).shape == (len(X), 2)
    assert isinstance(clone(auto_clf), TabularNet) and not hasattr(clone(auto_clf), "net_")


def test_device_selection():
    X, y = _data()
    cpu = TabularNetClassifier(max_epochs=2, device="cpu").fit(X, y)
    assert cpu.device_ == "cpu" and all(p.device.type == "cpu" for p in cpu.net_.parameters())
    auto = TabularNetClassifier(max_epochs=2, device="auto").fit(X, y)
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert auto.device_.startswith(want) and next(auto.net_.parameters()).device.type == want
    with pytest.raises(ValueError, match="device"):
        TabularNetClassifier(device="tpu").fit(X, y)


def test_device_auto_prefers_cuda(monkeypatch):
    "The 'auto' rule itself, without a GPU: CUDA whenever PyTorch reports one."
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert _resolve_device("auto") == torch.device("cuda")
    assert _resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError, match="CUDA"):
        _resolve_device("cuda")


def test_out_of_memory_is_a_runtime_error_after_emptying_the_cache(monkeypatch):
    X, y = _data()
    calls = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: calls.append(1))

    def oom(self, x):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(torch.nn.Linear, "forward", oom)
    with pytest.raises(RuntimeError, match="out of memory") as info:
        TabularNetClassifier(max_epochs=2).fit(X, y)
    assert calls and not isinstance(info.value, torch.cuda.OutOfMemoryError)
    assert "batch_size" in str(info.value)


def test_import_does_not_load_torch_and_torch_is_the_real_package():
    code = ("import sys; from mlbench.tune import torch as T; assert 'torch' not in sys.modules, 'torch imported at module level'; "
            "import numpy as np; m = T.TabularNet(max_epochs=1).fit(np.eye(30), np.arange(30) % 2); "
            "t = sys.modules['torch']; assert t is not T and hasattr(t, 'nn') and 'site-packages' in t.__file__; "
            "assert isinstance(m.net_, t.nn.Module)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_dtypes_missing_values_and_column_checks():
    rng = np.random.default_rng(1)
    n = 200
    X = pd.DataFrame({"i": pd.array(rng.integers(0, 5, n), dtype="Int64"), "f": rng.normal(size=n),
                      "b": rng.random(n) < 0.5, "k": pd.Categorical(rng.choice(["u", "v"], n)),
                      "s": pd.Series(rng.choice(["p", "q", "r"], n), dtype="str")})
    X.loc[:9, "i"] = pd.NA
    X.loc[5:14, "s"] = None
    y = rng.choice(["low", "high"], n)
    m = TabularNetClassifier(max_epochs=3, seed=1).fit(X, y)
    assert m.categories_ == {"b": [False, True], "k": ["u", "v"], "s": ["p", "q", "r"]}
    assert m.net_.n_num == 3  # i, f and the missing indicator of i
    assert [e.num_embeddings for e in m.net_.embeddings] == [3, 3, 4]
    assert set(m.predict(X)) <= {"low", "high"}
    with pytest.raises(ValueError, match="- i\n"):
        m.predict(X.drop(columns="i"))
    with pytest.raises(ValueError, match="- extra\n"):
        m.predict(X.assign(extra=1))
    with pytest.raises(TypeError, match="'t'"):
        TabularNetClassifier().fit(X.assign(t=pd.Timestamp("2024-01-01")), y)
    arr = np.column_stack([rng.normal(size=n), rng.normal(size=n)])
    arr[:20, 0] = np.nan
    a = TabularNetClassifier(max_epochs=3).fit(arr, y)
    assert not hasattr(a, "feature_names_in_") and a.n_features_in_ == 2 and a.net_.n_num == 3
    assert np.isfinite(a.predict_proba(arr)).all()


@pytest.mark.parametrize("params, named", [(dict(hidden=-3), "hidden"), (dict(hidden="64"), "hidden"),
                                           (dict(lr=-1e-3), "lr"), (dict(validation_fraction=0), "validation_fraction"),
                                           (dict(categorical="target"), "categorical"), (dict(batch_size=0), "batch_size"),
                                           (dict(dropout=1.0), "dropout"), (dict(patience=0), "patience"),
                                           (dict(embedding_dim=0), "embedding_dim"), (dict(seed=-1), "seed")])
def test_bad_parameters_name_the_parameter(params, named):
    X, y = _data(60)
    est = TabularNetClassifier(**params)  # no check in __init__ (scikit-learn convention)
    with pytest.raises(ValueError, match=named):
        est.fit(X, y)


def test_small_data_trains_on_all_rows_and_patience_none():
    X, y = _data(15)
    m = TabularNetClassifier(max_epochs=4).fit(X, y)
    assert m._split[2] is None and m.n_epochs_ == 4 and m.history_[-1]["val_loss"] is None
    X, y = _data(100)
    m = TabularNetClassifier(max_epochs=4, patience=None).fit(X, y)
    assert m._split[2] is None and len(m._split[1]) == 100 and m.best_epoch_ == 4


def test_fit_speed_20000_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 10))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    TabularNetClassifier(max_epochs=1).fit(X[:200], y[:200])  # warm up torch
    t0 = time.perf_counter()
    m = TabularNetClassifier(max_epochs=10, patience=None).fit(X, y)
    took = time.perf_counter() - t0
    print(f"20,000 x 10, 10 epochs: {took:.2f} s on {m.device_}")
    assert m.n_epochs_ == 10 and m.score(X, y) > 0.9
    assert took < 20, f"fit took {took:.1f} s"


def test_sweep_prunes_on_epochs(tmp_path):
    pytest.importorskip("optuna")
    from mlbench.tune.space import space
    from mlbench.tune.sweep import tune

    X, y = _data(240)
    est = TabularNetClassifier(max_epochs=9, patience=None, hidden=(16,))
    sw = tune(est, {"lr": space.float(1e-3, 3e-2, log=True)}, X, y, cv=2, n_trials=2,
              storage=tmp_path / "torch.db", progress=False)
    t = sw.trials
    assert (t["state"] == "COMPLETE").all(), t["error"].tolist()
    assert set(t["resource"]) == {"max_epochs=[1, 3, 9]"}
    assert isinstance(sw.best_model, TabularNetClassifier) and sw.best_model.n_epochs_ == 9


def test_check_estimator_on_the_general_auto_estimator():
    "TabularNet(task='auto') has no estimator type before fit, so only the generic checks apply to it."
    from sklearn.utils.estimator_checks import check_estimator

    res = check_estimator(TabularNet(max_epochs=5, batch_size=64), on_fail=None, on_skip=None)
    bad = [(r["check_name"], repr(r["exception"])[:200]) for r in res if r["status"] == "failed"]
    assert not bad, bad


def test_warm_start_restarts_on_new_columns_and_refuses_new_classes():
    X, y = _data()
    m = TabularNetClassifier(max_epochs=3, patience=None, warm_start=True).fit(X, y)
    m.set_params(max_epochs=5).fit(X.assign(d=1.0), y)  # other columns: a fresh network
    assert m.n_epochs_ == 5 and len(m.history_) == 5 and "d" in m.feature_names_in_
    m.set_params(max_epochs=7).fit(X.assign(d=1.0), y)  # same columns: continues
    assert m.n_epochs_ == 7 and len(m.history_) == 7
    with pytest.raises(ValueError, match="warm_start"):
        m.set_params(max_epochs=9).fit(X.assign(d=1.0), np.where(y == 1, 2, y))


def test_unpickling_a_gpu_model_without_a_gpu_falls_back_to_the_cpu():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    X, y = _data()
    m = TabularNetClassifier(max_epochs=3).fit(X, y)
    state = m.__getstate__()
    assert "net_" not in state and all(t.device.type == "cpu" for t in state["_net_weights"].values())
    state["device_"] = "cuda:0"  # as if fitted on a GPU
    back = TabularNetClassifier.__new__(TabularNetClassifier)
    with pytest.warns(RuntimeWarning, match="CPU"):
        back.__setstate__(state)
    assert back.device_ == "cpu" and np.array_equal(back.predict_proba(X), m.predict_proba(X))


def test_refit_for_another_task_drops_the_old_classes():
    X, y = _data()
    m = TabularNet(max_epochs=2).fit(X, y)
    assert m.task_ == "classification" and hasattr(m, "classes_")
    m.fit(X, X.a * 2.5)
    assert m.task_ == "regression" and not hasattr(m, "classes_") and not hasattr(m, "predict_proba")
