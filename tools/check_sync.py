"""Fail when `nbdev-clean` or `nbdev-export` would change any file (nbs/ is the source of truth)."""
import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def snapshot():
    files = sorted(ROOT.glob("nbs/**/*.ipynb")) + sorted(ROOT.glob("mlbench/**/*.py"))
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


before = snapshot()
for tool in ("nbdev-clean", "nbdev-export"):
    subprocess.run([str(BIN / tool)], cwd=ROOT, check=True)
after = snapshot()
changed = sorted(str(p.relative_to(ROOT)) for p in set(before) | set(after) if before.get(p) != after.get(p))
if changed:
    print("nbdev-clean/nbdev-export changed these files (now fixed in your tree; review and commit):")
    print("\n".join(f"  {c}" for c in changed))
    sys.exit(1)
print(f"nbdev sync: {len(after)} files clean and in sync")
