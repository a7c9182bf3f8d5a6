"""Sketch: a Starlette app with its own small asyncio batcher, mounted inside a BentoML service.

BentoML still runs the server (process management, /readyz, /livez, /metrics); the request path is
Starlette's: the handler parses the JSON body, puts each row on an asyncio queue and awaits a future.
One task drains the queue: it takes whatever is waiting (up to MAX_BATCH rows, never waiting for
more), runs one `model.predict` on them in a worker thread, and resolves the futures. While a batch is
being predicted the next one gathers, so the batch size follows the load with no timer to tune.

    MLBENCH_SERVE_MODEL=/tmp/model.joblib bentoml serve asgi_batcher:AsgiBatcher --working-dir bench/serve_peers

POST /predict with {"rows": [...]} -> [0, ...]   (same contract as plain.py and batched.py)

`standalone` is the same Starlette app without BentoML, for reference (the model loads at startup):

    MLBENCH_SERVE_MODEL=/tmp/model.joblib uvicorn asgi_batcher:standalone --app-dir bench/serve_peers --no-access-log
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os

import bentoml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from _shared import load_model, service_config, to_frame

MAX_BATCH = int(os.environ.get("MLBENCH_PEER_MAX_BATCH", "64"))
# "loop": predict on the event loop (it blocks while requests queue in the socket buffers);
# "thread": asyncio.to_thread, the loop keeps accepting while the model runs, both contend for the GIL
PREDICT_IN = os.environ.get("MLBENCH_PEER_PREDICT_IN", "loop")


class Batcher:
    def __init__(self, predict, max_batch: int = MAX_BATCH) -> None:
        self.predict = predict
        self.max_batch = max_batch
        self.queue: asyncio.Queue | None = None
        self.task: asyncio.Task | None = None

    async def submit(self, rows: list[dict]) -> list:
        if self.task is None:  # created lazily, on the event loop of the worker that serves requests
            self.queue = asyncio.Queue()
            self.task = asyncio.get_running_loop().create_task(self._run())
        fut = asyncio.get_running_loop().create_future()
        await self.queue.put((rows, fut))
        return await fut

    async def _run(self) -> None:
        q = self.queue
        while True:
            jobs = [await q.get()]
            await asyncio.sleep(0)  # let the other requests already read reach the queue
            n = len(jobs[0][0])
            while n < self.max_batch and not q.empty():
                job = q.get_nowait()
                jobs.append(job)
                n += len(job[0])
            rows = [r for job, _ in jobs for r in job]
            try:
                if PREDICT_IN == "thread":
                    preds = await asyncio.to_thread(self.predict, rows)
                else:
                    preds = self.predict(rows)
            except Exception as exc:  # every waiting request gets the error
                for _, fut in jobs:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            i = 0
            for job, fut in jobs:
                if not fut.done():
                    fut.set_result(preds[i:i + len(job)])
                i += len(job)


async def predict_route(request: Request) -> Response:
    try:
        rows = json.loads(await request.body())["rows"]
        if not isinstance(rows, list):
            raise TypeError("rows must be a list")
    except Exception as exc:
        return JSONResponse({"error": f"bad request: {exc}"}, status_code=400)
    batcher = _standalone_batcher or bentoml.get_current_service().batcher
    return JSONResponse(await batcher.submit(rows))


def _predictor():
    model = load_model()
    return lambda rows: model.predict(to_frame(rows)).tolist()


app = Starlette(routes=[Route("/predict", predict_route, methods=["POST"])])

_standalone_batcher: Batcher | None = None


@contextlib.asynccontextmanager
async def _lifespan(_app):
    global _standalone_batcher
    _standalone_batcher = Batcher(_predictor())
    yield


async def _ready(_request: Request) -> Response:
    return PlainTextResponse("\n")


standalone = Starlette(routes=[Route("/predict", predict_route, methods=["POST"]),
                               Route("/readyz", _ready, methods=["GET"])], lifespan=_lifespan)


@bentoml.asgi_app(app, path="/")
@bentoml.service(**service_config())
class AsgiBatcher:
    def __init__(self) -> None:
        self.batcher = Batcher(_predictor())
