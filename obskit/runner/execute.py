"""Executing a notebook with papermill: the notebooks obskit ships, the kernel's settings and
one deadline for the whole run."""

from __future__ import annotations

import functools
import importlib
import math
import sys
import time
from pathlib import Path
from typing import Any

from obskit.exceptions import InputError, NotebookError
from obskit.runner.warm_kernel import WarmKernel, kernel_config, kernel_manager

__all__ = ["NOTEBOOK", "execute_notebook", "import_jsonschema", "import_papermill",
           "kernel_config", "notebook_path"]

#: the report notebook
NOTEBOOK = "monitoring_report.ipynb"


def import_jsonschema() -> None:
    """Import ``jsonschema`` (nbformat's validator, imported by papermill and nbconvert)
    without its optional ``rfc3987_syntax`` format checker.

    ``jsonschema`` imports ``rfc3987_syntax`` when it is installed, and that module builds
    a lark grammar at import time: about 2 s of CPU, for an ``iri`` string-format check
    that nbformat's notebook schema never uses. Hidden only while ``jsonschema`` is first
    imported; nothing else changes, and ``rfc3987_syntax`` stays importable afterwards.
    Does nothing when ``jsonschema`` is already imported.
    """
    _import_hiding("jsonschema", ("rfc3987_syntax",))


#: papermill's optional handlers of remote notebook paths (``gs://``, ``s3://``, ``abs://``,
#: ``adl://``, ``hdfs://``, GitHub): obskit runs local notebooks only
_REMOTE_HANDLERS = ("gcsfs", "boto3", "azure", "github", "pyarrow", "pyarrow.fs")


def import_papermill() -> None:
    """Import ``papermill`` without its optional remote-path handlers.

    ``papermill.iorw`` imports every installed cloud client at import time (``gcsfs``
    alone brings aiohttp, grpc and the Google Cloud storage client: about 1 s of CPU) for
    notebook paths such as ``gs://``; obskit's notebooks and outputs are local files.
    Those modules are hidden only while ``papermill`` is first imported (it then names
    them as missing, for remote paths only) and stay importable afterwards; a module
    already imported is not hidden. Does nothing when ``papermill`` is already imported.
    """
    import_jsonschema()
    _import_hiding("papermill", _REMOTE_HANDLERS)


def _import_hiding(name: str, hidden: tuple[str, ...]) -> None:
    """Import module ``name`` with the modules ``hidden`` (those not yet imported)
    unimportable meanwhile; nothing when ``name`` is already imported."""
    if name in sys.modules:
        return
    hide = [m for m in hidden if m not in sys.modules]
    for module in hide:
        sys.modules[module] = None  # type: ignore[assignment]  # ImportError
    try:
        importlib.import_module(name)
    finally:
        for module in hide:
            if module in sys.modules and sys.modules[module] is None:
                del sys.modules[module]


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
                     timeout_s: float = 1800.0, kernel: WarmKernel | None = None) -> None:
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
    kernel : WarmKernel, optional
        A kernel started earlier (:func:`~obskit.runner.warm_kernel.warm_kernel`); it is
        moved into ``output``'s folder and runs the notebook. The caller shuts it down.
        None, or a kernel that died meanwhile: papermill starts and stops one of its own.

    Raises
    ------
    NotebookError
        A cell failed, the run timed out, or the kernel died.
    """
    import_papermill()
    import papermill as pm
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    deadline = time.monotonic() + timeout_s

    def remaining(cell: Any) -> int:  # nbclient asks before each cell
        return max(1, math.ceil(deadline - time.monotonic()))

    manager = kernel.hand_over(output.parent) if kernel is not None else None
    try:
        pm.execute_notebook(
            str(notebook), str(output), parameters=parameters, kernel_name="python3",
            cwd=str(output.parent), progress_bar=False,
            execution_timeout=max(1, math.ceil(timeout_s)), timeout_func=remaining,
            config=kernel_config(), engine_name=_register_engine(),
            kernel_manager_class=kernel_manager(), km=manager,
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


#: papermill's engine name for :func:`_register_engine`
_ENGINE = "obskit"


@functools.cache
def _register_engine() -> str:
    """Register (once) papermill's nbclient engine, writing the executed notebook once.

    papermill's own engine writes (and validates) the whole notebook at every cell's start
    and end: 30-odd writes of a notebook that grows to a megabyte of figures. This engine
    writes it once at the end: papermill writes it after a good run or a failed cell, and
    the engine itself after a timeout or a dead kernel (where papermill writes nothing), so
    the executed notebook is always there to read. A run killed mid-way leaves none; its
    temporary folder is removed anyway.

    Returns
    -------
    str
        The engine's name, for papermill's ``engine_name``.
    """
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
    from papermill.iorw import write_ipynb

    class _Manager(NotebookExecutionManager):
        def save(self, **kwargs: Any) -> None:  # noqa: ARG002 - the engine writes once
            return None

    class _Engine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb: Any, kernel_name: str, output_path: Any = None,
                             progress_bar: bool = True, log_output: bool = False,
                             autosave_cell_every: int = 30, **kwargs: Any) -> Any:
            nb_man = _Manager(nb, output_path=output_path, progress_bar=progress_bar,
                              log_output=log_output, autosave_cell_every=0)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output,
                                             **kwargs)
            except BaseException:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
                if output_path:
                    write_ipynb(nb_man.nb, output_path)
                raise
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register(_ENGINE, _Engine)
    return _ENGINE
