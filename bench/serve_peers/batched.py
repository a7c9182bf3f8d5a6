"""The same model behind BentoML's adaptive batching (`@bentoml.api(batchable=True)`).

Each request carries a list of rows; BentoML's dispatcher concatenates the lists of the requests it
groups (batch_dim 0), calls `predict` once on the concatenation and splits the returned list back by
each request's length.

    MLBENCH_SERVE_MODEL=/tmp/model.joblib bentoml serve batched:Batched --working-dir bench/serve_peers --port 3001
"""
from __future__ import annotations

import os

import bentoml

from _shared import load_model, service_config, to_frame

MAX_BATCH = int(os.environ.get("MLBENCH_PEER_MAX_BATCH", "64"))
MAX_LATENCY_MS = int(os.environ.get("MLBENCH_PEER_MAX_LATENCY_MS", "1000"))


@bentoml.service(**service_config())
class Batched:
    def __init__(self) -> None:
        self.model = load_model()

    @bentoml.api(batchable=True, max_batch_size=MAX_BATCH, max_latency_ms=MAX_LATENCY_MS)
    def predict(self, rows: list[dict]) -> list[int]:
        return self.model.predict(to_frame(rows)).tolist()
