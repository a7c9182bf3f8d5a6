"""Issue 19: independent steps run at once (`max_parallel`), and on a Dask cluster (`executor="dask"`), with the
same cache keys, statuses, output hashes and failure classes as one step at a time. A diamond (a -> b, a -> c,
b + c -> d) is run each way and the ledgers compared; real kernels, a real LocalCluster of two worker processes."""
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from mlbench.pipeline.lineage import Ledger
from mlbench.pipeline.runner import run, start
from mlbench.pipeline.spec import Pipeline, PipelineError

pytestmark = pytest.mark.timeout(300)
PAUSE = 2.0  # seconds b and c each sleep: long enough that running them one after the other shows


def _nb(path: Path, params: str, *cells: str) -> None:
    c = new_code_cell(params)
    c.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[c, *[new_code_cell(x) for x in cells]])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def diamond(tmp_path):
    "a writes a number; b and c (independent) each read it, sleep and write theirs; d reads b's and c's."
    io = "import pathlib, time\nP = pathlib.Path\n"
    _nb(tmp_path / "a.ipynb", "output_dir = '.'", io + "P(output_dir, 'a.txt').write_text('3')")
    for name, op in (("b", "* 2"), ("c", "+ 4")):
        _nb(tmp_path / f"{name}.ipynb", "upstream = {}\noutput_dir = '.'\nfail = False\npause = 0.0",
            io + "time.sleep(pause)\nassert not fail, 'asked to fail'\n"
                 f"P(output_dir, '{name}.txt').write_text(str(int(P(upstream['a'], 'a.txt').read_text()) {op}))")
    _nb(tmp_path / "d.ipynb", "upstream = {}\noutput_dir = '.'",
        io + "s = sum(int(P(upstream[k], k + '.txt').read_text()) for k in 'bc')\n"
             "P(output_dir, 'd.txt').write_text(str(s))")
    (tmp_path / "pipeline.yaml").write_text(f"""
timeout: 120
steps:
  a: {{notebook: a.ipynb, outputs: [a.txt]}}
  b: {{notebook: b.ipynb, outputs: [b.txt], depends_on: [a], parameters: {{pause: {PAUSE}}}}}
  c: {{notebook: c.ipynb, outputs: [c.txt], depends_on: [a], parameters: {{pause: {PAUSE}}}}}
  d: {{notebook: d.ipynb, outputs: [d.txt], depends_on: [b, c]}}
""")
    return tmp_path / "pipeline.yaml"


def _ledger(root: Path, run_id: str) -> dict:
    "step -> (status, cache hit, cache key, {output: sha256}) as the ledger has them."
    led = Ledger(root / "lineage.sqlite")
    try:
        steps = led.query("select step, status, cache_hit, key from steps where run_id = :r", r=run_id)
        outs = led.query("select step, path, fingerprint from files where run_id = :r and role = 'output'", r=run_id)
    finally:
        led.close()
    return {s["step"]: (s["status"], s["cache_hit"], s["key"],
                        {o["path"]: o["fingerprint"] for o in outs if o["step"] == s["step"]}) for s in steps}


def _spans(root: Path, run_id: str) -> dict:
    "step -> (start, end) in seconds, from the ledger's recorded start time and duration."
    from datetime import datetime

    led = Ledger(root / "lineage.sqlite")
    try:
        rows = led.query("select step, started, duration_s from steps where run_id = :r", r=run_id)
    finally:
        led.close()
    return {r["step"]: (t := datetime.fromisoformat(r["started"]).timestamp(), t + r["duration_s"]) for r in rows}


