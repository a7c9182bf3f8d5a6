"Pipelines with real kernels: the step cache (each cause of a re-run alone), failure statuses, resume, refusals, CLI."
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mlbench.pipeline import runner as pl
from mlbench.pipeline.runner import lineage, run
from mlbench.pipeline.spec import Pipeline, PipelineError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "pipeline"


@pytest.fixture
def proj(tmp_path):
    "A project folder holding the fixture notebooks, their helper module and a data file."
    for f in FIXTURES.iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    (tmp_path / "data.csv").write_text("a\n1\n2\n")
    return tmp_path


def pipe(proj, timeout=60, **steps):
    return Pipeline.from_dict({"timeout": timeout, "steps": steps}, base=proj)


def test_two_steps_folders_ledger_and_cache_hit(proj):
    p = pipe(proj, make={"notebook": "ok.ipynb", "parameters": {"n": 5}, "outputs": ["result.json"]},
             use={"notebook": "consume.ipynb", "inputs": ["data.csv"], "outputs": ["summary.txt"],
                  "depends_on": ["make"]})
    r = run(p)
    assert r.ok, r.to_frame()
    folder = Path(r.folder)
    assert folder.parent == proj / "runs"
    assert json.loads((folder / "make" / "result.json").read_text())["n"] == 5
    assert (folder / "use" / "summary.txt").read_text().startswith("3 ")
    assert {f.name for f in (folder / "use").iterdir()} == {"use.ipynb", "use.log", "use.kernel.log", "summary.txt"}
    assert not list(folder.glob(".*"))  # no staging folders left
    again = run(p)
    assert again.run_id != r.run_id and [s.cache_hit for s in again.steps] == [True, True]
    assert (Path(again.folder) / "use" / "summary.txt").read_text() == (folder / "use" / "summary.txt").read_text()
    led = lineage(again.run_id, proj / "runs")
    assert set(led["role"]) == {"notebook", "input", "output"} and led["cache_hit"].all()
    assert set(led["source_run"]) == {r.run_id}


def _edit_notebook(proj):
    nb = json.loads((proj / "helper.ipynb").read_text())
    nb["cells"][1]["source"].append("\n# edited")
    (proj / "helper.ipynb").write_text(json.dumps(nb))


CAUSES = {
    "notebook": lambda proj, mp: _edit_notebook(proj),
    "modules": lambda proj, mp: (proj / "helper_mod.py").write_text("def value():\n    return 42\n"),
    "parameters": lambda proj, mp: {"scale": 2},
    "inputs": lambda proj, mp: (proj / "data.csv").write_text("a\n1\n2\n3\n"),
    "packages": lambda proj, mp: mp.setattr(pl, "package_versions", lambda: "another-environment"),
}


@pytest.mark.parametrize("cause", [*CAUSES, "vanished"])
def test_each_change_reruns_the_step(proj, monkeypatch, cause):
    p = pipe(proj, h={"notebook": "helper.ipynb", "inputs": ["data.csv"], "outputs": ["value.txt"]})
    first = run(p)
    assert first.ok and not first["h"].cache_hit
    assert run(p)["h"].cache_hit
    params = None
    if cause == "vanished":
        (proj / "data.csv").unlink()
    else:
        params = CAUSES[cause](proj, monkeypatch)
    r = run(p, params=params if isinstance(params, dict) else None)
    assert r.ok and not r["h"].cache_hit, cause
    assert r["h"].reason == f"changed: {'inputs' if cause == 'vanished' else cause}"
    value = (Path(r.folder) / "h" / "value.txt").read_text()
    assert value == {"modules": "45", "parameters": "85", "inputs": "45", "vanished": "40"}.get(cause, "44")


def test_altered_recorded_output_is_not_reused(proj):
    p = pipe(proj, make={"notebook": "ok.ipynb", "outputs": ["result.json"]})
    r = run(p)
    (Path(r.folder) / "make" / "result.json").write_text("tampered")
    r2 = run(p)
    assert not r2["make"].cache_hit and "gone or altered" in r2["make"].reason


