"""Benchmark: first paint of the mlbench JupyterLab sidebar over a large model store and ledger.

Target (the issue): the sidebar's first paint <= 1 s after the Lab page is up, with 1,000 model
versions and 10,000 pipeline runs.

World, built once and cached under bench/_data/lab-m<models>-r<runs>/ (git-ignored; `--reseed`
rebuilds it):
  - a BentoML model store with `--models` (1,000) versions of `--names` (20) model names, every
    one a real `mb.package` of a small fitted LogisticRegression (200 rows x 3 features:
    profile, suite, golden set, hashes, registry row). mlbench's registry has no cheap way to
    copy a version under a new tag (`import_model` of an exported archive keeps its tag), so
    every version is packaged; `--workers` processes (default: the CPU count) share the work.
    Per name, one version is promoted to production, a newer one replaces it (the first is
    archived) and another goes to staging: the sidebar shows every kind of badge.
  - a lineage ledger (SQLite) with `--runs` (10,000) runs of 2 steps each (a run row, its step
    rows and their file fingerprints, as mlbench.pipeline.run records them; starts spread over a
    year, ~8% of runs fail at `fit`). The Ledger has no bulk method: its `start_run` /
    `record_step` / `write` are one transaction each (4 per run: ~7 ms a run on a quiet machine,
    ~34 ms while the packaging workers run, so 1-6 minutes for 10,000). By default the same rows
    go in one transaction through the Ledger's own `engine` and `meta.tables` (SQLAlchemy Core
    inserts on its schema, no SQL text; ~1 s); `--ledger-per-row` writes them through the
    methods instead (the two give identical tables).
Each bench run copies the world into a temporary folder (the cache stays untouched), starts
`jupyter lab` on loopback with the mlbench server extension (tests/lab_helpers.start_lab: the
store is its $BENTOML_HOME, the ledger is at <root>/runs/lineage.sqlite, the server's default),
then, `--reps` (5) times, a fresh page (own browser context: no HTTP cache, new workspace) in
headless /usr/bin/chromium through Playwright:
  1. load /lab and wait until the Lab shell is up: splash gone, main dock panel and launcher
     visible, the mlbench tab in the left bar;
  2. click the mlbench sidebar icon;
  3. wait until the first model row and the first run row are visible.
Times come from the page itself (performance.now(), a requestAnimationFrame loop from document
start: a row counts as painted in the first frame it is visible; the click is the page's own
pointerdown, which is what Lumino's tab bar acts on): from the click and from page load (navigation start). The first repetition is
the first request after the server started (its per-name model list cache is cold). Then the
two REST calls the question is about, `GET /mlbench/api/models?limit=50` and
`GET /mlbench/api/runs?limit=50`, are timed directly (httpx, one keep-alive client), alternating,
median of `--rest-reps` (20). Correctness first: each page's model list says `--models`
versions and the run list `--runs` runs, and their first rows are the API's first items, which
must be the library's newest version (`mb.models.list()`) and the ledger's newest run.

    flock /tmp/mlbench-heavy.lock .venv/bin/python bench/lab.py           # seeding once ~4 min, then ~30 s
    .venv/bin/python bench/lab.py --models 60 --runs 300 --reps 2         # quick (seeding ~20 s once)

Human-readable lines first, one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
from lab_helpers import CHROMIUM, CHROMIUM_ARGS, JUPYTER_LAB, start_lab  # noqa: E402

SEED_VERSION = 1  # bump when the seeded world changes: a cache of another version is rebuilt
TARGET_MS = 1000
STEPS = ("load", "fit")
SIDEBAR_TAB = '.jp-SideBar .lm-TabBar-tab[data-id="mlbench-sidebar"]'
MODEL_ROW = '[data-testid="mlbench-section-models"] [data-testid="mlbench-model-row"]'
RUN_ROW = '[data-testid="mlbench-section-runs"] [data-testid="mlbench-run-row"]'
MODEL_LIST = '[data-testid="mlbench-section-models"] [data-testid="mlbench-model-list"]'
RUN_LIST = '[data-testid="mlbench-section-runs"] [data-testid="mlbench-run-list"]'
SERVER_ENV = {"BENTOML_DO_NOT_TRACK": "True"}  # no usage reports from BentoML while seeding or serving

# Runs in every page before Lab's own scripts: marks (performance.now(), ms since navigation start) of the shell
# being up, the click on the mlbench tab, and the first frame in which a model row / run row is in the DOM and
# visible. Lumino hides a closed sidebar with display: none, so checkVisibility() is false until it is shown.
INSTRUMENT = """
(() => {
  const M = {};
  window.__mbBench = M;
  try { performance.setResourceTimingBufferSize(5000); } catch (e) {}
  const q = s => document.querySelector(s);
  const vis = s => { const e = q(s); return !!e && e.checkVisibility(); };
  // Lumino's tab bar acts on pointerdown (the sidebar is shown before any click event): listen to it, capturing
  document.addEventListener('pointerdown', ev => {
    const t = ev.target && ev.target.closest && ev.target.closest(%(tab)s);
    if (t && M.click === undefined) {
      M.click = performance.now();
      M.sidebarVisibleAtClick = vis(%(sidebar)s);
      M.modelRowInDomAtClick = !!q(%(model)s);
      M.runRowInDomAtClick = !!q(%(run)s);
    }
  }, true);
  const tick = () => {
    const now = performance.now();
    if (M.shell === undefined && document.body && !q('#jupyterlab-splash') && vis('#jp-main-dock-panel')
        && vis('.jp-Launcher') && q(%(tab)s)) M.shell = now;
    if (M.modelRowDom === undefined && q(%(model)s)) M.modelRowDom = now;
    if (M.runRowDom === undefined && q(%(run)s)) M.runRowDom = now;
    if (M.modelRow === undefined && vis(%(model)s)) M.modelRow = now;
    if (M.runRow === undefined && vis(%(run)s)) M.runRow = now;
    if (M.modelRow === undefined || M.runRow === undefined || M.shell === undefined) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
""" % {"tab": json.dumps(SIDEBAR_TAB), "sidebar": json.dumps('[data-testid="mlbench-sidebar"]'),
       "model": json.dumps(MODEL_ROW), "run": json.dumps(RUN_ROW)}


# --- seeding ----------------------------------------------------------------------------------------------------
def model_name(j: int, names: int) -> str:
    return f"m{j % names:02d}-classifier"


def package_worker(first: int, step: int, n: int, names: int) -> None:
    "Child process (BENTOML_HOME set): package versions first, first + step, ... < n with mb.package."
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import mlbench as mb

    for j in range(first, n, step):
        rng = np.random.default_rng(20261207 + j)
        X = pd.DataFrame({"x": rng.normal(0, 1, 200), "y": rng.normal(0, 1, 200), "z": rng.gamma(2.0, 1.0, 200)})
        y = (X["x"] + 0.5 * X["y"] + rng.normal(0, 0.5, 200) > 0).astype(int)
        clf = LogisticRegression(C=0.1 + j % 7).fit(X, y)
        mb.package(clf, model_name(j, names), reference=X,
                   metrics={"auc": round(0.70 + 0.25 * float(rng.random()), 4), "accuracy": 0.8},
                   labels={"bench": "lab", "seq": str(j)})


def stage_worker(names: int) -> None:
    "Child process: production, archived and staging versions per name; prints the store's counts as JSON."
    import mlbench as mb

    for k in range(names):
        name = model_name(k, names)
        tags = list(mb.models.list(name)["tag"])  # newest first
        if len(tags) >= 3:
            mb.models.promote(tags[len(tags) // 2], "production", reason="bench seed: first production model")
            mb.models.promote(tags[0], "production", reason="bench seed: newer model replaces it")
            mb.models.promote(tags[1], "staging", reason="bench seed: candidate")
    df = mb.models.list()
    print(json.dumps({"versions": len(df), "registered": int(df["registered"].sum()),
                      "names": int(df["name"].nunique()), "stages": df["stage"].value_counts().to_dict(),
                      "newest": df["tag"].iloc[0]}))


def ledger_rows(runs: int, seed: int = 20261207) -> list:
    """(run row, finish values, [(step row, files)]) for `runs` runs of 2 steps, newest first, as
    mlbench.pipeline.run records them; starts spread over a year, ~8% of runs fail at `fit`."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t_end = np.datetime64("2026-12-01T00:00:00")
    offsets = np.sort(rng.integers(0, 365 * 24 * 3600, runs))  # seconds before t_end: run 0 the newest
    out = []
    for i in range(runs):
        t0 = t_end - np.timedelta64(int(offsets[i]), "s")
        iso = lambda dt: f"{np.datetime_as_string(t0 + np.timedelta64(int(dt * 1e6), 'us'), unit='us')}+00:00"
        run_id = f"{str(t0).replace('-', '').replace(':', '')[:15]}-{i:06x}"
        fail = bool(rng.random() < 0.08)
        steps, t = [], 0.0
        for k, step in enumerate(STEPS):
            bad = fail and step == "fit"
            d = float(rng.gamma(2.0, 3.0))
            steps.append(({"run_id": run_id, "step": step, "status": "FAILED" if bad else "SUCCEEDED",
                           "cache_hit": int(k == 0 and rng.random() < 0.5), "source_run": run_id,
                           "key": f"{i:08x}{k}", "reason": "inputs changed", "started": iso(t), "duration_s": d,
                           "notebook": f"runs/{run_id}/{step}/{step}.ipynb",
                           "message": "ValueError: diverged" if bad else "", "cell": 3 if bad else None},
                          [("notebook", f"{step}.ipynb", f"{k:064x}"),
                           ("output" if k == 0 else "input", "data/train.parquet", f"{i:064x}")]))
            t += d
        out.append(({"run_id": run_id, "pipeline": ("nightly", "daily", "flights", "retrain")[i % 4],
                     "started": iso(0), "trigger": ("cli", "jupyter", "schedule")[i % 3]},
                    {"f": iso(t), "s": "FAILED" if fail else "SUCCEEDED", "fs": "fit" if fail else None, "r": run_id},
                    steps))
    return out


LEDGER_METHODS = {False: "one transaction of SQLAlchemy Core inserts on Ledger.meta.tables via Ledger.engine "
                         "(the Ledger has no bulk method)",
                  True: "Ledger.start_run, record_step per step, write(runner's finish update): one transaction each"}
FINISH = "update runs set finished = :f, status = :s, failed_step = :fs where run_id = :r"  # the runner's own


def write_ledger(path: Path, runs: int, per_row: bool = False) -> dict:
    """Write the runs into a new ledger at `path`. `per_row`: through the Ledger's methods, as the runner does
    (start_run, record_step per step, write(FINISH): one transaction each). Default: the same rows in one
    transaction through the Ledger's own engine and table objects (SQLAlchemy Core inserts on its schema)."""
    from mlbench.pipeline.lineage import Ledger

    rows = ledger_rows(runs)
    led = Ledger(path)
    try:
        if per_row:
            for run, fin, steps in rows:
                led.start_run(run["run_id"], run["pipeline"], run["started"], run["trigger"])
                for row, files in steps:
                    led.record_step(run["run_id"], row, files)
                led.write(FINISH, **fin)
        else:
            t = led.meta.tables
            with led.engine.begin() as c:
                c.execute(t["runs"].insert(), [{"run_id": r["run_id"], "pipeline": r["pipeline"],
                                                "started": r["started"], "finished": f["f"], "status": f["s"],
                                                "failed_step": f["fs"], "triggered_by": r["trigger"]}
                                               for r, f, _ in rows])
                c.execute(t["steps"].insert(), [row for _, _, steps in rows for row, _ in steps])
                c.execute(t["files"].insert(), [{"run_id": row["run_id"], "step": row["step"], "role": role,
                                                 "path": p, "fingerprint": fp}
                                                for _, _, steps in rows for row, files in steps
                                                for role, p, fp in files])
        df = led.runs()
        return {"runs": len(df), "failed": int((df["status"] == "FAILED").sum()), "newest": rows[0][0]["run_id"]}
    finally:
        led.close()


def seed(data: Path, models: int, runs: int, names: int, workers: int, per_row: bool) -> dict:
    "Build the world into data/ (through a .partial folder, so that an interrupted seeding is never reused)."
    part = data.with_name(data.name + ".partial")
    shutil.rmtree(part, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    (part / "bentoml").mkdir(parents=True)
    env = {**os.environ, **SERVER_ENV, "BENTOML_HOME": str(part / "bentoml")}
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, __file__, "--_package", str(w), str(workers), str(models), str(names)],
                              env=env, cwd=part, stderr=subprocess.PIPE, text=True) for w in range(workers)]
    print(f"seeding: packaging {models} model versions in {workers} processes; writing {runs} runs meanwhile "
          f"({'Ledger methods, row by row' if per_row else 'one transaction on the Ledger tables'})", flush=True)
    led = write_ledger(part / "runs" / "lineage.sqlite", runs, per_row)  # here, while the workers package
    t_ledger = time.perf_counter() - t0
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"packaging worker failed:\n{err[-4000:]}")
    t_package = time.perf_counter() - t0
    r = subprocess.run([sys.executable, __file__, "--_stages", str(names)], env=env, cwd=part, capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"promotions failed:\n{r.stderr[-4000:]}")
    store = json.loads(r.stdout.strip().splitlines()[-1])
    seed_s = time.perf_counter() - t0
    if store["versions"] != models or store["registered"] != models or led["runs"] != runs:
        raise SystemExit(f"seeding made {store} and {led}, not {models} versions and {runs} runs")
    meta = {"seed_version": SEED_VERSION, "models": models, "runs": runs, "names": names, "workers": workers,
            "seed_s": round(seed_s, 1), "package_s": round(t_package, 1), "ledger_s": round(t_ledger, 1),
            "ledger_method": LEDGER_METHODS[per_row], "store": store, "ledger": led, "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (part / "seed.json").write_text(json.dumps(meta, indent=1))
    part.rename(data)
    return meta


def cached(data: Path, models: int, runs: int, names: int) -> dict | None:
    try:
        meta = json.loads((data / "seed.json").read_text())
    except (OSError, ValueError):
        return None
    ok = (meta.get("seed_version"), meta.get("models"), meta.get("runs"), meta.get("names")) == \
        (SEED_VERSION, models, runs, names)
    return meta if ok else None


# --- measuring ---------------------------------------------------------------------------------------------------
def one_page(browser, lab, timeout_ms: int) -> dict:
    "Load Lab in a fresh context, wait for the shell, click the mlbench icon, wait for both lists' first rows."
    import secrets

    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = ctx.new_page()
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text[:300]))
        page.on("pageerror", lambda e: errors.append(f"{e.name}: {e.message}"[:300]))
        page.add_init_script(INSTRUMENT)
        page.goto(f"{lab.url}/lab/workspaces/{secrets.token_hex(6)}?token={lab.token}", timeout=timeout_ms)
        page.wait_for_function("() => window.__mbBench && window.__mbBench.shell !== undefined", polling="raf",
                               timeout=timeout_ms)
        page.locator(SIDEBAR_TAB).click()
        page.wait_for_function("() => { const M = window.__mbBench; return M.click !== undefined "
                               "&& M.modelRow !== undefined && M.runRow !== undefined; }", polling="raf",
                               timeout=timeout_ms)
        marks = page.evaluate("() => window.__mbBench")
        shown = page.evaluate("""([ml, rl, mr, rr]) => {
            const a = (s, k) => { const e = document.querySelector(s); return e ? e.getAttribute(k) : null; };
            return {model_total: a(ml, 'data-total'), run_total: a(rl, 'data-total'),
                    first_tag: a(mr, 'data-tag'), first_run: a(rr, 'data-run-id')}; }""",
                              [MODEL_LIST, RUN_LIST, MODEL_ROW, RUN_ROW])
        api = page.evaluate("""() => performance.getEntriesByType('resource')
            .filter(e => e.name.includes('/mlbench/api/'))
            .map(e => ({url: e.name.replace(location.origin, ''), start: e.startTime, end: e.responseEnd}))""")
        nav = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0]; "
                            "return n ? {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd} : null; }")
        return {"marks": marks, "shown": shown, "api": api, "nav": nav, "errors": errors}
    finally:
        ctx.close()


