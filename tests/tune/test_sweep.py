"""Sweeps: reproducibility across workers and Dask, resuming after a kill, storage safety, faults and bad input."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score

from mlbench.tune import engine, sweep as S, trial
from mlbench.tune.space import STARTUP_GP, STARTUP_TPE, SweepError, space
from mlbench.tune.storage import _Lock
from mlbench.tune.sweep import tune

optuna = pytest.importorskip("optuna")
TESTS = Path(__file__).parents[1]
sys.path.insert(0, str(TESTS))
from sweep_helpers import Faulty  # noqa: E402

X, Y = load_breast_cancer(return_X_y=True, as_frame=True)
HGB_SPACE = {"learning_rate": space.float(0.01, 0.3, log=True), "max_leaf_nodes": space.int(4, 31), "max_iter": 20}


@pytest.fixture(autouse=True)
def _workers_import_helpers(monkeypatch):
    "Worker processes (loky, subprocesses) import sweep_helpers from here."
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))


def _trials(sw):
    return sw.trials.drop(columns="duration_s")


def test_same_seed_same_trials_with_two_workers_and_one(tmp_path):
    kw = dict(cv=3, scoring="roc_auc", n_trials=10, progress=False, seed=3)
    a = tune(HistGradientBoostingClassifier(), HGB_SPACE, X, Y, n_jobs=2, storage=tmp_path / "a.db", **kw)
    b = tune(HistGradientBoostingClassifier(), HGB_SPACE, X, Y, n_jobs=2, storage=tmp_path / "b.db", **kw)
    c = tune(HistGradientBoostingClassifier(), HGB_SPACE, X, Y, n_jobs=1, storage=tmp_path / "c.db", **kw)
    pd.testing.assert_frame_equal(_trials(a), _trials(b))
    pd.testing.assert_frame_equal(_trials(a), _trials(c))
    assert a.best_params == b.best_params == c.best_params
    assert a.trials["learning_rate"].nunique() == 10  # the trials really differ from one another
    d = tune(HistGradientBoostingClassifier(), HGB_SPACE, X, Y, n_jobs=1, storage=tmp_path / "d.db", **{**kw, "seed": 4})
    assert not np.allclose(d.trials["learning_rate"], a.trials["learning_rate"])  # the seed matters


def test_gp_sampler_gives_the_same_trials_with_two_workers_and_one(tmp_path):
    pytest.importorskip("torch")
    sp = {"learning_rate": space.float(0.01, 0.3, log=True), "max_leaf_nodes": space.int(4, 31), "max_iter": 10}
    kw = dict(cv=3, scoring="roc_auc", n_trials=STARTUP_GP + engine.WINDOW + 1, progress=False, seed=5, sampler="gp", refit=False)
    a = tune(HistGradientBoostingClassifier(), sp, X, Y, n_jobs=2, storage=tmp_path / "a.db", **kw)
    b = tune(HistGradientBoostingClassifier(), sp, X, Y, n_jobs=1, storage=tmp_path / "b.db", **kw)
    pd.testing.assert_frame_equal(_trials(a), _trials(b))
    t = tune(HistGradientBoostingClassifier(), sp, X, Y, n_jobs=1, storage=tmp_path / "t.db", **{**kw, "sampler": "tpe"})
    n = min(STARTUP_GP, STARTUP_TPE)  # the same random start as TPE's, then the GP's own proposals
    pd.testing.assert_frame_equal(_trials(a).iloc[:n], _trials(t).iloc[:n])
    assert not np.allclose(a.trials["learning_rate"].iloc[n:], t.trials["learning_rate"].iloc[n:])


def test_gp_sampler_with_several_families_falls_back_to_tpe(tmp_path):
    from sklearn.linear_model import LogisticRegression

    fams = {"hgb": HistGradientBoostingClassifier(max_iter=10), "lr": LogisticRegression(max_iter=200)}
    sp = {"hgb": {"learning_rate": space.float(0.01, 0.3, log=True)}, "lr": {"C": space.float(0.01, 10, log=True)}}
    kw = dict(cv=3, n_trials=4, progress=False, seed=1, refit=False)
    with pytest.warns(UserWarning, match="several model families samples with TPE"):
        g = tune(fams, sp, X, Y, sampler="gp", storage=tmp_path / "g.db", **kw)
    t = tune(fams, sp, X, Y, sampler="tpe", storage=tmp_path / "t.db", **kw)
    pd.testing.assert_frame_equal(_trials(g), _trials(t))


def test_auto_resource():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    assert trial._auto_resource(HistGradientBoostingClassifier()) == "folds"  # early stopping: fewer iterations save little
    assert trial._auto_resource(RandomForestClassifier()) == "n_estimators"
    assert trial._auto_resource(LogisticRegression()) == "folds"  # max_iter caps convergence there, it adds nothing
    assert trial._auto_resource(Faulty()) == "folds"
    assert trial._rungs("halving", "auto", HistGradientBoostingClassifier(), 1000, n_folds=3) == ("folds", [1, 3])
    assert trial._rungs("halving", "folds", Faulty(), 1000, n_folds=5) == ("folds", [1, 2, 5])
    assert trial._rungs(None, "auto", Faulty(), 1000, n_folds=5) == ("folds", [5])


def test_scores_are_plain_cross_validation(tmp_path):
    sw = tune(HistGradientBoostingClassifier(), HGB_SPACE, X, Y, cv=3, scoring="roc_auc", n_trials=4,
              storage=tmp_path / "s.db", progress=False, pruner=None)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    for _, row in sw.trials.iterrows():
        est = HistGradientBoostingClassifier(learning_rate=row.learning_rate, max_leaf_nodes=int(row.max_leaf_nodes),
                                             max_iter=20, random_state=0)
        assert row.score == pytest.approx(cross_val_score(est, X, Y, cv=folds, scoring="roc_auc").mean(), abs=1e-12)
    assert sw.best_model.get_params()["max_iter"] == 20  # fixed values reach the refit model
    assert sw.best_model.get_params()["learning_rate"] == sw.best_params["learning_rate"]


def test_dask_cluster_gives_the_same_trials(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=40)
    try:
        with distributed.Client(cluster) as client:
            kw = dict(cv=3, scoring="roc_auc", n_trials=8, progress=False, seed=5)
            on_dask = tune(HistGradientBoostingClassifier(), HGB_SPACE, X, Y, client=client, storage=tmp_path / "d.db", **kw)
            workers = set(client.run(os.getpid).values())
    finally:
        cluster.close()
    local = tune(HistGradientBoostingClassifier(), HGB_SPACE, X, Y, storage=tmp_path / "l.db", **kw)
    pd.testing.assert_frame_equal(_trials(on_dask), _trials(local))
    assert len(workers) == 2 and os.getpid() not in workers


def test_pruning_stops_weak_trials_and_keeps_good_ones(tmp_path):
    rng = np.random.default_rng(0)
    n = 4_000
    Xs = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"x{i}" for i in range(6)])
    ys = (Xs["x0"] + 0.5 * Xs["x1"] ** 2 + rng.normal(0, 0.7, n) > 0.5).astype(int)
    sp = {"learning_rate": space.float(1e-4, 0.5, log=True), "max_iter": 30}
    sw = tune(HistGradientBoostingClassifier(), sp, Xs, ys, cv=3, scoring="roc_auc", n_trials=24,
              storage=tmp_path / "p.db", progress=False, resource="data")
    t = sw.trials
    assert (t["state"] == "PRUNED").sum() >= 3
    assert t["resource"].str.startswith("data=").all()
    pruned, done = t[t.state == "PRUNED"], t[t.state == "COMPLETE"]
    assert pruned["learning_rate"].median() < done["learning_rate"].median()  # tiny steps learn nothing: pruned
    assert sw.best_score == done["score"].max()


def test_grid_sampler_covers_the_grid_once(tmp_path):
    sp = {"max_leaf_nodes": space.choice([4, 8, 16]), "learning_rate": space.choice([0.05, 0.2]), "max_iter": 10}
    sw = tune(HistGradientBoostingClassifier(), sp, X, Y, cv=3, sampler="grid", pruner=None,
              storage=tmp_path / "g.db", progress=False)
    t = sw.trials
    assert len(t) == 6 and len(t[["max_leaf_nodes", "learning_rate"]].drop_duplicates()) == 6


def test_failing_trials_are_recorded_and_the_sweep_goes_on(tmp_path):
    sp = {"C": space.float(0.01, 10, log=True), "mode": space.choice(["ok", "raise", "oom", "nan"])}
    sw = tune(Faulty(), sp, X, Y, cv=3, n_trials=16, storage=tmp_path / "f.db", progress=False, pruner=None)
    t = sw.trials
    assert set(t.loc[t.state == "COMPLETE", "mode"]) == {"ok"}
    errors = t.set_index("mode")["error"]
    assert errors.loc[["raise"]].str.contains("planted failure").all()
    assert errors.loc[["oom"]].str.startswith("oom: ").all()
    assert errors.loc[["nan"]].str.contains("score is nan").all()
    assert (t.state == "FAIL").sum() == (t["mode"] != "ok").sum() > 0


def test_all_trials_failing_is_a_clear_error(tmp_path):
    with pytest.raises(SweepError, match="all 4 trials .* failed; first errors: ValueError: planted failure"):
        tune(Faulty(mode="raise"), {"C": space.float(0.1, 1)}, X, Y, cv=3, n_trials=4, storage=tmp_path / "x.db",
             progress=False)


def test_a_worker_killed_mid_trial_fails_that_trial_only(tmp_path):
    sp = {"C": space.float(0.01, 10, log=True), "mode": space.choice(["ok", "kill"]), "main_pid": os.getpid()}
    sw = tune(Faulty(), sp, X, Y, cv=3, n_trials=10, n_jobs=2, storage=tmp_path / "k.db", progress=False, pruner=None)
    t = sw.trials
    assert "RUNNING" not in set(t.state)
    died = t[t["error"].fillna("").str.contains("worker process died")]
    assert len(died) > 0 and (t.state == "COMPLETE").sum() > 0
    assert (t.loc[t.state == "COMPLETE", "mode"] == "ok").all()


_RUNNER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from sklearn.datasets import load_breast_cancer
    from sweep_helpers import Faulty
    from mlbench.tune.space import space
    from mlbench.tune.sweep import tune
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    tune(Faulty(sleep=0.15), {{"C": space.float(0.01, 10, log=True)}}, X, y, cv=3, n_trials=40,
         storage={db!r}, study_name="resume", progress=False, pruner=None, batch_size=1)
""")


