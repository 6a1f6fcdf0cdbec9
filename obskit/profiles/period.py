"""The rows a run analyses: the current logs inside the config's ``period``, cut into
windows. The one home of the period filter and the window cut: :func:`obskit.analyze`
and the explorer (:mod:`obskit.widgets`) both take their rows from here.
"""

from __future__ import annotations

from typing import NamedTuple

import ibis
import ibis.expr.types as ir

from obskit.config import Config
from obskit.io.logs import LoadedLogs
from obskit.windows import WindowSpec, anchor_window

__all__ = ["WindowedRows", "in_period", "analysed_rows"]


class WindowedRows(NamedTuple):
    """The analysed current rows and the window spec that cut them."""

    #: the current rows inside the period, with a ``window_index`` column (an engine
    #: expression, not executed)
    table: ir.Table
    #: the spec anchored for these rows (window 0 is the period's first window)
    spec: WindowSpec


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


def analysed_rows(config: Config, logs: LoadedLogs) -> WindowedRows:
    """The current rows a run analyses, each with its window.

    Parameters
    ----------
    config : Config
        Gives ``period_start`` / ``period_end`` and the ``window_spec``.
    logs : LoadedLogs
        The loaded logs (``logs.current.table``).

    Returns
    -------
    WindowedRows
        ``(table, spec)``: the current rows inside the period with ``window_index``
        (not materialized), and the spec anchored at ``period.start``, else at the first
        analysed row (one engine query for period windows then).
    """
    current = in_period(logs.current.table, config.period_start, config.period_end)
    spec = anchor_window(config.window_spec, current, start=config.period_start)
    return WindowedRows(spec.assign(current), spec)
