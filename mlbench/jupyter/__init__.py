"""mlbench's Jupyter server extension: the REST API of extension/API.md under `<base_url>mlbench/api/`, for the
JupyterLab side panel (models, runs, sweeps, monitors; Profile / Validate / Drift on files; reports in tabs)."""
# Enable it with `jupyter-config/server-config/mlbench.json`
# (`{"ServerApp": {"jpserver_extensions": {"mlbench.jupyter": true}}}`) or `--ServerApp.jpserver_extensions=...`.
#
# Dense mechanism, hand-written (not exported by nbdev), tested under tests/ (tests/test_jupyter_server.py).
# Only this subpackage imports jupyter_server and tornado, and only when the server loads it
# (`mlbench.jupyter.runner`, the child of a pipeline run, imports neither).
#
# Modules: `handlers` (the routes, thin), `state` (configuration, path confinement, masking, acknowledgements),
# `jobs` (long work off the event loop), `library` and `monitoring` (glue over the library), `runner`.
from __future__ import annotations

import atexit


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "mlbench.jupyter"}]


def _load_jupyter_server_extension(serverapp) -> None:
    "Register the handlers on `serverapp`; served models and jobs stop when the server exits."
    from mlbench.jupyter.handlers import setup
    from mlbench.jupyter.context import State

    root = getattr(getattr(serverapp, "contents_manager", None), "root_dir", None) or serverapp.root_dir
    state = State(root, serverapp.data_dir, serverapp.log)
    setup(serverapp.web_app, state)
    atexit.register(state.close)
    state.warm()
    serverapp.log.info("mlbench extension: API at %smlbench/api/ (root %s)", serverapp.base_url, state.root.path)


load_jupyter_server_extension = _load_jupyter_server_extension  # the name older jupyter_server versions look for
