"""Single traces in the report (``sources.traces``): the health section's table of the
slowest traced requests with their stage breakdown, and the trace cell of an anomalous
prediction (its trace id and slowest stage). Every string is escaped."""

from __future__ import annotations

from obskit._format import finite, fmt_int, fmt_time
from obskit.render.common import table
from obskit.results import AnomalousPrediction, Run, TraceBreakdown

__all__ = ["slowest_requests_html", "trace_cell"]

#: the most stages shown as columns of the slowest requests (first seen first)
STAGE_COLUMNS = 6


def _ms(value: object) -> str:
    v = finite(value)
    return "n/a" if v is None else f"{v:,.1f}"


def _slowest(trace: TraceBreakdown) -> str:
    if trace.slowest_stage is None:
        return ""
    return f"{trace.slowest_stage} {_ms((trace.stages or {}).get(trace.slowest_stage))} ms"


def trace_cell(row: AnomalousPrediction) -> str | None:
    """The trace of a flagged prediction as a table cell: its trace id, and when its
    spans were read the slowest stage (``abc… · inference 41.2 ms of 52.0 ms``).

    Parameters
    ----------
    row : AnomalousPrediction
        One flagged prediction.

    Returns
    -------
    str
        Plain text (the table escapes it); None without a trace id (shown "n/a").
    """
    if row.trace_id is None:
        return None
    t = row.trace
    if t is None:
        return str(row.trace_id)
    total = f" of {_ms(t.root_ms)} ms" if t.root_ms is not None else ""
    slowest = _slowest(t)
    errors = f", {fmt_int(t.error_spans)} error spans" if t.error_spans else ""
    return f"{row.trace_id} · {slowest or 'no stage'}{total}{errors}"


def slowest_requests_html(run: Run) -> str:
    """The slowest traced predictions of a run: ids, time, latency (ms), the root span
    and each stage's duration (ms), the error spans.

    Parameters
    ----------
    run : Run
        The run (its ``slowest_requests``).

    Returns
    -------
    str
        An HTML fragment; empty without ``sources.traces`` or a traced request.
    """
    slow = run.slowest_requests or ()
    if not slow:
        return ""
    stages: list[str] = []
    for r in slow:
        stages += [s for s in (r.trace.stages or {}) if s not in stages]
    stages = stages[:STAGE_COLUMNS]
    header = ("Request", "Trace", "Time", "Latency (ms)", "Root span (ms)",
              *(f"{s} (ms)" for s in stages), "Error spans")
    rows = [("" if r.request_id is None else str(r.request_id), r.trace_id,
             fmt_time(r.timestamp), _ms(r.latency_ms), _ms(r.trace.root_ms),
             *(_ms((r.trace.stages or {}).get(s)) if s in (r.trace.stages or {}) else "-"
               for s in stages), fmt_int(r.trace.error_spans)) for r in slow]
    return ('<div class="obskit obskit-slowest"><h3>Slowest requests (traces)</h3>'
            f"<p>The {len(slow)} traced predictions with the largest latency (the logged "
            "latency, else the root span's), with the duration of each stage of their "
            "trace.</p>" + table(header, rows, frozenset(range(3, len(header))))
            + "</div>")
