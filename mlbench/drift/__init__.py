"""Drift: per-column tests and the drift report, the domain classifier, model-level drift.

`mb.drift` is the function `mlbench.drift.report.drift` (the package keeps its modules)."""
