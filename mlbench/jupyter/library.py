"""What the mlbench Jupyter handlers read from the library: model list and detail, pipeline runs from the ledger,
sweeps from Optuna storage, saved reports. Blocking functions, called from the server's thread pool."""
# Glue the library lacks, kept here: a per-model-name cache of `mb.models.list(name)` (a list page of 1,000
# versions must not reread every model.yaml; a name is listed again when its folder in BentoML's store changes),
# stages taken fresh from `mb.models.history()`, the gate verdict of a model found as `verdict.json` in the run
# that made it, paginated SQL over the ledger's runs, and a DriftReport rebuilt from its saved JSON.
#
# Dense mechanism, hand-written (not exported by nbdev), tested under tests/ (tests/test_jupyter_server.py).
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from mlbench.jupyter.state import ApiError, iso, mask, plain

_lock = threading.Lock()


# --- models -------------------------------------------------------------------------------
def _versions(state, errors: list | None = None) -> list[dict]:
    """Every packaged version (newest first): tag, name, version, created, metrics; cached per model name.
    A model name whose folder cannot be listed (a damaged model.yaml) is left out and named in `errors`."""
    from mlbench import models

    base = Path(state.config.model_home()) / "models"
    cache = state.caches.setdefault("models", {})
    names = sorted(e.name for e in os.scandir(base) if e.is_dir() and not e.name.startswith(".")) \
        if base.is_dir() else []
    out = []
    for name in names:
        d = base / name
        try:
            sig = (d.stat().st_mtime_ns, len(os.listdir(d)))
        except OSError:
            continue
        hit = cache.get(name)
        if hit is None or hit[0] != sig:
            try:
                df = models.list(name)
            except Exception as e:  # noqa: BLE001 - one damaged model must not hide the others
                state.log.warning("mlbench: model store: %s cannot be listed: %r", name, e)
                if errors is not None:
                    errors.append(f"models named {name!r} cannot be listed ({type(e).__name__}: {e}); the store "
                                  f"folder {d} may be damaged")
                continue
            rows = [{"tag": r.tag, "name": r.name, "version": r.tag.split(":", 1)[1], "created": r.created,
                     "metrics": dict(r.metrics or {})} for r in df.itertuples()]
            with _lock:
                cache[name] = hit = (sig, rows)
        out += hit[1]
    for gone in set(cache) - set(names):
        cache.pop(gone, None)
    out.sort(key=lambda r: (r["created"], r["tag"]), reverse=True)
    return out


def _stages(name: str | None = None) -> dict:
    "tag -> current stage (None for 'none'), from the registry's stage history."
    from mlbench import models

    h = models.history(name)
    cur = dict(zip(h["tag"], h["to_stage"]))
    return {t: (None if s == "none" else s) for t, s in cur.items()}


def _history(h, tag: str) -> list[dict]:
    h = h[h["tag"] == tag]
    return [{"from": None if f in (None, "none") else f, "to": None if t == "none" else t, "who": w, "at": iso(a),
             "reason": r} for f, t, w, a, r in zip(h["from_stage"], h["to_stage"], h["who"], h["at"], h["reason"])]


def _metric(metrics: dict) -> dict | None:
    if not metrics:
        return None
    k = next(iter(metrics))
    return {"name": k, "value": plain(metrics[k])}


def models_page(state, offset: int, limit: int, name: str | None) -> dict:
    errors: list = []
    rows = _versions(state, errors)
    if name:
        rows = [r for r in rows if r["name"] == name]
    try:
        stages = _stages(name or None)
    except Exception as e:  # noqa: BLE001 - a damaged registry: stages unknown, the list still shown
        state.log.warning("mlbench: model registry unreadable: %r", e)
        stages = {}
        errors.append(f"the model registry cannot be read, stages unknown ({type(e).__name__}: {e})")
    items = [{"tag": r["tag"], "name": r["name"], "version": r["version"], "stage": stages.get(r["tag"]),
              "metric": _metric(r["metrics"]), "created": iso(r["created"])} for r in rows[offset:offset + limit]]
    return {"items": items, "total": len(rows), "offset": offset, "limit": limit,
            "error": "; ".join(errors) or None}


def packaged(tag: str):
    "The PackagedModel `tag`; 404 when the store has no such mlbench model."
    from mlbench import models

    if ":" not in tag or not all(tag.split(":", 1)):
        raise ApiError(400, f"tag: {tag!r} is not 'name:version'")
    try:
        return models.get(tag)
    except models.IntegrityError as e:
        raise ApiError(409, f"model {tag}: {e}") from None
    except models.ModelError as e:
        raise ApiError(404, f"model {tag}: {str(e).split(';')[0]}") from None
    except Exception as e:  # noqa: BLE001 - BentoML's own errors on a damaged model folder
        raise ApiError(409, f"model {tag}: the model store cannot read it ({type(e).__name__}: {e}); its folder "
                       "may be damaged") from None


