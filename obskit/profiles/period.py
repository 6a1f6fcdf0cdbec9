"""The rows a run analyses: the current logs inside the config's ``period``, cut into
windows. The one home of the period filter and the window cut: :func:`obskit.analyze`
and the explorer (:mod:`obskit.widgets`) both take their rows from here.

The windows of a period window are computed when the logs are typed
(:attr:`obskit.io.log_table.LogTable.windowed`): :func:`analysed_table` takes them from
there when their anchor is the one :func:`analysed_rows` finds, so the analysed rows are
no second copy of the logs; a period filter or another anchor makes them a view of the
loaded rows, not a copy.
"""

from __future__ import annotations

from typing import NamedTuple

import ibis.expr.types as ir

from obskit.config import Config
from obskit.io.engine import materialize
from obskit.io.logs import LoadedLogs
from obskit.io.timestamps import in_period
from obskit.windows import PeriodWindow, WindowSpec, anchor_window

__all__ = ["WindowedRows", "AnalysedTable", "in_period", "analysed_rows", "analysed_table"]


class WindowedRows(NamedTuple):
    """The analysed current rows and the window spec that cut them."""

    #: the current rows inside the period, with a ``window_index`` column (an engine
    #: expression, not executed)
    table: ir.Table
    #: the spec anchored for these rows (window 0 is the period's first window)
    spec: WindowSpec


class AnalysedTable(NamedTuple):
    """The analysed current rows held in the engine, their window spec and the rows left
    out."""

    #: the current rows inside the period with ``window_index`` (a computed table, or a
    #: filter and projection of one; row windows: a table of their own)
    table: ir.Table
    #: the spec anchored for these rows
    spec: WindowSpec
    #: rows used but outside the period (not analysed)
    outside: int


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


def analysed_table(config: Config, logs: LoadedLogs) -> AnalysedTable:
    """The rows of :func:`analysed_rows`, computed once in the engine.

    The windows computed while loading (:attr:`~obskit.io.log_table.LogTable.windowed`)
    are used when they are anchored alike: the table is then the loaded one, or its rows
    inside the period (a filter, no copy). Other period windows are computed in each
    query from the timestamp (a filter and a projection of the loaded table, no copy);
    row windows, numbered by a sort, are materialised here.

    Parameters
    ----------
    config : Config
        Gives the period and the window spec.
    logs : LoadedLogs
        The loaded logs.

    Returns
    -------
    AnalysedTable
        ``(table, spec, outside)``.
    """
    rows, spec = analysed_rows(config, logs)
    used, pre = logs.current.rows_used, logs.current.windowed
    if pre is not None and pre.spec == spec and pre.of.equals(logs.current.table):
        kept = in_period(pre.table, config.period_start, config.period_end)
        outside = 0 if kept is pre.table else used - int(kept.count().execute())
        # the period's rows: a filter of the loaded rows, no copy
        return AnalysedTable(pre.table if not outside else kept, spec, outside)
    if isinstance(spec, PeriodWindow):
        # a period's window is arithmetic on the timestamp, cheaper in each query than a
        # copy of the log: the rows stay a filter and projection of the loaded table
        return AnalysedTable(rows, spec, used - int(rows.count().execute()))
    table = materialize(rows)  # row windows: numbered by a sort, computed once
    return AnalysedTable(table, spec, used - int(table.count().execute()))
