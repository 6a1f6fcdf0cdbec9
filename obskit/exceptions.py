"""The errors obskit raises: one root, a few subclasses carrying structured fields."""

from __future__ import annotations

__all__ = [
    "ObskitError",
    "ConfigError",
    "InputError",
    "NotFittedError",
    "NotebookError",
    "EXIT_OK", "EXIT_ALERT", "EXIT_INPUT", "EXIT_NOTEBOOK", "EXIT_INTERNAL",
]


#: the exit codes of the command line (``obskit report``, ``schedule --once``, ``run-due``,
#: ``backfill``): 0 ok, 1 alerts fired (with ``fail_on_alert``), 2 bad input or config,
#: 3 a notebook failed, 4 an internal error
EXIT_OK, EXIT_ALERT, EXIT_INPUT, EXIT_NOTEBOOK, EXIT_INTERNAL = 0, 1, 2, 3, 4


class ObskitError(Exception):
    """Root of every error obskit raises on purpose."""


class ConfigError(ObskitError, ValueError):
    """A configuration mistake: names the offending ``key`` and what was expected."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class InputError(ObskitError):
    """Input that cannot be used: names the ``path``, ``column`` or ``line`` concerned."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        column: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.column = column
        self.line = line


class NotFittedError(ObskitError, RuntimeError):
    """A monitor was used before ``fit(reference)``."""


class NotebookError(ObskitError):
    """A report notebook failed; ``notebook`` is the kept, executed copy."""

    def __init__(self, message: str, *, notebook: str | None = None) -> None:
        super().__init__(message)
        self.notebook = notebook
