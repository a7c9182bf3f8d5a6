"""Model optimization (issue 20): the flights random forest (100 trees) and HistGradientBoosting, each packaged,
then `mb.optimize` (ONNX, int8, pruning) on held-out rows; the ONNX version against the original on one-row latency,
metric, label agreement and size, and `mlbench serve` of both under 32 closed-loop clients (one-row requests).

    .venv/bin/python bench/optimize.py                  # about 3 minutes here
    .venv/bin/python bench/optimize.py --quick          # smaller models, shorter load, under a minute

Prints one JSON line last: per model the figures and `targets_met` (ONNX one-row p50 >= 5x faster than the
original's predict_proba, ROC AUC drop <= 0.001, labels equal on >= 99.9% of evaluation rows; served throughput of
the ONNX version >= 2x the original's at 32 clients, for the forest).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ["month", "day", "sched_dep_time", "distance", "carrier", "origin", "dest"]


def _serve_bench():
    "bench/serve.py's closed-loop load generator (one process per run), loaded by path."
    spec = importlib.util.spec_from_file_location("serve_bench", ROOT / "bench" / "serve.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["serve_bench"] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _models(trees: int, iters: int):
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    cats = ["carrier", "origin", "dest"]
    rf = make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), cats), remainder="passthrough"),
                       RandomForestClassifier(trees, min_samples_leaf=5, random_state=0, n_jobs=1))
    hgb = make_pipeline(make_column_transformer((OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                                                 cats), remainder="passthrough"),
                        HistGradientBoostingClassifier(max_iter=iters, random_state=0))
    return {"random_forest": rf, "hist_gradient_boosting": hgb}


def _load(bench, tag: str, X, conc: int, duration: float, work: Path) -> dict:
    from mlbench.serve import process as serving

    rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in X.iloc[i].to_dict().items()} for i in range(200)]
    spec = work / f"spec-{tag.replace(':', '-')}.json"
    spec.write_text(json.dumps({"bodies": [json.dumps({"rows": [r]}) for r in rows]}))
    srv = serving.serve(tag, monitor=str(work / "mon"))
    try:
        return bench.run_load(srv.url + "/predict", spec, conc, warmup=2.0, duration=duration,
                              server_pid=srv.proc.pid)
    finally:
        srv.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller models and a shorter load run")
    ap.add_argument("--clients", type=int, default=32)
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="mlbench-optimize-bench-"))
    os.environ.setdefault("BENTOML_HOME", str(work / "bentoml"))
    import mlbench as mb

    df = mb.flights().dropna(subset=["arr_delay"]).sample(30_000, random_state=0).reset_index(drop=True)
    X, y = df[FEATURES], (df["arr_delay"] > 15).astype(int).to_numpy()
    Xt, yt, Xe, ye = X[:10_000], y[:10_000], X[10_000:], y[10_000:]
    out, ok = {"bench": "optimize", "rows_train": len(Xt), "rows_eval": len(Xe), "models": {}}, {}
    bench = _serve_bench()
    for name, model in _models(30 if a.quick else 100, 50 if a.quick else 200).items():
        model.fit(Xt, yt)
        tag = mb.package(model, f"bench-opt-{name.replace('_', '-')}", reference=Xt, golden=Xe.head(200))
        res = mb.optimize(tag, Xe, ye)
        o, x = res.original, res["onnx"]
        row = {"original_p50_ms": round(o.p50_ms, 4), "onnx_p50_ms": round(x.p50_ms, 4),
               "p50_speedup": round(o.p50_ms / x.p50_ms, 2), "original_rows_per_s": round(o.rows_per_s),
               "onnx_rows_per_s": round(x.rows_per_s), "roc_auc": round(o.metric, 5),
               "roc_auc_drop": round(o.metric - x.metric, 6), "delta_interval": [x.delta_lo, x.delta_hi],
               "label_agreement": x.evaluation["label_agreement"], "max_abs_diff_proba": x.evaluation["max_abs_diff"],
               "size_mb": round(o.size / 1e6, 3), "onnx_size_mb": round(x.size / 1e6, 3),
               "best": res.best.name if res.best else None,
               "candidates": {c.name: {"size_mb": round(c.size / 1e6, 3), "p50_ms": round(c.p50_ms, 4),
                                       "metric": c.metric, "within": c.within} for c in res.candidates},
               "skipped": [list(s) for s in res.skipped]}
        ok[f"{name}_p50_5x"] = row["p50_speedup"] >= 5
        ok[f"{name}_auc_drop"] = row["roc_auc_drop"] <= 0.001
        ok[f"{name}_agreement"] = row["label_agreement"] >= 0.999
        if name == "random_forest":
            onnx_tag = res.package("onnx")
            dur = 4.0 if a.quick else 10.0
            before = _load(bench, tag, Xe, a.clients, dur, work)
            after = _load(bench, onnx_tag, Xe, a.clients, dur, work)
            row["serve"] = {"clients": a.clients, "original_rps": round(before["rps"], 1),
                            "onnx_rps": round(after["rps"], 1), "original_p50_ms": round(before["p50_ms"], 2),
                            "onnx_p50_ms": round(after["p50_ms"], 2), "errors": before["errors"] + after["errors"],
                            "speedup": round(after["rps"] / before["rps"], 2)}
            ok["serve_2x"] = row["serve"]["speedup"] >= 2 and row["serve"]["errors"] == 0
        out["models"][name] = row
        print(name, json.dumps(row), file=sys.stderr)
    out["targets_met"] = ok
    out["cpus"] = os.cpu_count()
    out["loadavg_1m"] = os.getloadavg()[0]
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
