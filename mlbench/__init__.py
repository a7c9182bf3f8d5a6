"""mlbench: take a tabular ML model from a notebook to production and keep it healthy.

Hand-written (not exported by nbdev). The core API is imported here; heavy libraries
(torch, bentoml, dask, optuna, plotly, ipywidgets, whylogs) load only inside the functions
that need them, so `import mlbench` costs little beyond `import pandas`.

`mb.profile`, `mb.drift`, `mb.tune` and `mb.gate` are functions; their modules are `mlbench.data.profile`,
`mlbench.drift.report`, `mlbench.tune.sweep` and `mlbench.pipeline.gate`. `mb.models` is the `mlbench.registry`
package and `mb.monitor` the `mlbench.monitor` package.
"""
from mlbench.errors import ColumnError, DataError, FormatError, MlbenchError
from mlbench.data.load import fingerprint, flights, load, scan
from mlbench.data.column import ColumnProfile
from mlbench.data.profile import Profile, profile
from mlbench.data.validate import Suite, ValidationResult
from mlbench.drift.report import DriftReport, drift
from mlbench.drift.model import ModelDrift, model_drift
from mlbench.tune.space import SweepError, space
from mlbench.tune.sweep import Sweep, tune
from mlbench import registry as models  # `mb.models`: the registry package
from mlbench.registry.store import package
from mlbench.registry.optimize import OptimizeResult, optimize  # ONNX, int8, fewer trees; skl2onnx/onnxruntime load inside
from mlbench.serve.predict import predict  # batch scoring; the module imports no server library
from mlbench.pipeline.gate import GateResult, gate
from mlbench import monitor  # `mb.monitor`: the monitoring package

__version__ = "0.0.1"

__all__ = ["load", "scan", "fingerprint", "flights", "profile", "Profile", "ColumnProfile", "Suite",
           "ValidationResult", "drift", "DriftReport", "model_drift", "ModelDrift", "tune", "space", "Sweep", "SweepError", "models", "monitor", "package", "optimize", "OptimizeResult", "predict", "gate", "GateResult", "MlbenchError", "DataError", "ColumnError", "FormatError"]
