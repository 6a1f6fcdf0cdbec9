"""Which files a source spec names, and their format: a file, a glob or a directory;
JSON lines, CSV or Parquet from the extension."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from obskit.exceptions import InputError

__all__ = ["EXTENSIONS", "format_of", "expand_paths"]

#: File extension → source format.
EXTENSIONS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".csv": "csv", ".tsv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
}


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
        An extension no reader handles.
    """
    ext = Path(path).suffix.lower()
    if ext not in EXTENSIONS:
        raise InputError(
            f"{path}: unknown file type {ext!r}; expected one of "
            + ", ".join(sorted(EXTENSIONS)),
            path=path,
        )
    return EXTENSIONS[ext]


def expand_paths(spec: str) -> list[str]:
    """The files of a source spec: a file, a glob or a directory (recursively).

    Parameters
    ----------
    spec : str
        A local path, glob pattern or directory.

    Returns
    -------
    list of str
        The files, sorted.

    Raises
    ------
    InputError
        Nothing matches, or a file is not readable.
    """
    if any(ch in spec for ch in "*?["):
        files = sorted(p for p in glob.glob(spec, recursive=True) if os.path.isfile(p))
    elif os.path.isdir(spec):
        files = sorted(
            str(p) for p in Path(spec).rglob("*")
            if p.is_file() and p.suffix.lower() in EXTENSIONS
        )
    elif os.path.isfile(spec):
        files = [spec]
    else:
        raise InputError(f"{spec}: no such file or directory", path=spec)
    if not files:
        raise InputError(
            f"{spec}: matched no log files (supported: {', '.join(sorted(EXTENSIONS))})",
            path=spec,
        )
    for f in files:
        if not os.access(f, os.R_OK):
            raise InputError(f"{f}: file is not readable", path=f)
    return files
