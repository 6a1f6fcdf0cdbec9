"""The segments section of the report: per segment (e.g. each ``model_version``) its
rows, drifted features, worst drift share, latest headline metric and alerts."""

from __future__ import annotations

from obskit._format import finite, fmt_int, fmt_num, fmt_pct
from obskit._text import word
from obskit.render.common import (
    complete,
    drift_rows,
    escape,
    latest,
    metric_name,
    primary_metric,
    table,
)
from obskit.results import Run, SegmentResult

__all__ = ["segments_html"]


def _segment_row(seg: SegmentResult, metric: str) -> list[object]:
    windows = seg.windows or ()
    drifted = {f: d for f, d in (seg.drift_summary or {}).items() if finite(d.drifted_windows)}
    drifted_text = ", ".join(
        f"{f} ({fmt_int(d.drifted_windows)} {word(d.drifted_windows, 'window')})"
        for f, d in drift_rows(drifted)) or "none"
    shares = [s for s in (finite(w.drift_share) for w in windows) if s is not None]
    realized, _ = latest(windows, lambda w: w.performance.get(metric))
    estimated, _ = latest(windows, lambda w: w.estimated_performance.get(metric))
    return [seg.value, fmt_int(seg.rows), seg.status, seg.reference_basis or "n/a",
            drifted_text, fmt_pct(max(shares)) if shares else "n/a",
            f"{fmt_num(realized)} / {fmt_num(estimated)}", fmt_int(len(seg.alerts or ()))]


def segments_html(run: Run) -> str:
    """Per segment (e.g. each ``model_version``): rows, drifted features, worst drift share,
    latest realized and estimated headline metric, and alerts.

    Parameters
    ----------
    run : Run
        The run (its ``segments``, ``task`` and ``roles``).

    Returns
    -------
    str
        An HTML fragment (a sentence when the logs have no segments).
    """
    run = complete(run)
    if not run.segments:
        return ('<div class="obskit"><p>No segments: the logs have no <code>model_version'
                "</code> and no <code>segments</code> are configured.</p></div>")
    metric = primary_metric(run)
    parts = ['<div class="obskit">']
    for column, entries in run.segments.items():
        rows = [_segment_row(seg, metric) for seg in entries]
        parts.append(f"<h3>By {escape(column)}</h3>")
        parts.append(table(
            ["Segment", "Rows", "Status", "Compared with", "Drifted features",
             "Worst drift share", f"Latest {metric_name(metric)} realized / estimated",
             "Alerts"], rows, numeric=frozenset({1, 5, 7})))
    parts.append("<p>Segments below the minimum size are listed as insufficient data and "
                 "not analysed. Each segment is compared with the same segment of the "
                 "reference when the reference has enough of it, else with the whole "
                 "reference.</p></div>")
    return "".join(parts)
