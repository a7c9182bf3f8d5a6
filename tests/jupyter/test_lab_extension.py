"""The mlbench JupyterLab extension (extension/) in a real JupyterLab, in headless Chromium, against the library's own
answers. One seeded world (tests/seed_helpers.py: three packaged models, one in production and one in staging, a
failed and a succeeded pipeline run, a CSV, a monitor store with two fired alerts), one `jupyter lab` with the mlbench
server extension and the sidebar's settings pointing at that world, one page for every test:

1. the mlbench icon opens the sidebar; Models lists exactly `mb.models.list()`'s tags, each with its stage badge;
2. Promote… on the staging version (dialog: stage + reason) is recorded by `mb.models.history()`, badges follow;
3. Runs shows the failed run's failed step; clicking it opens the executed notebook with the raising cell active;
4. right-click the CSV in the file browser → Profile opens a report tab whose cards name every column of the CSV;
5. the status-bar badge counts the unacknowledged alerts of `mb.monitor.alerts()`, and follows an acknowledgement.

BentoML reads BENTOML_HOME once per process, so the world is seeded, and the library asked, in child processes with
the lab's BENTOML_HOME. Console errors from the mlbench extension fail the test that sees them. Screenshots land in
tests/artifacts/ (lab_sidebar.png is the README's picture of the sidebar)."""
import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))
import lab_helpers  # noqa: E402
import seed_helpers as seed  # noqa: E402
from lab_helpers import LAB_SETTINGS, PANEL, new_page, start_lab  # noqa: E402

browser = lab_helpers.browser  # the fixture, used here by name

pytestmark = pytest.mark.timeout(900)
TESTS = Path(__file__).parents[1]
ARTIFACTS = TESTS / "artifacts"
VIEW = {"width": 1400, "height": 900}
SEED_TIMEOUT_S = 300  # three models packaged, two pipeline runs (three kernels) on a busy 2-core machine
UI_TIMEOUT_MS = 60_000  # a list, a dialog, a tab to show up
JOB_TIMEOUT_MS = 120_000  # a profile job (its worker process starts) and its report
PLUGIN = "@mlbench/labextension:plugin"
SETTINGS = {**LAB_SETTINGS,
            # the runs and the monitor store are not where the server looks by default: only these settings
            # (POST config from the page) make the sidebar find them
            PLUGIN.replace(":", "/"): {"runsRoot": seed.LAB_RUNS, "ledger": f"{seed.LAB_RUNS}/lineage.sqlite",
                                       "monitorStore": seed.LAB_MONITOR, "refreshInterval": 3}}
# console errors from the mlbench extension (its bundle, its API, its own messages) fail the test
MLBENCH_EXT = re.compile(r"@mlbench/labextension|/lab/extensions/@mlbench/|/mlbench/api/|mlbench: ", re.I)
SIDEBAR = '[data-testid="mlbench-sidebar"]'
SIDEBAR_TAB = '.jp-SideBar .lm-TabBar-tab[data-id="mlbench-sidebar"]'
SIDEBAR_WIDTH = 420  # px, for readable screenshots


