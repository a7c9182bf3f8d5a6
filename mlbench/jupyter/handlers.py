"""REST handlers of the mlbench Jupyter server extension (the contract is extension/API.md)."""
# Thin: each handler checks its input, then calls mlbench's library (through the small glue of `library.py` and
# `monitoring.py`) in a thread pool, so the event loop stays free; long work becomes a job (`jobs.py`). Every
# handler is authenticated (`@tornado.web.authenticated`) and authorized (`@authorized`, resource "mlbench");
# jupyter_server checks XSRF on POST/DELETE of cookie-authenticated requests.
#
# Dense mechanism, hand-written (not exported by nbdev), tested under tests/ (tests/test_jupyter_server.py).
from __future__ import annotations

import functools
import json
import traceback
from pathlib import Path

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado.ioloop import IOLoop

from mlbench.jupyter import jobs as J
from mlbench.jupyter import library as L
from mlbench.jupyter import monitoring as M
from mlbench.jupyter.state import ApiError, dumps, mask, page_args

# A report runs inside an opaque-origin sandbox (no access to the Jupyter token or cookies) and may load nothing
# from the network: what the library writes is self-contained and offline.
REPORT_CSP = ("sandbox allow-scripts allow-popups allow-downloads; default-src 'none'; "
              "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; "
              "font-src data:; frame-ancestors 'self'")


def api(method):
    "Answer ApiError with its status, library errors with 400, anything else with a logged 500."
    @functools.wraps(method)
    async def inner(self, *args, **kwargs):
        from mlbench.errors import MlbenchError

        try:
            return await method(self, *args, **kwargs)
        except ApiError as e:
            self.fail(e.status, e.message)
        except MlbenchError as e:
            self.fail(400, str(e))
        except ImportError as e:  # an optional dependency of the library is not installed
            self.fail(501, f"this needs a library that is not installed: {e} (mlbench's optional extras, e.g. "
                      "pip install 'mlbench[serve,tune,pipeline,dashboard]')")
        except Exception as e:  # noqa: BLE001 - logged with its traceback, answered as JSON
            self.log.error("mlbench: %s %s failed:\n%s", self.request.method, self.request.path, traceback.format_exc())
            self.fail(500, f"internal error: {type(e).__name__}: {e}")
    return inner


