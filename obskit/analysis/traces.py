"""Traces in a run: the spans of ``sources.traces`` joined to the analysed predictions on
``trace_id``: per window (``windows[i].health.traces``) and their accounting (``traces``
of ``summary.json``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from obskit._format import finite
from obskit.analysis.llm import window_llm
from obskit.config import Config
from obskit.io.paths import SkippedFile
from obskit.io.traces import TraceTable, load_traces
from obskit.profiles import W
from obskit.profiles.trace_requests import slowest_requests, trace_parts
from obskit.profiles.traces import traces_by_window
from obskit.profiles.values import plain
from obskit.results import (
    Anomalies,
    Quarantine,
    SlowRequest,
    StageLatency,
    TraceBreakdown,
    TraceCounts,
    TraceSummary,
    Window,
    Windows,
)

__all__ = ["analyse_traces", "link_traces", "read_traces", "trace_breakdowns", "trace_counts",
           "window_traces"]


def trace_counts(spans: TraceTable, table: Any) -> TraceCounts:
    """The accounting of the spans read, and how their traces match the predictions.

    Parameters
    ----------
    spans : TraceTable
        The spans read (:func:`obskit.io.traces.load_traces`).
    table : ibis Table
        The analysed prediction rows (in the same engine); its ``trace_id`` column, when
        it has one, is matched.

    Returns
    -------
    TraceCounts
        ``read = used + quarantined + duplicates`` (spans); ``matched`` / ``unmatched``:
        distinct trace ids of the used spans that are / are not the ``trace_id`` of an
        analysed prediction row (all unmatched when the logs have no ``trace_id``).
    """
    ids = spans.table.select("trace_id").distinct()
    traces = int(ids.count().execute())
    matched = 0
    if "trace_id" in table.columns:
        logged = table.select(trace_id=table.trace_id.lower()).distinct()
        matched = int(ids.semi_join(logged, "trace_id").count().execute())
    return TraceCounts(files=tuple(spans.files), read=spans.rows_read, used=spans.rows_used,
                       quarantined=spans.rows_quarantined, duplicates=spans.duplicates,
                       matched=matched, unmatched=traces - matched,
                       quarantine=Quarantine.from_dict(spans.quarantine_summary()))


def _with_traces(window: Window, traces: TraceSummary) -> Window:
    health = window.health
    layout = None if health.layout is None else (*health.layout, "traces")
    return dataclasses.replace(window, health=dataclasses.replace(health, traces=traces,
                                                                  layout=layout))


def window_traces(windows: Windows, table: Any, spans: TraceTable) -> Windows:
    """``windows`` with ``health.traces``: the traces of each window's predictions.

    Parameters
    ----------
    windows : Windows
        The run's windows.
    table : ibis Table
        The analysed rows with ``window_index``.
    spans : TraceTable
        The spans read.

    Returns
    -------
    Windows
        Every window with a :class:`~obskit.results.TraceSummary` (zeros when it has no
        rows); stages by span name, most spans first.
    """
    frames = traces_by_window(table, spans.table)
    counts = {int(r[W]): r for r in frames.counts.to_dict("records")}
    stages: dict[int, dict[str, StageLatency]] = {}
    for r in frames.stages.to_dict("records"):
        stages.setdefault(int(r[W]), {})[str(r["name"])] = StageLatency(
            spans=int(r["spans"]), p50_ms=finite(r["p50_ms"]), p95_ms=finite(r["p95_ms"]))
    out = []
    for w in windows:
        c = counts.get(w.index)
        requests, traced = (int(c["requests"]), int(c["traced"])) if c else (0, 0)
        out.append(_with_traces(w, TraceSummary(
            requests=requests, traced=traced,
            traced_share=traced / requests if requests else None,
            spans=int(c["spans"]) if c else 0, error_spans=int(c["error_spans"]) if c else 0,
            stages=stages.get(w.index, {}))))
    return Windows(out)


def analyse_traces(config: Config, con: Any, table: Any, windows: Windows, *,
                   spans: TraceTable | None = None, row_windows: bool = False
                   ) -> tuple[Windows, TraceCounts | None, tuple[SkippedFile, ...]]:
    """The windows with their traces, and the trace accounting of a run.

    Parameters
    ----------
    config : Config
        Its ``traces`` (``sources.traces``); None: no traces.
    con : ibis backend
        The run's engine connection.
    table : ibis Table
        The analysed prediction rows, with ``window_index``.
    windows : Windows
        The run's windows.
    spans : TraceTable, optional
        The spans already read (:func:`read_traces`); read here when None.
    row_windows : bool, default False
        The windows are row blocks (LLM calls are placed as probes are).

    Returns
    -------
    (Windows, TraceCounts or None, tuple of SkippedFile)
        ``windows`` unchanged, None and ``()`` without ``sources.traces``; else the
        windows with ``health.traces`` (:func:`window_traces`) and ``health.llm``
        (:func:`obskit.analysis.llm.window_llm`), the accounting
        (:func:`trace_counts`) and the unfinished traces files skipped (``.part``).

    Raises
    ------
    obskit.exceptions.InputError
        The traces cannot be read (:func:`obskit.io.traces.load_traces`).
    """
    if not config.traces:
        return windows, None, ()
    spans = spans if spans is not None else load_traces(con, config.traces)
    traced = window_llm(window_traces(windows, table, spans), spans.table,
                        row_windows=row_windows)
    return traced, trace_counts(spans, table), spans.unfinished


def read_traces(config: Config, con: Any) -> TraceTable | None:
    """The spans of ``sources.traces`` read into the engine, None without it.

    Parameters
    ----------
    config : Config
        Its ``traces``.
    con : ibis backend
        The run's engine connection.

    Returns
    -------
    TraceTable or None

    Raises
    ------
    obskit.exceptions.InputError
        The traces cannot be read (:func:`obskit.io.traces.load_traces`).
    """
    return load_traces(con, config.traces) if config.traces else None


def trace_breakdowns(spans: Any, trace_ids: list[str]) -> dict[str, TraceBreakdown]:
    """The stage breakdown of each of ``trace_ids`` that has spans.

    Parameters
    ----------
    spans : ibis Table
        The used spans.
    trace_ids : list of str
        Trace ids (any case).

    Returns
    -------
    dict
        Lower-case trace id → :class:`~obskit.results.TraceBreakdown` (stages in start
        order; ``slowest_stage`` the longest of those without child spans (``inference``,
        not the ``predict`` span around it), the first started on a tie).
    """
    parts = trace_parts(spans, trace_ids)
    stages: dict[str, dict[str, float]] = {}
    inner: dict[str, set[str]] = {}
    for r in parts.stages.to_dict("records"):
        ms = finite(r["ms"])
        if ms is not None:
            stages.setdefault(str(r["trace_id"]), {})[str(r["name"])] = ms
        if r.get("inner"):
            inner.setdefault(str(r["trace_id"]), set()).add(str(r["name"]))
    out = {}
    for r in parts.traces.to_dict("records"):
        tid = str(r["trace_id"])
        mine = stages.get(tid, {})
        # where the time went: the slowest stage without stages of its own, if any
        leaves = [k for k in mine if k not in inner.get(tid, set())] or list(mine)
        out[tid] = TraceBreakdown(
            trace_id=tid, spans=int(r["spans"]), error_spans=int(r["error_spans"]),
            root_ms=finite(r["root_ms"]), stages=mine,
            slowest_stage=max(leaves, key=lambda k: mine[k]) if leaves else None)
    return out


def link_traces(spans: TraceTable | None, table: Any, anomalies: Anomalies
                ) -> tuple[tuple[SlowRequest, ...] | None, Anomalies]:
    """The slowest traced requests of a run, and its anomalies with their traces.

    Parameters
    ----------
    spans : TraceTable or None
        The spans read (:func:`read_traces`); None: no traces.
    table : ibis Table
        The analysed rows, with ``window_index``.
    anomalies : Anomalies
        The run's flagged predictions.

    Returns
    -------
    (tuple of SlowRequest or None, Anomalies)
        None and ``anomalies`` unchanged without traces; else the
        :data:`~obskit.profiles.trace_requests.SLOWEST` slowest traced predictions (by
        logged ``latency_ms``, else root span duration) with their breakdown, and the
        anomalies with ``trace``: the breakdown of their ``trace_id``'s spans, None
        when it has none.
    """
    if spans is None:
        return None, anomalies
    slow = slowest_requests(table, spans.table).to_dict("records")
    wanted = [str(r["trace_id"]) for r in slow]
    wanted += [str(a.trace_id) for a in anomalies if a.trace_id is not None]
    found = trace_breakdowns(spans.table, wanted)
    slowest = tuple(
        SlowRequest(request_id=plain(r["request_id"]), trace_id=str(r["trace_id"]),
                    timestamp=plain(r["timestamp"]), window=int(r[W]),
                    latency_ms=finite(r["latency_ms"]), trace=found[str(r["trace_id"])])
        for r in slow if str(r["trace_id"]) in found)
    linked = Anomalies(dataclasses.replace(
        a, trace=None if a.trace_id is None else found.get(str(a.trace_id).lower()),
        layout=None if a.layout is None or "trace" in a.layout else (*a.layout, "trace"))
        for a in anomalies)
    return slowest, linked
