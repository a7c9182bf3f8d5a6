"""Kept for deployed services that name `mlbench.serving:ModelService`; the service lives in `mlbench.serve.app`."""
from mlbench.serve.validation import *  # noqa: F401,F403
from mlbench.serve.batcher import *  # noqa: F401,F403
from mlbench.serve.app import *  # noqa: F401,F403
from mlbench.serve.process import *  # noqa: F401,F403
from mlbench.serve.app import __getattr__  # noqa: F401  (ModelService is built on first access)
