"""Timestamps: ISO-8601 strings, epoch seconds or milliseconds, or native datetimes → UTC.

Rules (documented in the README):

* native timezone-aware datetimes are converted to UTC; native naive ones are taken as UTC;
* numbers (and strings of digits) are epoch seconds, or epoch milliseconds when their
  magnitude is at least ``1e11`` (1e11 seconds would be the year 5138); a value is a
  plausible epoch when it falls between 1980-01-01 and 2200-01-01; others are quarantined,
  and a column without a single plausible value is an error giving the range found;
* a column of whole numbers all between 1900 and 2200 holds years: each is 1 January of
  that year (UTC), and the report says so;
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
from obskit.io.casting import ISO_DATE, UTC, strip_text

__all__ = ["TimestampInfo", "parse_timestamps", "epoch_timestamp", "as_days", "in_period",
           "EPOCH_MS_FROM", "EPOCH_RANGE", "YEARS"]

EPOCH_MS_FROM = 1e11
#: plausible epoch seconds: 1980-01-01 to 2200-01-01 (milliseconds: the same × 1000)
EPOCH_RANGE = (315_532_800, 7_258_118_400)
#: whole numbers in this range (inclusive) are years
YEARS = (1900, 2200)
#: An offset after a time of day (a date alone such as ``2024-03-01`` has none).
_OFFSET = r":\d{2}(:\d{2}([.,]\d+)?)?\s*([zZ]|[+-]\d{2}(:?\d{2})?)$"
#: Seconds in a day: a datetime feature is held as days since 1970-01-01 (UTC).
_DAY = 86400.0


@dataclass(frozen=True)
class TimestampInfo:
    """How a timestamp column was read: ``kind`` and whether naive values were seen."""

    kind: str  # "native", "epoch", "year", "iso" or "empty"
    naive: bool
    #: what the report should say about how the column was read (None: nothing)
    note: str | None = None


def _from_epoch(value: ir.NumericValue) -> ir.TimestampValue:
    seconds = ibis.ifelse(value.abs() >= EPOCH_MS_FROM, value / 1000.0, value)
    ms = (seconds * 1000).round().cast("int64")
    # whole seconds plus the milliseconds: Spark makes timestamps from seconds only
    whole = (ms / 1000).floor().cast("int64")
    return whole.as_timestamp("s").cast(UTC) + (ms - whole * 1000).as_interval("ms")


def _plausible_epoch(value: ir.NumericValue) -> ir.BooleanValue:
    lo, hi = EPOCH_RANGE
    return value.between(lo, hi) | value.between(lo * 1000, hi * 1000)


def _is_year(value: ir.NumericValue) -> ir.BooleanValue:
    return (value == value.floor()) & value.between(*YEARS)


def _from_year(value: ir.NumericValue) -> ir.TimestampValue:
    return ibis.date(value.cast("int32"), 1, 1).cast("timestamp").cast(UTC)


def _plain(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e18 else f"{value:.15g}"


def _numbers(table: ir.Table, column: str, number: ir.NumericValue, *, where: str,
             others: int = 0) -> tuple[ir.TimestampValue | None, str | None]:
    """How the numbers of a timestamp column read: (expression, note) for years, (epoch
    expression with implausible values as null, None) otherwise; stops when no value of
    the column (``others``: values that parsed otherwise) is a plausible time."""
    n = number.notnull() & ~number.isnan()
    stats = table.aggregate(
        numbers=n.sum(), years=(n & _is_year(number)).sum(),
        plausible=(n & _plausible_epoch(number)).sum(),
        lo=number.min(where=n), hi=number.max(where=n),
    ).execute().iloc[0]
    numbers = int(stats.numbers or 0)
    if not numbers:
        return None, None
    found = f"{_plain(stats.lo)} to {_plain(stats.hi)}"
    if int(stats.years or 0) == numbers and not others:
        note = (f"Column {column!r} (role timestamp) holds years ({found}): each row was "
                "placed on 1 January of its year (UTC); 'window: 1y' gives one window "
                "per year.")
        return _from_year(number), note
    if int(stats.plausible or 0) == 0 and not others:
        lo, hi = EPOCH_RANGE
        raise InputError(
            f"{where}: column {column!r} (role timestamp) holds numbers from {found}, which "
            f"are not plausible times: expected epoch seconds ({lo} to {hi}, i.e. 1980 to "
            f"2200), epoch milliseconds ({lo * 1000} to {hi * 1000}), or whole years "
            f"({YEARS[0]} to {YEARS[1]}). Check that the column mapped to the timestamp "
            "role is the time of the prediction (--column timestamp=NAME).",
            path=where, column=column,
        )
    return ibis.ifelse(_plausible_epoch(number), _from_epoch(number),
                       ibis.null("timestamp('UTC')")), None


def epoch_timestamp(value: ir.NumericValue) -> ir.TimestampValue:
    """UTC timestamps from epoch numbers.

    Parameters
    ----------
    value : ibis numeric expression
        Epoch seconds, or milliseconds from ``1e11`` on.

    Returns
    -------
    ibis timestamp expression
        The UTC timestamps, to the millisecond.
    """
    return _from_epoch(value)


def as_days(col: ir.Value) -> tuple[ir.FloatingValue, ir.BooleanValue]:
    """Days since 1970-01-01 00:00 UTC of a date or datetime feature.

    Native dates and timestamps (naive ones taken as UTC), ISO-8601 text (with an offset
    converted to UTC, without one taken as UTC), or numbers (epoch seconds, or milliseconds
    from ``1e11``, as for the timestamp role; also as text).

    Parameters
    ----------
    col : ibis expression
        The raw column.

    Returns
    -------
    days : ibis float expression
        Days (whole seconds / 86400) since the epoch; null where missing or bad.
    bad : ibis boolean expression
        True where present text does not parse.
    """
    dtype = col.type()
    if dtype.is_timestamp() or dtype.is_date():
        ts, bad = col.cast("timestamp").cast(UTC) if dtype.is_date() else col.cast(UTC), \
            ibis.literal(False)
    elif dtype.is_numeric():
        ts, bad = epoch_timestamp(col.cast("float64")), ibis.literal(False)
    else:
        text = strip_text(col.cast("string"))
        iso = ibis.ifelse(text.re_search(ISO_DATE), text, ibis.null("string")).try_cast(UTC)
        ts = ibis.coalesce(iso, epoch_timestamp(text.try_cast("float64")))
        bad = text.notnull() & (text != "") & ts.isnull()
    # whole seconds (a fraction of a second is below any drift method's resolution)
    seconds = ts.epoch_seconds().cast("float64")
    return seconds / _DAY, bad


def parse_timestamps(
    table: ir.Table, column: str, *, where: str
) -> tuple[ir.TimestampValue, TimestampInfo]:
    """A UTC timestamp expression for a column and how it was read.

    Rows whose value does not parse, or is a number that is not a plausible time, get a
    null timestamp (the caller quarantines them).

    Parameters
    ----------
    table : ibis Table
        The raw source.
    column : str
        The column of the timestamp role.
    where : str
        The source, named in error messages.

    Returns
    -------
    timestamps : ibis timestamp expression
        UTC timestamps, one per row.
    info : TimestampInfo
        ``kind`` (``native``, ``epoch``, ``year``, ``iso`` or ``empty``), whether naive
        values were seen, and a note for the report.

    Raises
    ------
    InputError
        No value of the column parses, the numbers are no plausible times, or naive and
        aware strings are mixed.
    """
    col = table[column]
    dtype = col.type()
    if dtype.is_timestamp():
        naive = dtype.timezone is None
        return col.cast(UTC), TimestampInfo("native", naive)
    if dtype.is_date():
        return col.cast("timestamp").cast(UTC), TimestampInfo("native", True)
    if dtype.is_numeric():
        number = col.cast("float64")
        parsed, note = _numbers(table, column, number, where=where)
        if parsed is None:
            return _from_epoch(number), TimestampInfo("empty", False)
        return parsed, TimestampInfo("year" if note else "epoch", False, note)
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
        **({"f_aware": table._file.argmax(text, where=is_iso & aware),
            "f_naive": table._file.argmax(text, where=is_iso & ~aware)}
           if "_file" in table.columns else {}),
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
        # name the files that hold each kind: the naive values are rarely in the first file
        f_aware, f_naive = (stats.get(k) for k in ("f_aware", "f_naive"))
        files = [f for f in dict.fromkeys((f_aware, f_naive)) if isinstance(f, str)]
        raise InputError(
            f"{' and '.join(files) or where}: column {column!r} (role timestamp) mixes "
            f"timezone-aware and naive values, e.g. {stats.ex_aware!r}"
            + (f" (in {f_aware})" if isinstance(f_aware, str) else "")
            + f" and {stats.ex_naive!r}"
            + (f" (in {f_naive})" if isinstance(f_naive, str) else "")
            + "; write every value with an offset (such as 'Z') or none.",
            path=f_naive if isinstance(f_naive, str) else where, column=column,
        )
    n_iso = int(stats.n_aware or 0) + int(stats.n_naive or 0)
    from_number, note = _numbers(table, column, number, where=where, others=n_iso)
    parsed = iso if from_number is None else ibis.coalesce(from_number, iso)
    if note:
        return parsed, TimestampInfo("year", False, note)
    kind = "iso" if n_iso else "epoch"
    return parsed, TimestampInfo(kind, bool(int(stats.n_naive or 0)))


def in_period(table: ir.Table, start: str | None, end: str | None, *,
              ts: str = "timestamp") -> ir.Table:
    """The rows of ``table`` whose time lies in ``[start, end)``.

    Parameters
    ----------
    table : ibis.Table
        Rows with a UTC timestamp column ``ts``.
    start, end : str or None
        ISO-8601 dates or times (read as UTC when naive); ``None`` or ``""`` leaves that
        side open.

    Returns
    -------
    ibis.Table
        An expression over the same columns (``table`` itself when both sides are open).
    """
    if not (start or end):
        return table
    col = table[ts]
    keep = ibis.literal(True)
    if start:
        keep &= col >= ibis.timestamp(start).cast("timestamp('UTC')")
    if end:
        keep &= col < ibis.timestamp(end).cast("timestamp('UTC')")
    return table.filter(keep)
