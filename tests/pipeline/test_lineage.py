"Lineage with real kernels: record() from step notebooks, cache hits carrying tags, model_lineage against the files' own sha256, SQLite and PostgreSQL ledgers, live events, PipelineView."
import hashlib
import json
import shutil
import sqlite3
import threading
import warnings
from pathlib import Path

import pytest

from mlbench.pipeline import runner as pl
from mlbench.pipeline.cache import package_versions
from mlbench.pipeline.execute import execute
from mlbench.pipeline.lineage import Ledger, LineageError, model_lineage
from mlbench.pipeline.runner import lineage, run
from mlbench.pipeline.spec import Pipeline

pytestmark = pytest.mark.timeout(300)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "pipeline"


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def proj(tmp_path):
    for f in FIXTURES.iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    (tmp_path / "data.csv").write_text("a\n1\n2\n")
    return tmp_path


def model_pipe(proj):
    "make -> train (records model, metrics, report) -> check (records an outside report); side is unrelated."
    return Pipeline.from_dict({"timeout": 60, "steps": {
        "make": {"notebook": "ok.ipynb", "inputs": ["data.csv"], "outputs": ["result.json"], "parameters": {"n": 4}},
        "side": {"notebook": "ok.ipynb", "parameters": {"n": 9}},
        "train": {"notebook": "train.ipynb", "outputs": ["model.txt", "report.html"], "depends_on": ["make"]},
        "check": {"notebook": "check.ipynb", "depends_on": ["train"]},
    }}, base=proj)


def test_record_cache_hit_and_model_lineage(proj):
    p = model_pipe(proj)
    r = run(p)
    assert r.ok, r.to_frame()
    folder = Path(r.folder)
    kinds = {k: (v, fp) for k, v, fp in r["train"].artifacts}
    assert kinds["model"] == ("model:1", None)
    assert json.loads(kinds["metrics"][0]) == {"score": 0.41}
    assert kinds["report"] == (str(folder / "train" / "report.html"), sha(folder / "train" / "report.html"))
    assert (folder / "train" / "train.records.jsonl").exists()  # renamed into place with the outputs
    assert r["make"].artifacts == [] and r["side"].artifacts == []

    ml = model_lineage("model:1", root=proj / "runs")
    assert (ml.run_id, ml.step, ml.status, ml.runs) == (r.run_id, "train", "SUCCEEDED", [r.run_id])
    assert [s["step"] for s in ml.steps] == ["make", "train"]  # upstream only: not side, not check
    make, train = ml.steps
    assert train["notebook"] == "train.ipynb" and train["notebook_sha256"] == sha(proj / "train.ipynb")
    assert make["notebook"] == "ok.ipynb" and make["notebook_sha256"] == sha(proj / "ok.ipynb")
    assert train["modules"] == {"helper_mod.py": sha(proj / "helper_mod.py")} and make["modules"] == {}
    assert make["inputs"] == {"data.csv": sha(proj / "data.csv")} and make["parameters"] == {"n": 4}
    assert make["outputs"] == {"result.json": sha(folder / "make" / "result.json")}
    assert train["outputs"] == {"model.txt": sha(folder / "train" / "model.txt"),
                                "report.html": sha(folder / "train" / "report.html")}
    assert train["parameters"] == {} and train["packages"] == make["packages"] == package_versions()
    assert train["executed_notebook"] == str(folder / "train" / "train.ipynb")
    reports = {rep["step"]: rep for rep in ml.reports}
    assert reports["train"]["sha256"] == sha(folder / "train" / "report.html")
    assert reports["check"]["path"] == str(proj / "external_report.txt")
    assert reports["check"]["sha256"] == sha(proj / "external_report.txt")
    assert ml.metrics == {"train": {"score": 0.41}, "check": {"checked": 1}}
    assert "model model:1: recorded by step 'train'" in ml.summary() and sha(proj / "train.ipynb") in ml.summary()

    again = run(p)  # every step a cache hit: the tag is carried forward, pointing at this run's folder
    assert all(s.cache_hit for s in again.steps)
    hit = {k: v for k, v, _ in again["train"].artifacts}
    assert hit["model"] == "model:1" and hit["report"] == str(Path(again.folder) / "train" / "report.html")
    ml2 = model_lineage("model:1", root=proj / "runs")
    assert ml2.run_id == r.run_id and ml2.runs == [r.run_id, again.run_id]  # made by the first, reused by the second

    (proj / "helper_mod.py").write_text("def value():\n    return 7\n")
    new = run(p, params={"train.tag": "model:2"})
    assert not new["train"].cache_hit and new["make"].cache_hit
    ml3 = model_lineage("model:2", root=proj / "runs")
    assert ml3.run_id == new.run_id and ml3.steps[1]["modules"] == {"helper_mod.py": sha(proj / "helper_mod.py")}
    assert ml3.steps[0]["cache_hit"] and ml3.steps[0]["source_run"] in (r.run_id, again.run_id)
    assert ml3.metrics["train"] == {"score": 0.07}

    with pytest.raises(LineageError) as e:
        model_lineage("model:9", root=proj / "runs")
    assert "'model:9' was recorded by no pipeline step" in str(e.value) and "model:1, model:2" in str(e.value)


