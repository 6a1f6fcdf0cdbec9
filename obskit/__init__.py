"""obskit: monitoring and explainability for ML models in production, Jupyter first."""

from __future__ import annotations

__version__ = "0.1.0"

from obskit.analysis import Analysis, analyze  # noqa: E402
from obskit.config import Config, load_config  # noqa: E402
from obskit.exceptions import ConfigError, InputError, ObskitError  # noqa: E402
from obskit.io import load_logs  # noqa: E402

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
