"""Test-only models for the serving tests; importable by the server process (PYTHONPATH=tests)."""
import threading
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

HANG = 99.0  # a `delay` of exactly this: HangModel's call never returns (a hung model)


class _Stub(ClassifierMixin, BaseEstimator):
    "A two-class classifier that learns nothing: fit records the classes and the columns."

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(list(X.columns), dtype=object)
        self.n_features_in_ = X.shape[1]
        return self


class SlowModel(_Stub):
    """A classifier whose predict sleeps `delay` seconds (the max of the batch's `delay` column).

    Rows with a negative `delay` get NaN probabilities (a model output JSON cannot carry).
    Unpickling sleeps `load_delay` seconds, so a server is observably not ready for a while.
    """

    def __init__(self, load_delay: float = 0.0):
        self.load_delay = load_delay

    def predict_proba(self, X):
        d = np.asarray(X["delay"], dtype=float)
        time.sleep(float(max(0.0, d.max())))
        p = np.where(d[:, None] < 0, np.nan, np.column_stack([np.full(len(d), 0.25), np.full(len(d), 0.75)]))
        return p

    def predict(self, X):
        p = self.predict_proba(X)
        return np.where(np.isnan(p[:, 1]), 1, self.classes_[p.argmax(axis=1)])

    def __setstate__(self, state):
        time.sleep(state.get("load_delay", 0.0))
        self.__dict__.update(state)


class RaisingModel(_Stub):
    """A classifier whose predict raises an error naming a server path on rows with `boom` > 0.5;
    with `fail_load`, unpickling it fails (an error naming a path, as a broken disk would)."""

    def __init__(self, fail_load: bool = False):
        self.fail_load = fail_load

    def predict_proba(self, X):
        if (np.asarray(X["boom"], dtype=float) > 0.5).any():
            raise FileNotFoundError("/srv/secret/features/lookup.parquet is missing")
        return np.column_stack([np.full(len(X), 0.25), np.full(len(X), 0.75)])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __setstate__(self, state):
        if state.get("fail_load"):
            raise OSError("/srv/secret/store/saved_model.pkl: disk on fire")
        self.__dict__.update(state)


class HangModel(_Stub):
    """A classifier over columns n (int64), delay (float), t (datetime): class (n + weekday(t)) % 2.

    predict sleeps max(delay) seconds; a row with delay == HANG makes the call hang forever.
    """

    def predict_proba(self, X):
        d = np.asarray(X["delay"], dtype=float)
        if (d == HANG).any():
            threading.Event().wait()  # never set: the thread is stuck for good
        time.sleep(float(max(0.0, d.max())))
        k = (np.asarray(X["n"], dtype=np.int64) % 2 + X["t"].dt.day_of_week.to_numpy()) % 2
        return np.column_stack([1.0 - k * 0.8 - 0.1, k * 0.8 + 0.1])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
