"""Shared fixtures for the integration tests: a real PostgreSQL server on loopback."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

# BentoML reads BENTOML_HOME once, when it is first imported: give the whole test session a
# private model store so tests never touch ~/bentoml.
os.environ.setdefault("BENTOML_HOME", tempfile.mkdtemp(prefix="mlbench-test-bentoml-"))

APT_TIMEOUT_S = 300  # apt-get update / install, each
PG_START_TIMEOUT_S = 60


def _pg_bindir() -> Path | None:
    "The newest PostgreSQL server bin directory that has initdb and pg_ctl."
    dirs = [Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")
            if os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(os.path.join(d, "pg_ctl"), os.X_OK)]
    dirs.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return dirs[-1] if dirs else None


def _install_postgres() -> str | None:
    "Install Debian's postgresql package; return why it could not be, or None on success."
    if os.geteuid() != 0:
        return "PostgreSQL is not installed and installing it needs root"
    if shutil.which("apt-get") is None:
        return "PostgreSQL is not installed and there is no apt-get to install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [["apt-get", "update"],
             ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]]
    for cmd in steps:
        try:
            r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return f"{' '.join(cmd)} took more than {APT_TIMEOUT_S} s"
        if r.returncode != 0:
            return f"{' '.join(cmd)} failed (exit {r.returncode}): {(r.stderr or r.stdout)[-500:]}"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    "initdb and the server refuse to run as root: run them as the postgres OS user then."
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_url():
    "A SQLAlchemy URL of an empty database on a throwaway PostgreSQL server (127.0.0.1, trust auth)."
    t0 = time.monotonic()
    bindir = _pg_bindir()
    if bindir is None:
        why = _install_postgres()
        if why is not None:
            pytest.skip(f"no PostgreSQL server for the SQL tests: {why}")
        bindir = _pg_bindir()
        if bindir is None:
            pytest.skip("no PostgreSQL server for the SQL tests: installed postgresql but found no "
                        "/usr/lib/postgresql/*/bin/initdb")
    root = Path(tempfile.mkdtemp(prefix="mlbench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, log = root / "data", root / "server.log"
    port = _free_port()

    def run(cmd, **kw):
        return subprocess.run(_as_postgres(cmd), cwd=root, capture_output=True, text=True, check=True, **kw)

    started = False
    try:
        run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--locale=C", "--no-sync"], timeout=120)
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
        run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", str(PG_START_TIMEOUT_S),
             "-o", opts, "start"], timeout=PG_START_TIMEOUT_S + 30)
        started = True
        run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "mlbench"],
            timeout=60)
    except subprocess.CalledProcessError as e:
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise RuntimeError(f"could not start PostgreSQL: {e.cmd} exited {e.returncode}\n{e.stderr}\n{tail}") from e
    else:
        print(f"\nPostgreSQL {bindir.parent.name} ready on 127.0.0.1:{port} in {time.monotonic() - t0:.1f} s")
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/mlbench"
    finally:
        if started:
            subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                           cwd=root, capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
