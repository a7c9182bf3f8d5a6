"""Monitoring, `mb.monitor`: windows read from the monitor store, drift over time, estimated performance, alerts.

Hand-written: the public names of `mlbench.monitor.store`, `.estimate`, `.windows`, `.drift` and `.alerts`."""
from mlbench.monitor.store import *  # noqa: F401,F403
from mlbench.monitor.store import __all__ as _store_all
from mlbench.monitor.estimate import *  # noqa: F401,F403
from mlbench.monitor.estimate import __all__ as _estimate_all
from mlbench.monitor.windows import *  # noqa: F401,F403  (`windows`, the function, shadows the module as an attribute)
from mlbench.monitor.windows import __all__ as _windows_all
from mlbench.monitor.drift import *  # noqa: F401,F403
from mlbench.monitor.drift import __all__ as _drift_all
from mlbench.monitor.alerts import *  # noqa: F401,F403  (`alerts`, the function, shadows the module as an attribute)
from mlbench.monitor.alerts import __all__ as _alerts_all

__all__ = [*_store_all, *_estimate_all, *_windows_all, *_drift_all, *_alerts_all]
