"""The monitor side of the mlbench Jupyter extension: per-model summary of the latest window, the alert history
with acknowledgements, and the kernel-free dashboard snapshot. Blocking functions, called from the thread pool."""
# The monitor store has no notion of acknowledgement: acknowledgements live in the Jupyter server's data directory
# (`<data_dir>/mlbench/alert-acks.sqlite`, see `state.AckStore`), keyed by the store, the alert id and its firing time.
#
# Dense mechanism, hand-written (not exported by nbdev), tested under tests/ (tests/test_jupyter_server.py).
from __future__ import annotations

import tempfile
from pathlib import Path

from mlbench.jupyter.state import ApiError, iso, plain


def _store(state) -> str:
    return state.config.effective()["monitor_store"]


def _alerts(state, model: str | None = None) -> tuple[list[dict], str | None]:
    "Fired alerts (newest first) with `acknowledged`; an error message instead when the history cannot be read."
    from mlbench import monitor

    where = _store(state)
    try:
        df = monitor.alerts(model, store=where)
    except Exception as e:  # noqa: BLE001 - a missing or corrupt store is a message
        state.log.info("mlbench: alert history of %s unreadable: %s", state.config.public()["monitor_store"], e)
        return [], f"{type(e).__name__}: {e}"
    acked = state.acks.acked(where)
    out = []
    for r in reversed(df.to_dict("records")):
        a = {k: (iso(v) if k in ("fired_at", "window", "window_start", "window_end") else plain(v)) for k, v in r.items()}
        a["id"] = int(r["id"])
        a["acknowledged"] = (a["id"], _fired(r["fired_at"])) in acked
        out.append(a)
    return out, None


def _fired(t) -> str:
    return iso(t) or ""


def summary(state) -> dict:
    "Every model in the monitor store: its latest hourly window and its unacknowledged alerts."
    import pandas as pd

    from mlbench import monitor

    where = _store(state)
    try:
        names = monitor.models(where)
    except Exception as e:  # noqa: BLE001
        state.log.info("mlbench: monitor store unreadable: %s", e)
        return {"models": [], "alerts_total": 0, "store": state.config.public()["monitor_store"],
                "error": f"{type(e).__name__}: {e}"}
    alerts, alert_error = _alerts(state)
    out = []
    with monitor.snapshot():
        for m in names:
            entry = {"model": m, "latest": None, "alerts": sum(1 for a in alerts if a["model"] == m
                                                               and not a["acknowledged"]), "error": None}
            try:
                mins = monitor.minutes(m, where)
                if len(mins):
                    start = mins.max().floor("1h")
                    w = monitor.windows(m, start=start, freq="1h", store=where)
                    if len(w):
                        last = w.iloc[-1]
                        entry["latest"] = {"window": iso(last["window"]), "requests": plain(last["requests"]),
                                           "p99_ms": plain(last["latency_p99_ms"]), "errors": plain(last["errors"]),
                                           "drifted_share": None}
                        d = monitor.drift_over_time(m, freq="1h", store=where, start=start)
                        if len(d):
                            share = monitor.drift_share(d)
                            share = share[share["window"] == pd.Timestamp(last["window"])]
                            if len(share):
                                entry["latest"]["drifted_share"] = plain(share["share"].iloc[-1])
            except Exception as e:  # noqa: BLE001 - one model's damaged data must not hide the others
                state.log.warning("mlbench: monitor summary of %s failed: %s", m, e)
                entry["error"] = f"{type(e).__name__}: {e}"
            out.append(entry)
    return {"models": out, "alerts_total": sum(not a["acknowledged"] for a in alerts),  # unacknowledged, as per model
            "store": state.config.public()["monitor_store"], "error": alert_error}


def alerts_page(state, model: str | None, offset: int, limit: int) -> dict:
    items, err = _alerts(state, model or None)
    return {"items": items[offset:offset + limit], "total": len(items), "offset": offset, "limit": limit,
            "unacknowledged": sum(not a["acknowledged"] for a in items), "error": err}


def acknowledge(state, body, who: str | None) -> dict:
    if not isinstance(body, dict) or ("ids" not in body and body.get("all") is not True):
        raise ApiError(400, 'body: needs {"ids": [alert ids]} or {"all": true}')
    ids = body.get("ids")
    if "ids" in body:
        if not isinstance(ids, list) or not all((isinstance(i, int) and not isinstance(i, bool))
                                                or (isinstance(i, str) and i.isdigit()) for i in ids):
            raise ApiError(400, "ids: needs a list of alert ids (integers)")
        ids = [int(i) for i in ids]
    alerts, err = _alerts(state, body.get("model") or None)
    if err:
        raise ApiError(404, f"monitor store: {err}")
    if body.get("all") is True:
        pick = alerts
    else:
        known = {a["id"]: a for a in alerts}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ApiError(404, f"ids: no alert {unknown[0]} in the monitor store")
        pick = [known[i] for i in ids]
    n = state.acks.ack(_store(state), [(a["id"], a["fired_at"] or "") for a in pick], who)
    return {"acknowledged": n}


def dashboard_html(state, model: str | None) -> str:
    "The kernel-free snapshot of the monitoring dashboard (`mlbench.views.voila.export_static`)."
    from mlbench import monitor
    from mlbench.views import voila as dashboard

    where = _store(state)
    try:
        names = monitor.models(where)
    except Exception as e:  # noqa: BLE001
        raise ApiError(404, f"monitor store {state.config.public()['monitor_store']}: {e}") from None
    if model and model not in names:
        raise ApiError(404, f"model: {model!r} has no traffic in the monitor store (models: {', '.join(names) or 'none'})")
    with tempfile.TemporaryDirectory(prefix="mlbench-dashboard-") as tmp:
        out = Path(tmp) / "dashboard.html"
        try:
            dashboard.export_static(out, model=model or None, store=where)
        except dashboard.DashboardError as e:
            raise ApiError(409, f"dashboard: {e}") from None
        return out.read_text(encoding="utf-8")
