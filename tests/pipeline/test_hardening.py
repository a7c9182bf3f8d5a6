"""Pipelines that cannot be fooled (issue 17): a cached gate never stands against a production model
that changed since it ran, two resumes of one run never run at once, and a cached output edited in
place never changes the run that made it."""
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

import mlbench as mb
from mlbench import models
from mlbench.pipeline.lineage import Ledger
from mlbench.pipeline.runner import run, start
from mlbench.pipeline.spec import Pipeline, PipelineError

pytestmark = pytest.mark.timeout(300)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "pipeline"


@pytest.fixture
def proj(tmp_path):
    for f in FIXTURES.iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    return tmp_path


def pipe(proj, **steps):
    return Pipeline.from_dict({"timeout": 120, "steps": steps}, base=proj)


GATE_NB = [
    ("parameters", 'candidate = ""\noutput_dir = "."'),
    (None, "import json\nfrom pathlib import Path\n\nfrom mlbench.pipeline.gate import gate\n\n"
           "res = gate(candidate, check_golden=False, check_env=False)\n"
           'Path(output_dir, "verdict.json").write_text(json.dumps({"passed": res.passed, "baseline": res.baseline}))\n'
           "res.raise_if_failed()"),
]


def _notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
    for tag, source in cells:
        c = nbformat.v4.new_code_cell(source)
        if tag:
            c.metadata["tags"] = [tag]
        nb.cells.append(c)
    nbformat.write(nb, str(path))


@pytest.fixture(scope="module")
def three_models():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = (X["a"] > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    tags = {k: mb.package(clf, "hard-gate", reference=X, metrics={"roc_auc": v})
            for k, v in (("weak", 0.6), ("cand", 0.8), ("strong", 0.95))}
    models.promote(tags["weak"], "production", reason="first")
    return tags


def test_a_cached_gate_never_stands_against_a_changed_production_model(proj, three_models):
    t = three_models
    _notebook(proj / "gate.ipynb", GATE_NB)
    p = pipe(proj, gate={"notebook": "gate.ipynb", "parameters": {"candidate": t["cand"]}, "outputs": ["verdict.json"]})
    r1 = run(p)
    assert r1.ok, r1.to_frame()
    assert json.loads((Path(r1.folder) / "gate" / "verdict.json").read_text()) == {"passed": True, "baseline": t["weak"]}
    assert run(p)["gate"].cache_hit  # nothing changed: the verdict is reused
    # the pipeline's own promotion of the candidate it passed does not invalidate the verdict
    models.promote(t["cand"], "production", reason="gate passed")
    assert run(p)["gate"].cache_hit
    # a stronger model promoted by hand: the cached pass must not stand; the gate runs again and fails
    models.promote(t["strong"], "production", reason="by hand")
    r3 = run(p)
    g = r3["gate"]
    assert not g.cache_hit and g.status == "FAILED", r3.to_frame()
    assert "registry" in g.reason and "hard-gate:production" in g.reason and t["strong"] in g.reason
    assert json.loads((Path(r3.folder) / "gate" / "verdict.json").read_text()) == {"passed": False,
                                                                                  "baseline": t["strong"]}
    # production back to the model the first verdict was reached against: that verdict holds again
    models.promote(t["weak"], "production", reason="rollback")
    r4 = run(p)
    assert r4["gate"].cache_hit and r4.ok


def test_two_resumes_of_one_run_at_once_the_second_refuses(proj):
    (proj / "p.yaml").write_text("timeout: 120\nsteps:\n  a: {notebook: ok.ipynb, outputs: [result.json]}\n"
                                 "  slow: {notebook: sleeps.ipynb, depends_on: [a]}\n")
    p = proj / "p.yaml"
    first = run(p, params={"seconds": 0})
    assert first.ok
    started = threading.Event()
    h = start(p, params={"seconds": 8}, resume=first.run_id,
              on_event=lambda ev: started.set() if ev["event"] == "step_start" else None)
    assert started.wait(60), h.events
    with pytest.raises(PipelineError, match=rf"run {first.run_id!r} .*pid {os.getpid()}"):
        run(p, params={"seconds": 8}, resume=first.run_id)
    # another process (the CLI) is refused the same way: exit 2, the run and the holder named
    cli = subprocess.run([shutil.which("mlbench", path=str(Path(sys.executable).parent)), "run", str(p), "--resume",
                          first.run_id, "-p", "seconds=8"], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 2 and first.run_id in cli.stderr and f"pid {os.getpid()}" in cli.stderr, cli.stderr
    assert not h.done, "the first resume must still be running while the others were refused"
    r = h.result(120)
    assert r.ok and r.run_id == first.run_id and not r["slow"].cache_hit
    assert not list(Path(r.folder).glob(".*"))  # no staging folder, and the lock file is gone
    # once the first is done, the run can be resumed again
    assert run(p, params={"seconds": 8}, resume=first.run_id).ok


def test_a_cached_output_edited_in_place_never_changes_the_run_that_made_it(proj):
    p = pipe(proj, make={"notebook": "ok.ipynb", "outputs": ["result.json"]})
    r1 = run(p)
    out1 = Path(r1.folder) / "make" / "result.json"
    orig = out1.read_bytes()
    r2 = run(p)
    assert r2["make"].cache_hit
    out2 = Path(r2.folder) / "make" / "result.json"
    for f in (Path(r1.folder) / "make").iterdir():  # every restored file is a copy, not a link to run 1's
        assert not os.path.samefile(f, Path(r2.folder) / "make" / f.name), f.name
    with open(out2, "r+b") as fh:  # in place: the same inode
        fh.write(b"XX")
    assert out1.read_bytes() == orig  # run 1's recorded output is intact
    r3 = run(p)
    assert r3["make"].cache_hit and (Path(r3.folder) / "make" / "result.json").read_bytes() == orig
    # the cache entry itself edited in place: never served, a run that reuses something gets the recorded bytes
    with open(out1, "r+b") as fh:
        fh.write(b"YY")
    r4 = run(p)
    assert (Path(r4.folder) / "make" / "result.json").read_bytes() == orig
    assert not r4["make"].cache_hit or r4["make"].reason != f"cached from run {r1.run_id}"


def test_a_step_declaring_a_registry_read_is_keyed_on_the_production_model(proj, three_models):
    "A step that reads `name:production` by itself (not through mb.gate) declares it: `registry: [name]`."
    t = three_models
    p = pipe(proj, check={"notebook": "ok.ipynb", "outputs": ["result.json"], "registry": ["hard-gate"]})
    models.promote(t["weak"], "production", reason="start")
    r1 = run(p)
    assert r1.ok and not r1["check"].cache_hit
    assert run(p)["check"].cache_hit
    models.promote(t["cand"], "production", reason="by hand")
    r2 = run(p)
    assert not r2["check"].cache_hit and r2["check"].reason == "changed: registry"
    led = Ledger(proj / "runs" / "lineage.sqlite")
    parts = json.loads(led.query("select parts from steps where run_id = :r", r=r2.run_id)[0]["parts"])
    led.close()
    assert parts["registry"]["hard-gate"].startswith(t["cand"] + " ")
    models.promote(t["weak"], "production", reason="back")
    assert run(p)["check"].cache_hit  # the key of the first run again
    with pytest.raises(PipelineError, match="registry"):
        run(pipe(proj, check={"notebook": "ok.ipynb", "registry": "hard-gate"}))
