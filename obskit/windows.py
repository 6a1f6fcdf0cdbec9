"""Windows: a period (``1h``, ``1d``, ``1w``) or a row count (``5000 rows``).

A window spec is one small strategy object that assigns a ``window_index`` to every row
of an engine table; the engine does the work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import ibis
import ibis.expr.types as ir

__all__ = ["PeriodWindow", "RowWindow", "WindowSpec", "parse_window", "Window"]

_UNITS = {"min": 60, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
#: Weeks start on Monday: 1970-01-05 is the first Monday after the epoch.
_WEEK_ORIGIN = 4 * 86400
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Window:
    """One window of the current data: its position, bounds and row count."""

    index: int
    start: datetime
    end: datetime
    rows: int


@dataclass(frozen=True)
class PeriodWindow:
    """Fixed calendar periods of ``seconds`` length, aligned to UTC midnight (weeks: Monday)."""

    seconds: int
    text: str

    @property
    def origin(self) -> int:
        return _WEEK_ORIGIN if self.seconds % (7 * 86400) == 0 else 0

    def assign(self, table: ir.Table, ts: str = "timestamp") -> ir.Table:
        """Add ``window_index``: the period each row's timestamp falls into."""
        idx = ((table[ts].epoch_seconds() - self.origin) / self.seconds).floor().cast("int64")
        return table.mutate(window_index=idx)

    def bounds(self, index: int) -> tuple[datetime, datetime]:
        start = EPOCH + timedelta(seconds=self.origin + index * self.seconds)
        return start, start + timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class RowWindow:
    """Consecutive blocks of ``rows`` rows in timestamp order (the last may be shorter)."""

    rows: int

    def assign(self, table: ir.Table, ts: str = "timestamp") -> ir.Table:
        order = [table[ts]] + ([table["request_id"]] if "request_id" in table.columns else [])
        rn = ibis.row_number().over(order_by=order)
        return table.mutate(window_index=(rn // self.rows).cast("int64"))

    def __str__(self) -> str:
        return f"{self.rows} rows"


WindowSpec = PeriodWindow | RowWindow

_PERIOD = re.compile(r"^\s*(\d+)\s*(min|m|h|d|w)\s*$")
_ROWS = re.compile(r"^\s*(\d+)\s*rows?\s*$")


def parse_window(spec: str | int) -> WindowSpec:
    """Parse a window spec.

    Examples
    --------
    >>> parse_window("1d")
    PeriodWindow(seconds=86400, text='1d')
    >>> parse_window("5000 rows")
    RowWindow(rows=5000)
    """
    text = str(spec)
    if m := _PERIOD.match(text):
        n, unit = int(m.group(1)), m.group(2)
        if n <= 0:
            raise ValueError(f"window period must be positive, got {text!r}")
        return PeriodWindow(n * _UNITS[unit], text.strip())
    if m := _ROWS.match(text):
        n = int(m.group(1))
        if n <= 0:
            raise ValueError(f"window row count must be positive, got {text!r}")
        return RowWindow(n)
    raise ValueError(
        f"expected a period such as '1h', '1d', '1w' (units min, h, d, w) "
        f"or a row count such as '5000 rows', got {text!r}"
    )
