"""The model registry, `mb.models`: package, list, get, load (integrity-checked), promote, history, compare,
ONNX versions and export (`mb.optimize` builds them).

Hand-written: the public names of `integrity`, `provenance` and `store`, `compare` from `mlbench.registry.compare`,
and the ONNX names of `onnx`, `portable` and `optimize`."""
from mlbench.registry.integrity import *  # noqa: F401,F403
from mlbench.registry.integrity import __all__ as _integrity_all
from mlbench.registry.provenance import *  # noqa: F401,F403
from mlbench.registry.provenance import __all__ as _provenance_all
from mlbench.registry.store import *  # noqa: F401,F403
from mlbench.registry.store import __all__ as _store_all
from mlbench.registry.compare import compare  # noqa: F401  (the name shadows the module as an attribute)
from mlbench.registry.onnx import ConversionError, OnnxModel  # noqa: F401
from mlbench.registry.portable import ParityError, export, package_onnx  # noqa: F401
from mlbench.registry.optimize import OptimizeResult  # noqa: F401  (`mb.optimize` is the function: not shadowing its module)

__all__ = [*_integrity_all, *_provenance_all, *_store_all, "compare", "ConversionError", "OnnxModel", "ParityError",
           "export", "package_onnx", "OptimizeResult"]
