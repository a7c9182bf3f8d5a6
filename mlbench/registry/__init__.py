"""The model registry, `mb.models`: package, list, get, load (integrity-checked), promote, history, compare.

Hand-written: the public names of `integrity`, `provenance` and `store`, and `compare` from `mlbench.registry.compare`."""
from mlbench.registry.integrity import *  # noqa: F401,F403
from mlbench.registry.integrity import __all__ as _integrity_all
from mlbench.registry.provenance import *  # noqa: F401,F403
from mlbench.registry.provenance import __all__ as _provenance_all
from mlbench.registry.store import *  # noqa: F401,F403
from mlbench.registry.store import __all__ as _store_all
from mlbench.registry.compare import compare  # noqa: F401  (the name shadows the module as an attribute)

__all__ = [*_integrity_all, *_provenance_all, *_store_all, "compare"]
