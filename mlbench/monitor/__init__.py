"""Monitoring, `mb.monitor`: windows read from the monitor store, drift over time, estimated performance, alerts.

Hand-written: the public names of `mlbench.monitor.store`."""
from mlbench.monitor.store import *  # noqa: F401,F403
from mlbench.monitor.store import __all__  # noqa: F401
