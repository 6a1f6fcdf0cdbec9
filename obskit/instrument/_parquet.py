"""Parquet prediction-log files: features flattened to one column each (obskit's Parquet
readers do not un-nest structs), ``timestamp`` as ``timestamp[us, tz=UTC]`` (Spark cannot
read nanoseconds), one row group per batch written with
:class:`pyarrow.parquet.ParquetWriter`. A file's schema is fixed by its first batch; rows
that do not fit it (a new column, another type) are handed back for a new file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from obskit.instrument._files import LogFile, Row, clean_value, utc

__all__ = ["ParquetFile"]

#: roles that are text whatever their first values (all null in a batch: still text)
_TEXT_ROLES = ("request_id", "model_version", "trace_id", "error")


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
    """A Parquet log file whose schema is fixed by its first batch (see the module)."""

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
    first non-null value (int widened to float when a float follows); a column that is
    all null stays null (text for the text roles); timestamps are
    ``timestamp[us, tz=UTC]``."""
    import pyarrow as pa

    names = list(dict.fromkeys(k for r in flat for k in r))
    fields = []
    for name in names:
        values = [r[name] for r in flat if r.get(name) is not None]
        if values:
            kind = pa.array(values[:1]).type
        else:  # obskit's readers take a null column as missing values of any type
            kind = pa.string() if name in _TEXT_ROLES else pa.null()
        if pa.types.is_integer(kind) and any(isinstance(v, float) for v in values):
            kind = pa.float64()
        if pa.types.is_timestamp(kind):
            kind = pa.timestamp("us", tz="UTC")
        fields.append(pa.field(name, kind))
    return pa.schema(fields)
