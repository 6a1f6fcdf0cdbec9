"""Every segment with enough rows, analysed against its own reference (the ``segments``
of a run)."""

from __future__ import annotations

from typing import Any

from obskit.analysis.assemble import record
from obskit.analysis.judge import judge
from obskit.analysis.reference_cache import ReferenceCache
from obskit.analysis.table import analyse_table
from obskit.analysis.window_cache import WindowCache
from obskit.config import Config
from obskit.io.logs import LoadedLogs
from obskit.profiles.segments import Segment, find_segments, segment_columns
from obskit.results import Alert, Alerts, SegmentResult
from obskit.windows import WindowSpec

__all__ = ["analyse_segments", "segment_reference"]


def segment_reference(config: Config, logs: LoadedLogs, segment: Segment) -> tuple[Any, str]:
    """The segment's own reference when the reference has enough of it, else all of it.

    Returns
    -------
    (ibis.Table or None, str)
        The reference rows, and ``same segment`` or ``whole reference``.
    """
    ref = logs.reference.table if logs.reference else None
    if ref is None or segment.column not in ref.columns:
        return ref, "whole reference"
    own = segment.filter(ref)
    if int(own.count().execute()) >= config.min_segment_rows:
        return own, "same segment"
    return ref, "whole reference"


def analyse_segments(config: Config, logs: LoadedLogs, spec: WindowSpec, table: Any,
                     cache: ReferenceCache, windows: WindowCache | None = None
                     ) -> tuple[dict[str, tuple[SegmentResult, ...]], list[Alert]]:
    """Every segment of the configured columns, each with enough rows against its own
    reference.

    Parameters
    ----------
    config : Config
    logs : LoadedLogs
    spec : WindowSpec
    table : ibis.Table
        The analysed current rows with their ``window_index``.
    cache : ReferenceCache
        Fitted reference statistics (scoped per segment reference).
    windows : WindowCache, optional
        Per-window results of earlier runs (scoped per segment and reference).

    Returns
    -------
    (dict[str, tuple of SegmentResult], list of Alert)
        Segment column → its segments (most frequent values first); the alerts of all
        segments, in that order.
    """
    segments: dict[str, list[SegmentResult]] = {}
    alerts: list[Alert] = []
    for segment in find_segments(table, segment_columns(config, list(table.columns)),
                                 min_rows=config.min_segment_rows):
        entry: dict[str, Any] = {"value": segment.value, "rows": segment.rows,
                                 "status": "ok" if segment.enough else "insufficient_data"}
        if segment.enough:
            seg_ref, basis = segment_reference(config, logs, segment)
            scope = "all" if basis == "whole reference" else f"{segment.column}={segment.value!r}"
            result = analyse_table(config, logs, spec, segment.filter(table), seg_ref,
                                   cache=cache, scope=scope, segment=segment,
                                   window_cache=windows)
            seg_alerts, _ = judge(config, logs, result.windows,
                                  result.reference_performance,
                                  result.reference_performance_ci, segment)
            alerts += seg_alerts
            entry.update(reference_basis=basis, windows=result.windows,
                         drift_summary=result.drift_summary,
                         data_quality=result.quality_summary,
                         reference_performance=result.reference_performance,
                         alerts=Alerts(seg_alerts))
        segments.setdefault(segment.column, []).append(record(SegmentResult, entry))
    return {column: tuple(entries) for column, entries in segments.items()}, alerts
