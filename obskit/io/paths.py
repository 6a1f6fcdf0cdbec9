"""Which files a source spec names, and their format: a file, a glob or a directory;
JSON lines, CSV or Parquet from the extension.

A log file still being written is not read: the prediction logger
(:class:`obskit.instrument.PredictionLogger`) writes ``<name>.jsonl.part`` and renames it
to ``<name>.jsonl`` when the file is finished, so a ``.part`` (or ``.broken``) file may
end in a half-written line. Such *unfinished* files are skipped but never silently:
:func:`resolve_source` returns them beside the files read, with their sizes, and the run
names them (``sources.unfinished`` of ``summary.json``).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from obskit._text import plural
from obskit.exceptions import InputError

__all__ = ["EXTENSIONS", "UNFINISHED_SUFFIXES", "SourceFiles", "SkippedFile",
           "format_of", "is_unfinished", "resolve_source",
           "unfinished_note", "unfinished_text"]

#: File extension → source format.
EXTENSIONS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".csv": "csv", ".tsv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
}

#: what a log file's name ends in after its extension while it is unfinished: ``.part``
#: while a writer has it open (renamed away when it is finished), ``.broken`` when the
#: writer gave it up
UNFINISHED_SUFFIXES = (".part", ".broken")

#: why an unfinished file is not read, for every message that names one
_WHY = "still being written, or left by a process that stopped without finishing it"
_WHY_MANY = "still being written, or left by processes that stopped without finishing them"
#: a ``.broken`` file: the prediction logger's name for a Parquet file a crash left
#: without its footer (obskit.instrument)
_BROKEN = ("unreadable: a crashed writer left it without its end, and its rows are lost; "
           "delete it once noted")


class SkippedFile(NamedTuple):
    """A log file skipped because it is unfinished: its path and size (bytes; None when
    it was gone by the time it was measured, e.g. renamed when its writer finished)."""

    path: str
    bytes: int | None


class SourceFiles(NamedTuple):
    """What :func:`resolve_source` returns."""

    #: the files to read, sorted
    files: list[str]
    #: the unfinished log files skipped, sorted by path
    unfinished: list[SkippedFile]


def format_of(path: str) -> str:
    """The source format of a file, from its extension.

    Parameters
    ----------
    path : str
        A file path or URI (``.jsonl``, ``.ndjson``, ``.json``, ``.csv``, ``.tsv``,
        ``.parquet``, ``.pq``).

    Returns
    -------
    str
        A key of :data:`obskit.io.sources.READERS`: ``"jsonl"``, ``"csv"`` or ``"parquet"``.

    Raises
    ------
    InputError
        An extension no reader handles (an unfinished log file, ``x.jsonl.part``, is named
        as such).
    """
    ext = Path(path).suffix.lower()
    if ext not in EXTENSIONS:
        if is_unfinished(path):
            raise InputError(_unfinished_named(path), path=path)
        raise InputError(
            f"{path}: unknown file type {ext!r}; expected one of "
            + ", ".join(sorted(EXTENSIONS)),
            path=path,
        )
    return EXTENSIONS[ext]


def is_unfinished(path: str) -> bool:
    """Whether ``path`` names an unfinished log file: a known log extension followed by
    ``.part`` or ``.broken`` (``x.jsonl.part``, ``x.parquet.broken``).

    Parameters
    ----------
    path : str
        A file path.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_unfinished("logs/p-1.jsonl.part"), is_unfinished("p.parquet.broken")
    (True, True)
    >>> is_unfinished("notes.part"), is_unfinished("p.jsonl")
    (False, False)
    """
    name = Path(path).name.lower()
    for suffix in UNFINISHED_SUFFIXES:
        if name.endswith(suffix):
            return Path(name.removesuffix(suffix)).suffix in EXTENSIONS
    return False


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:  # renamed or deleted since it was listed
        return None


def _name(path: str) -> str:
    """The last part of a path, either separator."""
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


def unfinished_text(files: Sequence[tuple[str, int | None]], *, shown: int = 5) -> str:
    """The unfinished log files skipped, in words: how many, their names (the last part
    of the path) and sizes, and why they were not read.

    Parameters
    ----------
    files : sequence of (str, int or None)
        ``(path, bytes)`` of each file (an :class:`SkippedFile`; None: size unknown).
    shown : int, default 5
        The most files named; the rest are counted.

    Returns
    -------
    str
        E.g. ``1 unfinished log file skipped: p-1.jsonl.part (4,096 bytes; still being
        written, or left by a process that stopped without finishing it)``; empty without
        files.

    Examples
    --------
    >>> unfinished_text([("logs/p-1.jsonl.part", 4096)])  # doctest: +NORMALIZE_WHITESPACE
    '1 unfinished log file skipped: p-1.jsonl.part (4,096 bytes; still being written, or
    left by a process that stopped without finishing it)'
    >>> unfinished_text([("logs/p-2.parquet.broken", 4)])  # doctest: +NORMALIZE_WHITESPACE
    '1 unfinished log file skipped: p-2.parquet.broken (4 bytes; unreadable: a crashed
    writer left it without its end, and its rows are lost; delete it once noted)'
    """
    if not files:
        return ""
    broken = [f for f in files if str(f[0]).endswith(".broken")]
    pending = [f for f in files if not str(f[0]).endswith(".broken")]
    parts = [_described(group, why, shown=shown)
             for group, why in ((pending, (_WHY, _WHY_MANY)), (broken, (_BROKEN, _BROKEN)))
             if group]
    return "; ".join(parts)


def _described(files: Sequence[tuple[str, int | None]], why: tuple[str, str], *,
               shown: int) -> str:
    sizes = [f"{_name(p)} (" + ("size unknown" if n is None else plural(int(n), "byte"))
             for p, n in files[:shown]]
    if len(files) == 1:
        return f"1 unfinished log file skipped: {sizes[0]}; {why[0]})"
    more = f" and {len(files) - shown:,} more" if len(files) > shown else ""
    return (f"{plural(len(files), 'unfinished log file')} skipped: "
            + ", ".join(s + ")" for s in sizes) + f"{more} ({why[1]})")


def unfinished_note(source: str, files: Sequence[tuple[str, int | None]]) -> str:
    """The run's note on the unfinished log files a source skipped.

    Parameters
    ----------
    source : str
        The source's config key (``current``, ``reference``, ``labels``, ``probes``).
    files : sequence of (str, int or None)
        ``(path, bytes)`` of each file skipped (at least one).

    Returns
    -------
    str
        ``sources.current: 1 unfinished log file skipped: p-1.jsonl.part (4,096 bytes;
        ...); its rows are not in this report.``
    """
    whose = "its" if len(files) == 1 else "their"
    return f"sources.{source}: {unfinished_text(files)}; {whose} rows are not in this report."


def _unfinished_named(path: str) -> str:
    """The message for a spec that names an unfinished file itself."""
    finished = path[:path.lower().rfind(".")]
    return (f"{path}: an unfinished log file ({_WHY}); obskit does not read it, since its "
            f"last line may be half-written. Its writer renames it to {finished} when it "
            "finishes; if the writer has stopped, rename it yourself to read what it holds "
            "(a half-written last line is quarantined).")


def _empty_message(spec: str, unfinished: list[SkippedFile]) -> str:
    supported = ", ".join(sorted(EXTENSIONS))
    if not unfinished:
        return f"{spec}: matched no log files (supported: {supported})"
    it, holds = ("it", "what it holds") if len(unfinished) == 1 else ("them", "what they hold")
    return (f"{spec}: matched no finished log file; {unfinished_text(unfinished)}. Wait "
            f"until the writer finishes {it} (it renames a finished file without .part), "
            f"or, if the writer has stopped, rename {it} without the .part or .broken "
            f"suffix to read {holds} (a half-written last line is quarantined).")


def resolve_source(spec: str) -> SourceFiles:
    """The files of a source spec, and the unfinished log files it skipped.

    A directory is searched recursively and only files with a known extension are read;
    a glob reads what it matches. Unfinished log files (:func:`is_unfinished`) are never
    read: those in the directory, those the glob matches, and those that would match it
    once finished (``logs/*.jsonl`` skips ``logs/a.jsonl.part``) are returned apart.

    Parameters
    ----------
    spec : str
        A local path, glob pattern or directory.

    Returns
    -------
    SourceFiles
        The files to read (sorted) and the unfinished files skipped with their sizes.

    Raises
    ------
    InputError
        Nothing matches (the message names the unfinished files skipped, if any), the spec
        names an unfinished file itself, or a file is not readable.
    """
    skipped: set[str] = set()
    if any(ch in spec for ch in "*?["):
        matched = [p for p in glob.glob(spec, recursive=True) if os.path.isfile(p)]
        files = sorted(p for p in matched if not is_unfinished(p))
        skipped.update(p for p in matched if is_unfinished(p))
        for suffix in UNFINISHED_SUFFIXES:  # what the glob matches once finished
            skipped.update(p for p in glob.glob(spec + suffix, recursive=True)
                           if os.path.isfile(p) and is_unfinished(p))
    elif os.path.isdir(spec):
        found = [str(p) for p in Path(spec).rglob("*") if p.is_file()]
        files = sorted(p for p in found if Path(p).suffix.lower() in EXTENSIONS)
        skipped.update(p for p in found if is_unfinished(p))
    elif os.path.isfile(spec):
        if is_unfinished(spec):
            raise InputError(_unfinished_named(spec), path=spec)
        files = [spec]
    else:
        pending = [spec + s for s in UNFINISHED_SUFFIXES if os.path.isfile(spec + s)]
        if pending:
            raise InputError(f"{spec}: no such file; {_unfinished_named(pending[0])}",
                             path=spec)
        raise InputError(f"{spec}: no such file or directory", path=spec)
    unfinished = [SkippedFile(p, _size(p)) for p in sorted(skipped)]
    if not files:
        raise InputError(_empty_message(spec, unfinished), path=spec)
    for f in files:
        if not os.access(f, os.R_OK):
            raise InputError(f"{f}: file is not readable", path=f)
    return SourceFiles(files, unfinished)
