"""The monitoring dashboard in a real browser: a store filled by real requests to two served models,
`mlbench dashboard` (Voila) on a free loopback port, headless Chromium through Playwright (the
system's /usr/bin/chromium; no browser download), and the kernel-free `--static` snapshot."""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import lab_helpers  # the process helpers shared with the JupyterLab tests
import mlbench as mb
from mlbench.data import logstore
from mlbench.serve import process as serving

pytestmark = pytest.mark.timeout(300)
MLBENCH = str(Path(sys.executable).parent / "mlbench")
CHROMIUM = "/usr/bin/chromium"
TOKEN = "dashboard-test-token-0123456789abcdef"
WINDOW_S = 2  # seconds per logged window: several windows in a few seconds of traffic
N_WINDOWS = 4


_free_port, _descendants, _alive = lab_helpers.free_port, lab_helpers.descendants, lab_helpers.alive
_stop = lab_helpers.stop_tree  # SIGTERM (Voila stops its kernels), kill what is left, return the pids it killed


# --- a store filled by real requests ------------------------------------------------------------
@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Two packaged models behind one service (canary 50%), one-row requests over N_WINDOWS windows of
    WINDOW_S s, drift planted in the later windows, some 422s, labels for model A's answers only."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x1": rng.normal(size=600), "x2": rng.normal(size=600), "cat": rng.choice(["a", "b", "c"], 600)})
    y = ((X["x1"] + 0.5 * (X["cat"] == "a") + rng.normal(0, 0.5, 600)) > 0).astype(int)
    enc = lambda: make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["cat"]), remainder="passthrough")
    a = make_pipeline(enc(), LogisticRegression()).fit(X, y)
    b = make_pipeline(enc(), DecisionTreeClassifier(max_depth=3, random_state=0)).fit(X, y)
    ta, tb = mb.package(a, "dash-a", reference=X), mb.package(b, "dash-b", reference=X)
    mon = tmp_path_factory.mktemp("monitor")
    labels = []
    with serving.serve(ta, challenger_tag=tb, route="canary", canary_share=0.5, monitor=str(mon), flush_s=0.5,
                       window_s=WINDOW_S, out_of_range="flag") as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        t_start = (time.time() // WINDOW_S + 1) * WINDOW_S  # start on a window boundary
        time.sleep(max(0.0, t_start - time.time()))
        i = 0
        while time.time() < t_start + N_WINDOWS * WINDOW_S - 0.2:
            late = time.time() >= t_start + WINDOW_S * N_WINDOWS / 2  # the later half drifts: x1 moves by 2
            row = {"x1": float(rng.normal(2.0 if late else 0.0)), "x2": float(rng.normal()),
                   "cat": str(rng.choice(["a", "b", "c"]))}
            r = c.post("/predict", json={"rows": [row]})
            assert r.status_code == 200, r.text
            body = r.json()
            if body["model"] == ta:
                labels.append({"request_id": body["request_id"], "row": 0, "label": int(row["x1"] > 0)})
            if i % 25 == 0:  # a request that fails validation
                assert c.post("/predict", json={"rows": [{"x1": "not a number", "x2": 0.0, "cat": "a"}]}).status_code == 422
            i += 1
            time.sleep(0.01)
        assert c.post("/feedback", json={"feedback": labels}).status_code == 200
    # the service flushed on stop; what the store holds is the reference for every assertion below
    stats = {m: logstore.stats(m, str(mon)) for m in ("dash-a", "dash-b")}
    assert all(len(s) >= N_WINDOWS - 1 for s in stats.values()), {m: len(s) for m, s in stats.items()}
    return {"root": mon, "tags": (ta, tb), "stats": stats, "labels": len(labels)}


# --- the browser --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    pw = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu",
                                                               "--disable-background-networking"])
        yield b
        b.close()


