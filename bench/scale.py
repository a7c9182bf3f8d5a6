"""Scale beyond one machine's memory: profile, drift and batch scoring of Parquet datasets on disk, in one process and
on a Dask LocalCluster, with peak memory. Each case runs in a fresh child process (its peak RSS is its own); the data
are generated here (fixed seed) into a temporary folder and removed after. Prints one JSON line last.

    .venv/bin/python bench/scale.py                      # the issue's sizes: 20 M x 20 profile, 3 M x 200 drift, 10 M scoring
    .venv/bin/python bench/scale.py --scale 0.05         # quick: every size x 0.05
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
{body}
out = dict(seconds=round(time.perf_counter() - t0, 3), peak_rss_gb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3), **(extra if 'extra' in dir() else {{}}))
print(json.dumps(out))
"""


def child(body: str, env=None, cluster: str = "") -> dict:
    code = CHILD.format(root=str(ROOT), body=cluster + textwrap.dedent(body))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=3600)
    if r.returncode != 0:
        raise SystemExit(f"child failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def write_dataset(folder: Path, rows: int, cols: int, files: int, seed: int = 0, shift: float = 0.0) -> int:
    "A Parquet folder of `rows` x `cols` (floats with nulls, ints, string categories), written file by file."
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    per = rows // files
    cats = np.array([f"level-{i}" for i in range(20)])
    for f in range(files):
        d = {}
        for c in range(cols):
            if c % 5 == 3:
                d[f"c{c}"] = cats[rng.integers(0, 20, per)]
            elif c % 5 == 4:
                d[f"c{c}"] = rng.integers(0, 1000, per)
            else:
                x = rng.normal(shift if c < 4 else 0.0, 1.0, per)
                x[rng.random(per) < 0.02] = np.nan
                d[f"c{c}"] = x
        pd.DataFrame(d).to_parquet(folder / f"part-{f:04d}.parquet", row_group_size=250_000)
    return per * files


CLUSTER = """
from dask.distributed import Client, LocalCluster
cluster = LocalCluster(n_workers={n}, threads_per_worker=1, processes=True, memory_limit="{mem}", host="127.0.0.1",
                       dashboard_address=None, silence_logs=40)
client = Client(cluster)
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every size by this (0.05 for a quick run)")
    ap.add_argument("--keep", action="store_true", help="keep the generated data (printed path)")
    ap.add_argument("--cases", default="profile,drift,predict",
                    help="comma-separated: profile, drift, predict (batch scoring: one process and Dask)")
    ap.add_argument("--reps", type=int, default=1, help="time each batch scoring case this many times (the minimum kept)")
    a = ap.parse_args(argv)
    cases = set(a.cases.split(","))
    if not cases or cases - {"profile", "drift", "predict"}:
        ap.error(f"--cases {a.cases!r}: choose among profile, drift, predict")
    s = a.scale
    tmp = Path(tempfile.mkdtemp(prefix="mlbench-scale-"))
    res = {"bench": "scale", "scale": s}
    try:
        if 'profile' in cases:
            # 1. profile: a Parquet dataset on disk, one process, vs the in-memory profile of 1 M rows (per-row speed)
            big = write_dataset(tmp / "big", int(20_000_000 * s), 20, max(4, int(80 * s)))
            small_rows = min(1_000_000, big)
            mem = child(f"""
                import pandas as pd, mlbench as mb
                df = pd.read_parquet({str(tmp / 'big')!r}).head({small_rows})
                t = time.perf_counter(); p = mb.profile(df); dt = time.perf_counter() - t
                extra = dict(rows=len(df), profile_s=round(dt, 3))""")
            disk = child(f"""
                import mlbench as mb
                t = time.perf_counter(); p = mb.profile({str(tmp / 'big')!r}, progress=False)
                extra = dict(rows=p.n_rows, op_s=round(time.perf_counter() - t, 3))""")
            one_core = child(f"""
                import mlbench as mb
                t = time.perf_counter(); p = mb.profile({str(tmp / 'big')!r}, n_jobs=1)
                extra = dict(rows=p.n_rows, op_s=round(time.perf_counter() - t, 3))""",
                             env={**__import__("os").environ, "MLBENCH_NO_FORK": "1"})
            res["profile"] = {"rows": big, "cols": 20, "disk_s": disk["op_s"], "disk_peak_rss_gb": disk["peak_rss_gb"],
                              "disk_one_core_s": one_core["op_s"],
                              "disk_rows_per_s": round(big / disk["op_s"]), "memory_rows": small_rows,
                              "memory_rows_per_s": round(small_rows / mem["profile_s"]),
                              "per_row_speed_vs_memory": round(big / disk["op_s"] / (small_rows / mem["profile_s"]), 3)}
            for n in (1, 2):
                d = child(f"""
                    import dask.dataframe as dd, mlbench as mb
                    before = set(client.scheduler_info()["workers"])
                    t = time.perf_counter()
                    p = mb.profile(dd.read_parquet({str(tmp / 'big')!r}))
                    dt = time.perf_counter() - t
                    restarted = len(before - set(client.scheduler_info()["workers"]))  # a restarted worker: a new address
                    extra = dict(rows=p.n_rows, profile_s=round(dt, 3), restarts=restarted)
                    client.close(); cluster.close()""", cluster=CLUSTER.format(n=n, mem="1GB"))
                assert d["rows"] == big, d
                res["profile"][f"dask_{n}w_s"] = d["profile_s"]
                res["profile"][f"dask_{n}w_worker_restarts"] = d["restarts"]
            res["profile"]["dask_2w_vs_one_process"] = round(disk["op_s"] / res["profile"]["dask_2w_s"], 3)
            res["profile"]["dask_overhead_1w_vs_one_process"] = round(res["profile"]["dask_1w_s"] / disk["op_s"], 3)
            res["profile"]["dask_overhead_1w_vs_one_core"] = round(res["profile"]["dask_1w_s"] / one_core["op_s"], 3)
            shutil.rmtree(tmp / "big")

        if 'drift' in cases:
            # 2. drift: 3 M x 200 against 300 k x 200, Parquet on disk (both profiled in bounded memory)
            n_cur, n_ref = int(3_000_000 * s), int(300_000 * s)
            write_dataset(tmp / "ref", n_ref, 200, max(1, int(4 * s)), seed=1)
            write_dataset(tmp / "cur", n_cur, 200, max(2, int(40 * s)), seed=2, shift=0.2)
            d = child(f"""
                import mlbench as mb
                t = time.perf_counter(); rep = mb.drift({str(tmp / 'ref')!r}, {str(tmp / 'cur')!r})
                extra = dict(drifted=sorted(rep.drifted_columns), op_s=round(time.perf_counter() - t, 3))""")
            res["drift"] = {"reference_rows": n_ref, "current_rows": n_cur, "cols": 200, "seconds": d["op_s"],
                            "peak_rss_gb": d["peak_rss_gb"], "drifted_as_planted": d["drifted"] == ["c0", "c1", "c2"]}
            shutil.rmtree(tmp / "ref")
            shutil.rmtree(tmp / "cur")

        if 'predict' in cases:
            # 3. batch scoring: the flights model over many rows, vs the model's own predict on the same chunks
            n_score = int(10_000_000 * s)
            home = tmp / "bentoml"
            env = {**__import__("os").environ, "BENTOML_HOME": str(home)}
            prep = child(f"""
                import numpy as np, pandas as pd, mlbench as mb
                from sklearn.ensemble import HistGradientBoostingClassifier
                fl = mb.flights().dropna(subset=["arr_delay"])
                cols = ["month", "day", "sched_dep_time", "distance", "carrier", "origin"]
                X = fl[cols].astype({{"carrier": "category", "origin": "category"}}).reset_index(drop=True)
                y = (fl["arr_delay"] > 15).astype(int).to_numpy()
                m = HistGradientBoostingClassifier(max_iter=50, categorical_features="from_dtype").fit(X, y)
                tag = mb.package(m, "scale-flights", reference=X)
                reps = -(-{n_score} // len(X))
                os.makedirs({str(tmp / 'score')!r})
                for i in range(reps):
                    X.astype({{"carrier": object, "origin": object}}).to_parquet(os.path.join({str(tmp / 'score')!r}, f"p{{i:04d}}.parquet"))
                extra = dict(tag=tag, rows=reps * len(X))""", env)
            tag, n_score = prep["tag"], prep["rows"]
            plain = child(f"""
                import mlbench as mb, pandas as pd
                model = mb.models.load({tag!r})
                times = []
                for _ in range({a.reps}):
                    t = time.perf_counter(); n = 0
                    for c in mb.scan({str(tmp / 'score')!r}, 100_000):
                        c = c.astype({{"carrier": "category", "origin": "category"}})
                        model.predict(c[["month", "day", "sched_dep_time", "distance", "carrier", "origin"]]); n += len(c)
                    times.append(time.perf_counter() - t)
                extra = dict(rows=n, op_s=round(min(times), 3))""", env)
            res["predict"] = {"rows": n_score, "reps": a.reps, "plain_predict_s": plain["op_s"]}
            for name, monitor in (("mb_predict", None), ("mb_predict_monitor", str(tmp / "mon"))):
                ours = child(f"""
                    import shutil, mlbench as mb
                    times = []
                    for _ in range({a.reps}):
                        shutil.rmtree({str(tmp / 'out')!r}, ignore_errors=True)
                        shutil.rmtree({str(tmp / 'mon')!r}, ignore_errors=True)
                        t = time.perf_counter()
                        r = mb.predict({tag!r}, {str(tmp / 'score')!r}, out={str(tmp / 'out')!r}, chunk_rows=100_000,
                                       monitor={monitor!r}, progress=False)
                        times.append(time.perf_counter() - t)
                    extra = dict(rows=r.rows, scored=r.scored, op_s=round(min(times), 3))""", env)
                assert ours["scored"] == plain["rows"] == n_score, (ours, plain)
                res["predict"].update({f"{name}_s": ours["op_s"], f"{name}_overhead": round(ours["op_s"] / plain["op_s"] - 1, 3),
                                       f"{name}_peak_rss_gb": ours["peak_rss_gb"]})
            for n in (1, 2):
                d = child(f"""
                    import shutil, dask.dataframe as dd, mlbench as mb
                    times = []
                    for _ in range({a.reps}):
                        shutil.rmtree({str(tmp / 'out')!r}, ignore_errors=True)
                        t = time.perf_counter()
                        r = mb.predict({tag!r}, dd.read_parquet({str(tmp / 'score')!r}), out={str(tmp / 'out')!r})
                        times.append(time.perf_counter() - t)
                    extra = dict(scored=r.scored, predict_s=round(min(times), 3))
                    client.close(); cluster.close()""", env, cluster=CLUSTER.format(n=n, mem="2GB"))
                assert d["scored"] == n_score, d
                res["predict"][f"dask_{n}w_s"] = d["predict_s"]
            res["predict"]["dask_2w_speedup_vs_1w"] = round(res["predict"]["dask_1w_s"] / res["predict"]["dask_2w_s"], 3)
            # Dask's own cost: the same job (no monitor: the Dask path does not log) on a 1-worker cluster vs one process
            res["predict"]["dask_1w_vs_one_process"] = round(res["predict"]["dask_1w_s"] / res["predict"]["mb_predict_s"], 3)
    finally:
        if a.keep:
            print(f"data kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
