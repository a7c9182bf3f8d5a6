"""A test-only model for tests/serve/test_robust.py; importable by the server process (PYTHONPATH=tests)."""
import threading
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

HANG = 99.0  # a `delay` of exactly this: the call never returns (a hung model)


class HangModel(ClassifierMixin, BaseEstimator):
    """A classifier over columns n (int64), delay (float), t (datetime): class (n + weekday(t)) % 2.

    predict sleeps max(delay) seconds; a row with delay == HANG makes the call hang forever.
    """

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(list(X.columns), dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X):
        d = np.asarray(X["delay"], dtype=float)
        if (d == HANG).any():
            threading.Event().wait()  # never set: the thread is stuck for good
        time.sleep(float(max(0.0, d.max())))
        k = (np.asarray(X["n"], dtype=np.int64) % 2 + X["t"].dt.day_of_week.to_numpy()) % 2
        return np.column_stack([1.0 - k * 0.8 - 0.1, k * 0.8 + 0.1])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