def test_cli_lineage(proj, capsys):
    from mlbench.cli import main

    def cli(*args):
        with pytest.raises(SystemExit) as e:
            main([str(a) for a in args])
        return e.value.code

    (proj / "p.yaml").write_text("steps:\n  make: {notebook: ok.ipynb, outputs: [result.json]}\n"
                                 "  train: {notebook: train.ipynb, outputs: [model.txt, report.html], "
                                 "depends_on: [make]}\n")
    assert cli("run", proj / "p.yaml", "-p", "tag=cli:3", "--trigger", "alert:drift:7") == 0
    capsys.readouterr()
    assert cli("lineage", "cli:3", "--root", proj / "runs", "--json", proj / "l.json") == 0
    out = capsys.readouterr().out
    assert "recorded by step 'train'" in out and "triggered by alert:drift:7" in out
    got = json.loads((proj / "l.json").read_text())
    assert got["tag"] == "cli:3" and [s["step"] for s in got["steps"]] == ["make", "train"]
    assert got["steps"][1]["notebook_sha256"] == sha(proj / "train.ipynb")
    assert cli("lineage", "nope:1", "--root", proj / "runs") == 2
    assert "'nope:1' was recorded by no pipeline step" in capsys.readouterr().err


def test_record_outside_the_runner_does_nothing(proj):
    "The same step notebook executed without the runner (no MLBENCH_RECORD): record() is a no-op, no error."
    (proj / "up").mkdir()
    (proj / "up" / "result.json").write_text("{}")
    status, message, _ = execute(proj / "train.ipynb", proj / "out.ipynb",
                                    {"upstream": {"make": str(proj / "up")}, "output_dir": str(proj)}, cwd=proj)
    assert status == "SUCCEEDED", message
    assert (proj / "model.txt").exists() and not list(proj.rglob("*.records.jsonl"))


def test_old_sqlite_ledger_stays_readable(proj):
    "A ledger written before SQLAlchemy (no triggered_by, no artifacts table) is read and extended in place."
    (proj / "runs").mkdir()
    con = sqlite3.connect(proj / "runs" / "lineage.sqlite")
    con.executescript("""
        create table runs(run_id text primary key, pipeline text, started text, finished text, status text,
            failed_step text);
        create table steps(run_id text, step text, status text, cache_hit integer, source_run text, key text,
            parts text, reason text, started text, duration_s real, notebook text, message text, cell integer,
            primary key(run_id, step));
        create table files(run_id text, step text, role text, path text, fingerprint text);
        insert into runs values ('20200101T000000-old000', 'p', '2020', '2020', 'SUCCEEDED', null);
        insert into steps(run_id, step, status, cache_hit, started) values
            ('20200101T000000-old000', 'make', 'SUCCEEDED', 0, '2020');
        insert into files values ('20200101T000000-old000', 'make', 'output', 'result.json', 'abc');
    """)
    con.close()
    old = lineage("20200101T000000-old000", proj / "runs")
    assert old[["step", "role", "fingerprint"]].values.tolist() == [["make", "output", "abc"]]
    r = run(model_pipe(proj), trigger="alert:x")
    assert r.ok and model_lineage("model:1", root=proj / "runs").triggered_by == "alert:x"
    runs = Ledger(proj / "runs" / "lineage.sqlite").runs()
    assert runs["run_id"].tolist() == ["20200101T000000-old000", r.run_id]
    assert runs["triggered_by"].isna().tolist() == [True, False] and runs["triggered_by"].iloc[1] == "alert:x"