def _overlap(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _same_but_hits(x: dict) -> dict:
    return {k: (v[0], v[2], v[3]) for k, v in x.items()}


def test_parallel_run_overlaps_and_keeps_the_sequential_ledger(diamond):
    root = diamond.parent
    one = run(diamond, root="one", max_parallel=1)
    two = run(diamond, root="two", max_parallel=2)
    assert one.ok and two.ok, (one.to_frame(), two.to_frame())
    assert (Path(two.folder) / "d" / "d.txt").read_text() == "13"
    seq, par = _ledger(root / "one", one.run_id), _ledger(root / "two", two.run_id)
    assert set(seq) == set(par) == set("abcd")
    assert seq == par  # statuses, no cache hits, same keys, same output hashes
    s1, s2 = _spans(root / "one", one.run_id), _spans(root / "two", two.run_id)
    assert not _overlap(s1["b"], s1["c"]), s1  # one at a time
    assert _overlap(s2["b"], s2["c"]), s2  # at once
    assert s2["d"][0] >= max(s2["b"][1], s2["c"][1]) - 0.01 and min(s2["b"][0], s2["c"][0]) >= s2["a"][1] - 0.01
    assert s2["d"][1] - s2["a"][0] < s1["d"][1] - s1["a"][0] - PAUSE / 2  # the parallel run is shorter
    assert not list(Path(two.folder).glob(".*"))  # no staging folder, kernel log or lock left
    again = run(diamond, root="two", max_parallel=2)
    assert [s.cache_hit for s in again.steps] == [True] * 4
    assert _same_but_hits(_ledger(root / "two", again.run_id)) == _same_but_hits(par)


def test_failing_branch_stops_its_dependents_only_and_events_follow_each_step(diamond):
    handle = start(diamond, root="runs", max_parallel=2, params={"b.fail": True})
    res = handle.result(timeout=240)
    assert not res.ok and res.failed_step == "b"
    assert [(s.step, s.status) for s in res.steps] == [("a", "SUCCEEDED"), ("b", "FAILED"), ("c", "SUCCEEDED"),
                                                      ("d", "NOT_RUN")]
    assert "asked to fail" in res["b"].message and (Path(res.folder) / "c" / "c.txt").read_text() == "7"
    ev = [(e["event"], e.get("step")) for e in handle.events]
    assert ev[0] == ("run_start", None) and ev[-1] == ("run_end", None)
    for s in "abc":
        assert ev.count(("step_start", s)) == 1 and ev.count(("step_end", s)) == 1
    assert ev.count(("step_end", "d")) == 1 and ("step_start", "d") not in ev
    assert ev.index(("step_start", "c")) < ev.index(("step_end", "b"))  # b and c were running at once
    ends = {e["step"]: e for e in handle.events if e["event"] == "step_end"}
    assert ends["b"]["status"] == "FAILED" and ends["d"]["status"] == "NOT_RUN"
    fixed = run(diamond, root="runs", max_parallel=2, resume=res.run_id)  # resume runs b and d only
    assert fixed.ok and fixed.run_id == res.run_id
    assert {s.step: s.cache_hit for s in fixed.steps} == {"a": True, "b": False, "c": True, "d": False}


def test_a_step_behind_a_cache_hit_starts_while_another_runs(tmp_path):
    "x and y2 re-run, y1 between them is a cache hit: y2 starts at once, not after x."
    _nb(tmp_path / "slow.ipynb", "output_dir = '.'\npause = 0.0\ntag = ''",
        "import pathlib, time\ntime.sleep(pause)\npathlib.Path(output_dir, 'out.txt').write_text(tag)")
    p = Pipeline.from_dict({"timeout": 120, "steps": {
        "x": {"notebook": "slow.ipynb", "outputs": ["out.txt"], "parameters": {"pause": PAUSE}},
        "y1": {"notebook": "slow.ipynb", "outputs": ["out.txt"]},
        "y2": {"notebook": "slow.ipynb", "outputs": ["out.txt"], "parameters": {"pause": PAUSE}, "depends_on": ["y1"]}}},
        base=tmp_path)
    assert run(p, max_parallel=2).ok
    r = run(p, max_parallel=2, params={"x.tag": "new", "y2.tag": "new"})
    assert [(s.step, s.cache_hit) for s in r.steps] == [("x", False), ("y1", True), ("y2", False)]
    sp = _spans(tmp_path / "runs", r.run_id)
    assert _overlap(sp["x"], sp["y2"]), sp


def test_bad_arguments_are_refused_naming_them(diamond):
    for kw, msg in [(dict(max_parallel=0), "max_parallel=0"), (dict(max_parallel=-1), "max_parallel=-1"),
                    (dict(executor="threads"), "executor='threads'"), (dict(executor="dask"), "needs scheduler="),
                    (dict(root="s3://bucket/runs"), "not s3://")]:
        with pytest.raises(PipelineError, match=msg.replace("(", r"\(")):
            run(diamond, **kw)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PipelineError, match=f"scheduler='tcp://127.0.0.1:{port}': cannot reach"):
        run(diamond, executor="dask", scheduler=f"tcp://127.0.0.1:{port}")
    led = Ledger(diamond.parent / "runs" / "lineage.sqlite")
    assert led.query("select count(*) as n from runs")[0]["n"] == 0  # refused before a run was recorded
    led.close()


