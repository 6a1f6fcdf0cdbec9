"""Optional dependencies, imported only when a feature needs them.

:func:`require` imports a module of an optional extra (``pip install "obskit[<extra>]"``)
and, first, switches off the usage telemetry such libraries send by default: obskit never
phones home, and neither does a library it calls (MLflow reads ``MLFLOW_DISABLE_TELEMETRY``
and only ``DO_NOT_TRACK=true``; Evidently reads ``DO_NOT_TRACK`` being set).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType

from obskit.exceptions import ConfigError

__all__ = ["require", "check_installed", "TELEMETRY_OFF"]

#: set (unless the user set them) before an optional library is imported
TELEMETRY_OFF = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "ITERATIVE_DO_NOT_TRACK": "1",
    "NML_DISABLE_USAGE_LOGGING": "1",
}


def require(module: str, extra: str, *, key: str | None = None,
            purpose: str | None = None) -> ModuleType:
    """Import ``module`` of the optional extra ``extra``, with its telemetry off.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"mlflow"`` or ``"evidently.ui.workspace"``.
    extra : str
        obskit's pip extra that installs it, e.g. ``"mlflow"``.
    key : str, optional
        The config key or flag that asked for it (named in the error).
    purpose : str, optional
        What it is needed for, e.g. ``"the MLflow sink"`` (named in the error).

    Returns
    -------
    module

    Raises
    ------
    ConfigError
        The module is not installed: the message names the extra to install.

    >>> require("json", "core").__name__
    'json'
    """
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise _missing(module, extra, key, purpose) from exc


def check_installed(module: str, extra: str, *, key: str | None = None,
                    purpose: str | None = None) -> None:
    """Check, without importing it, that ``module`` of the extra ``extra`` is installed
    (a config is validated before anything runs; :func:`require` imports it when used).

    Parameters are those of :func:`require`.

    Raises
    ------
    ConfigError
        The module is not installed: the same message as :func:`require`'s.

    >>> check_installed("json", "core")
    """
    if importlib.util.find_spec(module) is None:
        raise _missing(module, extra, key, purpose)


def _missing(module: str, extra: str, key: str | None, purpose: str | None) -> ConfigError:
    need = purpose or module
    return ConfigError(f"{need} needs the {module.split('.')[0]!r} package: "
                       f'pip install "obskit[{extra}]"'
                       + (f" (config key '{key}')" if key else ""), key=key)
