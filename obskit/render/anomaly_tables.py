"""The anomalies section of the report: unusual windows, the top anomalous predictions
with their reasons and ids, the features that drive them (cohort SHAP) and drift ranked
by importance. Every string from the data is escaped."""

from __future__ import annotations

from collections.abc import Callable

from obskit._format import fmt_int, fmt_ms, fmt_num, fmt_pct, fmt_time
from obskit._text import plural
from obskit.render.common import badge, complete, escape, logged, table
from obskit.render.trace_requests import trace_cell
from obskit.results import AnomalousPrediction, Explanations, Run

__all__ = ["anomalies_html"]

#: (header, cell, numeric, shown) of one column of the anomalous predictions
_Column = tuple[str, Callable[[AnomalousPrediction], object], bool, bool]


def _columns(run: Run) -> list[_Column]:
    """The columns of the flagged rows' table; a column whose role the log lacks is left
    out."""
    rows = run.anomalies
    columns: list[_Column] = [
        ("Request", lambda r: r.request_id, False, logged(run, "request_id")),
        ("Trace", trace_cell, False, logged(run, "trace_id")),
        ("Window", lambda r: fmt_time(r.window_start), False, True),
        ("Version", lambda r: r.model_version, False, logged(run, "model_version")),
        ("Reasons", lambda r: ", ".join(map(str, r.reasons or ())), False, True),
        ("Severity", lambda r: fmt_num(r.severity), True, True),
        ("Score", lambda r: fmt_num(r.score), True, logged(run, "score")),
        ("Latency", lambda r: fmt_ms(r.latency_ms), True, logged(run, "latency_ms")),
        ("Top SHAP features", lambda r: ", ".join(map(str, r.top_features or ())) or "—",
         False, any(r.top_features for r in rows)),
    ]
    return [c for c in columns if c[3]]


def _explanations_part(explanations: Explanations) -> list[str]:
    parts = [
        f"<p>SHAP ({escape(explanations.explainer)}, explaining the "
        f"{escape(explanations.output)}) on {fmt_int(explanations.rows_explained)} "
        f"flagged rows; LIME on the first {fmt_int(explanations.lime_rows)}.</p>",
        "<h3>What drives the anomalies</h3><p>Mean |SHAP| per feature in the "
        "flagged rows, in normal rows of the same windows and on the reference.</p>"]
    cohort = explanations.cohort_attribution or ()
    parts.append(table(["Feature", "Anomalous", "Normal", "Reference", "Ratio"],
                       [[c.feature, fmt_num(c.anomalous), fmt_num(c.normal),
                         fmt_num(c.reference), fmt_num(c.ratio)] for c in cohort[:10]],
                       numeric=frozenset({1, 2, 3, 4})))
    agree = [e.agreement for e in explanations.rows or () if e.agreement]
    if agree:
        n = sum(1 for a in agree if a is not None and a.agree)
        parts.append(f"<p>SHAP and LIME agree on the top features for {n} of "
                     f"{plural(len(agree), 'row')} explained by both.</p>")
    ranking = explanations.drift_importance or ()
    if ranking:
        parts.append("<h3>Drift ranked by how much the model uses the feature</h3>")
        parts.append(table(["Feature", "Drift / threshold", "Importance share", "Score"],
                           [[r.feature, fmt_num(r.drift_ratio), fmt_pct(r.importance_share),
                             fmt_num(r.score)] for r in ranking[:10]],
                           numeric=frozenset({1, 2, 3})))
    return parts


def anomalies_html(run: Run, *, limit: int = 20) -> str:
    """Unusual windows, the top anomalous predictions with their reasons and ids, the
    features that drive them (cohort SHAP) and drift ranked by importance.

    Parameters
    ----------
    run : Run
        The run (its ``window_anomalies``, ``anomalies`` and ``explanations``).
    limit : int
        Rows shown before the rest is folded into ``<details>``.

    Returns
    -------
    str
        An HTML fragment.
    """
    run = complete(run)
    parts = ['<div class="obskit">']
    unusual = run.window_anomalies
    if unusual:
        parts.append("<h3>Unusual windows</h3><ul>" + "".join(
            f"<li>{badge(a.severity, 'alert' if a.severity == 'critical' else 'na')}"
            f" {escape(a.text)}</li>" for a in unusual[:limit]) + "</ul>")
    rows = run.anomalies
    if not rows:
        parts.append("<p>No prediction was flagged as anomalous.</p></div>")
        return "".join(parts)
    columns = _columns(run)
    header = [c[0] for c in columns]
    numeric = frozenset(i for i, c in enumerate(columns) if c[2])
    table_rows = [[c[1](r) for c in columns] for r in rows]
    parts.append(f"<h3>Anomalous predictions ({len(rows)} flagged, most severe first)</h3>")
    parts.append(table(header, table_rows[:limit], numeric=numeric))
    more = table_rows[limit:limit + 4 * limit]  # the rest only in summary.json
    if more:
        parts.append(f"<details><summary>{len(more)} more</summary>"
                     + table(header, more, numeric=numeric) + "</details>")
    if len(table_rows) > limit + len(more):
        parts.append(f"<p>All {len(table_rows)} flagged predictions are listed in "
                     '<a href="summary.json">summary.json</a> (<code>anomalies</code>).</p>')
    explanations = run.explanations
    if explanations is None or explanations.status != "ok":
        status = explanations.status if explanations is not None else None
        parts.append(f"<p><em>{escape(status or 'No explanations.')}</em></p>")
        return "".join(parts) + "</div>"
    return "".join([*parts, *_explanations_part(explanations)]) + "</div>"
