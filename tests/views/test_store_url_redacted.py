"""The dashboard never shows a store URL's password: not on the empty-store page, not in the
static snapshot, not in the message of a store that cannot be opened."""
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from mlbench.data import logstore
from mlbench.views import page

pytestmark = pytest.mark.timeout(300)
MLBENCH = str(Path(sys.executable).parent / "mlbench")


def test_the_empty_store_page_and_a_store_error_hide_the_password():
    text = page.empty_html("postgresql://mon:s3cretPW@db.example:5432/mlbench")
    assert "s3cretPW" not in text and "postgresql://mon:***@db.example:5432/mlbench" in text
    with pytest.raises(logstore.StoreError) as e:
        logstore.SqlStore("postgresql+psycopg2://mon:s3cretPW@127.0.0.1:notaport/db")  # unparsable: the URL is echoed
    assert "s3cretPW" not in str(e.value)


def test_the_static_snapshot_of_an_empty_postgresql_store_hides_the_password(postgres_url, tmp_path):
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text("DROP DATABASE IF EXISTS redact_empty"))
        c.execute(sa.text("CREATE DATABASE redact_empty"))
    admin.dispose()
    # the test server trusts loopback, so any password connects: the one in the URL must not be shown
    url = postgres_url.replace("postgres@", "postgres:s3cretPW@").rsplit("/", 1)[0] + "/redact_empty"
    logstore.SqlStore(url)  # the (empty) monitor table
    out = tmp_path / "snap.html"
    r = subprocess.run([MLBENCH, "dashboard", "--store", url, "--static", str(out)], capture_output=True, text=True,
                       timeout=240, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    text = out.read_text()
    assert "No traffic yet" in text and "postgres:***@127.0.0.1" in text
    assert "s3cretPW" not in text and "s3cretPW" not in r.stdout + r.stderr
