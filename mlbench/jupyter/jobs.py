"""Jobs of the mlbench Jupyter extension: profile, validate, drift and verify each in a child process, pipeline
runs in a child of their own (`runner.py`); each with state, progress, a result, an error and an HTML report."""
# Profile, validate, drift and verify run in children forked from a fork server (at most two at a time, the
# others queue). A child holds no lock of the server's (the event loop keeps answering while a big file is
# profiled), its memory goes when it ends, and it is cancelled with a signal to its process group.
#
# Dense mechanism, hand-written (not exported by nbdev), tested under tests/ (tests/test_jupyter_server.py).
from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from mlbench.jupyter.state import ApiError, mask, now, plain

KEEP = 100  # finished jobs kept in memory
CHUNK_ROWS = 250_000  # rows per chunk when profiling a file (progress and cancellation between chunks)
MARK = "@@mlbench "  # prefix of the runner child's event lines on its stdout


class Cancelled(Exception):
    "The job was cancelled (DELETE jobs/<id>, or the server stopping)."


@dataclass
class Job:
    id: str
    kind: str
    state: str = "queued"
    progress: float | None = None
    message: str = ""
    result: dict | None = None
    error: str | None = None
    started: str | None = None
    finished: str | None = None
    report: str | None = field(default=None, repr=False)  # HTML
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    proc: object = field(default=None, repr=False)  # the runner child of a pipeline run
    steps: list = field(default_factory=list, repr=False)  # a pipeline run's steps, in order
    seen: dict = field(default_factory=dict, repr=False)  # step -> last status seen in the run's events

    def check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("cancelled")

    def to_dict(self) -> dict:
        return plain({"id": self.id, "kind": self.kind, "state": self.state, "progress": self.progress,
                      "message": mask(self.message), "result": self.result, "error": mask(self.error),
                      "started": self.started,
                      "finished": self.finished, "has_report": self.report is not None})


