__version__ = "0.0.1"
"""mlbench: take a tabular ML model from a notebook to production and keep it healthy.

Hand-written (not exported by nbdev): the public names are resolved lazily on first use,
so `import mlbench` costs little beyond `import pandas`.
"""

_API = {
    "load": "mlbench.data", "scan": "mlbench.data", "fingerprint": "mlbench.data",
    "profile": "mlbench.profile", "Profile": "mlbench.profile", "ColumnProfile": "mlbench.profile",
    "Suite": "mlbench.validate", "ValidationResult": "mlbench.validate",
    "MlbenchError": "mlbench.errors", "DataError": "mlbench.errors", "ColumnError": "mlbench.errors",
    "FormatError": "mlbench.errors",
}

__all__ = sorted(_API)


def __getattr__(name):
    mod = _API.get(name)
    if mod is None:
        raise AttributeError(f"module 'mlbench' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
