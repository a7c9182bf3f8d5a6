"""Execute every library notebook under nbs/ and every tutorial under nbs/tutorials/ as a test
(nbdev-test alone prints no test count)."""
import os
import sys
from pathlib import Path

import pytest

import nbdev.test as nbtest

ROOT = Path(__file__).parents[1] / "nbs"
NBS = sorted(p for p in [*ROOT.glob("*.ipynb"), *ROOT.glob("tutorials/*.ipynb")] if not p.name.startswith("_"))


@pytest.fixture
def own_environ():
    "A notebook may set environment variables (a tutorial sets BENTOML_HOME): undo them afterwards."
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    if "bentoml" in sys.modules:  # BentoML read BENTOML_HOME once, at import: child processes must see the same store
        import mlbench as mb

        os.environ["BENTOML_HOME"] = str(mb.models.home())


@pytest.mark.parametrize("nb", NBS, ids=[p.relative_to(ROOT).with_suffix("").as_posix() for p in NBS])
def test_notebook(nb, monkeypatch, own_environ):
    monkeypatch.chdir(nb.parent)
    ok, _ = nbtest.test_nb(nb, skip_flags=["notest", "slow"], cell_timeout=300)
    assert ok, f"{nb.relative_to(ROOT)} failed (the cell's traceback is printed above)"
