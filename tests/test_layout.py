"""The package layout shows the lifecycle and stays that way: no module over 500 lines, no import cycle,
every notebook exports the module its name says, and every API name the README lists imports."""
import json
import re
from pathlib import Path

import grimp
import pytest

import mlbench

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "mlbench"
MAX_LINES = 500
STAGES = ("data", "drift", "tune", "registry", "serve", "pipeline", "monitor", "views", "jupyter")


def _modules():
    return sorted(p for p in PKG.rglob("*.py") if p.name != "_modidx.py" and "templates" not in p.parts)


def test_no_module_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by concern): {long}"


def test_no_import_cycles():
    g = grimp.build_graph("mlbench")
    cycles = set()
    for m in g.modules:
        for n in g.find_modules_directly_imported_by(m):
            if n.startswith("mlbench.") and g.find_shortest_chain(importer=n, imported=m):
                cycles.add(tuple(sorted((m, n))))
    assert not cycles, f"import cycles (move the shared piece down a layer): {sorted(cycles)}"


def test_each_notebook_exports_the_module_its_name_says():
    for nb in sorted((ROOT / "nbs").glob("[0-9][0-9]*_*.ipynb")):
        num, dotted = nb.stem.split("_", 1)
        src = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")
        (exp,) = re.findall(r"^#\| default_exp (\S+)", src, re.M)
        assert exp == dotted, f"{nb.name} exports mlbench.{exp}"
        assert (PKG / Path(*dotted.split("."))).with_suffix(".py").exists(), nb.name
        stage = dotted.split(".")[0]
        assert stage in STAGES or "." not in dotted, f"{nb.name}: {stage} is not a lifecycle stage"


def test_every_stage_is_a_package_and_nothing_else_sits_at_the_top():
    top = {p.stem for p in PKG.glob("*.py")} | {p.name for p in PKG.iterdir() if p.is_dir() and p.name != "__pycache__"}
    faces = {p for p in top if p.startswith("cli_")}  # verbs of the command line kept apart from mlbench.cli
    assert top - set(STAGES) - faces == {"__init__", "_modidx", "errors", "cli", "serving", "templates",
                                         "labextension"} - ({"labextension"} - top), sorted(top)


def _readme_names():
    "Every `mb.x.y` and `mlbench.x.y` name the README shows in code spans."
    text = re.sub(r"```.*?```", "", (ROOT / "README.md").read_text(), flags=re.S)  # code blocks hold commands
    spans = re.findall(r"`([^`\n]+)`", text)
    names = set()
    for s in spans:
        for m in re.finditer(r"\b(mb|mlbench)((?:\.[A-Za-z_]\w*)+)", s):
            names.add(m[1] + m[2])
    return sorted(names)


@pytest.mark.parametrize("name", _readme_names())
def test_readme_names_import(name):
    parts = name.split(".")
    obj = mlbench
    for i, part in enumerate(parts[1:], 1):
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        # a module that the package does not import eagerly (`mlbench.views.widgets` needs an extra)
        import importlib

        obj = importlib.import_module("mlbench." + ".".join(parts[1:i + 1]))
    assert obj is not None, name
