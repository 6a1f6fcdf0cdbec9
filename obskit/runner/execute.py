"""Executing a notebook with papermill: the notebooks obskit ships, the kernel's settings and
one deadline for the whole run."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from obskit.exceptions import InputError, NotebookError

__all__ = ["NOTEBOOK", "execute_notebook", "kernel_config", "notebook_path"]

#: the report notebook
NOTEBOOK = "monitoring_report.ipynb"


def notebook_path(name: str = NOTEBOOK) -> Path:
    """A notebook of obskit.

    Parameters
    ----------
    name : str
        The notebook's file name.

    Returns
    -------
    Path
        The package's ``obskit/notebooks/<name>`` in an installed wheel, else the
        repository's ``notebooks/<name>`` (the one copy; the wheel is built from it,
        ``setup.py``).

    Raises
    ------
    InputError
        No such notebook.
    """
    package = Path(__file__).resolve().parent.parent  # obskit/
    for candidate in (package / "notebooks" / name, package.parent / "notebooks" / name):
        if candidate.is_file():
            return candidate
    raise InputError(f"report notebook {name!r} not found next to the obskit package",
                     path=name)


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, Any], *,
                     timeout_s: float = 1800.0) -> None:
    """Run ``notebook`` with papermill into ``output``, in ``output``'s folder.

    Parameters
    ----------
    notebook : Path
        The notebook to run (its ``parameters`` cell gets ``parameters``).
    output : Path
        Where the executed notebook is written (also when a cell fails).
    parameters : dict[str, Any]
        Papermill parameters (JSON-able).
    timeout_s : float
        Seconds for the whole run (not each cell): a cell still running at the deadline
        is stopped with its kernel, and the run fails.

    Raises
    ------
    NotebookError
        A cell failed, the run timed out, or the kernel died.
    """
    import papermill as pm
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    deadline = time.monotonic() + timeout_s

    def remaining(cell: Any) -> int:  # nbclient asks before each cell
        return max(1, math.ceil(deadline - time.monotonic()))

    try:
        pm.execute_notebook(
            str(notebook), str(output), parameters=parameters, kernel_name="python3",
            cwd=str(output.parent), progress_bar=False,
            execution_timeout=max(1, math.ceil(timeout_s)), timeout_func=remaining,
            config=kernel_config(),
        )
    except PapermillExecutionError as exc:
        raise NotebookError(
            f"notebook cell {exc.cell_index} failed: {exc.ename}: {exc.evalue}",
            notebook=str(output),
        ) from exc
    except TimeoutError as exc:  # nbclient's CellTimeoutError
        raise NotebookError(
            f"notebook timed out after {timeout_s:g} s (config key 'notebook_timeout_s')",
            notebook=str(output),
        ) from exc
    except DeadKernelError as exc:
        raise NotebookError(f"notebook kernel died: {exc}", notebook=str(output)) from exc


def kernel_config() -> Any:
    """The kernel manager's settings for a notebook run: transport encryption ``auto``.

    jupyter_client then provisions CurveZMQ keys for a kernel whose kernelspec declares
    support (ipykernel's does), so the kernel's sockets are encrypted and ipykernel does
    not warn "Kernel is running over TCP without encryption" on every run. Older
    jupyter_client releases (no ``transport_encryption`` setting) or a pyzmq without
    CurveZMQ keep their defaults.

    Returns
    -------
    traitlets.config.Config
        The settings, for papermill's ``config``.
    """
    import zmq
    from jupyter_client.manager import KernelManager
    from traitlets.config import Config as TraitletsConfig

    settings = TraitletsConfig()
    if "transport_encryption" in KernelManager.class_trait_names() and zmq.has("curve"):
        settings.KernelManager.transport_encryption = "auto"
    return settings