def rest_times(lab, reps: int) -> dict:
    "Median / max of GET models?limit=50 and runs?limit=50 (alternating), and the answers for the checks."
    out = {"models": [], "runs": []}
    bodies = {}
    with httpx.Client(base_url=f"{lab.url}/mlbench/api/", headers={"Authorization": f"token {lab.token}"},
                      timeout=60) as c:
        for i in range(reps):
            for what in ("models", "runs") if i % 2 == 0 else ("runs", "models"):
                t0 = time.perf_counter()
                r = c.get(what, params={"limit": 50})
                dt = time.perf_counter() - t0
                r.raise_for_status()
                out[what].append(dt * 1000)
                bodies[what] = r.json()
    return {**out, "bodies": bodies}


def med(xs):
    return round(statistics.median(xs), 1) if xs else None


def mx(xs):
    return round(max(xs), 1) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=int, default=1000, help="model versions in the store")
    ap.add_argument("--runs", type=int, default=10000, help="runs in the ledger")
    ap.add_argument("--names", type=int, default=20, help="model names the versions are spread over")
    ap.add_argument("--reps", type=int, default=5, help="fresh pages")
    ap.add_argument("--rest-reps", type=int, default=20)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="packaging processes when seeding")
    ap.add_argument("--data", type=Path, default=None, help="cache folder (default bench/_data/lab-m<M>-r<R>)")
    ap.add_argument("--reseed", action="store_true", help="rebuild the cached world")
    ap.add_argument("--ledger-per-row", action="store_true",
                    help="when seeding, write the ledger through Ledger.start_run/record_step/write, one "
                         "transaction each (default: one bulk transaction on the Ledger's tables)")
    ap.add_argument("--timeout-s", type=float, default=120, help="per page step (a cold Lab on a busy machine)")
    ap.add_argument("--_package", nargs=4, type=int, help=argparse.SUPPRESS)
    ap.add_argument("--_stages", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._package:
        return package_worker(*a._package)
    if a._stages is not None:
        return stage_worker(a._stages)

    for what, path in (("jupyter lab", JUPYTER_LAB), ("Chromium", CHROMIUM)):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"no {what} at {path}")
    from playwright.sync_api import sync_playwright

    load0 = os.getloadavg()[0]
    t_wall = time.perf_counter()
    data = a.data or BENCH / "_data" / f"lab-m{a.models}-r{a.runs}"
    meta = None if a.reseed else cached(data, a.models, a.runs, a.names)
    seed_cached = meta is not None
    if meta is None:
        meta = seed(data, a.models, a.runs, a.names, a.workers, a.ledger_per_row)
    print(f"world: {meta['models']} model versions over {meta['names']} names, {meta['runs']} runs "
          f"({'cached in ' + str(data) if seed_cached else 'seeded now'}); "
          f"seeding took {meta['seed_s']:.1f} s on {meta['made']} (packaging {meta['package_s']:.1f} s in "
          f"{meta['workers']} processes, ledger {meta['ledger_s']:.1f} s alongside); stages {meta['store']['stages']}",
          flush=True)

    reps, rest = [], None
    with tempfile.TemporaryDirectory(prefix="mlbench-bench-lab-") as tmp:
        base = Path(tmp)
        t0 = time.perf_counter()
        shutil.copytree(data / "bentoml", base / "home" / "bentoml", symlinks=True)
        (base / "root" / "runs").mkdir(parents=True)
        shutil.copy2(data / "runs" / "lineage.sqlite", base / "root" / "runs" / "lineage.sqlite")
        copy_s = time.perf_counter() - t0
        os.environ.update(SERVER_ENV)  # start_lab hands this environment to the server
        t0 = time.perf_counter()
        with start_lab(base, extra_args=['--ServerApp.jpserver_extensions={"mlbench.jupyter": True}']) as lab:
            lab_start_s = time.perf_counter() - t0
            print(f"copied the world in {copy_s:.1f} s; jupyter lab answered /api/status after {lab_start_s:.1f} s",
                  flush=True)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    for i in range(a.reps):
                        r = one_page(browser, lab, int(a.timeout_s * 1000))
                        reps.append(r)
                        m = r["marks"]
                        print(f"  page {i + 1}{' (first after server start)' if i == 0 else ''}: shell up "
                              f"{m['shell']:.0f} ms after navigation; click +{m['click'] - m['shell']:.0f} ms; "
                              f"first model row {m['modelRow'] - m['click']:.0f} ms, first run row "
                              f"{m['runRow'] - m['click']:.0f} ms after the click "
                              f"({m['modelRow']:.0f} / {m['runRow']:.0f} ms after navigation)", flush=True)
                finally:
                    browser.close()
            rest = rest_times(lab, a.rest_reps)
            log_tail = lab.log_tail(2000)

    # correctness: the lists say the seeded counts and start with the API's first items
    bad = []
    want_tag = rest["bodies"]["models"]["items"][0]["tag"]
    want_run = rest["bodies"]["runs"]["items"][0]["run_id"]
    if rest["bodies"]["models"]["total"] != a.models or rest["bodies"]["runs"]["total"] != a.runs:
        bad.append(f"API totals {rest['bodies']['models']['total']} models, {rest['bodies']['runs']['total']} runs")
    if (want_tag, want_run) != (meta["store"]["newest"], meta["ledger"]["newest"]):
        bad.append(f"API's first items {want_tag}, {want_run}; the library's newest "
                   f"{meta['store']['newest']}, {meta['ledger']['newest']}")
    if len(rest["bodies"]["models"]["items"]) != 50 or len(rest["bodies"]["runs"]["items"]) != 50:
        bad.append("an API page of limit=50 did not hold 50 items")
    for i, r in enumerate(reps):
        s = r["shown"]
        if (s["model_total"], s["run_total"]) != (str(a.models), str(a.runs)):
            bad.append(f"page {i + 1}: lists say {s['model_total']} versions and {s['run_total']} runs")
        if (s["first_tag"], s["first_run"]) != (want_tag, want_run):
            bad.append(f"page {i + 1}: first rows {s['first_tag']}, {s['first_run']}, API {want_tag}, {want_run}")
        if r["marks"].get("sidebarVisibleAtClick"):
            bad.append(f"page {i + 1}: the sidebar was open before the click")
    mlbench_errors = [e for r in reps for e in r["errors"] if "mlbench" in e.lower()]
    if mlbench_errors:
        bad.append(f"console errors from the mlbench extension: {mlbench_errors[:3]}")
    if bad:
        print("FAILED checks:", *bad, sep="\n  ")
        print(f"--- jupyter lab log tail ---\n{log_tail}")
        raise SystemExit(1)

    mk = [r["marks"] for r in reps]
    models_click = [m["modelRow"] - m["click"] for m in mk]
    runs_click = [m["runRow"] - m["click"] for m in mk]
    both_click = [max(x, y) for x, y in zip(models_click, runs_click)]
    models_load = [m["modelRow"] for m in mk]
    runs_load = [m["runRow"] for m in mk]
    both_load = [max(x, y) for x, y in zip(models_load, runs_load)]
    both_shell = [max(m["modelRow"], m["runRow"]) - m["shell"] for m in mk]
    # when both lists' first rows were in the DOM (drawn, hidden or not), relative to the shell being up
    ready_shell = [max(m["modelRowDom"], m["runRowDom"]) - m["shell"] for m in mk]
    shell = [m["shell"] for m in mk]
    prefetched = [bool(m.get("modelRowInDomAtClick") or m.get("runRowInDomAtClick")) for m in mk]

    def api_after_click(r, what):  # the first request of that list, relative to the click (negative: before it)
        hits = [e for e in r["api"] if f"/mlbench/api/{what}?" in e["url"]]
        return None if not hits else (round(hits[0]["start"] - r["marks"]["click"], 1),
                                      round(hits[0]["end"] - hits[0]["start"], 1))
    api_models = [api_after_click(r, "models") for r in reps]
    api_runs = [api_after_click(r, "runs") for r in reps]
    met = statistics.median(both_click) <= TARGET_MS
    met_max = max(both_click) <= TARGET_MS

    print(f"\nsidebar over {a.models} model versions and {a.runs} runs, {a.reps} fresh pages (median / max, ms):")
    print(f"  Lab shell up after navigation      {med(shell):>8} / {mx(shell)}")
    print(f"  first model row, from the click    {med(models_click):>8} / {mx(models_click)}")
    print(f"  first run row, from the click      {med(runs_click):>8} / {mx(runs_click)}")
    print(f"  both painted, from the click       {med(both_click):>8} / {mx(both_click)}")
    print(f"  both painted, from the shell up    {med(both_shell):>8} / {mx(both_shell)}")
    print(f"  both painted, from page load       {med(both_load):>8} / {mx(both_load)}")
    print(f"  both lists' rows in the DOM (hidden or not), from the shell up {med(ready_shell):>8} / "
          f"{mx(ready_shell)}  (negative: before it)")
    print(f"  rows already in the (hidden) DOM at the click: {prefetched}")
    print(f"  the page's first GET models / runs (start relative to the click, duration; ms): "
          f"{api_models} / {api_runs}")
    print(f"REST, median / max of {a.rest_reps} (ms): GET models?limit=50 {med(rest['models'])} / "
          f"{mx(rest['models'])}; GET runs?limit=50 {med(rest['runs'])} / {mx(rest['runs'])}")
    print(f"target: both lists painted <= {TARGET_MS} ms after the click: "
          f"{'met' if met else 'MISSED'} on the median ({med(both_click)} ms), "
          f"{'met' if met_max else 'missed'} on the max ({mx(both_click)} ms)")
    load1 = os.getloadavg()[0]
    print(f"load average (1 min) {load0:.2f} before, {load1:.2f} after, {os.cpu_count()} CPUs")

    from importlib.metadata import version
    out = {
        "bench": "lab", "models": a.models, "runs": a.runs, "model_names": a.names, "reps": a.reps,
        "rest_reps": a.rest_reps,
        "seed_s": meta["seed_s"], "seed_package_s": meta["package_s"], "seed_ledger_s": meta["ledger_s"],
        "seed_workers": meta["workers"], "seed_cached": seed_cached,
        "seed_method": "mb.package per version (no cheap copy in the registry), worker processes",
        "ledger_method": meta["ledger_method"],
        "lab_start_s": round(lab_start_s, 2),
        "shell_up_ms_median": med(shell),
        "models_from_click_ms_median": med(models_click), "models_from_click_ms_max": mx(models_click),
        "runs_from_click_ms_median": med(runs_click), "runs_from_click_ms_max": mx(runs_click),
        "sidebar_from_click_ms_median": med(both_click), "sidebar_from_click_ms_max": mx(both_click),
        "sidebar_from_shell_ms_median": med(both_shell), "sidebar_from_shell_ms_max": mx(both_shell),
        "rows_in_dom_from_shell_ms_median": med(ready_shell), "rows_in_dom_from_shell_ms_max": mx(ready_shell),
        "sidebar_from_load_ms_median": med(both_load), "sidebar_from_load_ms_max": mx(both_load),
        "models_from_load_ms_median": med(models_load), "runs_from_load_ms_median": med(runs_load),
        "sidebar_from_click_ms": [round(x, 1) for x in both_click],
        "first_page_from_click_ms": round(both_click[0], 1),
        "rows_in_dom_before_click": prefetched,
        "rest_models_ms_median": med(rest["models"]), "rest_models_ms_max": mx(rest["models"]),
        "rest_runs_ms_median": med(rest["runs"]), "rest_runs_ms_max": mx(rest["runs"]),
        "target_ms": TARGET_MS, "target_met": met, "target_met_on_max": met_max,
        "cpus": os.cpu_count(), "loadavg_1m": [round(load0, 2), round(load1, 2)],
        "wall_s": round(time.perf_counter() - t_wall, 1),
        "versions": {k: version(k) for k in ("jupyterlab", "jupyter_server", "bentoml", "playwright")},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
