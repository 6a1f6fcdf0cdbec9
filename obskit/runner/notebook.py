"""A deep-dive notebook run: one parameterised notebook executed and published as a page
(``obskit deep-dive``, ``obskit investigate``)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from obskit.config import Config
from obskit.exceptions import NotebookError
from obskit.runner import execute
from obskit.runner.page import to_html
from obskit.runner.publish import (
    OWNER_FILE,
    clean_stale_tmp,
    new_run_id,
    owner,
    publish,
    write_json,
)

__all__ = ["run_notebook"]


def _slug(text: Any) -> str:
    """A folder-name-safe version of ``text`` (data such as a feature name or request id)."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", str(text)).strip("-.")[:60] or "x"


def run_notebook(config: Config, notebook: str, *, parameters: dict[str, Any],
                 out: str | Path, name: str, title: str) -> Path:
    """Execute one parameterised notebook and publish it as ``<out>/<name>-<time>/``.

    The deep dives (``drift_deep_dive.ipynb``, ``anomaly_investigation.ipynb``) run this
    way: the same papermill execution, page conversion (code hidden, no script) and
    atomic publish as the report, without alerts, history or ``latest``. The folder holds
    ``index.html`` and the executed notebook.

    Parameters
    ----------
    config : Config
        The run's configuration (for ``notebook_timeout_s``).
    notebook : str
        A notebook of the repository's ``notebooks/`` folder.
    parameters : dict
        Papermill parameters (JSON-able; paths absolute, since the notebook runs in the
        run folder).
    out : path
        The folder the run folder is created in.
    name : str
        The start of the run folder's name (made folder-safe).
    title : str
        The page title.

    Returns
    -------
    Path
        The published run folder.

    Raises
    ------
    NotebookError
        The notebook failed or timed out; it is kept as ``<name>-<time>-failed/``.
    """
    source = execute.notebook_path(notebook)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    clean_stale_tmp(root)
    run_id = new_run_id(root, f"{_slug(name)}-")
    tmp = root / f".tmp-{run_id}"
    tmp.mkdir()
    write_json(tmp / OWNER_FILE, owner())
    executed = tmp / source.name
    try:
        execute.execute_notebook(source, executed, parameters,
                                 timeout_s=config.notebook_timeout_s)
        (tmp / "index.html").write_text(to_html(executed, title=title))
    except NotebookError as exc:
        failed = root / f"{run_id}-failed"
        publish(tmp, failed)
        exc.notebook = str(failed / source.name)
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    final = root / run_id
    publish(tmp, final)
    return final
