"""``summary.json`` at the edge: read a document into a :class:`~obskit.results.Run`
(and its :class:`~obskit.results.RunRecord`), write one back.

Older documents load: a missing key takes its default, an unknown key is kept (``extra``)
and written back in its place, so reading and writing never loses a key.
"""

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from obskit.results.run import Run, RunRecord

__all__ = ["document", "dump", "load", "load_record", "read_document"]


def read_document(source: str | Path | Mapping[str, Any]) -> Mapping[str, Any]:
    """The JSON object of ``source``: a ``summary.json`` path, or the parsed object.

    Raises
    ------
    OSError
        The file cannot be read.
    ValueError
        The file is not JSON, or not a JSON object.
    """
    if isinstance(source, Mapping):
        return source
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a JSON object (a summary.json), "
                         f"got {type(data).__name__}")
    return data


def load(source: str | Path | Mapping[str, Any]) -> Run:
    """The :class:`Run` of a ``summary.json`` (a path, or the parsed document).

    Parameters
    ----------
    source : str, Path or Mapping[str, Any]
        A ``summary.json`` file of any schema 1.x version, or its parsed object.

    Returns
    -------
    Run
        The run; the runner's keys (:attr:`RunRecord.KEYS`) are left out (see
        :func:`load_record`).

    Raises
    ------
    OSError, ValueError
        See :func:`read_document`.
    """
    data = read_document(source)
    return Run.from_dict({k: v for k, v in data.items() if k not in RunRecord.KEYS})


def load_record(source: str | Path | Mapping[str, Any]) -> RunRecord | None:
    """The runner's :class:`RunRecord` of a ``summary.json``, None when it has none (an
    analysis that was never written by the runner); its ``render_s`` is read from
    ``timings.render_s`` (which also stays in the run's ``timings``)."""
    data = read_document(source)
    own = {k: v for k, v in data.items() if k in RunRecord.KEYS}
    if not own:
        return None
    record = RunRecord.from_dict(own)
    timings = data.get("timings")
    render_s = timings.get("render_s") if isinstance(timings, Mapping) else None
    return replace(record, render_s=render_s) if render_s is not None else record


def document(run: Run, record: RunRecord | None = None) -> dict[str, Any]:
    """The ``summary.json`` object: the run's keys, then the record's."""
    out = run.to_dict()
    return record.write_into(out) if record is not None else out


def dump(run: Run, path: str | Path, record: RunRecord | None = None) -> Path:
    """Write ``summary.json`` (indented, no NaN) to ``path``.

    Parameters
    ----------
    run : Run
    path : str or Path
        The file to write (replaced).
    record : RunRecord, optional
        The runner's facts, written after the run's keys.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        A value is not finite (JSON has no NaN).
    """
    path = Path(path)
    path.write_text(json.dumps(document(run, record), indent=2, allow_nan=False,
                               default=str) + "\n", encoding="utf-8")
    return path