def _finished(db, name="resume"):
    try:
        study = optuna.load_study(study_name=name, storage=f"sqlite:///{db}")
    except Exception:  # noqa: BLE001 - not created yet
        return []
    return study.get_trials(deepcopy=False)


def test_killed_sweep_resumes_without_redoing_trials(tmp_path):
    db = tmp_path / "r.db"
    p = subprocess.Popen([sys.executable, "-c", _RUNNER.format(tests=str(TESTS), db=str(db))])
    try:
        deadline = time.time() + 120
        while time.time() < deadline and sum(t.state.is_finished() for t in _finished(db)) < 6:
            time.sleep(0.2)
        time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    before = {t.number: (t.state.name, t.params, t.value) for t in _finished(db)}
    assert sum(s == "COMPLETE" for s, _, _ in before.values()) >= 6
    sw = tune(Faulty(), {"C": space.float(0.01, 10, log=True)}, X, Y, cv=3, n_trials=40, storage=db,
              study_name="resume", progress=False, pruner=None, batch_size=1)
    after = {t.number: t for t in sw.study.get_trials()}
    for n, (state, params, value) in before.items():  # finished trials kept as they were
        if state == "COMPLETE":
            assert after[n].params == params and after[n].value == value
    stale = [n for n, (s, _, _) in before.items() if s == "RUNNING"]
    for n in stale:  # a trial the kill left RUNNING: failed, and its parameters tried again
        assert after[n].state.name == "FAIL"
        assert any(t.user_attrs.get("retry_of") == n and t.params == after[n].params for t in after.values())
    assert not [t for t in after.values() if t.state.name == "RUNNING"]
    assert sum(t.state.is_finished() for t in after.values()) >= 40
    redone = sum(1 for t in after.values() if t.number not in before)
    assert redone == 40 - len(before)  # only the missing trials ran (a retry among them; the stale one counts as failed)


