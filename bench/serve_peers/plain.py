"""A plain hand-written BentoML 1.4 service without batching: one request, one `predict` call.

    MLBENCH_SERVE_MODEL=/tmp/model.joblib bentoml serve plain:Plain --working-dir bench/serve_peers --port 3000

POST /predict with {"rows": [{"month": 1, ..., "dest": "IAH"}]} -> [0]
"""
from __future__ import annotations

import bentoml

from _shared import load_model, service_config, to_frame


@bentoml.service(**service_config())
class Plain:
    def __init__(self) -> None:
        self.model = load_model()

    @bentoml.api
    def predict(self, rows: list[dict]) -> list[int]:
        return self.model.predict(to_frame(rows)).tolist()
