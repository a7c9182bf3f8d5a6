"""Execute every library notebook under nbs/ as a test (nbdev-test alone prints no test count)."""
from pathlib import Path

import pytest

import nbdev.test as nbtest

NBS = sorted(p for p in (Path(__file__).parents[1] / "nbs").glob("*.ipynb") if not p.name.startswith("_"))


@pytest.mark.parametrize("nb", NBS, ids=[p.stem for p in NBS])
def test_notebook(nb, monkeypatch):
    monkeypatch.chdir(nb.parent)
    ok, _ = nbtest.test_nb(nb, skip_flags=["notest", "slow"], cell_timeout=300)
    assert ok, f"{nb.name} failed (the cell's traceback is printed above)"
