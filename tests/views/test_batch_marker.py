"""The dashboard's page marks the windows batch scoring (`mb.predict`) wrote, apart from served traffic (no browser:
the page's HTML, as `mlbench dashboard --static` writes it)."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("plotly")
from mlbench.data.logstore import WindowLogger  # noqa: E402
from mlbench.views.page import load, page  # noqa: E402

T0 = pd.Timestamp("2026-01-05", tz="UTC").timestamp()


def _log(root, source, t, worker):
    lg = WindowLogger(root, "m", "m:v1", window_s=60, worker=worker, classes=[0, 1], source=source)
    X = pd.DataFrame({"x": [0.1, 0.9, 0.4]})
    lg.add(X, np.array([0, 1, 0]), np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), [f"{worker}-0"], [3], [2.0], t=t)
    lg.flush()


def test_batch_windows_have_their_own_section_and_served_only_stores_none(tmp_path):
    root = str(tmp_path / "mon")
    _log(root, "serve", T0, "srv")
    html = page(load("m", root, "1min", drift=False))
    assert "data-source='batch'" not in html
    _log(root, "batch", T0 + 120, "job")
    _log(root, "serve", T0 + 120, "srv2")  # a service answered in the job's minute too
    d = load("m", root, "1min", drift=False)
    assert d.windows["source"].tolist() == ["serve", "batch+serve"]
    html = page(d)
    section = html[html.index("data-source='batch'"):]
    section = section[:section.index("</table>")]
    assert "Batch scoring" in section and "batch+serve" in section and section.count("<tr") == 2  # header, 1 window
