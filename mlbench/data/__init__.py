"""Data: load and scan sources, sketches, column and dataset profiles, whylogs interop, validation, HTML reports.

Hand-written: importing the package attaches `Profile.to_whylogs` / `from_whylogs` (`mlbench.data.interop`)."""
from mlbench.data import interop as _interop  # noqa: F401
