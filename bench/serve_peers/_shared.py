"""What the peer services share: the model file they load and how a request's rows become a frame.

The model is a fitted sklearn Pipeline saved with joblib by `bench/serve.py`; its path comes from
the environment variable MLBENCH_SERVE_MODEL. Service settings the benchmark varies come from
environment variables too, read when the service module is imported (before `@bentoml.service`
runs), so one file serves several configurations:

- MLBENCH_PEER_WORKERS: BentoML `workers` (default 1)
- MLBENCH_PEER_MAX_CONCURRENCY: BentoML `traffic={"max_concurrency": N}` (default: unset, no limit)
- MLBENCH_PEER_THREADS: BentoML `threads`, the thread pool running sync APIs (default: BentoML's, 1)
- MLBENCH_PEER_ACCESS_LOG=0: `logging={"access": {"enabled": False}}` (default: on, BentoML's default)
- MLBENCH_PEER_METRICS=0: `metrics={"enabled": False}` (default: on, BentoML's default)
- MLBENCH_PEER_MAX_BATCH / MLBENCH_PEER_MAX_LATENCY_MS: batching limits (batched.py, asgi_batcher.py)
"""
from __future__ import annotations

import os

FEATURES = ["month", "day", "sched_dep_time", "sched_arr_time", "distance", "hour", "minute",
            "carrier", "origin", "dest"]


def service_config() -> dict:
    "Keyword arguments for `@bentoml.service` taken from the environment."
    cfg: dict = {"workers": int(os.environ.get("MLBENCH_PEER_WORKERS", "1"))}
    traffic: dict = {"timeout": 60}
    if os.environ.get("MLBENCH_PEER_MAX_CONCURRENCY"):
        traffic["max_concurrency"] = int(os.environ["MLBENCH_PEER_MAX_CONCURRENCY"])
    cfg["traffic"] = traffic
    if os.environ.get("MLBENCH_PEER_THREADS"):
        cfg["threads"] = int(os.environ["MLBENCH_PEER_THREADS"])
    if os.environ.get("MLBENCH_PEER_ACCESS_LOG") == "0":
        cfg["logging"] = {"access": {"enabled": False}}
    if os.environ.get("MLBENCH_PEER_METRICS") == "0":
        cfg["metrics"] = {"enabled": False}
    return cfg


def load_model():
    import joblib

    return joblib.load(os.environ["MLBENCH_SERVE_MODEL"])


def to_frame(rows: list[dict]):
    import pandas as pd

    return pd.DataFrame.from_records(rows, columns=FEATURES)
