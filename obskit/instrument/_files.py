"""The files behind :class:`~obskit.instrument.logger.PredictionLogger`: one JSONL or
Parquet (:mod:`obskit.instrument._parquet`) file being written as ``<final name>.part``,
renamed to its final name when it is finished, so a report never reads a half-written
file.

While a ``.part`` file is written its writer holds an exclusive :func:`fcntl.flock` on it
(Linux, macOS; not on Windows), taken before its first byte and kept until it has its final
name: a ``.part`` file that another process can lock has no live writer, so
:mod:`obskit.instrument._recover` may finish it. A rename never replaces a file
(:func:`rename_no_clobber`).

Only the logger's single writer thread uses these classes; they are not thread-safe.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

__all__ = ["Row", "clean_value", "utc", "format_timestamp", "LogFile", "JsonlFile",
           "LOCKS", "lock", "same_file", "rename_no_clobber"]

Row = dict[str, Any]


def clean_value(value: Any) -> Any:
    """A value as JSON/Arrow can hold it: numpy scalars as Python ones, NaN/inf as None."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes, datetime)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def utc(value: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def format_timestamp(value: datetime) -> str:
    """ISO-8601 in UTC with microseconds and ``Z``: ``2026-11-01T00:00:01.814446Z``."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: whether ``.part`` files are locked (and so whether orphans can be told from live files)
LOCKS = sys.platform != "win32"


def lock(fh: IO[bytes], *, wait: bool) -> bool:
    """Take an exclusive :func:`fcntl.flock` on an open file; False if ``wait`` is false and
    another open file holds it. Always True where there are no locks (Windows)."""
    if sys.platform == "win32":
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def same_file(path: Path, fh: IO[bytes]) -> bool:
    """Whether ``path`` still names the open file ``fh`` (not renamed or removed since)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fh.fileno())
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def rename_no_clobber(src: Path, dst: Path, ending: str) -> Path:
    """Rename ``src`` to ``dst``, or, when that name is taken, to ``dst`` with ``.1``,
    ``.2``, … before its ``ending``; never replaces a file (a hard link, then an unlink).

    Returns
    -------
    Path
        The new name.
    """
    base = dst.name[:-len(ending)] if dst.name.endswith(ending) else dst.name
    for k in range(10_000):
        target = dst if k == 0 else dst.with_name(f"{base}.{k}{ending}")
        try:
            os.link(src, target)
        except FileExistsError:
            continue
        except OSError:  # no hard links on this filesystem: check, then rename
            if os.path.lexists(target):
                continue
            os.rename(src, target)
            return target
        os.unlink(src)
        return target
    raise FileExistsError(f"no free name for {src} beside {dst}")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    return str(value)


class LogFile:
    """A log file being written: ``<path>.part`` until :meth:`finish` renames it."""

    suffix = ""
    buffering = -1

    def __init__(self, path: Path) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.rows = 0
        self._fh: IO[bytes] = open(self.part, "xb", buffering=self.buffering)  # noqa: SIM115
        try:
            lock(self._fh, wait=True)  # a recovery looking at it lets go at once: it is empty
            if not same_file(self.part, self._fh):  # a recovery removed it in between
                raise FileExistsError(f"{self.part} was taken before it was locked")
        except BaseException:
            self._fh.close()
            raise

    @property
    def size(self) -> int:
        """Bytes written so far (including what is still buffered)."""
        return self._fh.tell()

    def write(self, rows: list[Row], max_bytes: int) -> list[Row]:
        """Write the leading rows that fit this file (its schema, and ``max_bytes`` give
        or take one row or row group); return the rest."""
        raise NotImplementedError

    def flush(self) -> None:
        """Push buffered bytes to the operating system."""
        self._fh.flush()

    def finish(self) -> None:
        """Close the file and rename it to its final name (an empty file is removed); the
        lock is held until it has its final name, so no recovery ever takes it."""
        try:
            self._close_writer()
            self._fh.flush()
            if not LOCKS:  # Windows renames no open file; it has no locks either
                self._fh.close()
            if self.rows:
                self.path = rename_no_clobber(self.part, self.path, self.suffix)
            else:
                self.part.unlink(missing_ok=True)
        finally:  # unlocked even on an error: the next logger to start recovers it
            self._fh.close()

    def abandon(self) -> bool:
        """After a write error: close what can be closed and keep the rows written before
        under the final name. Returns whether they were kept (else they stay in ``.part``)."""
        try:
            self.finish()  # closes the file whatever happens
        except Exception:  # noqa: BLE001 - the file is already broken; report, keep going
            return False
        return True

    def _close_writer(self) -> None:
        pass


class JsonlFile(LogFile):
    """One ``json.dumps`` per row, features nested under ``"features"`` (the demo logs)."""

    suffix = ".jsonl"
    buffering = 0  # one write per batch; a failed one is cut off, never left half a line

    def write(self, rows: list[Row], max_bytes: int) -> list[Row]:
        lines: list[str] = []
        size = self.size
        for row in rows:
            if lines and size >= max_bytes:
                break
            out = {k: ({str(n): _jsonl_value(x) for n, x in v.items()}
                       if k == "features" and isinstance(v, Mapping) else _jsonl_value(v))
                   for k, v in row.items()}
            lines.append(json.dumps(out, default=_json_default, allow_nan=False))
            size += len(lines[-1]) + 1
        data = memoryview(("\n".join(lines) + "\n").encode("utf-8"))
        start = self._fh.tell()
        try:
            while data:
                n = self._fh.write(data)
                data = data[n or 0:]
        except OSError:
            try:
                self._fh.truncate(start)
                self._fh.seek(start)
            except OSError:
                pass
            raise
        self.rows += len(lines)
        return rows[len(lines):]


def _jsonl_value(value: Any) -> Any:
    value = clean_value(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return value
