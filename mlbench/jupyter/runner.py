"""The child process of a pipeline run started from JupyterLab: `python -m mlbench.jupyter.runner`, its arguments
as one JSON line on stdin (not argv, which other local users can read)."""
# It calls `mlbench.pipeline.run` and prints each progress event, then the result, as one JSON line prefixed with
# `@@mlbench ` on stdout (other output is ignored by the server). Exit 0 when the run finished (whatever its
# verdict), 2 when it could not run.
#
# Dense mechanism, hand-written (not exported by nbdev), tested under tests/ (tests/test_jupyter_server.py).
from __future__ import annotations

import json
import sys

MARK = "@@mlbench "


def emit(ev: dict) -> None:
    sys.stdout.write(MARK + json.dumps(ev, default=str) + "\n")
    sys.stdout.flush()


def main() -> int:
    args = json.loads(sys.stdin.readline())
    from mlbench.errors import MlbenchError
    from mlbench.pipeline import run

    try:
        r = run(args["pipeline"], params=args.get("params") or None, force=bool(args.get("force")),
                resume=args.get("resume"), root=args["root"], ledger=args.get("ledger"), trigger=args.get("trigger"),
                on_event=emit)
    except MlbenchError as e:
        emit({"event": "error", "error": f"{type(e).__name__}: {e}"})
        return 2
    emit({"event": "result", "run_id": r.run_id, "ok": r.ok, "failed_step": r.failed_step, "folder": r.folder})
    return 0


if __name__ == "__main__":
    sys.exit(main())
