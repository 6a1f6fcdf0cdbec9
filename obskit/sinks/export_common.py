"""What the ``obskit export`` commands share: reading a run's ``summary.json`` (the typed
:class:`~obskit.results.Run`, never recomputed) and naming the run."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from obskit.exceptions import InputError
from obskit.results import Run, RunRecord, load, load_record, read_document

__all__ = ["SummaryFile", "read_summary"]


@dataclass(frozen=True, kw_only=True, slots=True)
class SummaryFile:
    """A run read from its ``summary.json``: the run, the runner's record (None for an
    analysis the runner did not write) and its ``run_id``: the record's, else
    ``sha256-<16 hex>`` of the file's bytes (the same file always gets the same id)."""

    path: Path
    run: Run
    record: RunRecord | None
    run_id: str


def read_summary(path: str | Path, *, flag: str = "--summary") -> SummaryFile:
    """Read a run's ``summary.json``.

    Parameters
    ----------
    path : str or Path
        The file (``<reports>/<run>/summary.json`` as ``obskit report`` writes it).
    flag : str
        The command-line flag that named it (quoted in errors).

    Returns
    -------
    SummaryFile

    Raises
    ------
    InputError
        The file does not exist, is not JSON, or is not a ``summary.json`` (a JSON
        object with a ``windows`` list).
    """
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{path}: summary file not found (flag {flag})", path=str(path))
    try:
        data = file.read_bytes()
        document = read_document(file)
    except (OSError, ValueError) as exc:
        why = str(exc).removeprefix(f"{file}: ")
        raise InputError(f"{path}: not a readable summary.json: {why} (flag {flag})",
                         path=str(path)) from exc
    if not isinstance(document, Mapping) or not isinstance(document.get("windows"), list):
        raise InputError(f"{path}: not a summary.json: expected a JSON object with a "
                         f"'windows' list, as obskit report writes (flag {flag})",
                         path=str(path))
    try:
        run, record = load(document), load_record(document)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: not a valid summary.json: {exc} (flag {flag})",
                         path=str(path)) from exc
    run_id = (record.run_id if record and record.run_id else
              "sha256-" + hashlib.sha256(data).hexdigest()[:16])
    return SummaryFile(path=file, run=run, record=record, run_id=str(run_id))
