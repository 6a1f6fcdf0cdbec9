"""The files behind :class:`~obskit.instrument.logger.PredictionLogger`: one JSONL or
Parquet file being written as ``<final name>.part``, renamed to its final name (an atomic
:func:`os.replace`) when it is finished, so a report never reads a half-written file.

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

__all__ = ["Row", "clean_value", "format_timestamp", "LogFile", "JsonlFile", "ParquetFile",
           "open_log_file"]

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


def _utc(value: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def format_timestamp(value: datetime) -> str:
    """ISO-8601 in UTC with microseconds and ``Z``: ``2026-11-01T00:00:01.814446Z``."""
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
            out = {k: _jsonl_value(v) for k, v in row.items() if k != "features"}
            features = row.get("features")
            if isinstance(features, Mapping):
                out["features"] = {str(k): _jsonl_value(v) for k, v in features.items()}
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


def _parquet_row(row: Row) -> Row:
    """A flat row: features as columns, timestamps as aware UTC datetimes."""
    out: Row = {}
    for key, value in row.items():
        if key == "features" and isinstance(value, Mapping):
            for name, feature in value.items():
                column = str(name) if str(name) not in row else f"features.{name}"
                out[column] = clean_value(feature)
        else:
            out[key] = clean_value(value)
    stamp = out.get("timestamp")
    if isinstance(stamp, str):
        try:
            out["timestamp"] = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            pass
    if isinstance(out.get("timestamp"), datetime):
        out["timestamp"] = _utc(out["timestamp"])
    return out


def _fits(row: Row, schema: Any) -> bool:
    """Whether every value of a flat row can go in the file's column of its name as is
    (pyarrow would silently truncate 1.5 into an int64 column, so check the kinds here)."""
    import pyarrow as pa

    for key, value in row.items():
        index = schema.get_field_index(key)
        if index < 0:
            return False
        if value is None:
            continue
        kind = schema.field(index).type
        if isinstance(value, bool):
            ok = pa.types.is_boolean(kind)
        elif isinstance(value, int):
            ok = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        elif isinstance(value, float):
            ok = pa.types.is_floating(kind)
        elif isinstance(value, str):
            ok = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        elif isinstance(value, datetime):
            ok = pa.types.is_timestamp(kind)
        else:
            ok = not (pa.types.is_primitive(kind) or pa.types.is_string(kind))
        if not ok:
            return False
    return True


class ParquetFile(LogFile):
    """Row groups written with :class:`pyarrow.parquet.ParquetWriter`; features flattened
    to one column each (obskit's Parquet readers do not un-nest structs); ``timestamp``
    as ``timestamp[us, tz=UTC]`` (Spark cannot read nanoseconds). The schema is fixed by
    the first batch: rows that do not fit it are handed back for a new file."""

    suffix = ".parquet"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._writer: Any = None
        self._schema: Any = None

    def write(self, rows: list[Row], max_bytes: int) -> list[Row]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        flat = [_parquet_row(r) for r in rows]
        if self._schema is None:
            self._schema = _infer_schema(flat)
            self._writer = pq.ParquetWriter(self._fh, self._schema)
        end = 0
        while end < len(flat) and _fits(flat[end], self._schema):
            end += 1
        start = 0
        while start < end and self.size < max_bytes:
            # a row group of about the rows that fill the file, judged by the bytes per
            # row so far (the first group: at most 1000 rows)
            room = (max_bytes - self.size) * self.rows // max(self.size, 1) if self.rows else 1000
            stop = min(end, start + max(room, 1))
            self._writer.write_table(pa.Table.from_pylist(flat[start:stop],
                                                          schema=self._schema))
            self.rows += stop - start
            start = stop
        return rows[start:]

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _infer_schema(flat: list[Row]) -> Any:
    """A schema for a batch: one column per key (in order of appearance) typed by its
    first non-null value (int widened to float when a float follows); columns that are
    all null become text; timestamps are ``timestamp[us, tz=UTC]``."""
    import pyarrow as pa

    names = list(dict.fromkeys(k for r in flat for k in r))
    fields = []
    for name in names:
        values = [r[name] for r in flat if r.get(name) is not None]
        kind = pa.array(values[:1]).type if values else pa.string()
        if pa.types.is_integer(kind) and any(isinstance(v, float) for v in values):
            kind = pa.float64()
        if pa.types.is_timestamp(kind):
            kind = pa.timestamp("us", tz="UTC")
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def open_log_file(directory: Path, prefix: str, fmt: str, seq: int) -> tuple[LogFile, int]:
    """Open the next free ``<prefix>-<UTC start yyyymmddTHHMMSSZ>-<seq>`` file.

    Returns the file and the sequence number used (the next free one from ``seq``).
    """
    cls: type[LogFile] = JsonlFile if fmt == "jsonl" else ParquetFile
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    directory.mkdir(parents=True, exist_ok=True)
    while True:
        path = directory / f"{prefix}-{stamp}-{seq:06d}{cls.suffix}"
        if not path.exists():
            try:
                return cls(path), seq
            except FileExistsError:
                pass
        seq += 1
