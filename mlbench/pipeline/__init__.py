"""Pipelines: step notebooks run by papermill with a cache, the lineage ledger, the promotion gate.

Hand-written: what step notebooks and users call (`mlbench.pipeline.run`, `start`, `record`, `model_lineage`)."""
from mlbench.pipeline.lineage import model_lineage, record  # noqa: F401
from mlbench.pipeline.runner import RunHandle, RunResult, run, start  # noqa: F401
from mlbench.pipeline.spec import Pipeline, PipelineError  # noqa: F401