def test_two_processes_on_one_sqlite_file_are_refused(tmp_path):
    db = tmp_path / "l.db"
    holder = _Lock(db)
    try:
        with pytest.raises(SweepError, match="journal"):
            tune(Faulty(), {"C": space.float(0.1, 1)}, X, Y, cv=3, n_trials=2, storage=db, progress=False)
    finally:
        holder.release()
    assert len(tune(Faulty(), {"C": space.float(0.1, 1)}, X, Y, cv=3, n_trials=2, storage=db, progress=False).trials) == 2


def test_torn_journal_is_cut_back_and_resumes(tmp_path):
    path = tmp_path / "s.journal"
    kw = dict(cv=3, storage=f"journal:{path}", study_name="j", progress=False, pruner=None)
    tune(Faulty(), {"C": space.float(0.1, 1)}, X, Y, n_trials=3, **kw)
    good = path.read_bytes()
    path.write_bytes(good + b'{"op_code": 4, "worker_id": "x", "study_id": 0, "dat')  # a crash mid-write
    with pytest.warns(UserWarning, match="last record was incomplete"):
        sw = tune(Faulty(), {"C": space.float(0.1, 1)}, X, Y, n_trials=5, **kw)
    assert len(sw.trials) == 5 and (sw.trials.state == "COMPLETE").all()
    assert path.read_bytes().startswith(good)
    assert list(tmp_path.glob("s.journal.torn-*"))


