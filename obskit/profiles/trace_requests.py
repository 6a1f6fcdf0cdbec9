"""Engine queries of single traces (``sources.traces``): the slowest traced predictions of
a run, and the stage breakdown of given traces (the spans of each trace id, the root
span's duration and the summed duration of each stage, a span with a parent, by name)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import ibis
import ibis.expr.types as ir
import pandas as pd

from obskit.profiles._common import W
from obskit.profiles.traces import STATUS_ERROR

__all__ = ["SLOWEST", "TraceParts", "slowest_requests", "trace_parts"]

#: how many of the slowest traced predictions a run reports
SLOWEST = 10


class TraceParts(NamedTuple):
    """What :func:`trace_parts` returns."""

    #: ``trace_id``, ``spans``, ``error_spans``, ``root_ms``: one row per trace read
    traces: pd.DataFrame
    #: ``trace_id``, ``name``, ``ms`` (summed), ``first``, ``inner`` (1 when a span of the
    #: stage has child spans): per trace and stage, by start
    stages: pd.DataFrame


def trace_parts(spans: ir.Table, trace_ids: Sequence[str]) -> TraceParts:
    """The spans, error spans, root duration and stages of the traces ``trace_ids``.

    Parameters
    ----------
    spans : ibis Table
        The used spans (:func:`obskit.io.traces.load_traces`).
    trace_ids : sequence of str
        Lower-case 32-hex trace ids; those without spans have no row.

    Returns
    -------
    TraceParts
        Per trace: spans, spans with status ERROR (OTLP ``STATUS_CODE_ERROR``) and the
        longest root span (no parent), None without one; per trace and span name of the
        spans with a parent: the summed duration (ms), stages ordered by first start.
    """
    ids = sorted({str(t).lower() for t in trace_ids})
    if not ids:
        empty = pd.DataFrame({"trace_id": [], "name": [], "ms": [], "inner": []})
        return TraceParts(pd.DataFrame({"trace_id": [], "spans": [], "error_spans": [],
                                        "root_ms": []}), empty)
    mine = spans.filter(spans.trace_id.isin(ids))
    root = mine.parent_span_id.isnull()
    traces = mine.group_by("trace_id").aggregate(
        spans=mine.count(), error_spans=(mine.status_code == STATUS_ERROR).cast("int64").sum(),
        root_ms=root.ifelse(mine.duration_ms, ibis.null().cast("float64")).max()).execute()
    children = mine.filter(mine.parent_span_id.notnull())
    # a stage with stages of its own (``predict`` around preprocess/inference/...) is
    # "inner": the slowest stage is looked for among the others, where the time is spent
    parents = children.select(p_trace=children.trace_id,
                              p_span=children.parent_span_id).distinct()
    joined = children.left_join(parents, [children.trace_id == parents.p_trace,
                                          children.span_id == parents.p_span])
    stages = joined.group_by(["trace_id", "name"]).aggregate(
        ms=joined.duration_ms.sum(), first=joined.start.min(),
        inner=joined.p_span.notnull().cast("int64").max()).order_by(
        ["trace_id", "first", "name"]).execute()
    return TraceParts(traces, stages)


def slowest_requests(table: ir.Table, spans: ir.Table, n: int = SLOWEST) -> pd.DataFrame:
    """The ``n`` traced prediction rows with the largest latency.

    A row is traced when its ``trace_id`` (case-insensitive) has spans. Its latency is
    the logged ``latency_ms``, else (no such column or a missing value) the duration of
    its trace's longest root span.

    Parameters
    ----------
    table : ibis Table
        The analysed rows with ``window_index``, ``timestamp`` and (optionally)
        ``trace_id``, ``request_id``, ``latency_ms``.
    spans : ibis Table
        The used spans, in the same engine.
    n : int
        How many rows.

    Returns
    -------
    pandas.DataFrame
        ``trace_id`` (lower case), ``request_id`` (None when not logged), ``timestamp``,
        ``window_index``, ``latency_ms``: slowest first (ties by timestamp), empty when
        the log has no ``trace_id``.
    """
    columns = ["trace_id", "request_id", "timestamp", W, "latency_ms"]
    if "trace_id" not in table.columns:
        return pd.DataFrame({c: [] for c in columns})
    roots = spans.filter(spans.parent_span_id.isnull())
    root = roots.group_by("trace_id").aggregate(root_ms=roots.duration_ms.max())
    ids = spans.select("trace_id").distinct()
    rows = table.filter(table.trace_id.notnull()).mutate(_tid=table.trace_id.lower())
    traced = rows.semi_join(ids, rows._tid == ids.trace_id)
    joined = traced.left_join(root, traced._tid == root.trace_id)
    logged = (joined.latency_ms.cast("float64") if "latency_ms" in table.columns
              else ibis.null().cast("float64"))
    latency = logged.coalesce(joined.root_ms)
    request = (joined.request_id if "request_id" in table.columns
               else ibis.null().cast("string"))
    out = joined.select(trace_id=joined._tid, request_id=request,
                        timestamp=joined.timestamp, **{W: joined[W]}, latency_ms=latency)
    return out.filter(out.latency_ms.notnull()).order_by(
        [ibis.desc("latency_ms"), "timestamp"]).limit(n).execute()
