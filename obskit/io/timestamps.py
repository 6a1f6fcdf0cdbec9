"""Timestamps: ISO-8601 strings, epoch seconds or milliseconds, or native datetimes → UTC.

Rules (documented in the README):

* native timezone-aware datetimes are converted to UTC; native naive ones are taken as UTC;
* numbers (and strings of digits) are epoch seconds, or epoch milliseconds when their
  magnitude is at least ``1e11`` (1e11 seconds would be the year 5138);
* ISO-8601 strings with an offset (``Z``, ``+02:00``) are converted to UTC; strings without
  one are taken as UTC and the report says so;
* a column that mixes naive and aware strings, or of which no value parses, is an error
  naming the column with examples; single values that do not parse are quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from obskit.exceptions import InputError
from obskit.io.casting import strip_text

__all__ = ["TimestampInfo", "parse_timestamps", "epoch_timestamp", "EPOCH_MS_FROM"]

EPOCH_MS_FROM = 1e11
#: An offset after a time of day (a date alone such as ``2024-03-01`` has none).
_OFFSET = r":\d{2}(:\d{2}([.,]\d+)?)?\s*([zZ]|[+-]\d{2}(:?\d{2})?)$"
UTC = "timestamp('UTC')"


@dataclass(frozen=True)
class TimestampInfo:
    """How a timestamp column was read: ``kind`` and whether naive values were seen."""

    kind: str  # "native", "epoch", "iso" or "empty"
    naive: bool


def _from_epoch(value: ir.NumericValue) -> ir.TimestampValue:
    seconds = ibis.ifelse(value.abs() >= EPOCH_MS_FROM, value / 1000.0, value)
    ms = (seconds * 1000).round().cast("int64")
    # whole seconds plus the milliseconds: Spark makes timestamps from seconds only
    whole = (ms / 1000).floor().cast("int64")
    return whole.as_timestamp("s").cast(UTC) + (ms - whole * 1000).as_interval("ms")


def epoch_timestamp(value: ir.NumericValue) -> ir.TimestampValue:
    """UTC timestamps from epoch seconds (or milliseconds, from ``1e11`` on)."""
    return _from_epoch(value)


def parse_timestamps(
    table: ir.Table, column: str, *, where: str
) -> tuple[ir.TimestampValue, TimestampInfo]:
    """Return a UTC timestamp expression for ``table[column]`` and how it was read.

    ``where`` names the source in error messages. Rows whose value does not parse get a
    null timestamp (the caller quarantines them).
    """
    col = table[column]
    dtype = col.type()
    if dtype.is_timestamp():
        naive = dtype.timezone is None
        return col.cast(UTC), TimestampInfo("native", naive)
    if dtype.is_date():
        return col.cast("timestamp").cast(UTC), TimestampInfo("native", True)
    if dtype.is_numeric():
        return _from_epoch(col.cast("float64")), TimestampInfo("epoch", False)
    text = strip_text(col.cast("string"))
    number = text.try_cast("float64")
    iso = text.try_cast(UTC)
    aware = text.re_search(_OFFSET)
    is_iso = number.isnull() & iso.notnull()
    stats = table.aggregate(
        non_null=text.notnull().sum(),
        parsed=(number.notnull() | iso.notnull()).sum(),
        n_aware=(is_iso & aware).sum(),
        n_naive=(is_iso & ~aware).sum(),
        ex_aware=text.max(where=is_iso & aware),
        ex_naive=text.max(where=is_iso & ~aware),
        ex_bad=text.max(where=number.isnull() & iso.isnull()),
    ).execute().iloc[0]
    if int(stats.non_null or 0) == 0:
        return iso, TimestampInfo("empty", False)
    if int(stats.parsed or 0) == 0:
        raise InputError(
            f"{where}: column {column!r} (role timestamp) cannot be parsed as timestamps; "
            f"example value: {stats.ex_bad!r}. Expected ISO-8601 strings, epoch seconds or "
            "milliseconds, or native datetimes.",
            path=where, column=column,
        )
    if int(stats.n_aware or 0) and int(stats.n_naive or 0):
        raise InputError(
            f"{where}: column {column!r} (role timestamp) mixes timezone-aware and naive "
            f"values, e.g. {stats.ex_aware!r} and {stats.ex_naive!r}; write every value "
            "with an offset (such as 'Z') or none.",
            path=where, column=column,
        )
    parsed = ibis.coalesce(_from_epoch(number), iso)
    kind = "iso" if int(stats.n_aware or 0) + int(stats.n_naive or 0) else "epoch"
    return parsed, TimestampInfo(kind, bool(int(stats.n_naive or 0)))