def test_postgresql_ledger(proj, postgres_url):
    import sqlalchemy as sa

    p = model_pipe(proj)
    r = run(p, ledger=postgres_url, trigger="alert:pg")
    assert r.ok and not (proj / "runs" / "lineage.sqlite").exists()
    again = run(p, ledger=postgres_url)
    assert all(s.cache_hit for s in again.steps)  # the cache is looked up in PostgreSQL
    ml = model_lineage("model:1", ledger=postgres_url)
    assert (ml.run_id, ml.triggered_by, ml.runs) == (r.run_id, "alert:pg", [r.run_id, again.run_id])
    assert ml.steps[1]["notebook_sha256"] == sha(proj / "train.ipynb")
    engine = sa.create_engine(postgres_url)  # read back independently of mlbench
    with engine.connect() as c:
        rows = c.execute(sa.text("select run_id, kind, value from artifacts where kind = 'model' order by run_id"))
        assert [tuple(x) for x in rows] == [(r.run_id, "model", "model:1"), (again.run_id, "model", "model:1")]
        assert c.execute(sa.text("select triggered_by from runs where run_id = :r"), {"r": r.run_id}).scalar() \
            == "alert:pg"
    engine.dispose()
    assert lineage(r.run_id, ledger=postgres_url)["step"].nunique() == 4
    with pytest.raises(LineageError) as e:
        Ledger("postgresql+psycopg2://u:secret@127.0.0.1:1/db")
    assert "cannot open" in str(e.value) and "secret" not in str(e.value)


def test_on_event_sequence(proj):
    p = Pipeline.from_dict({"timeout": 60, "steps": {
        "a": {"notebook": "ok.ipynb", "outputs": ["result.json"]},
        "b": {"notebook": "raises.ipynb", "depends_on": ["a"]},
        "c": {"notebook": "ok.ipynb", "parameters": {"n": 8}, "depends_on": ["b"]}}}, base=proj)
    events = []
    r = run(p, on_event=events.append)
    assert [(e["event"], e.get("step")) for e in events] == [
        ("run_start", None), ("step_start", "a"), ("step_end", "a"), ("step_start", "b"), ("step_end", "b"),
        ("step_end", "c"), ("run_end", None)]
    assert events[0]["steps"] == {"a": [], "b": ["a"], "c": ["b"]} and events[0]["run_id"] == r.run_id
    ends = {e["step"]: e for e in events if e["event"] == "step_end"}
    for s in r.steps:
        assert (ends[s.step]["status"], ends[s.step]["duration_s"], ends[s.step]["cache_hit"]) == (
            s.status, s.duration_s, s.cache_hit)
    assert ends["b"]["status"] == "FAILED" and ends["c"]["status"] == "NOT_RUN"
    assert ends["a"]["notebook"] == str(Path(r.folder) / "a" / "a.ipynb")
    assert events[1]["notebook"] == str(proj / "ok.ipynb")
    assert events[-1] == {**events[-1], "ok": False, "failed_step": "b"}
    assert all(x["time"] <= y["time"] for x, y in zip(events, events[1:]))

    def broken(ev):
        raise ValueError("view bug")

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        again = run(p, on_event=broken)
    assert again["a"].cache_hit and again["b"].status == "FAILED"  # a failing callback never stops the run
    assert len([x for x in w if "view bug" in str(x.message)]) == 1