def _ledger(state):
    "The configured ledger (cached per location), or None when no ledger exists yet."
    from mlbench.pipeline.lineage import Ledger

    where = state.config.effective()["ledger"]
    if where is None or ("://" not in where and not Path(where).is_file()):
        return None, where
    ledgers = state.caches.setdefault("ledgers", {})
    key = _key(where)
    if key not in ledgers:
        ledgers[key] = Ledger(where)  # LineageError when it cannot be opened
    return ledgers[key], where


def _key(where: str) -> tuple:
    "A cache key of a store location: a file replaced by another (new inode) is opened afresh."
    p = where[8:] if where.startswith("journal:") else where
    if "://" in p:
        return (where,)
    st = os.stat(p)
    return (where, st.st_dev, st.st_ino)


def _no_ledger(state, where) -> str:
    return (f"no ledger at {state.root.show(where)}" if where else
            f"no pipeline has run yet: no ledger at {state.root.show(Path(state.config.effective()['runs_root']) / 'lineage.sqlite')}")


def _gate(state, run_ids: list, tag: str) -> dict | None:
    "The gate verdict (verdict.json of a step of a run that recorded `tag`) naming `tag` as its candidate."
    runs = Path(state.config.effective()["runs_root"])
    for run_id in reversed(run_ids):
        for f in sorted((runs / run_id).glob("*/verdict.json")):
            try:
                v = json.loads(f.read_text())
            except (OSError, ValueError):
                continue
            if v.get("candidate") == tag:
                return {"passed": bool(v.get("passed")), "run": run_id,
                        "conditions": [{"name": c.get("name"), "status": c.get("status"),
                                        "reason": c.get("summary") or c.get("reason")} for c in v.get("conditions", [])]}
    return None


def model_detail(state, tag: str) -> dict:
    from mlbench import models
    from mlbench.pipeline.lineage import LineageError, model_lineage

    pm = packaged(tag)
    lin = pm.lineage or {}
    git = lin.get("git") or {}
    lineage = {"run": None, "step": None, "pipeline": None, "fingerprint": lin.get("data"), "rows": lin.get("rows"),
               "sweep": lin.get("sweep"), "git_commit": git.get("commit"), "git_dirty": git.get("dirty"),
               "model_class": lin.get("model_class"), "versions": lin.get("versions"), "reports": [], "error": None}
    gate = None
    try:
        led, where = _ledger(state)
        if led is None:
            lineage["error"] = _no_ledger(state, where)
        else:
            ml = model_lineage(pm.tag, ledger=led)
            lineage.update(run=ml.run_id, step=ml.step, pipeline=ml.pipeline, runs=ml.runs,
                           reports=[{"step": r["step"], "path": state.root.rel(r["path"]), "sha256": r["sha256"]}
                                    for r in ml.reports])
            gate = _gate(state, ml.runs, pm.tag)
    except LineageError as e:
        lineage["error"] = str(e)
    h = models.history(pm.name)
    return plain({"tag": pm.tag, "name": pm.name, "version": pm.tag.split(":", 1)[1], "stage": pm.stage if
                  pm.stage != "none" else None, "created": iso(pm.created), "framework": pm.framework,
                  "metrics": pm.metrics, "labels": pm.labels, "lineage": lineage, "history": _history(h, pm.tag),
                  "gate": gate, "serving": serving_state(state, pm.tag)})


def promote(state, tag: str, body: dict, who: str | None) -> dict:
    from mlbench import models

    stage, reason = body.get("stage"), body.get("reason")
    if stage not in ("production", "staging", "archived"):
        raise ApiError(400, f"stage: {stage!r} is not one of production, staging, archived")
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError(400, "reason: a promotion needs a non-empty reason (it goes into the audit history)")
    pm = packaged(tag)
    try:
        full = models.promote(pm.tag, stage, reason=reason.strip(), who=who)
    except models.IntegrityError as e:
        raise ApiError(409, f"model {pm.tag}: {e}") from None
    return {"tag": full, "stage": stage, "history": _history(models.history(pm.name), full)}


def serving_state(state, tag: str) -> dict | None:
    srv = state.servers.get(tag)
    if srv is None:
        return None
    alive = srv.proc.poll() is None
    healthy = False
    if alive:
        import urllib.request

        try:
            with urllib.request.urlopen(srv.url + "/readyz", timeout=1) as r:
                healthy = r.status == 200
        except OSError:
            healthy = False
    return {"url": srv.url, "pid": srv.proc.pid, "healthy": healthy, "running": alive}


