"""Traces in a run: the spans of ``sources.traces`` joined to the analysed predictions on
``trace_id``, and their accounting (``traces`` of ``summary.json``)."""

from __future__ import annotations

from typing import Any

from obskit.config import Config
from obskit.io.paths import SkippedFile
from obskit.io.traces import TraceTable, load_traces
from obskit.results import Quarantine, TraceCounts

__all__ = ["analyse_traces", "trace_counts"]


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


def analyse_traces(config: Config, con: Any, table: Any
                   ) -> tuple[TraceCounts | None, tuple[SkippedFile, ...]]:
    """The trace accounting of a run.

    Parameters
    ----------
    config : Config
        Its ``traces`` (``sources.traces``); None: no traces.
    con : ibis backend
        The run's engine connection.
    table : ibis Table
        The analysed prediction rows.

    Returns
    -------
    (TraceCounts or None, tuple of SkippedFile)
        None and ``()`` without ``sources.traces``; else the accounting
        (:func:`trace_counts`) and the unfinished traces files skipped (``.part``).

    Raises
    ------
    obskit.exceptions.InputError
        The traces cannot be read (:func:`obskit.io.traces.load_traces`).
    """
    if not config.traces:
        return None, ()
    spans = load_traces(con, config.traces)
    return trace_counts(spans, table), spans.unfinished