def test_pipeline_view_follows_a_run_live(proj):
    from mlbench.views.widgets import PipelineView

    p = Pipeline.from_dict({"timeout": 60, "steps": {
        "a": {"notebook": "ok.ipynb", "outputs": ["result.json"]},
        "slow": {"notebook": "sleeps.ipynb", "parameters": {"seconds": 1}, "depends_on": ["a"]},
        "bad": {"notebook": "raises.ipynb", "depends_on": ["a"]}}}, base=proj)
    view = PipelineView(p)
    assert {s: st["status"] for s, st in view.state.items()} == {"a": "PENDING", "slow": "PENDING", "bad": "PENDING"}
    seen, lock = [], threading.Lock()

    def snap(change):  # every value the synced table trait took
        with lock:
            seen.append({s: st["status"] for s, st in view.state.items()})

    view.table.observe(snap, "value")
    handle = view.run()
    res = view.wait(120)
    assert handle.done and res.failed_step == "bad"
    assert {"a": "RUNNING", "slow": "PENDING", "bad": "PENDING"} in seen
    assert {"a": "SUCCEEDED", "slow": "RUNNING", "bad": "PENDING"} in seen
    assert seen[-1] == {"a": "SUCCEEDED", "slow": "SUCCEEDED", "bad": "FAILED"}
    assert view.state["slow"]["duration_s"] == res["slow"].duration_s >= 1
    assert "failed at step bad" in view.title.value and res.run_id in view.title.value
    for s in ("a", "slow", "bad"):
        assert f"{s}.ipynb</a>" in view.table.value and Path(view.state[s]["notebook"]).exists()
    assert view.graph.value.count("<rect") == 3 and view.graph.value.count("<line") == 2
    done = PipelineView(run(p))  # from a finished RunResult: cache hits shown
    assert done.state["a"]["cache_hit"] and done.state["bad"]["status"] == "FAILED"
    late = PipelineView(pl.start(p, params={"seconds": 0}))  # a RunHandle followed: past events replayed
    late.wait(120)
    assert late.state["slow"]["status"] == "SUCCEEDED" and late.run_id is not None
    with pytest.raises(TypeError, match="expected a Pipeline"):
        PipelineView(str(proj / "p.yaml"))


def test_killed_runner_records_nothing_half_done_and_resume_records_once(proj):
    import os
    import signal
    import subprocess
    import sys
    import time

    (proj / "p.yaml").write_text("steps:\n  a: {notebook: ok.ipynb, outputs: [result.json]}\n"
                                 "  slow: {notebook: records_then_sleeps.ipynb, outputs: [m.txt], depends_on: [a]}\n")
    proc = subprocess.Popen([sys.executable, "-c", f"from mlbench.pipeline.runner import run; run({str(proj / 'p.yaml')!r})"],
                            start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not any(f.stat().st_size for f in (proj / "runs").glob("*/.kernel-*.record.jsonl")):
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    (run_dir,) = [d for d in (proj / "runs").iterdir() if d.is_dir()]
    assert list(run_dir.glob(".kernel-*.record.jsonl")), "the step never recorded before the kill"
    assert not (run_dir / "slow").exists()
    with pytest.raises(LineageError):  # recorded in a step that never finished: not in the ledger
        model_lineage("slow:1", root=proj / "runs")
    r = run(proj / "p.yaml", params={"seconds": 0}, resume=run_dir.name)
    assert r.ok and r["slow"].artifacts == [("model", "slow:1", None)]
    assert not list(run_dir.glob(".kernel-*")) and not list(run_dir.glob(".*partial*"))
    assert model_lineage("slow:1", root=proj / "runs").run_id == run_dir.name
    led = Ledger(proj / "runs" / "lineage.sqlite")
    assert led.query("select count(*) as n from artifacts where value = 'slow:1'") == [{"n": 1}]