def test_postgresql_storage(tmp_path, postgres_url):
    sw = tune(Faulty(), {"C": space.float(0.1, 1)}, X, Y, cv=3, n_trials=3, storage=postgres_url,
              study_name=f"pg-{os.getpid()}-{time.time_ns()}", progress=False)
    again = S.Sweep.load(sw.name, postgres_url)
    assert again.best_score == sw.best_score and len(again.trials) == 3


@pytest.mark.parametrize("kwargs, message", [
    (dict(space={"C": space.float(5, 1)}), r"'C': low \(5\) > high \(1\)"),
    (dict(space={"CC": space.float(0.1, 1)}), r"no parameter 'CC' \(did you mean C\?\); valid parameters: C, "),
    (dict(space={}), "space is empty"),
    (dict(space={"C": space.float(0, 1, log=True)}), "log=True needs low > 0"),
    (dict(space={"C": space.choice([])}), "at least one option"),
    (dict(y=np.zeros(len(X), dtype=int)), "single class"),
    (dict(y=Y[:-3]), "569 rows but y has 566"),
    (dict(n_trials=0), "n_trials must be a positive integer"),
    (dict(n_jobs=0), "n_jobs"),
    (dict(sampler="annealing"), "sampler must be"),
    (dict(pruner="median"), "pruner must be"),
    (dict(storage="postgresql://nobody:secret@127.0.0.1:1/none"), r"cannot open sweep storage postgresql://nobody:\*\*\*@"),
    (dict(estimator="not a model"), "must be a scikit-learn estimator"),
])
def test_bad_input_is_named(tmp_path, kwargs, message):
    args = dict(estimator=Faulty(), space={"C": space.float(0.1, 1)}, X=X, y=Y, cv=3, n_trials=2,
                storage=tmp_path / "b.db", progress=False)
    args.update(kwargs)
    with pytest.raises(SweepError, match=message):
        tune(**args)