def test_cli_flags(diamond):
    def mb(*args):
        return subprocess.run([str(Path(sys.executable).parent / "mlbench"), "run", str(diamond), *args],
                              capture_output=True, text=True, timeout=240)

    r = mb("--max-parallel", "0")
    assert r.returncode == 2 and "max_parallel=0" in r.stderr, r.stderr
    r = mb("--executor", "dask")
    assert r.returncode == 2 and "needs scheduler=" in r.stderr, r.stderr
    r = mb("--max-parallel", "2", "-p", "pause=0")
    assert r.returncode == 0 and "local, 2 at once" in r.stdout, r.stdout + r.stderr


@pytest.fixture(scope="module")
def cluster():
    "Two worker processes on loopback; a worker that dies fails its task at once (no retries on other workers)."
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0")
    yield c
    c.close()


def test_dask_run_keeps_the_local_ledger_and_its_failure_classes(diamond, cluster):
    root = diamond.parent
    local = run(diamond, root="local", max_parallel=2)
    remote = run(diamond, root="file://" + str(root / "dask"), executor="dask", scheduler=cluster.scheduler_address)
    assert local.ok and remote.ok, remote.to_frame()
    assert remote.folder.startswith(str(root / "dask"))
    assert _ledger(root / "dask", remote.run_id) == _ledger(root / "local", local.run_id)
    assert _overlap(*[_spans(root / "dask", remote.run_id)[s] for s in "bc"])  # one worker each, at once
    assert (Path(remote.folder) / "d" / "d.txt").read_text() == "13" and not list(Path(remote.folder).glob(".*"))
    again = run(diamond, root=root / "dask", executor="dask", scheduler=cluster.scheduler_address)
    assert [s.cache_hit for s in again.steps] == [True] * 4
    bad = run(diamond, root="dask", executor="dask", scheduler=cluster.scheduler_address, params={"b.fail": True})
    assert [s.status for s in bad.steps] == ["SUCCEEDED", "FAILED", "SUCCEEDED", "NOT_RUN"]
    assert bad["b"].cell == 1 and "asked to fail" in bad["b"].message
    assert [s.cache_hit for s in bad.steps] == [True, False, True, False]
    fixed = run(diamond, root="dask", executor="dask", scheduler=cluster.scheduler_address, resume=bad.run_id,
                params={"b.pause": 0.5})  # b runs (a new key); d's inputs are unchanged, so it is a cache hit
    assert fixed.ok and fixed.run_id == bad.run_id
    assert {s.step: s.cache_hit for s in fixed.steps} == {"a": True, "b": False, "c": True, "d": True}


def test_a_worker_killed_mid_step_leaves_no_outputs_recorded(tmp_path, cluster):
    _nb(tmp_path / "dies.ipynb", "output_dir = '.'",
        "import os, pathlib, signal\npathlib.Path(output_dir, 'half.txt').write_text('half of it')\n"
        "os.kill(os.getppid(), signal.SIGKILL)  # the Dask worker that started this kernel")
    p = Pipeline.from_dict({"timeout": 120, "steps": {"dies": {"notebook": "dies.ipynb", "outputs": ["half.txt"]}}},
                           base=tmp_path)
    res = run(p, executor="dask", scheduler=cluster.scheduler_address)
    step = res["dies"]
    assert step.status == "KERNEL_DIED" and "Dask worker" in step.message, step
    folder = Path(res.folder)
    assert not (folder / "dies" / "half.txt").exists() and not list(folder.glob(".*"))  # nothing half-done kept
    assert _ledger(tmp_path / "runs", res.run_id)["dies"][0] == "KERNEL_DIED"
    assert _ledger(tmp_path / "runs", res.run_id)["dies"][3] == {}  # no output recorded
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker
