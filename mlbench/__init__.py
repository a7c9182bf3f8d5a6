"""mlbench: take a tabular ML model from a notebook to production and keep it healthy.

Hand-written (not exported by nbdev). The core API is imported here; heavy libraries
(torch, bentoml, dask, optuna, plotly, ipywidgets, whylogs) load only inside the functions
that need them, so `import mlbench` costs little beyond `import pandas`.

`mlbench.profile` is both a submodule and the `profile()` function (so is `mlbench.gate`): importing the function
here, after the submodule, keeps `mb.profile` the function.
"""
from mlbench.errors import ColumnError, DataError, FormatError, MlbenchError
from mlbench.data import fingerprint, flights, load, scan
from mlbench.column import ColumnProfile
from mlbench.profile import Profile, profile
from mlbench.validate import Suite, ValidationResult
from mlbench.drift import DriftReport, drift
from mlbench.performance import ModelDrift, model_drift
from mlbench.sweep import Sweep, SweepError, space, tune
from mlbench import models
from mlbench.models import package
from mlbench.gate import GateResult, gate
from mlbench import monitor

__version__ = "0.0.1"

__all__ = ["load", "scan", "fingerprint", "flights", "profile", "Profile", "ColumnProfile", "Suite",
           "ValidationResult", "drift", "DriftReport", "model_drift", "ModelDrift", "tune", "space", "Sweep", "SweepError", "models", "monitor", "package", "gate", "GateResult", "MlbenchError", "DataError", "ColumnError", "FormatError"]
