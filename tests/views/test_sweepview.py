"""SweepView (no browser): one failing part of a refresh never leaves the view half updated or stops its watch."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import mlbench as mb
from mlbench.tune.sweep import Sweep, tune
from mlbench.views.widgets import SweepView


class _Done:
    "A finished process, for a SweepHandle over a stored sweep."
    pid = 0

    def is_alive(self):
        return False

    def join(self, timeout=None):
        return None


def test_a_failing_importance_fit_leaves_the_rest_of_the_view_current(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = (X["a"] + rng.normal(0, 0.7, 200) > 0).astype(int)
    db = tmp_path / "s.db"
    tune(LogisticRegression(max_iter=200), {"C": mb.space.float(1e-3, 10.0, log=True)}, X, y, n_trials=4, cv=3,
         storage=db, study_name="v", pruner=None, progress=False, refit=False)

    def boom(self):
        raise OSError("database is locked")

    monkeypatch.setattr(Sweep, "importances", boom)
    view = SweepView(Sweep.load("v", db))  # the old refresh raised here, after drawing the status only
    assert "4 complete" in view.status.value
    assert "not available: OSError" in view.importance.value
    assert view.table.value.count("COMPLETE") == 4
    # a watched view: the last refresh after the end still happens when importances keep failing
    from mlbench.tune.sweep import SweepHandle

    h = SweepHandle(_Done(), None, "v", db, None)
    view = SweepView.__new__(SweepView)
    SweepView.__init__(view, h, interval=0.05)
    view._thread.join(10)
    assert not view._thread.is_alive() and view.progress.value == 4
