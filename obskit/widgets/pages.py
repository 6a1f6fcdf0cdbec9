"""HTML views of an :class:`ExplorerState`: what the explorer's panels and the deep-dive
notebooks show. Each function reads the state (whose data is cached) and renders with
:mod:`obskit.render`; none imports ipywidgets.
The state's typed records (:mod:`obskit.results`) go to render as they are.
"""

from __future__ import annotations

from obskit._format import fmt_int, fmt_num, fmt_time
from obskit.render import escape, report_css
from obskit.render.requests import anomaly_table_html, request_html
from obskit.render.views import (
    distribution_figure,
    drift_series_figure,
    feature_html,
    img_html,
    window_grid_figure,
    window_html,
)
from obskit.results.ranking import rank_window_drift, summary_worst_value
from obskit.widgets.state import ExplorerState, Segment, segment_label

__all__ = ["title_html", "window_page", "feature_page", "request_page",
           "feature_history_page", "feature_segments_html", "window_drift_page",
           "anomalies_page"]


def title_html(state: ExplorerState, title: str) -> str:
    """A page title with the run it comes from (escaped)."""
    run = state.run
    return (f'{report_css()}<div class="obskit"><h1>{escape(title)}</h1><p class="muted">'
            f"{escape(run.title or 'obskit run')} · "
            f"{escape(fmt_time(run.period.start))} to "
            f"{escape(fmt_time(run.period.end))} (UTC) · windows of {escape(run.window)} · "
            f"status {escape(run.status)}</p></div>")


def window_page(state: ExplorerState, index: int, segment: Segment = None) -> str:
    """One window of the whole log or of a segment: its numbers, drift and alerts."""
    return report_css() + window_html(
        state.run, state.window(index, segment), segment=segment_label(segment),
        reference_performance=state.reference_performance(segment))


def feature_page(state: ExplorerState, feature: str, index: int,
                 segment: Segment = None) -> str:
    """The feature's verdict in a window, reference vs that window, and its score over
    time with the window shaded."""
    label = segment_label(segment)
    window = state.window(index, segment) or state.window(index)
    parts = [report_css(), feature_html(
        feature, state.drift_entry(feature, index, segment),
        state.drift_summary(segment).get(feature), window, segment=label,
        importance=state.importance())]
    when = fmt_time(window.start if window is not None else None)
    if state.data_available:
        dist = state.distribution(feature, index, segment)
        parts.append(img_html(
            distribution_figure(dist, title=f"{feature}: reference vs {when} ({label})"),
            f"{feature}: reference vs window {when} ({label})",
            missing="no distribution (the feature is not in the logs)"))
    else:
        parts.append(f'<div class="obskit"><p class="muted">{escape(state.data_note)}</p></div>')
    parts.append(img_html(
        drift_series_figure(state.drift_series(feature, segment), feature=feature,
                            selected=index, segment=label),
        f"{feature}: drift score per window ({label})",
        missing="no drift value in any window"))
    return "".join(parts)


def request_page(state: ExplorerState, request_id: str) -> str:
    """One request: why flagged, latency against its window, inputs against the
    reference, SHAP and LIME."""
    anomaly = state.anomaly(request_id)
    row = state.request_row(request_id) if state.data_available else None
    index = anomaly.window if anomaly is not None else (row or {}).get("window_index")
    return report_css() + request_html(
        request_id, anomaly, row, state.window(index) if index is not None else None,
        features=list(state.run.features),
        explanation=state.explanation(request_id),
        explanation_status=state.explanation_status(),
        quantiles=state.reference_quantiles() if state.data_available else None,
        data_note=state.data_note)


def feature_history_page(state: ExplorerState, feature: str) -> str:
    """A feature's score over windows (one line per segment) and the reference vs every
    window as small multiples."""
    series = state.drift_series(feature)
    others = {segment_label(s): state.drift_series(feature, s) for s in state.segments()[1:]}
    parts = [img_html(drift_series_figure(series, feature=feature, others=others),
                      f"{feature}: drift score per window, whole log and per segment",
                      missing="no drift value in any window")]
    if state.data_available:
        dists = [state.distribution(feature, s["index"]) if s["status"] == "ok" else None
                 for s in series]
        parts.append(img_html(window_grid_figure(feature, series, dists),
                              f"{feature}: reference vs each window",
                              missing="no distribution for this feature"))
    else:
        parts.append(f'<p class="muted">{escape(state.data_note)}</p>')
    return '<div class="obskit">' + "".join(parts) + "</div>"


def feature_segments_html(state: ExplorerState, feature: str) -> str:
    """Per segment: rows, what it was compared with, and the feature's drift."""
    rows = []
    for segment in state.segments()[1:]:
        entry = state.segment_result(segment)
        d = state.drift_summary(segment).get(feature)
        first = fmt_time(d.first_drifted) if d is not None and d.first_drifted else "—"
        rows.append(f"<tr><td>{escape(segment_label(segment))}</td>"
                    f"<td class=num>{escape(fmt_int(entry.rows if entry else None))}</td>"
                    f"<td>{escape(entry.reference_basis if entry else None)}</td>"
                    f"<td class=num>{escape(fmt_int(d.drifted_windows if d else None))} of "
                    f"{escape(fmt_int(d.windows if d else None))}</td>"
                    f"<td>{escape(first)}</td>"
                    f"<td class=num>{escape(fmt_num(summary_worst_value(d or {})))}"
                    "</td></tr>")
    if not rows:
        return '<div class="obskit"><p>This run has no segments.</p></div>'
    return ('<div class="obskit"><table><thead><tr><th>Segment</th><th class=num>Rows</th>'
            "<th>Compared with</th><th class=num>Drifted windows</th><th>First drifted</th>"
            f"<th class=num>Worst</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def window_drift_page(state: ExplorerState, index: int, *, top: int = 3) -> str:
    """Reference vs this window for the window's most drifted features."""
    window = state.window(index)
    drift = window.drift if window is not None else {}
    drifted = [(f, drift[f]) for f in rank_window_drift(drift)
               if drift[f].drifted]
    if not drifted:
        return '<div class="obskit"><p>No feature drifted in this window.</p></div>'
    when = fmt_time(window.start if window is not None else None)
    parts = []
    for f, _ in drifted[:top]:
        if state.data_available:
            parts.append(img_html(distribution_figure(state.distribution(f, index),
                                                      title=f"{f}: reference vs {when}"),
                                  f"{f}: reference vs window {when}"))
    if not state.data_available:
        parts.append(f'<p class="muted">{escape(state.data_note)}</p>')
    names = ", ".join(f for f, _ in drifted)
    return (f'<div class="obskit"><p>Drifted in this window: {escape(names)}.</p>'
            + "".join(parts) + "</div>")


def anomalies_page(state: ExplorerState, index: int | None, *,
                   selected: str | None = None) -> str:
    """The flagged predictions of a window (all windows for ``None``), most severe first."""
    rows = list(state.anomalies(window=index))
    return report_css() + anomaly_table_html(rows, selected=selected, limit=25)
