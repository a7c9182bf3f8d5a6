"""A short run of bench/soak.py (issue 17): mixed good, malformed and hostile requests and label posts against a
real `bentoml serve` with keys and a monitor store. The 10-minute run is `bench/soak.py` itself."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_short_soak_has_no_5xx_exact_answers_and_store_counts_equal_answers(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--minutes", "0.4", "--clients", "16"],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.stdout.strip(), r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["requests"] > 100, r.stdout
    checks = res["checks"]
    for name in ("no_5xx", "good_answers_correct", "no_client_exceptions", "rows_logged_equal_rows_answered",
                 "labels_stored_equal_accepted", "status_counts_logged_equal_answers", "clean_exit"):
        assert checks[name], (name, r.stdout[-3000:])
    assert res["rows_logged"] == res["rows_200"] > 0 and res["labels_stored"] == res["labels_accepted"] > 0
    assert r.returncode == 0 or not checks["memory_flat"], r.stdout[-3000:]  # memory over 24 s is noise; 10 min in bench
