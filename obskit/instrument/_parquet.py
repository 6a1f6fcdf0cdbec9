"""Parquet prediction-log files: features flattened to one column each (obskit's Parquet
readers do not un-nest structs), ``timestamp`` as ``timestamp[us, tz=UTC]`` (Spark cannot
read nanoseconds), written with :class:`pyarrow.parquet.ParquetWriter`.

Rows are kept in memory until ``row_group_rows`` of them make a row group, or the file is
finished (rotation, close): however slow the traffic, a file has few, full row groups.
Rows still in memory are lost if the process is killed, but so is the whole file then (a
Parquet file without its footer cannot be read; the recovery names it ``.broken``).

A file's schema is fixed by its first batch; rows that do not fit it (a new column,
another kind of value) are handed back for a new file. Every number is ``double`` except
``status`` (``int64``), so ``41`` and ``41.5`` — or ``10**40`` — share a column; only a
change of kind (number, text, bool) starts a new file. A number beyond the range of a
``double`` is written as null, like NaN and infinity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from obskit.instrument._files import LogFile, Row, clean_value, utc

__all__ = ["ParquetFile"]

#: roles that are text whatever their first values (all null in a batch: still text)
_TEXT_ROLES = ("request_id", "model_version", "trace_id", "error")
#: roles that are numbers whatever their first values
_FLOAT_ROLES = ("score", "latency_ms")
_INT64 = (-(2**63), 2**63 - 1)


def _number(value: Any, key: str) -> Any:
    """A non-bool int as a float (``status`` keeps its ints); too large a one as None."""
    if isinstance(value, int) and not isinstance(value, bool) and key != "status":
        try:
            return float(value)
        except OverflowError:  # beyond a double's range, like inf: no value
            return None
    if isinstance(value, list):
        return [_number(clean_value(v), key) for v in value]
    return value


def _parquet_row(row: Row) -> Row:
    """A flat row: features as columns, numbers as floats, timestamps as aware UTC."""
    out: Row = {}
    for key, value in row.items():
        if key == "features" and isinstance(value, Mapping):
            for name, feature in value.items():
                column = str(name) if str(name) not in row else f"features.{name}"
                out[column] = _number(clean_value(feature), column)
        else:
            out[key] = _number(clean_value(value), key)
    stamp = out.get("timestamp")
    if isinstance(stamp, str):
        try:
            out["timestamp"] = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            pass
    if isinstance(out.get("timestamp"), datetime):
        out["timestamp"] = utc(out["timestamp"])
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
        if pa.types.is_null(kind):
            ok = False
        elif isinstance(value, bool):
            ok = pa.types.is_boolean(kind)
        elif isinstance(value, int):
            ok = (pa.types.is_integer(kind) and _INT64[0] <= value <= _INT64[1]) \
                or pa.types.is_floating(kind)
        elif isinstance(value, float):
            ok = pa.types.is_floating(kind)
        elif isinstance(value, str):
            ok = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        elif isinstance(value, datetime):
            ok = pa.types.is_timestamp(kind)
        elif pa.types.is_primitive(kind) or pa.types.is_string(kind):
            ok = False
        else:  # a list or a struct: whether Arrow takes it as this column's type
            try:
                pa.array([value], type=kind)
                ok = True
            except (pa.ArrowException, TypeError, ValueError):
                ok = False
        if not ok:
            return False
    return True


class ParquetFile(LogFile):
    """A Parquet log file whose schema is fixed by its first batch (see the module).

    Parameters
    ----------
    path : Path
        The final name.
    row_group_rows : int
        Rows per row group.
    bytes_per_row : float or None
        Bytes a row takes in a finished file (from an earlier file), to judge the size of
        rows not written yet; None: their size in memory until a row group is written.
    """

    suffix = ".parquet"

    def __init__(self, path: Path, *, row_group_rows: int = 10_000,
                 bytes_per_row: float | None = None) -> None:
        super().__init__(path)
        self.row_group_rows = row_group_rows
        self._hint = bytes_per_row
        self._writer: Any = None
        self._schema: Any = None
        self._pending: list[Any] = []  # Arrow tables not written yet
        self._pending_rows = 0
        self._pending_bytes = 0.0  # their size in memory
        self._rows_on_disk = 0

    @property
    def bytes_per_row(self) -> float | None:
        """Bytes a row takes on disk, judged by the row groups written (or the hint)."""
        if self._rows_on_disk:
            return self._fh.tell() / self._rows_on_disk
        return self._hint

    @property
    def size(self) -> int:
        """Bytes written, plus an estimate for the rows not written yet."""
        per_row = self.bytes_per_row
        pending = self._pending_bytes if per_row is None else self._pending_rows * per_row
        return self._fh.tell() + int(pending)

    def write(self, rows: list[Row], max_bytes: int) -> list[Row]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.rows and self.size >= max_bytes:
            return rows
        flat = [_parquet_row(r) for r in rows]
        schema = self._schema if self._schema is not None else _infer_schema(flat)
        end = 0
        while end < len(flat) and _fits(flat[end], schema):
            end += 1
        if end == 0:
            return rows
        table = pa.Table.from_pylist(flat[:end], schema=schema)
        in_memory = table.nbytes / end
        per_row = self.bytes_per_row or in_memory
        take = min(end, max(1, math.ceil((max_bytes - self.size) / max(per_row, 1.0))))
        if self._writer is None:  # the magic bytes now: a crash leaves a file to count
            self._schema = schema
            self._writer = pq.ParquetWriter(self._fh, schema)
            self._fh.flush()
        self._pending.append(table.slice(0, take))
        self._pending_rows += take
        self._pending_bytes += in_memory * take
        self.rows += take
        if self._pending_rows >= self.row_group_rows:
            self._write_groups(full_only=True)
        return rows[take:]

    def _write_groups(self, *, full_only: bool) -> None:
        """Write the rows in memory as row groups of ``row_group_rows`` (the last one
        smaller unless ``full_only``, which keeps the rest in memory)."""
        import pyarrow as pa

        if not self._pending_rows:
            return
        table = pa.concat_tables(self._pending)
        n = table.num_rows
        if full_only:
            n -= n % self.row_group_rows
        self._writer.write_table(table.slice(0, n), row_group_size=self.row_group_rows)
        self._rows_on_disk += n
        rest = table.slice(n)
        self._pending = [rest] if rest.num_rows else []
        self._pending_bytes *= rest.num_rows / self._pending_rows
        self._pending_rows = rest.num_rows

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._write_groups(full_only=False)
            self._writer.close()
            self._writer = None


def _infer_schema(flat: list[Row]) -> Any:
    """A schema for a batch: one column per key (in order of appearance) typed by its
    first non-null value: numbers as ``double`` (``status``: ``int64`` while its values fit),
    timestamps as ``timestamp[us, tz=UTC]``; a column that is all null stays null (text
    for the text roles, numbers for ``score``, ``latency_ms`` and ``status``)."""
    import pyarrow as pa

    names = list(dict.fromkeys(k for r in flat for k in r))
    fields = []
    for name in names:
        values = [r[name] for r in flat if r.get(name) is not None]
        first = values[0] if values else None
        if name == "status" and (first is None or _is_number(first)):
            wide = any(isinstance(v, float) or (_is_number(v) and not
                                                _INT64[0] <= v <= _INT64[1]) for v in values)
            kind = pa.float64() if wide else pa.int64()
        elif first is None:  # obskit's readers take a null column as missing values
            kind = (pa.string() if name in _TEXT_ROLES
                    else pa.float64() if name in _FLOAT_ROLES else pa.null())
        elif _is_number(first):
            kind = pa.float64()
        elif isinstance(first, datetime):
            kind = pa.timestamp("us", tz="UTC")
        else:
            kind = pa.array(values[:1]).type
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
