"""Engine aggregates of the traces of each window's predictions (``sources.traces``,
:mod:`obskit.io.traces`): requests with a trace, spans and error spans, and the latency of
each stage (the spans that have a parent, by name)."""

from __future__ import annotations

from typing import NamedTuple

import ibis
import ibis.expr.types as ir
import pandas as pd

from obskit.profiles._common import W

__all__ = ["MAX_STAGES", "STATUS_ERROR", "TraceFrames", "traces_by_window"]

#: the OTLP ``Status.StatusCode`` of a failed span
STATUS_ERROR = 2
#: the most span names a window reports (the most frequent over the run)
MAX_STAGES = 20


class TraceFrames(NamedTuple):
    """What :func:`traces_by_window` returns."""

    #: one row per window with rows: ``window_index``, ``requests``, ``traced``,
    #: ``spans``, ``error_spans``
    counts: pd.DataFrame
    #: ``window_index``, ``name``, ``spans``, ``p50_ms``, ``p95_ms``: per window and stage
    stages: pd.DataFrame


def traces_by_window(table: ir.Table, spans: ir.Table) -> TraceFrames:
    """Per window, the traces of its prediction rows.

    A prediction row is *traced* when its ``trace_id`` (case-insensitive) is the trace id
    of a span read. The spans of a window are those of its rows' distinct trace ids.

    Parameters
    ----------
    table : ibis Table
        The analysed rows with ``window_index`` and (optionally) ``trace_id``.
    spans : ibis Table
        The used spans (:func:`obskit.io.traces.load_traces`), in the same engine.

    Returns
    -------
    TraceFrames
        Counts per window, and the latency of the :data:`MAX_STAGES` most frequent span
        names among the spans that have a parent (exact quantiles, linear interpolation
        as numpy's default), per window.
    """
    if "trace_id" not in table.columns:
        counts = table.group_by(W).aggregate(requests=table.count()).order_by(W).execute()
        for name in ("traced", "spans", "error_spans"):
            counts[name] = 0
        return TraceFrames(counts, pd.DataFrame({W: [], "name": [], "spans": []}))
    rows = table.select(W, trace_id=table.trace_id.lower())
    ids = spans.select("trace_id").distinct().mutate(_traced=ibis.literal(1))
    flagged = rows.left_join(ids, "trace_id")
    requests = flagged.group_by(W).aggregate(
        requests=flagged.count(), traced=flagged._traced.notnull().cast("int64").sum())
    keys = rows.filter(rows.trace_id.notnull()).distinct()
    matched = keys.join(spans, "trace_id")
    errors = matched.group_by(W).aggregate(
        spans=matched.count(),
        error_spans=(matched.status_code == STATUS_ERROR).cast("int64").sum())
    counts = requests.left_join(errors, W).select(
        requests[W], "requests", "traced", spans=errors.spans.fill_null(0),
        error_spans=errors.error_spans.fill_null(0)).order_by(W).execute()
    children = matched.filter(matched.parent_span_id.notnull())
    top = children.group_by("name").aggregate(_n=children.count()) \
        .order_by([ibis.desc("_n"), "name"]).limit(MAX_STAGES).select("name")
    staged = children.semi_join(top, "name")
    stages = staged.group_by([W, "name"]).aggregate(
        spans=staged.count(), p50_ms=staged.duration_ms.quantile(0.5),
        p95_ms=staged.duration_ms.quantile(0.95)).order_by(
        [W, ibis.desc("spans"), "name"]).execute()
    return TraceFrames(counts, stages)
