"""Windows: a period (``1h``, ``30d``, ``1w``, ``1mo``, ``1y``) or a row count (``5000 rows``).

A window spec is one small strategy object that assigns a ``window_index`` to every row
of an engine table; the engine does the work.

Period windows are anchored to the data: window 0 is the period that holds the first row
(or starts at ``period.start`` when the run has one). Periods of hours and minutes are
aligned to UTC midnight, periods of days to the UTC midnight of the first day, weeks to
the Monday on or before it, months to the first of its month and years to 1 January. A
window the data covers only in part (the logs start late in the first window or stop
early in the last, as in a month still in progress, or it reaches outside the run's
``period``) is *partial* (:func:`partial_windows`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import ibis
import ibis.expr.types as ir

__all__ = ["PeriodWindow", "RowWindow", "WindowSpec", "parse_window", "Window", "UNITS_TEXT",
           "anchor_window", "partial_windows"]

#: fixed-length units → seconds
_UNITS = {"min": 60, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
#: calendar units → months
_MONTHS = {"mo": 1, "y": 12}
#: every unit :func:`parse_window` accepts, for help texts and messages
UNITS_TEXT = ("min or m (minutes), h (hours), d (days), w (weeks, from Monday), "
              "mo (calendar months), y (calendar years)")
#: Weeks start on Monday: 1970-01-05 is the first Monday after the epoch.
_WEEK_ORIGIN = 4 * 86400
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DAY = 86400
#: a first or last window is partial when the data misses more than this share of it at
#: its edge, and more than twice the largest such gap of the other windows
PARTIAL_SHARE = 0.05


@dataclass(frozen=True)
class Window:
    """One window of the current data: its position, bounds and row count."""

    index: int
    start: datetime
    end: datetime
    rows: int


def _add_months(moment: datetime, months: int) -> datetime:
    total = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=total // 12, month=total % 12 + 1)


def _utc(moment: datetime) -> datetime:
    return (moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None
            else moment.astimezone(timezone.utc))


@dataclass(frozen=True)
class PeriodWindow:
    """Calendar periods: ``seconds`` long, or ``months`` calendar months (12: years).

    ``origin`` is the start of window 0; None until :meth:`anchored` (then the epoch is
    the origin, and weeks start on Monday 1970-01-05).
    """

    seconds: int
    text: str
    months: int = 0
    origin: datetime | None = None

    @property
    def weekly(self) -> bool:
        """Whether the spec is written in weeks.

        Returns
        -------
        bool
            True for ``1w`` and the like (aligned to Monday); ``7d`` is days, from the first.
        """
        return self.text.strip().endswith("w") and not self.months

    def anchored(self, first: datetime) -> PeriodWindow:
        """This spec with window 0 the period that holds a moment (see the module docs).

        Parameters
        ----------
        first : datetime
            The first row's time (naive: UTC), or a run's ``period.start``.

        Returns
        -------
        PeriodWindow
            A copy with ``origin`` set.
        """
        first = _utc(first)
        midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.months:
            start = midnight.replace(day=1, month=1 if self.months % 12 == 0 else first.month)
            return replace(self, origin=start)
        if self.weekly:
            start = midnight - timedelta(days=midnight.weekday())
        elif self.seconds % _DAY == 0:
            start = midnight
        else:  # hours and minutes: the period of the day that holds ``first``
            into = (first - midnight).total_seconds()
            start = midnight + timedelta(seconds=self.seconds * (into // self.seconds))
        return replace(self, origin=start)

    def _origin_seconds(self) -> float:
        if self.origin is not None:
            return (self.origin - EPOCH).total_seconds()
        return _WEEK_ORIGIN if self.weekly else 0

    def assign(self, table: ir.Table, ts: str = "timestamp") -> ir.Table:
        """Add ``window_index``: the period each row's timestamp falls into.

        Periods are counted from the origin (see :meth:`anchored` and :func:`anchor_window`).

        Parameters
        ----------
        table : ibis Table
            A log with a timestamp column.
        ts : str, default "timestamp"
            That column's name.

        Returns
        -------
        ibis Table
            ``table`` with an int64 ``window_index`` (negative before the origin).
        """
        if self.months:
            origin = self.origin or EPOCH
            base = origin.year * 12 + origin.month - 1
            months = table[ts].year() * 12 + table[ts].month() - 1 - base
            idx = (months / self.months).floor().cast("int64")
        else:
            idx = ((table[ts].epoch_seconds() - self._origin_seconds()) / self.seconds
                   ).floor().cast("int64")
        return table.mutate(window_index=idx)

    def bounds(self, index: int) -> tuple[datetime, datetime]:
        """The start and end of one window.

        Parameters
        ----------
        index : int
            The window index.

        Returns
        -------
        start, end : datetime
            UTC; ``end`` is exclusive.
        """
        if self.months:
            origin = self.origin or EPOCH
            start = _add_months(origin, index * self.months)
            return start, _add_months(origin, (index + 1) * self.months)
        start = EPOCH + timedelta(seconds=self._origin_seconds() + index * self.seconds)
        return start, start + timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class RowWindow:
    """Consecutive blocks of ``rows`` rows in timestamp order (the last may be shorter)."""

    rows: int

    def anchored(self, first: datetime) -> RowWindow:
        """This spec as it is: row windows need no anchor.

        Parameters
        ----------
        first : datetime
            Ignored.

        Returns
        -------
        RowWindow
            ``self``.
        """
        return self

    def assign(self, table: ir.Table, ts: str = "timestamp") -> ir.Table:
        """Add ``window_index``: the block of ``rows`` rows each row falls into, by time.

        Ties are broken by ``request_id`` when the table has one.

        Parameters
        ----------
        table : ibis Table
            A log with a timestamp column.
        ts : str, default "timestamp"
            That column's name.

        Returns
        -------
        ibis Table
            ``table`` with an int64 ``window_index`` from 0.
        """
        order = [table[ts]] + ([table["request_id"]] if "request_id" in table.columns else [])
        rn = ibis.row_number().over(order_by=order)
        return table.mutate(window_index=(rn // self.rows).cast("int64"))

    def __str__(self) -> str:
        return f"{self.rows} rows"


WindowSpec = PeriodWindow | RowWindow

_PERIOD = re.compile(r"^\s*(\d+)\s*(min|mo|m|h|d|w|y)\s*$")
_ROWS = re.compile(r"^\s*(\d+)\s*rows?\s*$")


def parse_window(spec: str | int) -> WindowSpec:
    """Parse a window spec.

    Parameters
    ----------
    spec : str or int
        A period (``1h``, ``30d``, ``1w``, ``1mo``, ``1y``; units :data:`UNITS_TEXT`) or a
        row count (``5000 rows``).

    Returns
    -------
    PeriodWindow or RowWindow
        The spec, not yet anchored.

    Raises
    ------
    ValueError
        A spec of another form, or a count that is not positive.

    Examples
    --------
    >>> parse_window("1d")
    PeriodWindow(seconds=86400, text='1d', months=0, origin=None)
    >>> parse_window("1mo").months, parse_window("1y").months
    (1, 12)
    >>> parse_window("5000 rows")
    RowWindow(rows=5000)
    """
    text = str(spec)
    if m := _PERIOD.match(text):
        n, unit = int(m.group(1)), m.group(2)
        if n <= 0:
            raise ValueError(f"window period must be positive, got {text!r}")
        if unit in _MONTHS:
            return PeriodWindow(0, text.strip(), months=n * _MONTHS[unit])
        return PeriodWindow(n * _UNITS[unit], text.strip())
    if m := _ROWS.match(text):
        n = int(m.group(1))
        if n <= 0:
            raise ValueError(f"window row count must be positive, got {text!r}")
        return RowWindow(n)
    raise ValueError(
        f"expected a period such as '1h', '1d', '30d', '1w', '1mo' or '1y' (units: "
        f"{UNITS_TEXT}) or a row count such as '5000 rows', got {text!r}"
    )


def anchor_window(spec: WindowSpec, table: ir.Table, *, start: str | datetime | None = None,
                  ts: str = "timestamp") -> WindowSpec:
    """A spec anchored for a table.

    At ``start`` (a run's ``period.start``) when given, else at the table's first timestamp
    (one engine query). Row windows are returned as they are, and so is a period spec when
    the table is empty.

    Parameters
    ----------
    spec : PeriodWindow or RowWindow
        The parsed spec.
    table : ibis Table
        A log with a timestamp column.
    ts : str, default "timestamp"
        That column's name.
    start : str or datetime, optional
        The anchor (ISO-8601 text or a datetime; naive: UTC).

    Returns
    -------
    PeriodWindow or RowWindow
        The anchored spec.
    """
    if not isinstance(spec, PeriodWindow):
        return spec
    if start is not None:
        import pandas as pd

        return spec.anchored(pd.Timestamp(start).to_pydatetime())
    first = table[ts].min().execute()
    if first is None or first != first:
        return spec
    return spec.anchored(first.to_pydatetime() if hasattr(first, "to_pydatetime") else first)


def partial_windows(spec: WindowSpec, windows: Sequence[tuple[int, datetime, datetime,
                                                               datetime | None,
                                                               datetime | None, int]], *,
                    covered: tuple[datetime | None, datetime | None] = (None, None)
                    ) -> set[int]:
    """The indices of the windows the data covers only in part.

    A row window is partial when it has fewer rows than the spec (the last block). For
    period windows:

    - a window that starts before ``covered[0]`` or ends after ``covered[1]`` (the run's
      ``period``) is partial;
    - the first (last) non-empty window is partial when the gap between its start and its
      first row (its last row and its end) is more than :data:`PARTIAL_SHARE` of its length
      and more than twice the largest such gap of the other non-empty windows.

    Parameters
    ----------
    spec : PeriodWindow or RowWindow
        The anchored spec.
    windows : sequence of tuple
        ``(index, start, end, first row time, last row time, rows)`` per window, in time
        order.
    covered : (datetime or None, datetime or None), optional
        The run's ``period`` (start, end).

    Returns
    -------
    set of int
        The partial windows' indices.

    Examples
    --------
    >>> from datetime import datetime as d
    >>> day = PeriodWindow(86400, "1d")
    >>> ws = [(0, d(2026, 1, 1), d(2026, 1, 2), d(2026, 1, 1, 0, 5), d(2026, 1, 1, 23, 50), 400),
    ...       (1, d(2026, 1, 2), d(2026, 1, 3), d(2026, 1, 2, 0, 2), d(2026, 1, 2, 9), 150)]
    >>> sorted(partial_windows(day, ws))
    [1]
    """
    if isinstance(spec, RowWindow):
        return {int(w[0]) for w in windows if 0 < w[5] < spec.rows}
    out: set[int] = set()
    lo, hi = (None if c is None else _utc(c) for c in covered)
    for idx, start, end, *_ in windows:
        if (lo is not None and _utc(start) < lo) or (hi is not None and _utc(end) > hi):
            out.add(int(idx))
    filled = [w for w in windows if w[5] > 0 and w[3] is not None and w[4] is not None]
    if not filled:
        return out

    def gap(w: tuple, head: bool) -> float:
        return ((_utc(w[3]) - _utc(w[1])) if head else (_utc(w[2]) - _utc(w[4]))
                ).total_seconds()

    for edge, head in ((filled[0], True), (filled[-1], False)):
        others = [gap(w, head) for w in filled if w is not edge]
        length = (_utc(edge[2]) - _utc(edge[1])).total_seconds()
        limit = max(PARTIAL_SHARE * length, 2 * max(others, default=0.0))
        if gap(edge, head) > limit:
            out.add(int(edge[0]))
    return out
