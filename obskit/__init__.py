"""obskit: monitoring and explainability for ML models in production, Jupyter first.

The names below load on first use (:pep:`562`), so ``import obskit.results`` or
``import obskit.render`` (the report notebook) and ``obskit --help`` do not import the
analysis and its engines.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from obskit._version import __version__
from obskit.exceptions import ConfigError, InputError, ObskitError

if TYPE_CHECKING:
    from obskit.analysis import Analysis, analyze
    from obskit.config import Config, load_config
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

#: public name -> the module it is loaded from on first use
_LAZY = {"Analysis": "obskit.analysis", "analyze": "obskit.analysis",
         "Config": "obskit.config", "load_config": "obskit.config",
         "load_logs": "obskit.io"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'obskit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