def _charts(page) -> dict:
    "{chart name: [number of x values of each trace]} of the plotly charts on the page."
    return page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('[data-chart]'))
        .filter(e => e.querySelector('.js-plotly-plot'))
        .map(e => [e.dataset.chart, e.querySelector('.js-plotly-plot').data.map(t => (t.x || []).length)]))""")


def _trace(page, chart: str, i: int = 0) -> dict:
    return page.evaluate(f"""() => {{ const t = document.querySelector('[data-chart={chart}] .js-plotly-plot').data[{i}];
        return {{name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || []), z: t.z || null}}; }}""")


@pytest.fixture(scope="module")
def live(store):
    "`mlbench dashboard` with a token on a free loopback port, window length = the logged windows."
    port = _free_port()
    log = open(store["root"].parent / "dashboard.log", "w+")
    proc = subprocess.Popen([MLBENCH, "dashboard", "--port", str(port), "--store", str(store["root"]), "--model", "dash-a",
                             "--freq", f"{WINDOW_S}s", "--token", TOKEN, "--cull-idle", "600"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"mlbench dashboard exited {proc.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        _stop(proc)
        raise AssertionError("the dashboard did not listen within 90 s")
    try:
        yield {"url": f"http://127.0.0.1:{port}", "proc": proc, "log": log}
    finally:
        left = _stop(proc)
        log.seek(0)
        assert not left, f"processes left after SIGTERM: {left}\n{log.read()[-2000:]}"


def test_live_dashboard_draws_the_stores_windows_and_follows_the_model_picker(store, live, browser, tmp_path):
    # without the token: sent to the login page, nothing rendered (and no kernel started)
    r = httpx.get(live["url"] + "/", follow_redirects=False)
    assert r.status_code in (302, 403) and "login" in r.headers.get("location", "login"), r.status_code
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    t0 = time.monotonic()
    page.goto(f"{live['url']}/?token={TOKEN}", timeout=120_000)
    page.wait_for_selector("[data-model=dash-a] [data-chart=traffic] .js-plotly-plot", timeout=120_000)
    page.wait_for_selector("[data-chart=overlay] .js-plotly-plot", timeout=60_000)
    first_draw_s = time.monotonic() - t0
    sa = store["stats"]["dash-a"]
    charts = _charts(page)
    for name in ("traffic", "latency", "predictions", "performance"):
        assert all(n == len(sa) for n in charts[name]), (name, charts[name], len(sa))
    traffic = _trace(page, "traffic")
    assert traffic["name"] == "requests" and traffic["y"] == sa["requests"].tolist()
    assert _trace(page, "traffic", 2)["y"] == [int(s.get("422", 0)) for s in sa["status"]]
    assert sum(_trace(page, "traffic", 2)["y"]) >= 1
    # drift heatmap: one row per feature, one column per window; x1 (moved by 2 sd) drifted in the last window
    heat = page.evaluate("() => { const t = document.querySelector('[data-chart=drift] .js-plotly-plot').data[0];"
                         " return {x: Array.from(t.x), y: Array.from(t.y), z: t.z}; }")
    assert len(heat["x"]) == len(sa) and heat["y"] == ["cat", "x1", "x2"]
    assert heat["z"][1][-1] > -np.log10(0.05) and heat["z"][2][-1] < heat["z"][1][-1]
    # model A got labels: realized accuracy is drawn beside the estimate, with label coverage
    perf = [t["name"] for t in page.evaluate(
        "() => document.querySelector('[data-chart=performance] .js-plotly-plot').data.map(t => ({name: t.name}))")]
    assert "accuracy (realized)" in perf and "label coverage" in perf and "accuracy (estimated)" in perf
    # drill-down: reference vs the latest window, for the most drifted feature (x1)
    overlay = page.evaluate("() => { const e = document.querySelector('[data-chart=overlay] .js-plotly-plot');"
                            " return {title: e.layout.title.text, names: e.data.map(t => t.name)}; }")
    assert overlay["title"].startswith("x1: reference vs") and overlay["names"][0] == "reference"
    page.set_viewport_size({"width": 1300, "height": 2400})  # Voila scrolls inside its own panel
    page.screenshot(path=str(tmp_path / "dashboard-dash-a.png"), full_page=True)

    # the model picker: model B, which got no labels
    page.select_option("select >> nth=0", "dash-b")
    page.wait_for_selector("[data-model=dash-b] [data-chart=traffic] .js-plotly-plot", timeout=60_000)
    sb = store["stats"]["dash-b"]
    assert _trace(page, "traffic")["y"] == sb["requests"].tolist()
    assert all(n == len(sb) for n in _charts(page)["latency"])
    assert "no labels yet" in page.inner_text("[data-model=dash-b]")
    page.screenshot(path=str(tmp_path / "dashboard-dash-b.png"), full_page=True)
    assert (tmp_path / "dashboard-dash-b.png").stat().st_size > 10_000
    print(f"\nfirst draw {first_draw_s:.1f} s; screenshots in {tmp_path}")
    page.close()


def _overlay(page) -> dict:
    return page.evaluate("() => { const e = document.querySelector('[data-chart=overlay] .js-plotly-plot');"
                         " return e ? {title: e.layout.title.text, names: e.data.map(t => t.name)} : null; }")


def _cell_xy(page, row: int, col: int) -> tuple[float, float]:
    "Page coordinates of the centre of heatmap cell (row, col), from plotly's own axes."
    page.locator("[data-chart=drift] .js-plotly-plot").scroll_into_view_if_needed()
    return tuple(page.evaluate("""([row, col]) => {
        const gd = document.querySelector('[data-chart=drift] .js-plotly-plot'), t = gd.data[0];
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
        return [r.left + xa._offset + xa.l2p(xa.d2l(t.x[col])), r.top + ya._offset + ya.l2p(ya.d2l(t.y[row]))]; }""",
                               [row, col]))


def test_clicking_a_heatmap_cell_drills_down_to_that_feature_and_window(store, live, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.goto(f"{live['url']}/?token={TOKEN}", timeout=120_000)
    page.wait_for_selector("[data-model=dash-a] [data-chart=traffic] .js-plotly-plot", timeout=120_000)
    page.wait_for_selector("[data-chart=overlay] .js-plotly-plot", timeout=60_000)
    heat = page.evaluate("() => { const t = document.querySelector('[data-chart=drift] .js-plotly-plot').data[0];"
                         " return {x: Array.from(t.x), y: Array.from(t.y)}; }")
    assert heat["y"] == ["cat", "x1", "x2"] and len(heat["x"]) >= 2
    before = _overlay(page)["title"]
    assert before.startswith("x1: reference vs ")  # the default: the most drifted feature, latest window
    for feat, col in (("x2", 0), ("cat", len(heat["x"]) - 1)):  # a cell other than the one shown, then another
        x, y = _cell_xy(page, heat["y"].index(feat), col)
        page.mouse.move(x, y)
        page.wait_for_timeout(150)  # plotly's hover picks the cell; the click uses it
        page.mouse.click(x, y)
        want = f"{feat}: reference vs {pd.Timestamp(heat['x'][col]):%Y-%m-%d %H:%M:%S}"
        page.wait_for_function("t => { const e = document.querySelector('[data-chart=overlay] .js-plotly-plot');"
                               " return e && e.layout.title.text === t; }", arg=want, timeout=30_000)
        assert _overlay(page)["names"][0] == "reference"
        picked = page.evaluate("() => Array.from(document.querySelectorAll('select')).slice(2, 4)"
                               ".map(s => s.options[s.selectedIndex].textContent)")
        assert picked == [feat, heat["x"][col]], picked  # the dropdowns follow the click
    page.screenshot(path=str(tmp_path / "drill-click.png"), full_page=True)
    page.close()


def _local(url: str) -> bool:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    return u.scheme in ("data", "blob", "about") or u.hostname in ("127.0.0.1", "localhost", "::1")


def test_live_dashboard_fetches_nothing_beyond_loopback(store, live, browser):
    "No CDN: every request the live page makes (scripts, styles, fonts, websockets) goes to the dashboard itself."
    from plotly.offline import get_plotlyjs

    page = browser.new_page(viewport={"width": 1300, "height": 900})
    outside, seen = [], []
    page.route("**/*", lambda route: (seen.append(route.request.url), route.continue_() if _local(route.request.url)
                                      else (outside.append(route.request.url), route.abort())))
    page.on("request", lambda r: None if _local(r.url) else outside.append(r.url))
    page.on("websocket", lambda ws: None if _local(ws.url) else outside.append(ws.url))
    page.goto(f"{live['url']}/?token={TOKEN}", timeout=120_000)
    page.wait_for_selector("[data-model=dash-a] [data-chart=traffic] .js-plotly-plot", timeout=120_000)
    page.wait_for_selector("[data-chart=drift] .js-plotly-plot", timeout=60_000)
    page.wait_for_selector("[data-chart=overlay] .js-plotly-plot", timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert sorted(set(outside)) == [], "requests beyond loopback"
    assert any("/voila/static/" in u for u in seen)  # the route saw the page's own requests
    assert len(_charts(page)) >= 6  # traffic, latency, predictions, performance, drift, overlay all drew
    # the served page names no CDN except inside the inlined plotly.js (map tiles and topojson it never loads here)
    served = httpx.get(f"{live['url']}/?token={TOKEN}", timeout=120).text
    assert "fontawesome-free" not in served and "mermaid" not in served
    assert served.count("cdn.") == get_plotlyjs().count("cdn."), [m.start() for m in re.finditer(r"cdn\.", served)]
    assert not re.findall(r"<(?:script|link)[^>]*(?:src|href)=[\"']?(?:https?:)?//", served, re.I)
    page.close()


# --- the kernel-free snapshot -------------------------------------------------------------------
def _static(args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([MLBENCH, "dashboard", *map(str, args)], capture_output=True, text=True, timeout=180, cwd=cwd)


def test_static_snapshot_is_self_contained_and_holds_the_series(store, browser, tmp_path):
    out = tmp_path / "monitor.html"
    r = _static(["--store", store["root"], "--freq", f"{WINDOW_S}s", "--static", out], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    text = out.read_text()
    assert not re.findall(r"<script[^>]*\bsrc=", text, re.I), "every script is inline"
    assert not re.findall(r"<link[^>]*href=[\"']?(?:https?:)?//", text, re.I), "no stylesheet from elsewhere"
    assert "plotly.js v" in text  # plotly.js itself is inline (its code names cdn.plot.ly, but nothing loads it)
    page = browser.new_page()
    asked = []
    page.route("**/*", lambda route: (asked.append(route.request.url), route.continue_()
                                      if route.request.url.startswith("file://") else route.abort()))
    page.goto(out.as_uri())
    page.wait_for_selector("[data-model=dash-b] [data-chart=traffic] .js-plotly-plot", timeout=60_000)
    assert [u for u in asked if not u.startswith("file://")] == []  # nothing fetched from the network
    for m in ("dash-a", "dash-b"):
        y = page.evaluate(f"() => Array.from(document.querySelector('[data-model={m}] [data-chart=traffic] "
                          ".js-plotly-plot').data[0].y)")
        assert y == store["stats"][m]["requests"].tolist()
    page.close()


def test_empty_store_says_no_traffic_yet_and_a_missing_store_is_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _static(["--store", empty, "--static", tmp_path / "e.html"], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "No traffic yet" in (tmp_path / "e.html").read_text()
    r = _static(["--store", tmp_path / "nope", "--static", tmp_path / "n.html"], tmp_path)
    assert r.returncode == 2 and "no such directory" in r.stderr and not (tmp_path / "n.html").exists()


def test_corrupt_window_files_are_skipped_and_reported(store, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(store["root"], root)
    windows = sorted(p for p in (root / "dash-a").iterdir() if p.name[:1].isdigit())
    stats = next(windows[0].glob("stats-*.json"))
    stats.write_text(stats.read_text()[:40])  # truncated mid-write
    prof = next(windows[-1].glob("profile-*.json"))
    prof.write_bytes(b"\x00garbage")
    out = tmp_path / "c.html"
    r = _static(["--store", root, "--model", "dash-a", "--freq", f"{WINDOW_S}s", "--static", out], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    text = out.read_text()
    assert "skipped: " in text and stats.name in text and windows[0].name in text
    m = re.search(r'data-chart="traffic".*?Plotly\.newPlot\(\s*"[^"]+",\s*\[\{.*?"y":\[([0-9,]*)\]', text, re.S)
    assert m and len(m.group(1).split(",")) == len(store["stats"]["dash-a"]) - 1  # the truncated window is left out


def test_beyond_loopback_without_a_token_is_refused(tmp_path):
    port = _free_port()
    r = subprocess.run([MLBENCH, "dashboard", "--host", "0.0.0.0", "--port", str(port)], capture_output=True, text=True,
                       timeout=60, cwd=tmp_path)
    assert r.returncode == 2 and "--token" in r.stderr, (r.returncode, r.stderr)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    r = subprocess.run([MLBENCH, "dashboard", "--host", "0.0.0.0", "--token", "short"], capture_output=True, text=True,
                       timeout=60, cwd=tmp_path)
    assert r.returncode == 2 and "16 characters" in r.stderr


def _kernels(pid: int) -> list[int]:
    out = []
    for p in _descendants(pid):
        try:
            if b"ipykernel" in Path(f"/proc/{p}/cmdline").read_bytes() and _alive(p):
                out.append(p)
        except OSError:
            pass
    return out


def test_idle_viewer_kernels_are_culled(browser, tmp_path):
    """Voila starts a kernel per viewer; `--cull-idle 8` shuts an idle one down even while its page stays open.
    (Not shorter: Voila's server-side run of the notebook does not count as kernel activity, so a cull time
    shorter than the first render, ~4 s here, can kill the kernel mid-render; seen with 2 s about 1 in 12 loads.)"""
    (tmp_path / "empty").mkdir()
    port = _free_port()
    log = open(tmp_path / "dashboard.log", "w+")
    proc = subprocess.Popen([MLBENCH, "dashboard", "--port", str(port), "--store", str(tmp_path / "empty"),
                             "--cull-idle", "8"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        page = browser.new_page()
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the dashboard did not start"
                time.sleep(0.3)
        page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
        page.wait_for_selector("[data-state=empty]", timeout=120_000)
        assert "No traffic yet" in page.inner_text("[data-state=empty]")
        assert len(_kernels(proc.pid)) == 1
        deadline = time.monotonic() + 40
        while _kernels(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        log.seek(0)
        assert not _kernels(proc.pid), f"the idle kernel was not culled within 40 s:\n{log.read()[-2000:]}"
        page.close()
    finally:
        assert not _stop(proc)