@pytest.mark.parametrize("name,status,cell,text", [
    ("raises", "FAILED", 2, "ValueError: boom 2"),
    ("exits", "STOPPED_EARLY", 1, "cells never run: [2, 3]"),
    ("dies", "KERNEL_DIED", 1, "exit code 1"),
    ("sleeps", "TIMEOUT", 1, "timed out"),
])
def test_failure_statuses_stop_dependents(proj, name, status, cell, text):
    p = pipe(proj, timeout=1.5, bad={"notebook": f"{name}.ipynb"},
             after={"notebook": "ok.ipynb", "depends_on": ["bad"]},
             other={"notebook": "ok.ipynb", "parameters": {"n": 7}})
    t0 = time.perf_counter()
    r = run(p)
    assert time.perf_counter() - t0 < 30
    assert not r.ok and r.failed_step == "bad"
    assert (r["bad"].status, r["bad"].cell) == (status, cell) and text in r["bad"].message, r["bad"]
    assert r["after"].status == "NOT_RUN" and r["other"].status == "SUCCEEDED"
    executed = Path(r.folder) / "bad" / "bad.ipynb"
    assert executed.exists() and (Path(r.folder) / "bad" / "bad.log").exists()
    if status != "STOPPED_EARLY":  # the error is in the saved notebook
        assert any(o["output_type"] == "error" for c in json.loads(executed.read_text())["cells"]
                   for o in c.get("outputs", []))
    led = lineage(r.run_id, proj / "runs")
    assert dict(zip(led["step"], led["status"]))["bad"] == status


def test_a_million_printed_lines_are_capped(proj):
    r = run(pipe(proj, spam={"notebook": "prints.ipynb"}), max_lines=1000)
    assert r.ok
    nb = json.loads((Path(r.folder) / "spam" / "spam.ipynb").read_text())
    text = "".join("".join(o["text"]) for o in nb["cells"][1]["outputs"])
    assert len(text.splitlines()) == 1001 and "truncated after 1,000 lines" in text
    assert (Path(r.folder) / "spam" / "spam.ipynb").stat().st_size < 100_000
    assert len((Path(r.folder) / "spam" / "spam.log").read_text().splitlines()) == 1002  # + "done"


def test_resume_continues_from_the_failed_step(proj):
    shutil.copy(proj / "raises.ipynb", proj / "flaky.ipynb")
    p = pipe(proj, a={"notebook": "ok.ipynb", "outputs": ["result.json"]},
             b={"notebook": "flaky.ipynb", "depends_on": ["a"]})
    bad = run(p)
    assert bad.failed_step == "b" and bad["a"].status == "SUCCEEDED"
    nb = json.loads((proj / "flaky.ipynb").read_text())
    nb["cells"][2]["source"] = ["pass"]
    (proj / "flaky.ipynb").write_text(json.dumps(nb))
    r = run(p, resume=bad.run_id)
    assert r.ok and r.run_id == bad.run_id
    assert r["a"].cache_hit and r["a"].reason == f"cached from run {bad.run_id}" and not r["b"].cache_hit
    assert (Path(r.folder) / "b.attempt-1" / "b.ipynb").exists()  # the failed attempt is kept


def test_sigkill_leaves_no_half_written_outputs_and_resume_recovers(proj):
    (proj / "p.yaml").write_text(textwrap.dedent("""
        steps:
          a: {notebook: ok.ipynb, outputs: [result.json]}
          slow: {notebook: sleeps.ipynb, parameters: {seconds: 30}, depends_on: [a]}
    """))
    code = f"from mlbench.pipeline.runner import run; run({str(proj / 'p.yaml')!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        deadline = time.time() + 60
        while not list((proj / "runs").glob("*/.slow.partial-*")) and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    (run_dir,) = [d for d in (proj / "runs").iterdir() if d.is_dir()]
    assert (run_dir / "a" / "result.json").exists() and not (run_dir / "slow").exists()
    r = run(proj / "p.yaml", params={"seconds": 0}, resume=run_dir.name)
    assert r.ok and r["a"].cache_hit and not r["slow"].cache_hit
    assert not list(run_dir.glob(".*partial*"))