# --- pipeline runs ------------------------------------------------------------------------
def _status(state, run_id: str, status) -> str:
    if status == "SUCCEEDED":
        return "succeeded"
    if status:
        return "failed"
    job = state.jobs.run_for(run_id)
    return "failed" if job is not None and job.state == "error" else "running"


def runs_page(state, offset: int, limit: int) -> dict:
    from mlbench.pipeline.lineage import LineageError

    try:
        led, where = _ledger(state)
        if led is None:
            return {"items": [], "total": 0, "offset": offset, "limit": limit, "error": _no_ledger(state, where)}
        total = led.query("select count(*) as n from runs")[0]["n"]
        rows = led.query("select run_id, pipeline, started, status, failed_step, triggered_by from runs "
                         "order by started desc, run_id desc limit :l offset :o", l=limit, o=offset)
    except LineageError as e:
        state.log.warning("mlbench: ledger unreadable: %s", e)
        return {"items": [], "total": 0, "offset": offset, "limit": limit, "error": str(e)}
    except Exception as e:  # noqa: BLE001 - a corrupt ledger is an answer, not a 500
        state.log.warning("mlbench: ledger unreadable: %s", e)
        return {"items": [], "total": 0, "offset": offset, "limit": limit,
                "error": f"ledger {mask(where)}: cannot be read ({type(e).__name__}: {str(e).splitlines()[0]})"}
    runs = Path(state.config.effective()["runs_root"])
    items = [{"run_id": r["run_id"], "pipeline": r["pipeline"], "started": iso(r["started"]),
              "status": _status(state, r["run_id"], r["status"]), "failed_step": r["failed_step"],
              "trigger": r["triggered_by"], "folder": state.root.rel(runs / r["run_id"])} for r in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def run_detail(state, run_id: str) -> dict:
    from mlbench.pipeline.lineage import LineageError

    try:
        led, where = _ledger(state)
        if led is None:
            raise ApiError(404, f"run {run_id!r}: {_no_ledger(state, where)}")
        run = led.query("select * from runs where run_id = :r", r=run_id)
        if not run:
            raise ApiError(404, f"run: no run {run_id!r} in the ledger {state.root.show(led.where)}")
        rows = led.query("select step, status, cache_hit, duration_s, notebook, cell, message from steps "
                         "where run_id = :r order by started", r=run_id)
    except LineageError as e:
        raise ApiError(404, f"run {run_id!r}: {e}") from None
    steps = []
    for s in rows:
        st = "CACHED" if s["status"] == "SUCCEEDED" and s["cache_hit"] else s["status"]
        steps.append({"step": s["step"], "status": st, "cache_hit": bool(s["cache_hit"]),
                      "duration_s": s["duration_s"], "notebook": state.root.rel(s["notebook"]) if s["notebook"] else None,
                      "failed_cell": s["cell"] if st not in ("SUCCEEDED", "CACHED") else None,
                      "error": s["message"] if st not in ("SUCCEEDED", "CACHED") else None})
    job = state.jobs.run_for(run_id)
    if job is not None:  # started from this server: the steps not reached yet
        known = {s["step"] for s in steps}
        steps += [{"step": n, "status": "PENDING", "cache_hit": False, "duration_s": None, "notebook": None,
                   "failed_cell": None, "error": None} for n in job.steps if n not in known]
    r = run[0]
    return plain({"run_id": run_id, "pipeline": r["pipeline"], "started": iso(r["started"]),
                  "finished": iso(r["finished"]), "status": _status(state, run_id, r["status"]),
                  "failed_step": r["failed_step"], "trigger": r.get("triggered_by"), "steps": steps})


# --- sweeps -------------------------------------------------------------------------------
def _storage(state):
    "(Optuna storage or None when absent, masked location) of the configured sweep storage; cached."
    import optuna

    where = state.config.effective()["sweep_storage"]
    shown = state.config.public()["sweep_storage"]
    cache = state.caches.setdefault("sweep_storages", {})
    if where.startswith("journal:"):
        if not Path(where[8:]).is_file():
            return None, shown
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        key = _key(where)
        if key not in cache:
            cache[key] = JournalStorage(JournalFileBackend(where[8:]))
    else:
        if "://" not in where and not Path(where).is_file():
            return None, shown
        key = _key(where)
        if key not in cache:
            cache[key] = optuna.storages.RDBStorage(where if "://" in where else f"sqlite:///{where}")
    return cache[key], shown


def _summary(study, shown: str) -> dict:
    from collections import Counter

    trials = study.get_trials(deepcopy=False)
    n = Counter(t.state.name for t in trials)
    done = [t.value for t in trials if t.state.name == "COMPLETE" and t.value is not None]
    maximize = study.direction.name == "MAXIMIZE"
    best = (max(done) if maximize else min(done)) if done else None
    return {"name": study.study_name, "storage": shown, "trials": len(trials), "complete": n["COMPLETE"],
            "running": n["RUNNING"], "pruned": n["PRUNED"], "failed": n["FAIL"], "best_score": plain(best),
            "direction": study.direction.name.lower()}


def _open_storage(state):
    "`_storage`, with an unreadable storage logged and named in an ApiError (404)."
    try:
        return _storage(state)
    except Exception as e:  # noqa: BLE001 - unreadable storage: a message, not a 500
        shown = state.config.public()["sweep_storage"]
        state.log.warning("mlbench: sweep storage %s unreadable: %s", shown, e)
        first = str(e).splitlines()[0] if str(e) else ""
        raise ApiError(404, f"sweep storage {shown}: cannot be opened ({type(e).__name__}: {first})") from None


def sweeps_page(state, offset: int, limit: int) -> dict:
    import optuna

    try:
        st, shown = _open_storage(state)
        if st is None:
            return {"items": [], "total": 0, "offset": offset, "limit": limit,
                    "error": f"no sweep storage at {shown} yet"}
        summaries = sorted(optuna.get_all_study_summaries(st, include_best_trial=False),
                           key=lambda s: (s.datetime_start is not None, s.datetime_start or 0, s.study_name),
                           reverse=True)
        items = [_summary(optuna.load_study(study_name=s.study_name, storage=st), shown)
                 for s in summaries[offset:offset + limit]]
    except ApiError as e:
        return {"items": [], "total": 0, "offset": offset, "limit": limit, "error": e.message}
    except Exception as e:  # noqa: BLE001
        state.log.warning("mlbench: sweep storage unreadable: %s", e)
        return {"items": [], "total": 0, "offset": offset, "limit": limit,
                "error": f"sweep storage: cannot be read ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"}
    return {"items": items, "total": len(summaries), "offset": offset, "limit": limit}


def sweep_detail(state, name: str) -> dict:
    import optuna

    from mlbench.tune.sweep import Sweep, SweepError

    try:
        st, shown = _open_storage(state)
    except ApiError as e:
        raise ApiError(404, f"sweep {name!r}: {e.message}") from None
    if st is None:
        raise ApiError(404, f"sweep: no sweep storage at {shown} yet")
    try:
        study = optuna.load_study(study_name=name, storage=st)
    except KeyError:
        raise ApiError(404, f"sweep: no study {name!r} in {shown}") from None
    out = _summary(study, shown)
    sw = Sweep(study, where=shown)
    try:
        out["best_params"] = plain(sw.best_params)
    except SweepError:
        out["best_params"] = None
    maximize, best, hist = study.direction.name == "MAXIMIZE", None, []
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        v = t.value if t.state.name == "COMPLETE" else (
            t.intermediate_values[max(t.intermediate_values)] if t.intermediate_values else None)
        if t.state.name == "COMPLETE" and t.value is not None:
            best = t.value if best is None else max(best, t.value) if maximize else min(best, t.value)
        hist.append({"number": t.number, "state": t.state.name, "value": plain(v), "best_so_far": plain(best),
                     "datetime_complete": iso(t.datetime_complete)})
    out["history"] = hist
    return out


# --- saved reports ------------------------------------------------------------------------
def report_html(path: Path, rel: str) -> str:
    "The HTML report of a saved profile (.mbp) or drift report JSON (`DriftReport.to_json`)."
    from mlbench.errors import FormatError

    if path.suffix == ".mbp":
        from mlbench.data.profile import Profile

        try:
            return Profile.load(path).to_html(title=f"Profile of {rel}")
        except FormatError as e:
            raise ApiError(400, f"path: {e}") from None
    if path.suffix == ".json":
        from mlbench.drift.report import DriftReport

        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ApiError(400, f"path: {rel!r} is not valid JSON ({e})") from None
        if not isinstance(d, dict) or not isinstance(d.get("tests"), list) or "drifted" not in d:
            raise ApiError(400, f"path: {rel!r} is not a saved drift report (DriftReport.to_json)")
        rows = [{**t, "effect": t.get("effect"), "drifted": bool(t.get("drifted"))} for t in d["tests"]]
        # the JSON keeps no distributions: the rebuilt report has the verdict and the tests, not the charts
        rep = DriftReport(rows, float(d.get("drift_share", 0.5)), float(d.get("alpha", 0.05)),
                          list(d.get("schema") or []), {})
        return rep.to_html(title=f"Drift report {rel}")
    raise ApiError(400, f"path: {rel!r} is neither a saved profile (.mbp) nor a drift report (.json)")
