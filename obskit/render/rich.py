"""Rich notebook display of a run: what ``Analysis._repr_html_`` shows.

Compact: the verdict, the tiles, the first findings and the most drifted features with
their reference/current sparklines. Static HTML (no script), every string escaped. It
reads the typed :class:`~obskit.results.Run` as it is: nothing is recomputed.
"""

from __future__ import annotations

from typing import Any

from obskit._format import fmt_int, fmt_num, fmt_time
from obskit._text import plural
from obskit.render.common import (
    as_read,
    badge,
    complete,
    drift_rows,
    escape,
    method_name,
    worst_value,
)
from obskit.render.css import report_css
from obskit.render.drift_table import sparkline_img
from obskit.render.overview import findings_html, summary_tiles_html
from obskit.results import Run, require_run

__all__ = ["analysis_html", "summary_html"]


def summary_html(run: Run, *, findings: int = 5, features: int = 8,
                 hint: bool = True) -> str:
    """A compact HTML view of a run for a notebook cell.

    Parameters
    ----------
    run : Run
        The run.
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

    Raises
    ------
    TypeError
        ``run`` is not a :class:`Run` (a summary dict: ``obskit.results.load`` it first).
    """
    run = complete(require_run(run))
    status = str(as_read(run, "status") or "n/a")
    kind = status if status in ("ok", "alert", "failed") else "na"
    title = run.title or "obskit run"
    parts = [report_css(), '<div class="obskit">',
             f"<h3>{escape(title)} {badge(status, kind)}</h3>",
             f'<p class="muted">{escape(run.task)} model · '
             f"{escape(fmt_time(run.period.start))} to {escape(fmt_time(run.period.end))} "
             f"(UTC) · {plural(len(run.windows), 'window')} of {escape(run.window)} · "
             f"{escape(fmt_int(as_read(run.rows, 'current')))} rows used, "
             f"{escape(fmt_int(as_read(run.rows, 'quarantined')))} quarantined</p></div>",
             summary_tiles_html(run)]
    listed = run.findings
    if listed or run.status == "failed":
        parts.append(findings_html(run, limit=findings))
        if len(listed) > findings:
            parts.append(f'<div class="obskit"><p class="muted">{len(listed) - findings} '
                         "more findings in <code>to_summary()['findings']</code>.</p></div>")
    drift = drift_rows(run.drift_summary)[:features]
    if drift:
        body = "".join(
            f"<tr><td><strong>{escape(f)}</strong></td>"
            f"<td>{escape(method_name(d.method))}</td>"
            f"<td class=num>{escape(fmt_int(d.drifted_windows))} of "
            f"{escape(fmt_int(d.windows))}</td>"
            f"<td class=num>{escape(fmt_num(worst_value(d)))}</td>"
            f"<td class=num>{escape(fmt_num(d.threshold))}</td>"
            f"<td>{sparkline_img(f, run.distributions.get(f))}</td></tr>"
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
    """:func:`summary_html` of an :class:`~obskit.analysis.Analysis` (its run, as built:
    nothing is recomputed).

    Parameters
    ----------
    analysis : Analysis or Run

    Returns
    -------
    str
        An HTML fragment.
    """
    return summary_html(require_run(analysis))