def _env(base: Path) -> dict:
    "The environment of the lab and of the child processes that seed or ask the library: the same BentoML store."
    home = base / "home"
    return {**os.environ, "BENTOML_HOME": str(home / "bentoml"), "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "IPYTHONDIR": str(home / "ipython")}


def _library(world, code: str):
    "Run `code` (it sets `out`) in a child Python with the lab's BENTOML_HOME; return `out` (JSON round trip)."
    prog = f"import json\nimport mlbench as mb\n{code}\nprint('OUT=' + json.dumps(out, default=str))"
    r = subprocess.run([sys.executable, "-c", prog], env=world.env, cwd=world.root, capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(next(ln for ln in r.stdout.splitlines() if ln.startswith("OUT="))[4:])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The seeded root and the `jupyter lab` serving it. The seeding child starts first and runs while the lab
    starts (both on the same folders: start_lab keeps what is there)."""
    base = tmp_path_factory.mktemp("labext").resolve()
    env = _env(base)
    for d in (base / "root", base / "home" / "bentoml"):
        d.mkdir(parents=True)
    t0 = time.monotonic()
    seeding = subprocess.Popen([sys.executable, str(TESTS / "seed_helpers.py"), str(base / "root")], env=env,
                               cwd=base / "root", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with start_lab(base, extra_args=['--ServerApp.jpserver_extensions={"mlbench.jupyter": True}'],
                       settings=SETTINGS) as lab:
            t_lab = time.monotonic() - t0
            out, err = seeding.communicate(timeout=SEED_TIMEOUT_S)
            assert seeding.returncode == 0, f"seeding failed:\n{err[-4000:]}"
            made = json.loads(out.strip().splitlines()[-1])
            print(f"\nlab up after {t_lab:.1f} s, world seeded after {time.monotonic() - t0:.1f} s")
            yield SimpleNamespace(lab=lab, base=base, root=lab.root, env=env, **made)
    finally:
        if seeding.poll() is None:
            seeding.kill()
            seeding.wait(30)


@pytest.fixture(scope="module")
def page(world, browser):
    "One JupyterLab page (a fresh workspace, 1400x900) for every test; its PageLog is `page.mlbench_log`."
    ARTIFACTS.mkdir(exist_ok=True)
    pg, log = new_page(browser, **VIEW)
    pg.mlbench_log = log
    lab = world.lab
    pg.goto(f"{lab.url}/lab/workspaces/{secrets.token_hex(6)}?token={lab.token}", timeout=120_000)
    pg.wait_for_selector(SIDEBAR_TAB, timeout=120_000)
    pg.wait_for_selector('[data-testid="mlbench-alert-badge"]', timeout=UI_TIMEOUT_MS)
    yield pg
    pg.context.close()


@pytest.fixture(autouse=True)
def _failure_artifacts(request, world, page):
    "On failure: a screenshot, the console errors and the lab's log tail."
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        try:
            page.screenshot(path=str(ARTIFACTS / f"lab_ext_{request.node.name}_failure.png"))
        except Exception:  # noqa: BLE001 - the assertion matters, not the screenshot
            pass
        print(f"\nconsole errors: {page.mlbench_log.errors()[:10]}\n--- jupyter lab log ---\n{world.lab.log_tail()}")


def _wait(what: str, fn, timeout_s: float = UI_TIMEOUT_MS / 1000, every_s: float = 0.25):
    "Poll `fn` until it returns something truthy; return that."
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)


def _no_extension_errors(page) -> None:
    "Fail on console errors / uncaught exceptions from the mlbench extension (the others are printed)."
    errors = page.mlbench_log.errors()
    ext = [e for e in errors if MLBENCH_EXT.search(f"{e['text']} {e['url']}")]
    other = [e for e in errors if e not in ext]
    if other:
        print(f"\n{len(other)} other console errors (not failed on):", *(e["text"][:300] for e in other[:5]),
              sep="\n  ")
    assert not ext, ext


def _open_sidebar(page) -> None:
    "Show the mlbench sidebar (a click on its tab; a click on the tab of an open sidebar would close it)."
    if not page.locator(SIDEBAR).is_visible():
        page.locator(SIDEBAR_TAB).click()
    page.locator(SIDEBAR).wait_for(state="visible", timeout=UI_TIMEOUT_MS)


def _widen_sidebar(page, width: int) -> None:
    "Drag the handle between the left sidebar and the main area to make the sidebar `width` pixels wide."
    box = page.locator(SIDEBAR).bounding_box()
    x, y = box["x"] + box["width"] + 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(box["x"] + width, y, steps=8)
    page.mouse.up()
    _wait("the wider sidebar", lambda: page.locator(SIDEBAR).bounding_box()["width"] > width - 40)


def _model_rows(page) -> list[dict]:
    "The model rows drawn in the Models list, top to bottom: tag, row stage, badge stage and text."
    return page.evaluate("""() => Array.from(document.querySelectorAll(
            '[data-testid="mlbench-section-models"] [data-testid="mlbench-model-row"]')).map(r => {
        const b = r.querySelector('[data-testid="mlbench-stage-badge"]');
        return {tag: r.dataset.tag, stage: r.dataset.stage, badge: b && b.dataset.stage,
                badge_text: b && b.textContent.trim()}; })""")


def _library_models(world) -> list[dict]:
    return _library(world, "df = mb.models.list()\n"
                           "out = [{'tag': t, 'stage': s or 'none'} for t, s in zip(df['tag'], df['stage'])]")


# --- 1. models ------------------------------------------------------------------------------
def test_sidebar_lists_the_seeded_models_with_their_stages(world, page):
    lib = _library_models(world)  # newest first, as the sidebar
    assert sorted(m["tag"] for m in lib) == sorted(world.models.values()), (lib, world.models)
    assert {m["tag"]: m["stage"] for m in lib}[world.models["production"]] == "production"

    assert not page.locator(SIDEBAR).is_visible()  # a new workspace opens on the file browser
    page.locator(SIDEBAR_TAB).click()  # the mlbench icon in the left sidebar
    page.locator(SIDEBAR).wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    page.locator('[data-testid="mlbench-server-status"][data-ok="true"]').wait_for(timeout=UI_TIMEOUT_MS)
    rows = _wait("the Models section to list every version",
                 lambda: (r := _model_rows(page)) and len(r) == len(lib) and all(x["tag"] for x in r) and r)
    assert [r["tag"] for r in rows] == [m["tag"] for m in lib], (rows, lib)
    want = {m["tag"]: m["stage"] for m in lib}
    for r in rows:
        assert r["stage"] == r["badge"] == r["badge_text"] == want[r["tag"]], (r, want)
    assert [r["tag"] for r in rows if r["badge"] == "production"] == [world.models["production"]]
    total = page.locator('[data-testid="mlbench-model-list"]').get_attribute("data-total")
    assert total == str(len(lib))
    # the settings reached the server (POST config on load): the runs and the monitor store are found there
    cfg = httpx.get(f"{world.lab.url}/mlbench/api/config", headers={"Authorization": f"token {world.lab.token}"},
                    timeout=10).json()
    assert cfg["runs_root"] == seed.LAB_RUNS and cfg["monitor_store"] == seed.LAB_MONITOR, cfg

    # the README's picture: the sidebar open with Models expanded, widened (as a user would, by its handle) so that
    # versions and buttons show in full; the later tests keep the width
    _widen_sidebar(page, SIDEBAR_WIDTH)
    assert page.locator('[data-testid="mlbench-section-models"] [data-testid="mlbench-model-list"]').is_visible()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "lab_sidebar.png"))
    _no_extension_errors(page)


# --- 2. promotion -----------------------------------------------------------------------------
def test_promote_from_the_ui_is_recorded_in_the_history(world, page):
    _open_sidebar(page)
    tag, old = world.models["staging"], world.models["production"]
    name, version = tag.split(":")
    reason = f"beats {old} on held-out auc (ui test {secrets.token_hex(3)})"
    page.locator(f'[data-testid="mlbench-model-row"][data-tag="{tag}"]').click()
    detail = page.locator(f'[data-testid="mlbench-model-detail"][data-tag="{tag}"]')
    detail.wait_for(timeout=UI_TIMEOUT_MS)
    detail.locator('[data-testid="mlbench-stage-history"]').wait_for(timeout=UI_TIMEOUT_MS)
    badge = detail.locator('.mlbench-backbar [data-testid="mlbench-stage-badge"]')
    assert badge.get_attribute("data-stage") == "staging"

    detail.locator('[data-testid="mlbench-promote"]').click()
    dialog = page.locator(".jp-Dialog", has=page.locator('[data-testid="mlbench-promote-dialog"]'))
    dialog.wait_for(timeout=UI_TIMEOUT_MS)
    dialog.locator('[data-testid="mlbench-promote-stage"]').select_option("production")
    dialog.locator('[data-testid="mlbench-promote-reason"]').fill(reason)
    dialog.locator("button.jp-mod-accept").click()
    dialog.wait_for(state="detached", timeout=UI_TIMEOUT_MS)

    _wait("the detail's badge to say production", lambda: badge.get_attribute("data-stage") == "production")
    history = detail.locator('[data-testid="mlbench-stage-history"]')
    _wait("the reason in the stage history", lambda: reason in history.text_content())
    assert badge.text_content().strip() == "production"
    page.screenshot(path=str(ARTIFACTS / "lab_promote.png"))

    # the library's record, read in a process of its own
    h = _library(world, f"h = mb.models.history({name!r})\n"
                        "out = h.assign(at=h['at'].astype(str)).to_dict('records')")
    assert h[-1]["tag"] == tag and (h[-1]["from_stage"], h[-1]["to_stage"]) == ("staging", "production"), h[-2:]
    assert h[-1]["reason"] == reason, h[-1]
    assert (h[-2]["tag"], h[-2]["to_stage"]) == (old, "archived"), h[-2:]  # the production model it replaced
    api = httpx.get(f"{world.lab.url}/mlbench/api/models/{name}/{version}",
                    headers={"Authorization": f"token {world.lab.token}"}, timeout=30).json()
    assert api["stage"] == "production" and api["history"][-1]["reason"] == reason

    # back in the list: the badges moved
    detail.locator('[data-testid="mlbench-back"]').click()
    want = {m["tag"]: m["stage"] for m in _library_models(world)}
    assert want[tag] == "production" and want[old] == "archived"
    _wait("the list's badges to follow the promotion",
          lambda: (r := _model_rows(page)) and {x["tag"]: x["badge"] for x in r} == want)
    _no_extension_errors(page)


# --- 3. runs --------------------------------------------------------------------------------
def test_failed_step_opens_its_notebook_at_the_failing_cell(world, page):
    _open_sidebar(page)
    runs = page.locator('[data-testid="mlbench-section-runs"]')
    failed = runs.locator(f'[data-testid="mlbench-run-row"][data-run-id="{world.runs["failed"]}"]')
    failed.wait_for(timeout=UI_TIMEOUT_MS)
    assert failed.get_attribute("data-status") == "failed"
    assert "failed at check" in failed.text_content()
    ok = runs.locator(f'[data-testid="mlbench-run-row"][data-run-id="{world.runs["succeeded"]}"]')
    assert ok.get_attribute("data-status") == "succeeded"

    failed.click()
    detail = runs.locator(f'[data-testid="mlbench-run-detail"][data-run-id="{world.runs["failed"]}"]')
    detail.wait_for(timeout=UI_TIMEOUT_MS)
    assert detail.get_attribute("data-status") == "failed"
    step = detail.locator(f'[data-testid="mlbench-step-row"][data-step="{seed.FAILING_STEP}"]')
    step.wait_for(timeout=UI_TIMEOUT_MS)
    assert step.get_attribute("data-status") == "FAILED" and step.get_attribute("data-failure") == "CELL_ERROR"
    assert seed.FAILING_ERROR in step.text_content() and "cell error" in step.text_content()
    prepare = detail.locator('[data-testid="mlbench-step-row"][data-step="prepare"]')
    assert prepare.get_attribute("data-status") == "SUCCEEDED"

    step.click()
    nb_name = Path(world.failed_notebook).name
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")
    _wait(f"the current tab to be {nb_name}", lambda: nb_name in " ".join(tab.all_text_contents()))
    page.locator(f"{PANEL} .jp-Notebook .jp-Cell").first.wait_for(timeout=UI_TIMEOUT_MS)
    seen = []

    def active_cell():
        "The active cell of the notebook shown: its index, source, output text, whether it shows an error."
        seen.append(page.evaluate("""panel => {
            const cells = Array.from(document.querySelectorAll(panel + ' .jp-Notebook .jp-Cell'));
            const i = cells.findIndex(c => c.classList.contains('jp-mod-active'));
            if (i < 0) return null;
            const c = cells[i], editor = c.querySelector('.jp-InputArea-editor');
            const out = c.querySelector('.jp-OutputArea');
            // the notebook is a windowed list: cells out of view may be missing from the DOM, their index is kept
            const index = c.dataset.windowedListIndex !== undefined ? Number(c.dataset.windowedListIndex) : i;
            return {index, source: editor ? editor.textContent : '',
                    output: out ? out.textContent : '',
                    error: !!c.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')};
            }""", PANEL))
        return seen[-1] if seen[-1] and seed.FAILING_CODE in seen[-1]["source"] else None

    try:
        active = _wait("the cell that raised to be the active one", active_cell)
    except AssertionError as e:
        raise AssertionError(f"{e}; the active cell was {seen[-1]}") from None
    assert seed.FAILING_ERROR in active["output"] and active["error"], active
    # the executed notebook on disk agrees: the active cell is its one cell with an error output
    nb = json.loads((world.root / world.failed_notebook).read_text())
    errs = [i for i, c in enumerate(nb["cells"]) if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert errs == [active["index"]], (errs, active)
    assert "".join(nb["cells"][errs[0]]["source"]) == seed.FAILING_CODE
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "lab_failed_step.png"))
    detail.locator('[data-testid="mlbench-back"]').click()
    _no_extension_errors(page)


# --- 4. profile from the file browser -------------------------------------------------------------
def test_profile_a_csv_from_the_file_browser(world, page):
    columns = pd.read_csv(world.root / world.csv).columns.tolist()
    folder, name = world.csv.rsplit("/", 1)
    browser_tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="filebrowser"]')
    if not page.locator("#filebrowser").is_visible():
        browser_tab.click()
    listing = page.locator("#filebrowser .jp-DirListing-content")

    def item(text):
        return listing.locator(".jp-DirListing-item", has=page.locator(
            ".jp-DirListing-itemText", has_text=re.compile(rf"^\s*{re.escape(text)}\s*$")))
    item(folder).dblclick(timeout=UI_TIMEOUT_MS)
    csv = item(name)
    csv.wait_for(timeout=UI_TIMEOUT_MS)
    csv.click()
    csv.click(button="right")
    menu_item = page.locator(".lm-Menu .lm-Menu-item", has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(
        r"^\s*Profile\s*$")))
    menu_item.wait_for(timeout=UI_TIMEOUT_MS)
    menu_item.click()

    report = page.locator('.mlbench-report[data-testid="mlbench-report"][data-kind="profile"]')
    _wait("the profile report tab", lambda: report.count() and report.first.get_attribute("data-state") in (
        "ready", "error"), timeout_s=JOB_TIMEOUT_MS / 1000)
    assert report.first.get_attribute("data-state") == "ready", report.first.text_content()[:1000]
    frame = page.frame_locator('.mlbench-report[data-kind="profile"] iframe.mlbench-report-frame')
    frame.locator(".mb-card").first.wait_for(timeout=UI_TIMEOUT_MS)
    cards = frame.locator(".mb-card").evaluate_all("cs => cs.map(c => c.dataset.col)")
    titles = frame.locator(".mb-card h3").all_text_contents()
    assert sorted(cards) == sorted(columns), (cards, columns)
    assert all(any(t.strip().startswith(c) for t in titles) for c in columns), titles
    assert world.csv in frame.locator("h1").first.text_content()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "lab_profile_report.png"))
    _no_extension_errors(page)


# --- 5. the status-bar alert count -------------------------------------------------------------
def test_status_bar_counts_unacknowledged_alerts(world, page):
    from mlbench import monitor

    fired = monitor.alerts(store=world.root / seed.LAB_MONITOR)  # no BentoML involved: this process will do
    assert len(fired) == world.alerts >= 2
    badge = page.locator('[data-testid="mlbench-alert-badge"]')
    _wait(f"the badge to count {len(fired)}", lambda: badge.get_attribute("data-count") == str(len(fired)))
    assert badge.text_content().strip() == str(len(fired))

    # acknowledge one (as another page would): the badge follows at the next poll
    first = int(fired["id"].iloc[0])
    r = httpx.post(f"{world.lab.url}/mlbench/api/monitor/alerts/ack", json={"ids": [first]},
                   headers={"Authorization": f"token {world.lab.token}"}, timeout=30)
    assert r.status_code == 200 and r.json() == {"acknowledged": 1}, r.text
    _wait(f"the badge to count {len(fired) - 1}", lambda: badge.get_attribute("data-count") == str(len(fired) - 1),
          timeout_s=30)
    badge.click()  # opens the Monitor section
    row = page.locator('[data-testid="mlbench-monitor-row"][data-model="fare-model"]')
    row.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    assert row.get_attribute("data-alerts") == str(len(fired) - 1)
    assert page.locator('[data-testid="mlbench-alerts-total"]').text_content().startswith(f"{len(fired) - 1} ")
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "lab_alert_badge.png"))
    _no_extension_errors(page)