def test_from_step_and_force(proj):
    p = pipe(proj, make={"notebook": "ok.ipynb", "outputs": ["result.json"]},
             use={"notebook": "consume.ipynb", "inputs": ["data.csv"], "depends_on": ["make"]})
    assert run(p).ok
    r = run(p, from_step="use")
    assert [s.cache_hit for s in r.steps] == [True, False] and r["use"].reason == "forced"
    r = run(p, force=True)
    assert [s.cache_hit for s in r.steps] == [False, False]


@pytest.mark.parametrize("spec,kw,why", [
    ({"a": {"notebook": "missing.ipynb"}}, {}, "not found"),
    ({"a": {"notebook": "ok.ipynb", "depends_on": ["b"]}, "b": {"notebook": "ok.ipynb", "depends_on": ["a"]}},
     {}, "cycle"),
    ({"a": {"notebook": "ok.ipynb", "depends_on": ["zz"]}}, {}, "unknown step 'zz'"),
    ({"a": {"notebook": "ok.ipynb"}}, {"from_step": "zz"}, "unknown step 'zz'"),
    ({"a": {"notebook": "ok.ipynb", "parameters": {"m": 1}}}, {}, "'m' is not declared"),
    ({"a": {"notebook": "ok.ipynb", "parameters": {"n": "3"}}}, {}, "expected int"),
    ({"a": {"notebook": "ok.ipynb"}}, {"params": {"ratio": "x"}}, "expected float"),
    ({"a": {"notebook": "ok.ipynb"}}, {"params": {"nope": 1}}, "declared by no step"),
    ({"a": {"notebook": "ok.ipynb"}}, {"params": {"zz.n": 1}}, "no step named 'zz'"),
    ({"a": {"notebook": "noparams.ipynb", "parameters": {"x": 1}}}, {}, "no cell tagged 'parameters'"),
    ({"a": {"notebook": "ok.ipynb", "parameters": {"output_dir": "/tmp"}}}, {}, "filled in by the runner"),
    ({"a": {"notebook": "raises.ipynb", "outputs": ["x.csv"]}}, {}, "must declare `output_dir`"),
    ({"a": {"notebook": "ok.ipynb"}}, {"resume": "20990101T000000-abcdef"}, "no run"),
    ({"a": {"notebook": "ok.ipynb", "retries": 3}}, {}, "unknown keys ['retries']"),
])
def test_refused_before_anything_runs(proj, spec, kw, why):
    with pytest.raises(PipelineError) as e:
        run(Pipeline.from_dict({"steps": spec}, base=proj), **kw)
    assert why in str(e.value)
    assert not [d for d in (proj / "runs").glob("*") if d.is_dir()] if (proj / "runs").exists() else True


def test_cli_run_exit_codes(proj, capsys):
    from mlbench.cli import main

    def cli(*args):
        with pytest.raises(SystemExit) as e:
            main([str(a) for a in args])
        return e.value.code

    (proj / "ok.yaml").write_text("steps:\n  make: {notebook: ok.ipynb, outputs: [result.json]}\n")
    (proj / "bad.yaml").write_text("steps:\n  boom: {notebook: raises.ipynb}\n")
    (proj / "missing.yaml").write_text("steps:\n  x: {notebook: nope.ipynb}\n")
    assert cli("run", proj / "ok.yaml", "-p", "n=11", "-p", "make.text=yo") == 0
    (res,) = (proj / "runs").glob("*/make/result.json")
    assert json.loads(res.read_text()) == {"n": 11, "text": "yo", "ratio": 0.5}
    assert cli("run", proj / "ok.yaml", "-p", "n=11", "-p", "make.text=yo") == 0
    assert "cached" in capsys.readouterr().out
    assert cli("run", proj / "bad.yaml") == 1
    assert "step 'boom' failed" in capsys.readouterr().err
    assert cli("run", proj / "missing.yaml") == 2
    assert cli("run", proj / "ok.yaml", "-p", "n=eleven") == 2
    assert cli("run", proj / "ok.yaml", "--from", "nope") == 2