class Jobs:
    "The jobs of one server: two threads follow the data jobs' children (the others queue); runs start at once."

    def __init__(self, state):
        self.state, self.log = state, state.log
        self.pool = ThreadPoolExecutor(2, thread_name_prefix="mlbench-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def _new(self, kind: str) -> Job:
        job = Job(f"{kind}-{next(self._ids)}-{os.urandom(3).hex()}", kind, started=now())
        with self._lock:
            self._jobs[job.id] = job
            done = [j for j in self._jobs.values() if j.state in ("done", "error")]
            for j in done[:max(0, len(done) - KEEP)]:
                del self._jobs[j.id]
        return job

    def submit(self, kind: str, fn, *args) -> Job:
        "Run `fn(job, *args)` -> (result, report_html) in a child process, at most two at a time."
        job = self._new(kind)
        self.pool.submit(self._main, job, fn, args)
        return job

    def _main(self, job: Job, fn, args) -> None:
        "Start the job's child and follow its messages: progress, then its result or its error."
        proc = None
        try:
            job.check()
            ctx = _context()
            r, w = ctx.Pipe(duplex=False)
            proc = _Proc(ctx.Process(target=_child, args=(w, fn, args), name=f"mlbench-{job.id}"))
            proc.p.start()
            w.close()
            job.proc, job.state = proc, "running"
            if job.cancel.is_set():  # cancelled while it started
                _kill(proc)
            with r:
                while True:
                    try:
                        msg = r.recv()
                    except (EOFError, OSError):
                        break
                    if msg[0] == "set" and msg[1] in ("progress", "message"):
                        setattr(job, msg[1], msg[2])
                    elif msg[0] == "done":
                        job.result, job.report, job.state, job.progress = msg[1], msg[2], "done", 1.0
                    elif msg[0] == "error":
                        job.state, job.error = "error", msg[1]
                        (self.log.info if msg[3] else self.log.error)("mlbench job %s failed: %s", job.id, msg[2])
            proc.p.join()
            if job.state == "running":
                job.state, job.error = "error", ("cancelled" if job.cancel.is_set() else
                                                 f"the job's process ended without an answer (exit code {proc.p.exitcode})")
        except Cancelled:
            job.state, job.error = "error", "cancelled"
        except Exception as e:  # noqa: BLE001 - a job's failure is its answer, never the server's
            job.state, job.error = "error", f"{type(e).__name__}: {e}"
            self.log.error("mlbench job %s failed:\n%s", job.id, traceback.format_exc())
        finally:
            job.finished = now()

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"job: no job {job_id!r} on this server (jobs live in memory until it stops)")
        return job

    def all(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: (j.started or "", j.id), reverse=True)

    def running(self) -> int:
        return sum(j.state in ("queued", "running") for j in list(self._jobs.values()))

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        job.cancel.set()
        if job.proc is not None and job.proc.poll() is None:
            _kill(job.proc)
        return job

    def run_for(self, run_id: str) -> Job | None:
        "This server's job running pipeline run `run_id`, if any."
        for j in list(self._jobs.values()):
            if j.kind == "run" and (j.result or {}).get("run_id") == run_id:
                return j
        return None

    def close(self) -> None:
        for j in list(self._jobs.values()):
            j.cancel.set()
            if j.proc is not None and j.proc.poll() is None:
                _kill(j.proc, wait=2)
        self.pool.shutdown(wait=False, cancel_futures=True)

    # --- pipeline runs: a child process per run ----------------------------------------------
    def start_run(self, pipeline: Path, steps: list, params: dict, force: bool, resume: str | None, root: Path,
                  ledger: str | None, cwd: Path) -> Job:
        job = self._new("run")
        job.steps, job.state, job.message = list(steps), "running", "starting"
        args = {"pipeline": str(pipeline), "params": params, "force": force, "resume": resume, "root": str(root),
                "ledger": ledger, "trigger": "jupyter"}
        err = tempfile.TemporaryFile()
        job.proc = subprocess.Popen([sys.executable, "-m", "mlbench.jupyter.runner"], cwd=cwd, stdout=subprocess.PIPE,
                                    stderr=err, stdin=subprocess.PIPE, start_new_session=True, text=True, bufsize=1)
        job.proc.stdin.write(json.dumps(args) + "\n")  # on stdin, not argv: a ledger URL's password stays private
        job.proc.stdin.close()
        threading.Thread(target=self._follow, args=(job, err), daemon=True, name=f"mlbench-{job.id}").start()
        return job

    def _follow(self, job: Job, err) -> None:
        "Read the runner's events until it exits; the job's state follows them."
        proc, final = job.proc, None
        try:
            for line in proc.stdout:
                if not line.startswith(MARK):
                    continue
                try:
                    ev = json.loads(line[len(MARK):])
                except ValueError:
                    continue
                kind = ev.get("event")
                if kind == "run_start":
                    job.result = {"run_id": ev.get("run_id")}
                    job.message = f"run {ev.get('run_id')} started"
                elif kind in ("step_start", "step_end"):
                    job.seen[ev.get("step")] = "RUNNING" if kind == "step_start" else ev.get("status")
                    ended = sum(s != "RUNNING" for s in job.seen.values())
                    job.progress = ended / len(job.steps) if job.steps else None
                    job.message = f"{ev.get('step')}: {job.seen[ev.get('step')].lower()}"
                elif kind in ("result", "error"):
                    final = ev
            code = proc.wait()
        finally:
            proc.stdout.close()
        err.seek(0)
        tail = err.read()[-4000:].decode(errors="replace")
        err.close()
        job.finished = now()
        if final is not None and final.get("event") == "result":
            job.result = {k: final.get(k) for k in ("run_id", "ok", "failed_step", "folder")}
            job.result["folder"] = self.state.root.rel(final.get("folder"))
            job.state, job.progress = "done", 1.0
            job.message = "succeeded" if final.get("ok") else f"failed at step {final.get('failed_step')!r}"
        else:
            job.state = "error"
            job.error = ("cancelled" if job.cancel.is_set() else final.get("error") if final else
                         f"the pipeline runner exited with code {code}: {tail.strip()[-1000:]}")
            if not job.cancel.is_set() and final is None:
                self.log.error("mlbench run job %s: runner exited with %s\n%s", job.id, code, tail)


def _kill(proc, wait: float = 10) -> None:
    "SIGTERM the child's process group (the child alone if it has none yet), SIGKILL after `wait` seconds."
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return

    def later():
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return
            time.sleep(0.1)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    threading.Thread(target=later, daemon=True).start()


# --- data jobs in child processes ----------------------------------------------------------
_CTX = None
_PRELOAD = ["mlbench.jupyter.jobs", "mlbench.data.profile", "mlbench.drift.report", "mlbench.data.validate", "mlbench.data.load"]


def _context():
    """The multiprocessing context of data jobs: a fork server that imported mlbench once (a job starts in
    milliseconds, from a single-threaded process, not from the server's threads); spawn where there is none."""
    global _CTX
    if _CTX is None:
        import multiprocessing as mp

        try:
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)
        except ValueError:
            ctx = mp.get_context("spawn")
        _CTX = ctx
    return _CTX


def warm() -> None:
    "Start the fork server ahead of the first job."
    ctx = _context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


