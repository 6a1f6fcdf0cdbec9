"""Recovery of the ``.part`` files a prediction logger left behind when its process was
killed (``kill -9``, out of memory, power loss) before it could finish them.

A live writer holds an exclusive :func:`fcntl.flock` on its ``.part`` file until the file
has its final name (:mod:`obskit.instrument._files`), so a ``.part`` file whose lock
another process can take has no writer left: it is an orphan, whatever process shares the
directory (``uvicorn --workers 4``). An orphan is finished here:

- JSONL: the complete lines are kept; a last line cut short (no newline and not a JSON
  object, or not JSON at all) is cut off and counted; the file gets its final name.
- Parquet: a file with its footer (killed just before the rename) gets its final name; one
  without (killed while writing) cannot be read: it is renamed ``<final name>.broken``,
  counted, and its size said.

Every file recovered or given up is named in a warning on the ``obskit.instrument`` logger.
Nothing is recovered where there are no file locks (Windows): there an orphan cannot be
told from a file being written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from obskit.instrument._files import LOCKS, lock, rename_no_clobber, same_file

__all__ = ["Recovery", "recover_orphans"]

_log = logging.getLogger("obskit.instrument")
#: an empty ``.part`` file younger than this may be one a writer has just created and not
#: locked yet; an older one is removed
EMPTY_GRACE_S = 60.0
_CHUNK = 1 << 20


@dataclass
class Recovery:
    """What :func:`recover_orphans` did."""

    files: int = 0  #: orphans finished under their final name
    rows: int = 0  #: rows in them
    broken: int = 0  #: unreadable Parquet orphans renamed ``.broken`` (their rows lost)
    cut_lines: int = 0  #: partial JSONL lines cut off
    error: str | None = None  #: the last error met, if any


def recover_orphans(directory: Path, prefix: str) -> Recovery:
    """Finish every orphaned ``<prefix>-<start>-…(.jsonl|.parquet).part`` in ``directory``.

    Parameters
    ----------
    directory : Path
        The log directory (missing: nothing to do).
    prefix : str
        The loggers' file prefix; other files are not touched.

    Returns
    -------
    Recovery
        The counts; never raises (an error is logged, kept in ``error``, and the next file
        is tried).
    """
    result = Recovery()
    if not LOCKS:
        return result
    pattern = re.compile(rf"{re.escape(prefix)}-\d{{8}}T\d{{6}}Z(?:-\d+)+\.(?:jsonl|parquet)\.part")
    try:
        parts = sorted(p for p in directory.iterdir() if pattern.fullmatch(p.name))
    except OSError:  # no directory yet (or not one): no orphans
        return result
    for part in parts:
        try:
            _recover(part, result)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the logger
            result.error = f"{type(exc).__name__}: {exc}"
            _log.error("obskit prediction logger: could not recover %s: %s", part, result.error)
    return result


def _recover(part: Path, result: Recovery) -> None:
    try:
        fh = open(part, "r+b")  # noqa: SIM115 - held (and locked) until renamed
    except FileNotFoundError:  # finished or recovered in the meantime
        return
    with fh:
        if not lock(fh, wait=False) or not same_file(part, fh):
            return  # a live writer, or another recovery got there first
        st = os.fstat(fh.fileno())
        if st.st_nlink > 1:  # killed between the link to its final name and the unlink
            part.unlink()
            return
        if st.st_size == 0:  # nothing in it; maybe just created by a writer
            if time.time() - st.st_mtime > EMPTY_GRACE_S:
                part.unlink()
            return
        final = part.with_name(part.name[: -len(".part")])
        if final.suffix == ".jsonl":
            _recover_jsonl(fh, part, final, st.st_size, result)
        else:
            _recover_parquet(part, final, st.st_size, result)


def _recover_jsonl(fh: IO[bytes], part: Path, final: Path, size: int,
                   result: Recovery) -> None:
    lines, last, prev = _newlines(fh)
    cut = 0
    end = last + 1
    if end < size:  # a last line without its newline: kept only if it is whole
        fh.seek(end)
        if _is_object(fh.read()):
            fh.seek(size)
            fh.write(b"\n")
            lines, prev, end = lines + 1, last, size + 1
        else:
            cut += 1
    if lines:  # the last line ended, but garbage (e.g. zeros after a power loss)?
        fh.seek(prev + 1)
        if not _is_object(fh.read(end - prev - 2)):
            lines, cut, end = lines - 1, cut + 1, prev + 1
    if cut:
        fh.truncate(end)
    fh.flush()
    result.cut_lines += cut
    said = f"; {cut} partial line(s) cut off" if cut else ""
    if not lines:
        part.unlink()
        _log.warning("obskit prediction logger: %s, left by a stopped process, held no "
                     "complete row%s; removed", part, said)
        return
    target = rename_no_clobber(part, final, ".jsonl")
    result.files += 1
    result.rows += lines
    _log.warning("obskit prediction logger: recovered %d row(s) of %s, left by a stopped "
                 "process, as %s%s", lines, part, target.name, said)


def _newlines(fh: IO[bytes]) -> tuple[int, int, int]:
    """The number of newlines and the offsets of the last two (-1 when there are none)."""
    count, last, prev, pos = 0, -1, -1, 0
    fh.seek(0)
    while chunk := fh.read(_CHUNK):
        n = chunk.count(b"\n")
        if n:
            i = chunk.rfind(b"\n")
            prev = pos + chunk.rfind(b"\n", 0, i) if n > 1 else last
            last, count = pos + i, count + n
        pos += len(chunk)
    return count, last, prev


def _is_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:  # includes UnicodeDecodeError
        return False


def _recover_parquet(part: Path, final: Path, size: int, result: Recovery) -> None:
    import pyarrow.parquet as pq

    try:
        rows = pq.read_metadata(part).num_rows
    except Exception:  # noqa: BLE001 - no footer: killed while writing it
        target = rename_no_clobber(part, final.with_name(final.name + ".broken"),
                                   ".parquet.broken")
        result.broken += 1
        _log.warning("obskit prediction logger: %s (%d bytes), left by a stopped process, "
                     "is an unfinished Parquet file that cannot be read (no footer): its "
                     "rows are lost; kept as %s", part, size, target.name)
        return
    target = rename_no_clobber(part, final, ".parquet")
    result.files += 1
    result.rows += rows
    _log.warning("obskit prediction logger: recovered %d row(s) of %s, left by a stopped "
                 "process, as %s", rows, part, target.name)
