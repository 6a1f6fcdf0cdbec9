"""obskit: monitoring and explainability for ML models in production, Jupyter first."""

from __future__ import annotations

from obskit._version import __version__
from obskit.analysis import Analysis, analyze
from obskit.config import Config, load_config
from obskit.exceptions import ConfigError, InputError, ObskitError
from obskit.io import load_logs

__all__ = [
    "Analysis",
    "Config",
    "ConfigError",
    "InputError",
    "ObskitError",
    "__version__",
    "analyze",
    "load_config",
    "load_logs",
]
