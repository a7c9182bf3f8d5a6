"""Per-server state of the mlbench Jupyter extension: effective configuration, path confinement, URL masking,
the executors that keep long work off the event loop, and the alert acknowledgements."""
# Dense mechanism, hand-written (not exported by nbdev), tested under tests/ (tests/test_jupyter_server.py).
# Nothing here imports tornado or jupyter_server: `ApiError` is turned into an HTTP answer by the handlers.
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import threading
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

log = logging.getLogger("mlbench.jupyter")

KEYS = ("model_store", "monitor_store", "runs_root", "ledger", "sweep_storage")
MAX_LIMIT = 500


class ApiError(Exception):
    "An answer other than 200: `status` and one sentence naming the thing at fault."

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def mask(url) -> str | None:
    "A storage URL with its password replaced by ***."
    if url is None:
        return None
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", str(url))


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def iso(t) -> str | None:
    "ISO-8601 in UTC of a datetime / pandas Timestamp / ISO string; None for missing values."
    if t is None:
        return None
    try:
        import pandas as pd

        if t is pd.NaT or (isinstance(t, float) and math.isnan(t)):
            return None
        ts = pd.Timestamp(t)
        if ts is pd.NaT:
            return None
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.isoformat()
    except (ValueError, TypeError):
        return str(t)


def plain(v):
    "JSON-safe: numpy scalars unwrapped, NaN/inf -> None, timestamps -> ISO strings, containers recursed."
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)) and type(v).__module__ == "numpy":
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if hasattr(v, "isoformat"):
        return iso(v)
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    return str(v)


def page_args(offset, limit) -> tuple[int, int]:
    "Validated ?offset=&limit= (limit at most MAX_LIMIT)."
    out = []
    for name, v, default in (("offset", offset, 0), ("limit", limit, 50)):
        if v is None or v == "":
            out.append(default)
            continue
        try:
            n = int(v)
        except (TypeError, ValueError):
            raise ApiError(400, f"{name}: {v!r} is not an integer") from None
        if n < 0 or (name == "limit" and not 1 <= n <= MAX_LIMIT):
            raise ApiError(400, f"{name}: {n} is out of range ({'1..' + str(MAX_LIMIT) if name == 'limit' else '>= 0'})")
        out.append(n)
    return out[0], out[1]


def page(items: list, offset: int, limit: int, total: int | None = None, **extra) -> dict:
    return {"items": items, "total": len(items) if total is None else total, "offset": offset, "limit": limit, **extra}


class Root:
    "The server root and the confinement of browser-sent paths to it."

    def __init__(self, root_dir):
        self.path = Path(root_dir).expanduser().resolve()

    def resolve(self, rel, field: str, must_exist: bool = True) -> Path:
        """The real path of `rel` (relative to the root). 403 for absolute paths, `..`, `~` or a symlink that
        leads outside the root; 400 for a non-string, empty or missing one (when `must_exist`)."""
        if not isinstance(rel, str) or not rel.strip():
            raise ApiError(400, f"{field}: needs a path relative to the server root, got {rel!r}")
        if "\x00" in rel:
            raise ApiError(400, f"{field}: contains a NUL character")
        if "://" in rel:
            raise ApiError(400, f"{field}: {mask(rel)!r} is a URL; give a path relative to the server root")
        p = PurePosixPath(rel.replace("\\", "/"))
        if p.is_absolute() or rel.startswith("~") or re.match(r"^[A-Za-z]:", rel):
            raise ApiError(403, f"{field}: {rel!r} is an absolute path; only paths inside the server root are allowed")
        if ".." in p.parts:
            raise ApiError(403, f"{field}: {rel!r} climbs out with '..'; only paths inside the server root are allowed")
        real = (self.path / p).resolve()
        if not real.is_relative_to(self.path):
            raise ApiError(403, f"{field}: {rel!r} leads outside the server root (a symlink)")
        if must_exist and not real.exists():
            raise ApiError(400, f"{field}: {rel!r} does not exist under the server root")
        return real

    def contained(self, folder: Path, field: str, rel: str) -> None:
        "403 unless every file and folder below `folder` (symlinks followed) stays inside the root."
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            for n in dirnames + filenames:
                p = Path(dirpath, n)
                if p.is_symlink() and not p.resolve().is_relative_to(self.path):
                    raise ApiError(403, f"{field}: {rel!r} holds {p.relative_to(folder)}, a symlink leading outside "
                                   "the server root")

    def rel(self, p) -> str | None:
        "`p` relative to the root (posix), or None when it is outside."
        if p is None:
            return None
        try:
            return Path(p).resolve().relative_to(self.path).as_posix()
        except ValueError:
            return None

    def show(self, p) -> str:
        "A path for the browser: relative to the root when inside it, else as is (set by the server's owner)."
        r = self.rel(p)
        return r if r is not None else str(p)


def _env_path(root: Root, value: str) -> str:
    "A path from the server's environment: relative ones start at the root."
    return value if "://" in value or value.startswith("journal:") else str(root.path / value)


