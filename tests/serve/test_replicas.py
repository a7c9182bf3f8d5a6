"""Replicas sharing one monitor store: two `bentoml serve` processes on different ports (as behind a load balancer)
and one server with two worker processes, all writing one store (a folder, and PostgreSQL) at the same time. Every
request is counted once: none lost, none twice, no torn file."""
import asyncio

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mlbench as mb
from mlbench.data import logstore
from mlbench.serve import process as serving

pytestmark = pytest.mark.timeout(600)
N = 1500  # requests per replica (`pytest -m slow` runs the 5,000)


@pytest.fixture(scope="module")
def tag():
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.normal(size=2000), "b": rng.normal(size=2000), "n": rng.integers(0, 10, 2000)})
    y = (X["a"] + X["b"] > 0).astype(int)
    return mb.package(LogisticRegression().fit(X, y), "replica-model", reference=X)


async def _load(url: str, n: int, conc: int = 16) -> list[int]:
    rng = np.random.default_rng(abs(hash(url)) % 2**32)
    rows = [{"a": float(a), "b": float(b), "n": int(k)} for a, b, k in
            zip(rng.normal(size=n).clip(-3, 3), rng.normal(size=n).clip(-3, 3), rng.integers(0, 10, n))]
    codes: list[int] = []
    it = iter(rows)
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        async def worker():
            for row in it:
                r = await c.post("/predict", json={"rows": [row]})
                codes.append(r.status_code)
        await asyncio.gather(*(worker() for _ in range(conc)))
    return codes


def _run(urls, n):
    async def main():
        return await asyncio.gather(*(_load(u, n) for u in urls))
    return asyncio.run(main())


def _counted(name, store):
    st = logstore.stats(name, store)
    win = mb.monitor.windows(name, store=store, freq="1d")
    return int(st["requests"].sum()), int(st["rows"].sum()), int(win["requests"].sum()), st


def _replicas(tag, store, n):
    servers = [serving.serve(tag, monitor=store, flush_s=0.3) for _ in range(2)]
    try:
        codes = _run([s.url for s in servers], n)
    finally:
        for s in servers:
            s.stop()  # SIGTERM: each replica flushes what it holds
    assert [len(c) for c in codes] == [n, n] and {x for c in codes for x in c} == {200}
    requests, rows, merged, st = _counted(tag.split(":")[0], store)
    assert (requests, rows, merged) == (2 * n, 2 * n, 2 * n), st
    assert st["workers"].max() >= 2  # both replicas wrote into the same windows


@pytest.mark.parametrize("kind", ["folder", "postgres"])
def test_two_replicas_write_one_store(tag, tmp_path, request, kind):
    _replicas(tag, str(tmp_path / "mon") if kind == "folder" else request.getfixturevalue("postgres_url"), N)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["folder", "postgres"])
def test_two_replicas_5000_requests_each(tag, tmp_path, request, kind):
    _replicas(tag, str(tmp_path / "mon") if kind == "folder" else request.getfixturevalue("postgres_url"), 5000)


def test_one_server_with_two_workers(tag, tmp_path):
    store = str(tmp_path / "mon")
    srv = serving.serve(tag, monitor=store, flush_s=0.3, workers=2)
    try:
        (codes,) = _run([srv.url], N)
    finally:
        srv.stop()
    assert len(codes) == N and set(codes) == {200}
    requests, rows, merged, st = _counted(tag.split(":")[0], store)
    assert (requests, rows, merged) == (N, N, N), st
