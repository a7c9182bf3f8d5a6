"""Alert webhooks are delivered: a POST that fails is retried with backoff until the receiver
takes it or it expires; a crash between recording an alert and posting it loses nothing (the
post waits in an outbox written with the alert, and the next check delivers it); one deadline
bounds the whole request; a URL's secrets never reach a log or the alert history; and
alerts.sqlite is readable by its owner only."""
import importlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlbench import monitor
from mlbench.data.logstore import WindowLogger

pytestmark = pytest.mark.timeout(300)
T0 = pd.Timestamp("2026-01-05", tz="UTC").timestamp()
ROOT = Path(__file__).parents[2]
W = importlib.import_module("mlbench.monitor.webhook")  # (mlbench.monitor.alerts is also a function's name)


def _store(root, minutes=180):
    "Three hours of slow answers: a latency rule over 1h windows fires on them."
    log = WindowLogger(root, "m", "m:v1", window_s=60, worker="w1", classes=[0, 1])
    for i in range(minutes):
        log.add(pd.DataFrame({"x": [float(i)]}), np.array([0]), np.array([[0.6, 0.4]]), [f"r{i}"], [1], [50.0],
                t=T0 + i * 60 + 5)
    log.flush()
    return root


class _Receiver:
    "A loopback webhook receiver that answers 503 to the first `fail` POSTs, then 204."

    def __init__(self, fail=0):
        self.fail, self.got, self.times, self.auth = fail, [], [], []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.times.append(time.monotonic())
                outer.auth.append(self.headers.get("Authorization"))
                if len(outer.times) <= outer.fail:
                    self.send_response(503)
                else:
                    outer.got.append((self.path, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_port}/hook"

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def _rules(url):
    return [{"name": "slow", "metric": "latency_p99_ms", "op": ">", "threshold": 10, "for": 2, "freq": "1h",
             "webhook": url}]


@pytest.fixture
def fast(monkeypatch):
    "Short backoff, so the retries of a test take a fraction of a second."
    monkeypatch.setattr(W, "WEBHOOK_BACKOFF_S", 0.2)
    monkeypatch.setattr(W, "WEBHOOK_TRIES", 3)


def test_a_failing_webhook_is_retried_with_backoff_until_delivered(tmp_path, fast):
    root = _store(tmp_path / "mon")
    rx = _Receiver(fail=2)
    try:
        res = monitor.check(_rules(rx.url), store=root)
    finally:
        rx.close()
    assert len(rx.times) == 3 and len(rx.got) == 1  # two 503s, then delivered: once
    gaps = np.diff(rx.times)
    assert gaps[0] >= 0.19 and gaps[1] >= 0.39  # backoff: 0.2 s, then twice that
    assert rx.got[0][1]["rule"] == "slow" and rx.got[0][1]["model"] == "m"
    assert res.firings[0]["webhook_status"] == "204"
    assert monitor.alerts(store=root)["webhook_status"].tolist() == ["204"]


def test_a_webhook_down_longer_than_one_check_is_delivered_by_the_next_and_one_never_up_expires(tmp_path, fast, monkeypatch):
    root = _store(tmp_path / "mon")
    rx = _Receiver(fail=4)
    try:
        monitor.check(_rules(rx.url), store=root)  # three tries, all 503: the post waits
        assert len(rx.times) == 3 and not rx.got
        assert monitor.alerts(store=root)["webhook_status"].iloc[0].startswith("retrying")
        time.sleep(1.0)  # past the backoff
        again = monitor.check(_rules(rx.url), store=root)  # no new firing, but the pending post goes out
        assert not any(f["new"] for f in again.firings)
        assert len(rx.got) == 1 and monitor.alerts(store=root)["webhook_status"].tolist() == ["204"]
    finally:
        rx.close()
    # a receiver that never answers 2xx: after WEBHOOK_EXPIRE_S the post is given up, and said so
    monkeypatch.setattr(W, "WEBHOOK_EXPIRE_S", 0.5)
    root2 = _store(tmp_path / "mon2")
    rx = _Receiver(fail=10**6)
    try:
        monitor.check(_rules(rx.url), store=root2)
        time.sleep(1.0)
        monitor.check(_rules(rx.url), store=root2)
        n = len(rx.times)
        time.sleep(1.0)
        monitor.check(_rules(rx.url), store=root2)
        assert len(rx.times) == n  # expired: not posted again
    finally:
        rx.close()
    assert monitor.alerts(store=root2)["webhook_status"].iloc[0].startswith("expired")


def test_a_crash_between_recording_the_alert_and_posting_it_loses_no_post(tmp_path):
    root = _store(tmp_path / "mon")
    rx = _Receiver()
    try:
        code = ("import importlib, os, sys\nfrom mlbench import monitor\n"
                "W = importlib.import_module(sys.argv[3])\nW.WEBHOOK_TIMEOUT_S = 0.2\n"
                "def crash(*a, **k):\n    os._exit(3)\n"
                "W.post = crash\n"
                "monitor.check(sys.argv[1], store=sys.argv[2])\n")
        rules = tmp_path / "rules.yaml"
        rules.write_text(json.dumps({"rules": _rules(rx.url)}))
        r = subprocess.run([sys.executable, "-c", code, str(rules), str(root), W.__name__], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
        assert r.returncode == 3, r.stderr[-2000:]  # died before the POST
        assert len(monitor.alerts(store=root)) == 1 and not rx.got  # the alert is recorded, nothing posted yet
        time.sleep(1.5)  # a try that was under way holds its post until its deadline has surely passed
        monitor.check(_rules(rx.url), store=root)  # the next check (cron) delivers it
    finally:
        rx.close()
    assert len(rx.got) == 1 and rx.got[0][1]["rule"] == "slow"
    assert monitor.alerts(store=root)["webhook_status"].tolist() == ["204"]


def test_the_whole_webhook_request_has_one_deadline():
    "A receiver that dribbles its answer one byte at a time never times a socket read out; the deadline still holds."
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()

    def drip():
        conn, _ = srv.accept()
        conn.recv(65536)
        for b in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
            if stop.is_set():
                break
            try:
                conn.send(bytes([b]))
            except OSError:
                break
            time.sleep(0.2)
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    t = time.monotonic()
    status = W.post(f"http://127.0.0.1:{srv.getsockname()[1]}/hook", {"a": 1}, timeout=1.0)
    took = time.monotonic() - t
    stop.set()
    srv.close()
    assert took < 2.5 and status.startswith("failed"), (took, status)


def test_secret_urls_are_never_logged_and_alerts_sqlite_is_private(tmp_path, fast, caplog):
    root = _store(tmp_path / "mon")
    rx = _Receiver(fail=10**6)
    port = rx.url.split(":")[2].split("/")[0]
    url = f"http://hookuser:pa55word@127.0.0.1:{port}/hook/T0SECRETPATH?token=t0kenVALUE"
    caplog.set_level(logging.DEBUG)
    try:
        res = monitor.check(_rules(url), store=root)
    finally:
        rx.close()
    assert rx.auth[0] and rx.auth[0].startswith("Basic ")  # user:pass@ sent as basic auth
    hist = monitor.alerts(store=root)
    shown = caplog.text + hist.to_json(date_format="iso") + json.dumps(res.to_dict(), default=str)
    assert "retrying" in shown and "127.0.0.1" in caplog.text  # the failures are logged, with the host
    for secret in ("pa55word", "t0kenVALUE", "T0SECRETPATH"):
        assert secret not in shown
    assert os.stat(root / "alerts.sqlite").st_mode & 0o777 == 0o600
