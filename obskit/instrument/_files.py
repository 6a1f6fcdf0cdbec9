"""The files behind :class:`~obskit.instrument.logger.PredictionLogger`: one JSONL or
Parquet (:mod:`obskit.instrument._parquet`) file being written as ``<final name>.part``,
renamed to its final name (an atomic :func:`os.replace`) when it is finished, so a report
never reads a half-written file.

Only the logger's single writer thread uses these classes; they are not thread-safe.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

__all__ = ["Row", "clean_value", "utc", "format_timestamp", "LogFile", "JsonlFile"]

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
        """Close the file and rename it to its final name (an empty file is removed)."""
        self._close_writer()
        self._fh.close()
        if self.rows:
            os.replace(self.part, self.path)
        else:
            self.part.unlink(missing_ok=True)

    def abandon(self) -> bool:
        """After a write error: close what can be closed and keep the rows written before
        under the final name. Returns whether they were kept (else they stay in ``.part``)."""
        try:
            self._close_writer()
            self._fh.close()
            if self.rows:
                os.replace(self.part, self.path)
        except Exception:  # noqa: BLE001 - the file is already broken; report, keep going
            try:
                self._fh.close()
            except OSError:
                pass
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