class _Proc:
    "A multiprocessing.Process with the `pid` / `poll()` of a Popen, for `_kill`."

    def __init__(self, p):
        self.p = p

    @property
    def pid(self):
        return self.p.pid

    def poll(self):
        return self.p.exitcode


class _Remote:
    "The job as its child process sees it: `progress` and `message` go back to the server over the pipe."

    def __init__(self, conn):
        object.__setattr__(self, "_conn", conn)

    def __setattr__(self, key, value):
        self._conn.send(("set", key, value))

    def check(self) -> None:  # a child is cancelled by a signal
        pass


def _child(conn, fn, args) -> None:
    "Body of a job's process: its own process group (cancelled as one), a lower CPU priority than the server's."
    from mlbench.errors import MlbenchError

    os.setpgrp()
    try:
        os.nice(5)
    except OSError:
        pass
    try:
        result, html = fn(_Remote(conn), *args)
        conn.send(("done", plain(result), html))
    except Exception as e:  # noqa: BLE001 - sent to the server as the job's error
        expected = isinstance(e, (MlbenchError, ValueError, TypeError, KeyError, OSError))
        conn.send(("error", f"{type(e).__name__}: {e}", traceback.format_exc(), expected))
    finally:
        conn.close()


# --- the data actions ---------------------------------------------------------------------
def _estimate_rows(path: Path) -> int | None:
    "Rows of a CSV (size / mean line length of its first MiB) or Parquet file (its metadata); None for folders."
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if path.suffix.lower() in (".csv", ".tsv", ".txt"):
            with open(path, "rb") as f:
                head = f.read(1 << 20)
            lines = head.count(b"\n")
            return max(1, int(path.stat().st_size / (len(head) / lines))) if lines else None
    except (OSError, ValueError, ImportError):
        return None
    return None


def _data(path: Path):
    "A saved profile (.mbp) as is, else the data loaded whole (as `mlbench validate` and `mlbench drift` do)."
    from mlbench.data.load import load
    from mlbench.data.profile import Profile

    return Profile.load(path) if path.suffix == ".mbp" else load(str(path))


def profile_job(job: Job, path: Path, rel: str):
    from mlbench.data.load import scan
    from mlbench.data.profile import Profile, profile

    if path.suffix == ".mbp":
        job.message = "reading the saved profile"
        p = Profile.load(path)
    else:
        total, seen = _estimate_rows(path), [0]

        def chunks():
            for c in scan(str(path), chunk_rows=CHUNK_ROWS):
                job.check()
                seen[0] += len(c)
                job.progress = min(0.99, seen[0] / total) if total else None
                job.message = f"{seen[0]:,} rows read"
                yield c
            job.check()

        job.message = "reading"
        p = profile(chunks())
    job.message = "writing the report"
    f = p.to_frame()
    cols = [{"column": str(c), **{k: plain(v) for k, v in r.items()}} for c, r in
            zip(f.index[:500], f.head(500).to_dict("records"))] if len(f) else []
    html = p.to_html(title=f"Profile of {rel}")
    return {"path": rel, "n_rows": p.n_rows, "n_columns": len(p.columns), "warnings": plain(p.warnings()),
            "columns": cols}, html


def validate_job(job: Job, path: Path, rel: str, suite_path: Path, suite_rel: str):
    from mlbench.data.validate import Suite

    job.message = "reading the suite"
    suite = Suite.load(suite_path)
    job.message, job.progress = "reading the data", 0.1
    data = _data(path)
    job.check()
    job.message, job.progress = "checking", 0.6
    res = suite.validate(data)
    f = res.to_frame()
    return ({"path": rel, "suite": suite_rel, "ok": res.ok, "failures": len(res.failures), "warnings": len(res.warnings),
             "checks": plain(f.astype(object).where(f.notna(), None).to_dict("records"))},
            res.to_html(title=f"Validation of {rel}"))


def drift_job(job: Job, ref: Path, ref_rel: str, cur: Path, cur_rel: str):
    from mlbench.drift.report import drift

    job.message, job.progress = "reading the reference", 0.05
    a = _data(ref)
    job.check()
    job.message, job.progress = "reading the current data", 0.3
    b = _data(cur)
    job.check()
    job.message, job.progress = "testing", 0.6
    rep = drift(a, b)
    return ({"reference": ref_rel, "current": cur_rel, **json.loads(rep.to_json())},
            rep.to_html(title=f"Drift: {cur_rel} vs {ref_rel}"))


def verify_job(job: Job, tag: str):
    from mlbench.serve import rollout

    job.message = f"serving {tag} and replaying its golden set"
    return rollout.verify(tag).to_dict(), None
