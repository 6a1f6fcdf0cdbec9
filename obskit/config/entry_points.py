"""``module:function`` entry points of the config (a retrain rule's ``entry_point``).

Resolved once, at :func:`obskit.config.load_config`, so a missing module or function is
a configuration error before any log is read, not a failed action after the report. The
module is searched the way ``python -m`` would from the config's folder: first the
**config file's folder** (the overrides' base folder without a file), then the
**current working directory**, then the usual :data:`sys.path` (installed packages). So
``mytrain.py`` beside ``config.yml`` is found by the installed ``obskit`` command, from
any directory.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from obskit.exceptions import ConfigError

__all__ = ["import_folders", "load_entry_point"]


def import_folders(base_dir: str | Path) -> tuple[str, ...]:
    """The folders searched before :data:`sys.path`: the config's folder, then the
    current working directory (absolute, without repeats)."""
    folders = (str(Path(base_dir).expanduser().absolute()), os.getcwd())
    return tuple(dict.fromkeys(folders))


@contextmanager
def _searching(folders: Sequence[str]) -> Iterator[None]:
    """``folders`` at the front of :data:`sys.path` for the block (removed after it)."""
    added = [f for f in folders if f not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for folder in added:
            if folder in sys.path:
                sys.path.remove(folder)


def load_entry_point(spec: str, key: str, folders: Sequence[str] = ()) -> Callable[..., Any]:
    """Import ``module:function`` and return the function.

    Parameters
    ----------
    spec : str
        ``module:function`` (``mypkg.train:make_candidate``).
    key : str
        The config key, named in errors (``remediation.rules[0].entry_point``).
    folders : sequence of str
        Searched before :data:`sys.path` (:func:`import_folders`).

    Returns
    -------
    callable

    Raises
    ------
    ConfigError
        The module is not found or fails to import, or has no such callable; the message
        names ``key`` and the folders searched.
    """
    module_name, _, attr = spec.partition(":")
    where = ", ".join(folders) if folders else "sys.path"
    with _searching(folders):
        error = ""
        try:
            found = importlib.util.find_spec(module_name)
        except (ImportError, ValueError) as exc:  # a parent package is missing
            found, error = None, f": {exc}"
        if found is None:
            raise ConfigError(f"config key {key!r}: no module {module_name!r} (searched "
                              f"{where}, then the installed packages){error}", key=key)
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # the user's module itself fails
            raise ConfigError(f"config key {key!r}: importing {module_name!r} failed: "
                              f"{type(exc).__name__}: {exc}", key=key) from exc
    func = getattr(module, attr, None)
    if not callable(func):
        raise ConfigError(f"config key {key!r}: module {module_name!r} "
                          f"({getattr(module, '__file__', '?')}) has no function {attr!r}",
                          key=key)
    return func