def test_resuming_with_other_data_is_refused(tmp_path):
    kw = dict(cv=3, n_trials=2, storage=tmp_path / "o.db", study_name="o", progress=False)
    tune(Faulty(), {"C": space.float(0.1, 1)}, X, Y, **kw)
    with pytest.raises(SweepError, match="different data"):
        tune(Faulty(), {"C": space.float(0.1, 1)}, X.iloc[:400], Y.iloc[:400], **kw)


def test_background_sweep_runs_outside_the_kernel_and_stops_cleanly(tmp_path):
    db = tmp_path / "bg.db"
    h = tune(Faulty(sleep=0.1), {"C": space.float(0.01, 10, log=True)}, X, Y, cv=3, n_trials=200, storage=db,
             study_name="bg", background=True, pruner=None)
    t0 = time.time()
    while time.time() - t0 < 60 and len(_finished(db, "bg")) < 3:
        time.sleep(0.2)
    assert not h.done, h._conn.recv() if h._conn.poll() else h.process.exitcode
    running = h.sweep()
    assert len(running.trials) >= 3
    h.stop()
    assert h.done
    sw = S.Sweep.load("bg", db)
    stopped = sw.trials
    assert "RUNNING" not in set(stopped.state) and len(stopped) < 200
    assert stopped.loc[stopped.state == "FAIL", "error"].str.startswith("interrupted").all()
    done = tune(Faulty(sleep=0.1), {"C": space.float(0.01, 10, log=True)}, X, Y, cv=3, n_trials=len(stopped) + 2,
                storage=db, study_name="bg", pruner=None, background=True).result(timeout=120)
    assert len(done.trials) == len(stopped) + 2 and done.best_model is not None
    pd.testing.assert_frame_equal(done.trials.iloc[:len(stopped)], stopped)  # nothing stored was lost or redone


def test_a_just_started_background_sweep_can_be_read_at_once(tmp_path):
    "handle.sweep() (and so SweepView(handle)) right after tune(background=True) waits for the child's study."
    import multiprocessing as mp

    import sweep_helpers

    kw = dict(estimator=Faulty(), space={"C": space.float(0.01, 10, log=True)}, X=X, y=Y, cv=3, n_trials=3,
              storage=str(tmp_path / "l.db"), study_name="late", pruner=None, progress=False, refit=False)
    p = mp.get_context("spawn").Process(target=sweep_helpers.tune_later, args=(2.0, kw))
    p.start()
    h = S.SweepHandle(p, None, "late", tmp_path / "l.db", None)
    t0 = time.time()
    sw = h.sweep()  # raised SweepError("no study 'late' ...") while the child had not made it yet
    assert time.time() - t0 >= 1.0 and len(sw.trials) <= 3
    p.join(120)
    assert p.exitcode == 0 and len(S.Sweep.load("late", tmp_path / "l.db").trials) == 3
    p = mp.get_context("spawn").Process(target=sweep_helpers.tune_later, args=(0.0, {**kw, "study_name": "x"}))
    p.start()
    p.join(120)
    with pytest.raises(SweepError, match="no study 'nope'"):  # a finished child and no study: the error at once
        S.SweepHandle(p, None, "nope", tmp_path / "l.db", None).sweep()


def test_importances_and_overfitting(tmp_path):
    sp = {"learning_rate": space.float(0.01, 0.5, log=True), "max_leaf_nodes": space.int(2, 63), "max_iter": 40,
          "l2_regularization": space.float(0.0, 1.0)}
    sw = tune(HistGradientBoostingClassifier(), sp, X, Y, cv=3, n_trials=10, storage=tmp_path / "i.db",
              progress=False, pruner=None)
    imp = sw.importances()
    assert set(imp) == {"learning_rate", "max_leaf_nodes", "l2_regularization"}
    assert sum(imp.values()) == pytest.approx(1.0)
    t = sw.trials
    assert (t["gap"] == t["train_score"] - t["score"]).all()
    assert (sw.overfitting()["gap"] > S.GAP_FLAG).all()
    summary = sw.summary()
    assert json.loads(json.dumps(summary, default=str))["trials"] == 10 and summary["data_fingerprint"] == sw.fingerprint