class Config:
    "The effective store locations: defaults, the server's environment, and what the browser set (confined)."

    def __init__(self, root: Root):
        self.root, self.set_values, self._home = root, {}, None

    def model_home(self) -> str:
        "BentoML's home (read once, when BentoML is imported; the first call imports it)."
        if self._home is None:
            from mlbench import models

            self._home = str(models.home())
        return self._home

    def model_home_guess(self) -> str:
        "BentoML's home without importing BentoML (its own rule), for answers that must be fast."
        if self._home is not None:
            return self._home
        return os.path.expanduser(os.environ.get("BENTOML_HOME") or os.path.join("~", "bentoml"))

    def effective(self, fast: bool = False) -> dict:
        "Unmasked values: absolute paths or URLs (ledger None when no ledger exists yet)."
        r, v = self.root, self.set_values
        runs = Path(v.get("runs_root") or r.path / "runs")
        ledger = v.get("ledger")
        if ledger is None and (runs / "lineage.sqlite").is_file():
            ledger = str(runs / "lineage.sqlite")
        env_mon = os.environ.get("MLBENCH_MONITOR")
        return {"model_store": self.model_home_guess() if fast else self.model_home(),
                "monitor_store": v.get("monitor_store") or (_env_path(r, env_mon) if env_mon else
                                                            str(r.path / ".mlbench" / "monitor")),
                "runs_root": str(runs), "ledger": ledger,
                "sweep_storage": v.get("sweep_storage") or str(r.path / ".mlbench" / "sweeps.db")}

    def public(self, fast: bool = False) -> dict:
        "What the browser sees: paths relative to the root, URLs masked."
        return {k: None if x is None else mask(x) if "://" in x else
                ("journal:" + self.root.show(x[8:]) if x.startswith("journal:") else self.root.show(x))
                for k, x in self.effective(fast).items()}

    def update(self, body) -> dict:
        "Apply a POST body (any subset of KEYS; empty string / null = default); returns the public config."
        if not isinstance(body, dict):
            raise ApiError(400, "body: needs a JSON object with any of " + ", ".join(KEYS))
        unknown = sorted(set(body) - set(KEYS))
        if unknown:
            raise ApiError(400, f"{unknown[0]}: not a configuration key (keys: {', '.join(KEYS)})")
        current, shown = self.effective(), self.public()
        new = dict(self.set_values)
        for k, x in body.items():
            if x is not None and not isinstance(x, str):
                raise ApiError(400, f"{k}: needs a string, got {type(x).__name__}")
            if x is not None and x == shown[k]:
                continue  # sent back as shown (masked or relative): unchanged
            if k == "model_store":
                if x and x != current[k]:
                    raise ApiError(400, "model_store: the model store is BentoML's home ($BENTOML_HOME), fixed when "
                                   "the server starts; restart the server with BENTOML_HOME set to change it")
                continue
            if not x:
                new.pop(k, None)
            elif k == "runs_root":
                new[k] = str(self.root.resolve(x, k, must_exist=False))
            else:
                new[k] = self.location(x, k)
        self.set_values = new
        return self.public()

    def location(self, x: str, field: str) -> str:
        "A store location sent by the browser: a SQLAlchemy URL (SQLite files confined), journal:PATH or a path."
        if x.startswith("journal:"):
            if field != "sweep_storage":
                raise ApiError(400, f"{field}: journal: storage is for sweeps only")
            return "journal:" + str(self.root.resolve(x[8:], field, must_exist=False))
        if "://" not in x:
            return str(self.root.resolve(x, field, must_exist=False))
        scheme = x.split("://", 1)[0].lower()
        if scheme == "file" or not re.match(r"^[a-z][a-z0-9+.-]*$", scheme):
            raise ApiError(403 if scheme == "file" else 400, f"{field}: {mask(x)!r} is not a database URL")
        if scheme.startswith("sqlite"):
            from sqlalchemy.engine import make_url

            try:
                db = make_url(x).database
            except Exception:  # noqa: BLE001 - any parse failure is bad input
                raise ApiError(400, f"{field}: {mask(x)!r} is not a valid SQLAlchemy URL") from None
            if not db or db == ":memory:":
                raise ApiError(400, f"{field}: {mask(x)!r} names no database file")
            if os.path.isabs(db):
                if not Path(db).resolve().is_relative_to(self.root.path):
                    raise ApiError(403, f"{field}: {mask(x)!r} names a file outside the server root")
                return x
            return f"sqlite:///{self.root.resolve(db, field, must_exist=False)}"
        return x


class AckStore:
    """Alert acknowledgements: the monitor store keeps no such notion, so they live in a small SQLite file in the
    Jupyter server's data directory, keyed by a hash of the store location, the alert id and its firing time."""

    def __init__(self, path: Path):
        self.path, self._lock = Path(path), threading.Lock()

    def _con(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("CREATE TABLE IF NOT EXISTS acks (store TEXT NOT NULL, alert_id INTEGER NOT NULL, fired_at TEXT "
                    "NOT NULL, who TEXT, at TEXT NOT NULL, PRIMARY KEY (store, alert_id, fired_at))")
        return con

    @staticmethod
    def key(store: str) -> str:
        return hashlib.sha256(str(store).encode()).hexdigest()

    def acked(self, store: str) -> set:
        "(alert_id, fired_at) pairs acknowledged for `store`."
        if not self.path.exists():
            return set()
        with self._lock, closing(self._con()) as con:
            return {(i, f) for i, f in con.execute("SELECT alert_id, fired_at FROM acks WHERE store = ?",
                                                   (self.key(store),))}

    def ack(self, store: str, alerts: list, who: str | None) -> int:
        "Acknowledge (id, fired_at) pairs; returns how many were not acknowledged before."
        with self._lock, closing(self._con()) as con:
            before = con.total_changes
            con.executemany("INSERT OR IGNORE INTO acks VALUES (?, ?, ?, ?, ?)",
                            [(self.key(store), int(i), f, who, now()) for i, f in alerts])
            return con.total_changes - before


def dumps(obj) -> str:
    return json.dumps(plain(obj), allow_nan=False)
