"""Engine aggregates for health: latency quantiles and failed predictions."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from obskit.io.casting import strip_text
from obskit.profiles._common import W, quantile_list, unpack_quantiles


def error_flag(table: ir.Table) -> ir.BooleanValue:
    """True for a failed prediction, as an engine expression.

    A row failed when its ``status`` is ``error``/``failed`` or an HTTP code >= 500, or its
    ``error`` message is not empty.

    Parameters
    ----------
    table : ibis Table
        A typed log (with ``status`` and/or ``error``).

    Returns
    -------
    ibis boolean expression
        The failure flag of each row.
    """
    flag = ibis.literal(False)
    if "status" in table.columns:
        s = strip_text(table.status.lower())
        code = s.try_cast("float64")
        flag = flag | s.isin(("error", "failed", "failure")).fill_null(False) \
            | (code >= 500).fill_null(False)
    if "error" in table.columns:
        flag = flag | table.error.notnull()
    return flag


def health_by_window(table: ir.Table, *, quantiles: tuple[float, ...] = (0.5, 0.95, 0.99)
                     ) -> pd.DataFrame:
    """Latency quantiles and errors per window.

    Parameters
    ----------
    table : ibis Table
        A typed log with ``window_index`` (and ``latency_ms``, ``status`` or ``error``).
    quantiles : tuple of float, default (0.5, 0.95, 0.99)
        The latency quantiles (linear interpolation, as numpy's default), computed as one
        list aggregate (:func:`~obskit.profiles._common.quantile_list`) so that the engine
        holds each window's latencies once.

    Returns
    -------
    DataFrame
        One row per window: ``window_index``, ``latency_p<q>_ms`` (milliseconds) per
        quantile when the log has latencies, ``errors`` (failed rows) when it has a status or
        error column; only ``window_index`` (no rows) when it has neither.
    """
    aggs: dict[str, ir.Value] = {}
    if "latency_ms" in table.columns:
        aggs["latency"] = quantile_list(table.latency_ms, quantiles)
    if "status" in table.columns or "error" in table.columns:
        aggs["errors"] = error_flag(table).cast("int64").sum()
    if not aggs:
        return pd.DataFrame({W: []})
    frame = table.group_by(W).aggregate(**aggs).order_by(W).execute()
    if "latency" not in aggs:
        return frame
    return unpack_quantiles(frame, "latency",
                            [f"latency_p{round(q * 100):d}_ms" for q in quantiles])