def test_sweep_view_follows_a_background_sweep(tmp_path):
    widgets = pytest.importorskip("mlbench.views.widgets")
    h = tune(Faulty(sleep=0.05), {"C": space.float(0.01, 10, log=True)}, X, Y, cv=3, n_trials=16,
             storage=tmp_path / "v.db", study_name="v", background=True, pruner=None)
    deadline = time.time() + 60
    while time.time() < deadline and not _finished(tmp_path / "v.db", "v"):
        time.sleep(0.1)
    view = widgets.SweepView(h, interval=0.2)
    seen = []
    while not h.done and time.time() < deadline:
        seen.append(view.progress.value)
        time.sleep(0.1)
    view._thread.join(10)
    assert view.progress.value == view.progress.max == 16
    assert min(seen) < 16 and len(set(seen)) > 1  # it moved while the sweep ran
    assert view.best_curve[-1] == h.result(refit=False).best_score


def test_iterations_as_the_pruning_resource(tmp_path):
    "resource='max_iter': rungs continue the same boosted model (warm start) instead of refitting on more rows."
    sp = {"learning_rate": space.float(1e-4, 0.5, log=True), "max_iter": 27}
    sw = tune(HistGradientBoostingClassifier(early_stopping=False), sp, X, Y, cv=3, scoring="roc_auc", n_trials=12,
              resource="max_iter", storage=tmp_path / "w.db", progress=False, batch_size=4)
    t = sw.trials
    assert set(t["resource"]) <= {"max_iter=[3]", "max_iter=[3, 9]", "max_iter=[3, 9, 27]"}
    assert (t.loc[t.state == "COMPLETE", "resource"] == "max_iter=[3, 9, 27]").all()
    assert (t.state == "PRUNED").any()
    best = t[t.state == "COMPLETE"].sort_values("score").iloc[-1]
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    est = HistGradientBoostingClassifier(early_stopping=False, learning_rate=best.learning_rate, max_iter=27, random_state=0)
    # warm-started 3 -> 9 -> 27 iterations equals 27 iterations at once (HGB adds trees deterministically)
    assert best.score == pytest.approx(cross_val_score(est, X, Y, cv=folds, scoring="roc_auc").mean(), abs=1e-9)
    with pytest.raises(SweepError, match="warm_start"):
        tune(Faulty(), {"C": space.float(0.1, 1)}, X, Y, cv=3, n_trials=2, resource="C", storage=tmp_path / "w2.db",
             progress=False)


def test_baseline_trial_is_the_estimator_as_given(tmp_path):
    est = HistGradientBoostingClassifier(learning_rate=0.07, max_leaf_nodes=12)
    sp = {"learning_rate": space.float(0.01, 0.3, log=True), "max_leaf_nodes": space.int(4, 31), "max_iter": 20,
          "l2_regularization": space.float(0.5, 2.0)}  # the estimator's l2 (0.0) is outside: sampled instead
    sw = tune(est, sp, X, Y, cv=3, n_trials=5, storage=tmp_path / "b.db", progress=False)
    first = sw.trials.iloc[0]
    assert first.learning_rate == 0.07 and first.max_leaf_nodes == 12 and 0.5 <= first.l2_regularization <= 2.0
    assert sw.best_score >= first.score
    off = tune(est, sp, X, Y, cv=3, n_trials=2, storage=tmp_path / "n.db", progress=False, baseline=False)
    assert off.trials.iloc[0].learning_rate != 0.07


