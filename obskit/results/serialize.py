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

from obskit.results.run import SCHEMA_VERSION, Run, RunRecord, require_run

__all__ = ["document", "dump", "load", "load_record", "read_document"]


def read_document(source: str | Path | Mapping[str, Any]) -> Mapping[str, Any]:
    """The JSON object of ``source``: a ``summary.json`` path, or the parsed object.

    Raises
    ------
    OSError
        The file cannot be read.
    TypeError
        ``source`` is neither a path nor a mapping.
    ValueError
        The file is not JSON, not a JSON object, or a ``summary.json`` of a newer major
        schema than :data:`~obskit.results.SCHEMA_VERSION` (its keys may mean other
        things: it is not read as if it were this one).
    """
    if isinstance(source, Mapping):
        data: Any = source
        where = "the summary"
    elif isinstance(source, (str, Path)):
        data = json.loads(Path(source).read_text(encoding="utf-8"))
        where = str(source)
    else:
        raise TypeError(f"expected a summary.json path or its parsed object (a mapping), "
                        f"got {type(source).__name__}")
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a JSON object (a summary.json), "
                         f"got {type(data).__name__}")
    version = str(data.get("schema_version") or SCHEMA_VERSION)
    major = SCHEMA_VERSION.split(".")[0]
    if version.split(".")[0] != major:
        raise ValueError(f"{where}: schema_version {version} is not a {major}.x summary.json "
                         f"(this obskit reads schema {SCHEMA_VERSION})")
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
    """The ``summary.json`` object: the run's keys, then the record's.

    Raises
    ------
    TypeError
        ``run`` is not a :class:`Run` (a dict: read it with :func:`load` first).
    """
    out = require_run(run).to_dict()
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
