"""Engine aggregates for health: latency quantiles and failed predictions."""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import pandas as pd

from obskit.io.casting import strip_text
from obskit.profiles._common import W, quantile_list, unpack_quantiles
from obskit.profiles.quantiles import HOLISTIC_ROWS, quantiles_by_window


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


def health_by_window(table: ir.Table, *, quantiles: tuple[float, ...] = (0.5, 0.95, 0.99),
                     window_rows: Mapping[int, int] | None = None,
                     holistic_rows: int = HOLISTIC_ROWS) -> pd.DataFrame:
    """Latency quantiles and errors per window.

    Parameters
    ----------
    table : ibis Table
        A typed log with ``window_index`` (and ``latency_ms``, ``status`` or ``error``).
    quantiles : tuple of float, default (0.5, 0.95, 0.99)
        The latency quantiles (linear interpolation, as numpy's default), computed as one
        list aggregate (:func:`~obskit.profiles._common.quantile_list`) so that the engine
        holds each window's latencies once.
    window_rows : mapping of int to int, optional
        Window → its rows, when known (else counted here, with the errors).
    holistic_rows : int, default :data:`~obskit.profiles.quantiles.HOLISTIC_ROWS`
        Above this many rows, the quantiles are computed a group of windows at a time, in
        bounded memory (:func:`~obskit.profiles.quantiles.quantiles_by_window`).

    Returns
    -------
    DataFrame
        One row per window: ``window_index``, ``latency_p<q>_ms`` (milliseconds) per
        quantile when the log has latencies, ``errors`` (failed rows) when it has a status or
        error column; only ``window_index`` (no rows) when it has neither.
    """
    errors: dict[str, ir.Value] = {}
    if "status" in table.columns or "error" in table.columns:
        errors["errors"] = error_flag(table).cast("int64").sum()
    has_latency = "latency_ms" in table.columns
    if not errors and not has_latency:
        return pd.DataFrame({W: []})
    names = [f"latency_p{round(q * 100):d}_ms" for q in quantiles]
    small = window_rows is not None and sum(window_rows.values()) <= holistic_rows
    if not has_latency or small:  # one query
        aggs = {**({"latency": quantile_list(table.latency_ms, quantiles)}
                   if has_latency else {}), **errors}
        frame = table.group_by(W).aggregate(**aggs).order_by(W).execute()
        return unpack_quantiles(frame, "latency", names) if has_latency else frame
    frame = table.group_by(W).aggregate(_rows=table.count(), **errors).order_by(W).execute()
    if window_rows is None:
        window_rows = dict(zip(frame[W].astype(int), frame._rows.astype(int), strict=True))
    latencies = quantiles_by_window(table, "latency_ms", quantiles, names, window_rows,
                                    most=holistic_rows)
    frame = frame.drop(columns="_rows").merge(latencies, on=W, how="left")
    return frame[[W, *names, *errors]]