_ORPHAN = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from sklearn.datasets import load_breast_cancer
    from sweep_helpers import Faulty
    from mlbench.tune.space import space
    from mlbench.tune.sweep import tune
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    tune(Faulty(sleep=0.3), {{"C": space.float(0.01, 10, log=True)}}, X, y, cv=3, n_trials=500, n_jobs=2,
         storage={db!r}, study_name="o", progress=False, pruner=None)
""")


def _running(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text(errors="replace").lower()
    except OSError:
        return False


def test_workers_exit_when_the_sweep_process_is_killed(tmp_path):
    p = subprocess.Popen([sys.executable, "-c", _ORPHAN.format(tests=str(TESTS), db=str(tmp_path / "o.db"))])
    workers = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(workers) < 2:
            out = subprocess.run(["pgrep", "-P", str(p.pid), "-f", "LokyProcess"], capture_output=True, text=True).stdout
            workers = [int(x) for x in out.split()]
            time.sleep(0.2)
        assert len(workers) == 2
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    deadline = time.time() + 10
    alive = workers
    while alive and time.time() < deadline:
        time.sleep(0.2)
        alive = [w for w in workers if _running(w)]
    assert not alive, f"worker processes {alive} outlived the killed sweep"


def test_one_job_runs_in_this_process(tmp_path):
    "n_jobs=1 fits in the calling process (mode='kill' kills only a process other than main_pid)."
    sp = {"C": space.float(0.1, 1), "mode": "kill", "main_pid": os.getpid()}
    sw = tune(Faulty(), sp, X, Y, cv=3, n_trials=3, n_jobs=1, storage=tmp_path / "one.db", progress=False, pruner=None)
    assert (sw.trials.state == "COMPLETE").all()


@pytest.mark.parametrize("where", ["report", "ask"])
def test_an_interrupt_between_ask_and_tell_leaves_no_trial_running(tmp_path, monkeypatch, where):
    """Ctrl-C (or SweepHandle.stop's SIGINT) can land after a trial left the loop's list of trials in flight but
    before it was told (while its scores are being reported), or after study.ask() made it but before the loop
    held it: either way the trial must end FAIL 'interrupted', never stay RUNNING (issue 17's stop() race)."""
    import optuna

    calls = {"n": 0}
    if where == "report":
        real = optuna.trial.Trial.report

        def boom(self, value, step):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return real(self, value, step)

        monkeypatch.setattr(optuna.trial.Trial, "report", boom)
    else:
        real = engine._rungs

        def boom(*a, **k):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return real(*a, **k)

        monkeypatch.setattr(engine, "_rungs", boom)
    db = tmp_path / "i.db"
    with pytest.raises(KeyboardInterrupt):
        tune(Faulty(), {"C": space.float(0.01, 10, log=True)}, X, Y, cv=3, n_trials=20, storage=db,
             study_name="int", pruner=None, progress=False, n_jobs=1)
    t = S.Sweep.load("int", db).trials
    assert "RUNNING" not in set(t.state), t[["number", "state", "error"]]
    assert t.loc[t.state == "FAIL", "error"].str.startswith("interrupted").all()


def test_stop_of_a_sweep_that_ignores_the_interrupt_still_leaves_no_trial_running(tmp_path):
    "stop() falls back to SIGTERM after its timeout; it returns only once the trials that process held are FAIL."
    db = tmp_path / "deaf.db"
    h = tune(Faulty(mode="deaf", sleep=30), {"C": space.float(0.01, 10, log=True)}, X, Y, cv=3, n_trials=5,
             storage=db, study_name="deaf", background=True, pruner=None, n_jobs=1)
    t0 = time.time()
    while time.time() - t0 < 60 and not len(h.sweep().trials):
        time.sleep(0.2)
    time.sleep(1.0)  # the first fit has started and ignores SIGINT
    h.stop(timeout=2)
    assert h.done
    t = S.Sweep.load("deaf", db).trials
    assert len(t) >= 1 and "RUNNING" not in set(t.state), t[["number", "state", "error"]]
    assert t.loc[t.state == "FAIL", "error"].str.startswith("interrupted").all()
