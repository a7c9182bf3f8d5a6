"""Estimators that misbehave on purpose, for the sweep fault tests (importable by worker processes)."""
import math
import os
import signal
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


class Faulty(ClassifierMixin, BaseEstimator):
    "Logistic regression whose `mode` makes fit misbehave: 'ok', 'raise', 'oom', 'kill' (SIGKILL itself in a worker), 'nan', 'deaf' (ignores SIGINT, so only SIGTERM stops it)."

    def __init__(self, C=1.0, mode="ok", sleep=0.0, main_pid=None):
        self.C, self.mode, self.sleep, self.main_pid = C, mode, sleep, main_pid

    def fit(self, X, y):
        if self.mode == "deaf":
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        if self.sleep:
            time.sleep(self.sleep)
        if self.mode == "raise":
            raise ValueError(f"planted failure at C={self.C}")
        if self.mode == "oom":
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if self.mode == "kill" and os.getpid() != self.main_pid:
            os.kill(os.getpid(), signal.SIGKILL)
        self.model_ = LogisticRegression(C=self.C, max_iter=300).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def score(self, X, y):
        if self.mode == "nan":
            return math.nan
        return float(np.mean(self.predict(X) == np.asarray(y)))


def tune_later(delay: float, kwargs: dict) -> None:
    "A background sweep's child that is slow to start: it sleeps, then runs mlbench's tune (its study appears late)."
    import time

    from mlbench.tune.sweep import tune

    time.sleep(delay)
    tune(**kwargs)
