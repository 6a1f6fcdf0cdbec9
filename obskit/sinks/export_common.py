"""What the ``obskit export`` commands share: reading a run's ``summary.json`` (the typed
:class:`~obskit.results.Run`, never recomputed) and naming the run."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from obskit.exceptions import InputError
from obskit.results import Run, RunRecord, load, load_record, read_document

__all__ = ["SUMMARY", "SummaryFile", "read_summary", "refuse_failed", "status_note"]

#: the file a run folder holds (``obskit report``)
SUMMARY = "summary.json"


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
        The file (``<reports>/<run>/summary.json`` as ``obskit report`` writes it), or a
        run folder holding one (``<reports>/latest``).
    flag : str
        The command-line flag that named it (quoted in errors).

    Returns
    -------
    SummaryFile

    Raises
    ------
    InputError
        Neither the file nor a run folder holding one exists; it is not JSON, or not a
        ``summary.json`` (a JSON object with a ``windows`` list).
    """
    file = Path(path)
    if file.is_dir():
        if not (file / SUMMARY).is_file():
            raise InputError(f"{path}: a folder without a {SUMMARY}: expected a run's "
                             f"{SUMMARY} or its run folder (flag {flag})", path=str(path))
        file = file / SUMMARY
    elif not file.is_file():
        raise InputError(f"{path}: summary file not found (flag {flag})", path=str(path))
    try:
        data = file.read_bytes()
        document = read_document(file)
    except (OSError, ValueError) as exc:
        why = str(exc).removeprefix(f"{file}: ")
        raise InputError(f"{file}: not a readable summary.json: {why} (flag {flag})",
                         path=str(file)) from exc
    if not isinstance(document, Mapping) or not isinstance(document.get("windows"), list):
        raise InputError(f"{file}: not a summary.json: expected a JSON object with a "
                         f"'windows' list, as obskit report writes (flag {flag})",
                         path=str(file))
    try:
        run, record = load(document), load_record(document)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{file}: not a valid summary.json: {exc} (flag {flag})",
                         path=str(file)) from exc
    run_id = (record.run_id if record and record.run_id else
              "sha256-" + hashlib.sha256(data).hexdigest()[:16])
    return SummaryFile(path=file, run=run, record=record, run_id=str(run_id))


def status_note(summary: SummaryFile) -> str:
    """One line naming the run's status, for the export commands to print: ``failed``
    (its notebook failed; the analysis itself is complete), ``alert``, ``ok`` or unknown
    (the document does not say)."""
    status = summary.run.status or "unknown"
    note = f"run {summary.run_id}: status {status}"
    if status == "failed":
        error = summary.record.error if summary.record else None
        note += " (its report failed" + (f": {error}" if error else "") + ")"
    elif status == "unknown":
        note += " (summary.json has no status)"
    return note


def refuse_failed(summary: SummaryFile, *, include_failed: bool) -> None:
    """Refuse a failed run unless the user asked for it (``--include-failed``).

    A run whose report failed (``status: failed``: its notebook failed, its analysis is
    complete) is kept out of other tools by default, so a dashboard never shows it as an
    ordinary run without anyone having chosen to.

    Parameters
    ----------
    summary : SummaryFile
        The run.
    include_failed : bool
        Export it anyway.

    Raises
    ------
    InputError
        The run's status is ``failed`` and ``include_failed`` is false.
    """
    if summary.run.status == "failed" and not include_failed:
        raise InputError(f"{summary.path}: {status_note(summary)}; not exported (pass "
                         f"--include-failed to export a failed run)", path=str(summary.path))
