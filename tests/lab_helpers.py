"""A real `jupyter lab` and headless Chromium for the browser tests of the JupyterLab front end.

Bind the fixtures in a test module (pytest finds fixtures bound there; an assignment, unlike
`from lab_helpers import lab`, does not trip ruff's F811 on the test functions' arguments):

    sys.path.insert(0, str(Path(__file__).parent))
    import lab_helpers  # noqa: E402
    lab, browser = lab_helpers.lab, lab_helpers.browser

`lab` starts JupyterLab from this virtual environment on a free loopback port with a random token and a
throwaway root, config, data, runtime and IPython folder (the environment's own share/jupyter stays on
JUPYTER_PATH, so its lab extensions and kernels are found), and stops its whole process tree afterwards.
`browser` is the system's /usr/bin/chromium through Playwright (no browser download; skipped without it)."""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

JUPYTER_LAB = str(Path(sys.executable).parent / "jupyter-lab")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
START_TIMEOUT_S = 120  # a cold JupyterLab on a busy 2-core machine
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook shown in the main area


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    "Every live process below `pid` (from /proc)."
    kids: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(p.name))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_tree(proc: subprocess.Popen, grace_s: float = 20) -> list[int]:
    """SIGTERM the server (it shuts its kernels down), SIGKILL it after `grace_s`, then SIGKILL whatever of its
    process tree is still alive (kernels, a kernel's sweep worker); return the pids that had to be killed."""
    tree = descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    tree += [p for p in descendants(proc.pid) if p not in tree]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in tree):
        time.sleep(0.2)
    left = [p for p in tree if alive(p)]
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT (no trailing slash)
    token: str
    root: Path  # the server's root_dir: notebooks written here open as /lab/tree/<name>
    proc: subprocess.Popen
    log: Path

    def lab_url(self, path: str, workspace: str | None = None) -> str:
        """The URL that opens `path` (relative to root) in JupyterLab, in a workspace of its own (a new one by
        default), so that no tab a page opened before comes back with it."""
        return f"{self.url}/lab/workspaces/{workspace or secrets.token_hex(6)}/tree/{path}?token={self.token}"

    def api(self, path: str, **kw) -> httpx.Response:
        return httpx.get(f"{self.url}/api/{path.lstrip('/')}", headers={"Authorization": f"token {self.token}"},
                         timeout=kw.pop("timeout", 10), **kw)

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""


# user settings the throwaway config folder starts with: no news/update toast over the notebook, no requests out
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}


@contextlib.contextmanager
def start_lab(base: Path, extra_args=(), settings: dict | None = None):
    """Run `jupyter lab` in folder `base` (root/ is its root_dir, home/ holds its config, data, runtime, IPython and
    BentoML folders; what a test seeded there before is kept); yield a `Lab` once /api/status answers; stop its
    process tree on exit. `extra_args`: more command-line options (e.g. to enable a server extension); `settings`:
    JupyterLab user settings {"@scope/plugin-package/plugin": {...}}, LAB_SETTINGS by default."""
    if not os.access(JUPYTER_LAB, os.X_OK):
        pytest.skip(f"no {JUPYTER_LAB}: pip install 'jupyterlab>=4.2,<5'")
    root, home = base / "root", base / "home"
    root.mkdir(parents=True, exist_ok=True)  # may be seeded already (so may home/bentoml)
    for d in ("bentoml", "config", "data", "runtime", "ipython"):
        (home / d).mkdir(parents=True, exist_ok=True)
    for plugin, values in (LAB_SETTINGS if settings is None else settings).items():
        f = home / "config" / "lab" / "user-settings" / f"{plugin}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    env = {**os.environ,
           "BENTOML_HOME": str(home / "bentoml"),
           "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "IPYTHONDIR": str(home / "ipython")}
    # JUPYTER_PATH adds to (does not replace) the defaults, which hold sys.prefix/share/jupyter (this environment's
    # lab extensions and kernels): say it anyway, first
    share = str(Path(sys.prefix) / "share" / "jupyter")
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in [share, os.environ.get("JUPYTER_PATH", "")] if p)
    env.pop("JUPYTER_TOKEN", None)
    token, port = secrets.token_hex(24), free_port()
    log = base / "jupyter-lab.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [JUPYTER_LAB, "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
             # IdentityProvider.token: jupyter_server 2 deprecates ServerApp.token (it still works, with a warning)
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             "--ServerApp.disable_check_xsrf=False", "--ServerApp.open_browser=False", "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             *(["--allow-root"] if os.geteuid() == 0 else []), *extra_args],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, proc=proc, log=log)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"jupyter lab exited {proc.returncode}:\n{server.log_tail()}")
            try:
                if server.api("status", timeout=3).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"jupyter lab did not answer /api/status in {START_TIMEOUT_S} s:\n"
                                     f"{server.log_tail()}")
            time.sleep(0.3)
        yield server
    finally:
        left = stop_tree(proc)
        if left:
            print(f"\njupyter lab: killed {len(left)} processes left after SIGTERM: {left}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    "A real `jupyter lab` on a free loopback port with a random token and a throwaway root (see `start_lab`)."
    with start_lab(tmp_path_factory.mktemp("lab").resolve()) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    "Headless /usr/bin/chromium through Playwright (skipped where it is absent)."
    pw = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class PageLog:
    "What the page said: console messages (type, text, url) and uncaught exceptions."
    console: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)

    def errors(self) -> list[dict]:
        return [m for m in self.console if m["type"] == "error"] + [
            {"type": "pageerror", "text": e, "url": ""} for e in self.page_errors]


def new_page(browser, width: int = 1400, height: int = 1000):
    "A fresh page (own context) and the `PageLog` that collects its console messages and uncaught errors."
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    log = PageLog()
    page.on("console", lambda m: log.console.append(
        {"type": m.type, "text": m.text, "url": (m.location or {}).get("url", "")}))
    page.on("pageerror", lambda e: log.page_errors.append(f"{e.name}: {e.message}\n{e.stack or ''}"[:3000]))
    return page, log


def open_notebook(lab: Lab, browser, path: str, kernel_timeout_ms: int = 120_000):
    """Open notebook `path` (relative to lab.root) in JupyterLab and wait until its kernel is idle;
    return (page, PageLog). Close the page's context when done (`page.context.close()`)."""
    page, log = new_page(browser)
    page.goto(lab.lab_url(path), timeout=120_000)
    page.wait_for_selector(f"{PANEL} .jp-Notebook .jp-Cell", timeout=120_000)
    # the toolbar's execution indicator says "idle" for a moment before the kernel is even started: wait for the
    # status bar's kernel item to name a kernel and say Idle, and for the indicator to agree
    page.wait_for_function("""panel => {
        const ind = document.querySelector(panel + ' .jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator');
        const items = Array.from(document.querySelectorAll('.jp-StatusBar-TextItem')).map(e => e.textContent);
        return ind && ind.dataset.status === 'idle'
            && items.some(t => / \\| Idle$/.test(t.trim()) && !t.startsWith('No Kernel'));
    }""", arg=PANEL, timeout=kernel_timeout_ms, polling=250)
    return page, log


def run_all_cells(page) -> None:
    "Run > Run All Cells, from the menu bar."
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^\s*Run\s*$")).first.click()
    page.locator(".lm-Menu-item:visible", has_text="Run All Cells").first.click()
