"""In a real Jupyter kernel (which runs threads of its own), profiling a large frame forks worker processes: it must finish, not deadlock."""
import queue

import pytest

jupyter_client = pytest.importorskip("jupyter_client")

CODE = """
import numpy as np, pandas as pd, mlbench as mb
import sys
P = sys.modules["mlbench.data.profile"]
rng = np.random.default_rng(0); n = 300_000
df = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(6)})
df["s"] = pd.Series(rng.choice(["a", "b", "c"], n), dtype="str")
assert df.size >= P.FORK_MIN_CELLS and P._can_fork()
for _ in range(3):
    p = mb.profile(df, n_jobs=2)
print("ROWS", p.n_rows, "DISTINCT", int(p["s"].distinct.count()), "MEAN", round(p["f0"].moments.mean, 12) == round(df.f0.mean(), 12))
"""


def test_forked_profile_inside_a_kernel():
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    out, err = [], []
    try:
        msg_id = kc.execute(CODE)
        while True:
            try:
                msg = kc.get_iopub_msg(timeout=90)
            except queue.Empty:
                pytest.fail("the kernel did not finish within 90 s (deadlock after fork?)")
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                err.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert not err, err
    assert "ROWS 300000 DISTINCT 3 MEAN True" in "".join(out)
