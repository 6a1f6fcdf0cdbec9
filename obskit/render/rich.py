"""Rich notebook display of a run: what ``Analysis._repr_html_`` shows.

Compact: the verdict, the tiles, the first findings and the most drifted features with
their reference/current sparklines. Static HTML (no script), every string escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from obskit._format import fmt_int, fmt_num, fmt_time
from obskit._text import plural
from obskit.feature_ranking import summary_worst_value
from obskit.render._common import (
    _badge,
    _drift_rows,
    _list,
    _map,
    _method_name,
    _windows,
    escape,
)
from obskit.render.fragments import (
    _sparkline_img,
    findings_html,
    report_css,
    summary_tiles_html,
)

__all__ = ["summary_html", "analysis_html"]


def summary_html(summary: Mapping[str, Any], *, findings: int = 5, features: int = 8,
                 hint: bool = True) -> str:
    """A compact HTML view of a run for a notebook cell.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.
    findings : int
        Findings shown (most severe first); the rest are counted.
    features : int
        Features shown in the drift table (most severe first).
    hint : bool
        End with a line on how to explore further.

    Returns
    -------
    str
        An HTML fragment (with the report's scoped stylesheet).
    """
    status = str(summary.get("status") or "n/a")
    kind = status if status in ("ok", "alert", "failed") else "na"
    period = _map(summary.get("period"))
    windows = _windows(summary)
    rows = _map(summary.get("rows"))
    title = summary.get("title") or "obskit run"
    parts = [report_css(), '<div class="obskit">',
             f"<h3>{escape(title)} {_badge(status, kind)}</h3>",
             f'<p class="muted">{escape(summary.get("task"))} model · '
             f"{escape(fmt_time(period.get('start')))} to {escape(fmt_time(period.get('end')))} "
             f"(UTC) · {plural(len(windows), 'window')} of {escape(summary.get('window'))} · "
             f"{escape(fmt_int(rows.get('current')))} rows used, "
             f"{escape(fmt_int(rows.get('quarantined')))} quarantined</p></div>",
             summary_tiles_html(summary)]
    listed = [f for f in _list(summary.get("findings")) if isinstance(f, Mapping)]
    if listed or summary.get("status") == "failed":
        parts.append(findings_html({"findings": listed[:findings],
                                    "status": summary.get("status")}))
        if len(listed) > findings:
            parts.append(f'<div class="obskit"><p class="muted">{len(listed) - findings} '
                         "more findings in <code>to_summary()['findings']</code>.</p></div>")
    drift = _drift_rows(summary)[:features]
    if drift:
        distributions = _map(summary.get("distributions"))
        body = "".join(
            f"<tr><td><strong>{escape(f)}</strong></td>"
            f"<td>{escape(_method_name(d.get('method')))}</td>"
            f"<td class=num>{escape(fmt_int(d.get('drifted_windows')))} of "
            f"{escape(fmt_int(d.get('windows')))}</td>"
            f"<td class=num>{escape(fmt_num(summary_worst_value(d)))}</td>"
            f"<td class=num>{escape(fmt_num(d.get('threshold')))}</td>"
            f"<td>{_sparkline_img(f, _map(distributions.get(f)))}</td></tr>"
            for f, d in drift)
        parts.append('<div class="obskit"><table><thead><tr><th>Feature</th><th>Method</th>'
                     "<th class=num>Drifted windows</th><th class=num>Worst</th>"
                     "<th class=num>Threshold</th><th>Reference vs current</th></tr></thead>"
                     f"<tbody>{body}</tbody></table></div>")
    if hint:
        parts.append('<div class="obskit"><p class="muted"><code>.explore()</code> opens the '
                     "interactive explorer (windows, segments, features, anomalous rows); "
                     "<code>.to_summary()</code> gives every number.</p></div>")
    return "".join(parts)


def analysis_html(analysis: Any) -> str:
    """:func:`summary_html` of an :class:`~obskit.analysis.Analysis`."""
    return summary_html(analysis.to_summary())
