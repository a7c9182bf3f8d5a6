"""What one server's mlbench handlers share: the root, the configuration, the executors, jobs, served models."""
# It sits above `state` (helpers, configuration, path confinement), `jobs` and `library`, which it starts and
# warms up, so none of them imports it: no cycle. Hand-written, tested under tests/jupyter.
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mlbench.jupyter.jobs import Jobs, warm
from mlbench.jupyter.library import _versions
from mlbench.jupyter.state import AckStore, Config, Root, log


class State:
    "Everything one server's mlbench handlers share."

    def __init__(self, root_dir, data_dir, log_=None):
        self.root = Root(root_dir)
        self.config = Config(self.root)
        self.log = log_ or log
        self.pool = ThreadPoolExecutor(4, thread_name_prefix="mlbench-request")  # reads: lists, details, reports
        self.jobs = Jobs(self)
        self.acks = AckStore(Path(data_dir) / "mlbench" / "alert-acks.sqlite")
        self.servers: dict = {}  # tag -> mlbench.serve.process.Server started from the browser
        self.servers_lock = threading.Lock()
        self.caches: dict = {}  # per-store caches of the library glue (see library.py)
        self.closed = False

    def warm(self) -> None:
        "Import BentoML and list the model store in the background, so the first answers need not."
        def run():
            try:
                warm()  # the fork server of the data jobs
            except Exception as e:  # noqa: BLE001 - the first job will try again, and say why
                self.log.warning("mlbench: the jobs' fork server did not start: %s", e)
            try:
                self.config.model_home()
                _versions(self)  # the first models page reads every model.yaml once
            except Exception as e:  # noqa: BLE001 - no BentoML or a damaged store: the model endpoints say so
                self.log.info("mlbench: model store not available: %s", e)
        self.pool.submit(run)

    def close(self) -> None:
        "Stop served models, cancel jobs, shut the executors down (at server exit, or a test's end)."
        if self.closed:
            return
        self.closed = True
        with self.servers_lock:
            servers, self.servers = list(self.servers.values()), {}
        for srv in servers:
            try:
                srv.stop(timeout=10)
            except Exception as e:  # noqa: BLE001 - best effort at exit
                self.log.warning("mlbench: could not stop %r: %s", srv, e)
        self.jobs.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