class Base(APIHandler):
    auth_resource = "mlbench"

    @property
    def st(self):
        return self.settings["mlbench"]

    async def call(self, fn, *args):
        "`fn(*args)` in the server's thread pool."
        return await IOLoop.current().run_in_executor(self.st.pool, fn, *args)

    def body(self) -> dict:
        if not self.request.body:
            return {}
        try:
            b = json.loads(self.request.body)
        except ValueError as e:
            raise ApiError(400, f"body: not valid JSON ({e})") from None
        if not isinstance(b, dict):
            raise ApiError(400, "body: needs a JSON object")
        return b

    def paging(self) -> tuple[int, int]:
        "(offset, limit) from the query string, checked."
        return page_args(self.get_argument("offset", None), self.get_argument("limit", None))

    def who(self) -> str | None:
        u = self.current_user
        return getattr(u, "username", None) or getattr(u, "name", None) or (u if isinstance(u, str) else None)

    def reply(self, obj, status: int = 200) -> None:
        self.set_status(status)
        self.finish(dumps(obj))

    def fail(self, status: int, message: str) -> None:
        message = mask(message)
        if status >= 500:
            self.log.error("mlbench: %s", message)
        else:
            self.log.info("mlbench: %s %s -> %s: %s", self.request.method, self.request.path, status, message)
        self.clear()
        self.set_status(status)
        self.finish(json.dumps({"error": message, "status": status}))

    def write_error(self, status_code: int, **kwargs) -> None:
        "Errors raised before the handler runs (403 of authentication and authorization, 404, XSRF) as our JSON."
        e = (kwargs.get("exc_info") or (None, None, None))[1]
        msg = getattr(e, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": msg, "status": status_code}))


class HtmlBase(Base):
    @property
    def content_security_policy(self) -> str:
        return REPORT_CSP

    def html(self, text: str) -> None:
        self.finish(text, set_content_type="text/html; charset=utf-8")


# --- status and configuration -------------------------------------------------------------
class Status(Base):
    _track_activity = False  # polling must not keep an idle server alive

    @tornado.web.authenticated
    @authorized
    @api
    async def get(self):
        from mlbench import __version__

        st = self.st
        self.reply({"version": __version__, "root_dir": str(st.root.path), "config": st.config.public(fast=True),
                    "jobs_running": st.jobs.running()})


class ConfigH(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self):
        self.reply(await self.call(self.st.config.public))

    @tornado.web.authenticated
    @authorized
    @api
    async def post(self):
        body = self.body()
        self.reply(await self.call(self.st.config.update, body))


# --- models -------------------------------------------------------------------------------
def _tag(name: str, version: str) -> str:
    return f"{name}:{version}"


class Models(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self):
        off, lim = self.paging()
        self.reply(await self.call(L.models_page, self.st, off, lim, self.get_argument("name", None)))


class Model(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self, name, version):
        self.reply(await self.call(L.model_detail, self.st, _tag(name, version)))


class Promote(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def post(self, name, version):
        body = self.body()
        self.reply(await self.call(L.promote, self.st, _tag(name, version), body, self.who()))


class Serve(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self, name, version):
        pm = await self.call(L.packaged, _tag(name, version))
        s = await self.call(L.serving_state, self.st, pm.tag)
        self.reply(s if s is not None else {"serving": None})

    @tornado.web.authenticated
    @authorized
    @api
    async def post(self, name, version):
        port = self.body().get("port")
        if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535):
            raise ApiError(400, f"port: {port!r} must be an integer in 1024..65535")
        st = self.st
        pm = await self.call(L.packaged, _tag(name, version))
        cur = st.servers.get(pm.tag)
        if cur is not None and cur.proc.poll() is None:
            raise ApiError(409, f"model {pm.tag}: already served at {cur.url} (pid {cur.proc.pid})")

        def start():
            from mlbench.serve import process as serving

            srv = serving.serve(pm.tag, port=port, monitor=st.config.effective()["monitor_store"])
            with st.servers_lock:
                st.servers[pm.tag] = srv
            return L.serving_state(st, pm.tag)
        try:
            self.reply(await self.call(start))
        except Exception as e:  # ServeError, a busy port: the server did not come up
            from mlbench.serve.batcher import ServeError

            if not isinstance(e, ServeError):
                raise
            raise ApiError(409, f"model {pm.tag}: could not be served: {str(e)[:2000]}") from None

    @tornado.web.authenticated
    @authorized
    @api
    async def delete(self, name, version):
        st = self.st
        pm = await self.call(L.packaged, _tag(name, version))
        with st.servers_lock:
            srv = st.servers.pop(pm.tag, None)
        if srv is None:
            raise ApiError(404, f"model {pm.tag}: not served from this server")
        await self.call(srv.stop)
        self.reply({"stopped": True})


class Verify(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def post(self, name, version):
        pm = await self.call(L.packaged, _tag(name, version))
        self.reply(self.st.jobs.submit("verify", J.verify_job, pm.tag).to_dict())


# --- runs ---------------------------------------------------------------------------------
class Runs(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self):
        off, lim = self.paging()
        self.reply(await self.call(L.runs_page, self.st, off, lim))

    @tornado.web.authenticated
    @authorized
    @api
    async def post(self):
        st, b = self.st, self.body()
        path = st.root.resolve(b.get("pipeline"), "pipeline")
        if not path.is_file():
            raise ApiError(400, f"pipeline: {b.get('pipeline')!r} is not a file")
        force, resume, params = b.get("force", False), b.get("resume"), b.get("params") or {}
        if not isinstance(force, bool):
            raise ApiError(400, f"force: needs true or false, got {force!r}")
        if resume is not None and (not isinstance(resume, str) or not resume):
            raise ApiError(400, f"resume: needs a run id, got {resume!r}")
        if not isinstance(params, dict):
            raise ApiError(400, f"params: needs a JSON object of parameter values, got {type(params).__name__}")

        def check():
            from mlbench.pipeline import Pipeline, PipelineError

            try:
                steps = [s.name for s in Pipeline.load(path).order()]
            except PipelineError as e:
                raise ApiError(400, f"pipeline: {e}") from None
            if resume:
                L.run_detail(st, resume)  # 404 when the ledger has no such run
            return steps
        steps = await self.call(check)
        cfg = st.config.effective()
        job = st.jobs.start_run(path, steps, params, force, resume, Path(cfg["runs_root"]), cfg["ledger"], st.root.path)
        self.reply(job.to_dict())


class Run(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self, run_id):
        self.reply(await self.call(L.run_detail, self.st, run_id))


# --- sweeps -------------------------------------------------------------------------------
class Sweeps(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self):
        off, lim = self.paging()
        self.reply(await self.call(L.sweeps_page, self.st, off, lim))


class SweepH(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self, name):
        self.reply(await self.call(L.sweep_detail, self.st, name))


# --- monitor ------------------------------------------------------------------------------
class Monitor(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self):
        self.reply(await self.call(M.summary, self.st))


class Alerts(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self):
        off, lim = self.paging()
        self.reply(await self.call(M.alerts_page, self.st, self.get_argument("model", None), off, lim))


class Ack(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def post(self):
        body = self.body()
        self.reply(await self.call(M.acknowledge, self.st, body, self.who()))


class Dashboard(HtmlBase):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self):
        self.html(await self.call(M.dashboard_html, self.st, self.get_argument("model", None)))


# --- data actions and reports -------------------------------------------------------------
class Profile(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def post(self):
        st, b = self.st, self.body()
        path = st.root.resolve(b.get("path"), "path")
        if path.is_dir():
            await self.call(st.root.contained, path, "path", b["path"])
        self.reply(st.jobs.submit("profile", J.profile_job, path, st.root.rel(path)).to_dict())


class Validate(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def post(self):
        st, b = self.st, self.body()
        path = st.root.resolve(b.get("path"), "path")
        suite = st.root.resolve(b.get("suite"), "suite")
        if path.is_dir():
            await self.call(st.root.contained, path, "path", b["path"])
        if not suite.is_file():
            raise ApiError(400, f"suite: {b.get('suite')!r} is not a file")
        self.reply(st.jobs.submit("validate", J.validate_job, path, st.root.rel(path), suite,
                                  st.root.rel(suite)).to_dict())


class Drift(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def post(self):
        st, b = self.st, self.body()
        ref = st.root.resolve(b.get("reference"), "reference")
        cur = st.root.resolve(b.get("current"), "current")
        for p, field in ((ref, "reference"), (cur, "current")):
            if p.is_dir():
                await self.call(st.root.contained, p, field, b[field])
        self.reply(st.jobs.submit("drift", J.drift_job, ref, st.root.rel(ref), cur, st.root.rel(cur)).to_dict())


class NewPipeline(Base):
    @tornado.web.authenticated
    @authorized
    @api
    async def post(self):
        st, b = self.st, self.body()
        dest = st.root.resolve(b.get("dir"), "dir", must_exist=False)
        if dest == st.root.path:
            raise ApiError(400, "dir: name a folder below the server root, not the root itself")
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise ApiError(409, f"dir: {b['dir']!r} already exists and is not an empty folder")

        def make():
            from mlbench.cli import init_pipeline

            return init_pipeline("flights", dest)
        self.reply({"pipeline": st.root.rel(await self.call(make))})


class Report(HtmlBase):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self):
        rel = self.get_argument("path", None)
        path = self.st.root.resolve(rel, "path")
        if not path.is_file():
            raise ApiError(400, f"path: {rel!r} is not a file")
        self.html(await self.call(L.report_html, path, rel))


# --- jobs ---------------------------------------------------------------------------------
class JobsH(Base):
    _track_activity = False

    @tornado.web.authenticated
    @authorized
    @api
    async def get(self):
        off, lim = self.paging()
        jobs = self.st.jobs.all()
        self.reply({"items": [j.to_dict() for j in jobs[off:off + lim]], "total": len(jobs), "offset": off,
                    "limit": lim})


class JobH(Base):
    _track_activity = False

    @tornado.web.authenticated
    @authorized
    @api
    async def get(self, job_id):
        self.reply(self.st.jobs.get(job_id).to_dict())

    @tornado.web.authenticated
    @authorized
    @api
    async def delete(self, job_id):
        self.reply(self.st.jobs.cancel(job_id).to_dict())


class JobReport(HtmlBase):
    @tornado.web.authenticated
    @authorized
    @api
    async def get(self, job_id):
        job = self.st.jobs.get(job_id)
        if job.report is None:
            raise ApiError(404, f"job {job_id}: no report ({job.kind} jobs have none)" if job.kind in ("verify", "run")
                           else f"job {job_id}: no report yet (state {job.state})")
        self.html(job.report)


ROUTES = [
    (r"status", Status), (r"config", ConfigH),
    (r"models", Models), (r"models/([^/]+)/([^/]+)", Model), (r"models/([^/]+)/([^/]+)/promote", Promote),
    (r"models/([^/]+)/([^/]+)/serve", Serve), (r"models/([^/]+)/([^/]+)/verify", Verify),
    (r"runs", Runs), (r"runs/([^/]+)", Run),
    (r"sweeps", Sweeps), (r"sweeps/(.+)", SweepH),
    (r"monitor", Monitor), (r"monitor/alerts", Alerts), (r"monitor/alerts/ack", Ack), (r"monitor/dashboard", Dashboard),
    (r"profile", Profile), (r"validate", Validate), (r"drift", Drift), (r"pipeline/new", NewPipeline),
    (r"report", Report),
    (r"jobs", JobsH), (r"jobs/([^/]+)", JobH), (r"jobs/([^/]+)/report", JobReport),
]


def setup(web_app, state) -> None:
    "Register the handlers under <base_url>mlbench/api/ and hand them the state."
    web_app.settings["mlbench"] = state
    base = url_path_join(web_app.settings["base_url"], "mlbench", "api")
    web_app.add_handlers(".*$", [(url_path_join(base, pattern) + "/?$", handler) for pattern, handler in ROUTES])
