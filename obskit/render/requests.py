"""Views of anomalous predictions: the table of flagged rows and one request in detail
(why it was flagged, its latency against its window, its inputs against the reference,
its SHAP waterfall and LIME weights). Every string from the data is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from obskit._format import finite, fmt_ms, fmt_num, fmt_time
from obskit._text import plural, word
from obskit.render.common import (
    COLOR_ALERT,
    COLOR_CURRENT,
    COLOR_REFERENCE,
    complete,
    escape,
    mpl,
)
from obskit.render.explanations import lime_figure, waterfall_figure
from obskit.render.views import img_html
from obskit.results import AnomalousPrediction, ExplainedRow, Health, Window

__all__ = ["anomaly_table_html", "reason_text", "request_html", "latency_figure",
           "explanation_html"]

_ID_FIELDS = ("request_id", "trace_id", "model_version", "timestamp")


def reason_text(reason: str, row: Mapping[str, Any]) -> str:
    """A flag reason in words, with the row's own values (unescaped).

    Examples
    --------
    >>> reason_text("unseen_category:region", {"region": "mars"})
    "region = 'mars' never occurs in the reference"
    """
    code, _, feature = str(reason).partition(":")
    value = row.get(feature) if feature else None
    texts = {
        "failed": f"the request failed (status {row.get('status')!s}"
                  + (f", error {row.get('error')!s}" if row.get("error") else "") + ")",
        "latency_outlier": f"latency {fmt_ms(row.get('latency_ms'))} is above the limit "
                           "(anomalies.latency_slo_ms, else the reference's p99)",
        "out_of_range": f"{feature} = {fmt_num(value)} lies outside the reference's "
                        "range of values",
        "unseen_category": f"{feature} = {value!r} never occurs in the reference",
        "score_outlier": f"score {fmt_num(row.get('score'))} is outside the reference's "
                         "0.1%–99.9% score quantiles",
        "confident_mistake": f"a confident mistake: score {fmt_num(row.get('score'))}, "
                             f"prediction {row.get('prediction')!s}, label {row.get('label')!s}",
        "input_outlier": "an isolation forest fitted on the reference finds these inputs "
                         "unusual together",
    }
    return texts.get(code, str(reason))


def anomaly_table_html(rows: Sequence[AnomalousPrediction], *, selected: str | None = None,
                       limit: int = 50) -> str:
    """The flagged rows, most severe first; the ``selected`` request is highlighted.

    Parameters
    ----------
    rows : sequence of AnomalousPrediction
        Flagged predictions of the run (``run.anomalies``, or some of them).
    selected : str, optional
        The request id to highlight.
    limit : int
        Rows shown; the rest are counted.

    Returns
    -------
    str
        An HTML table (or a sentence when there are no rows).
    """
    if not rows:
        return '<div class="obskit"><p>No flagged predictions here.</p></div>'
    head = ("<thead><tr><th>Request</th><th>Window</th><th>Version</th><th>Reasons</th>"
            "<th class=num>Severity</th><th class=num>Score</th><th class=num>Latency</th>"
            "</tr></thead>")
    body = []
    for r in rows[:limit]:
        mark = ' class="drifted"' if selected is not None and \
            str(r.request_id) == str(selected) else ""
        body.append(f"<tr{mark}><td><code>{escape(r.request_id)}</code></td>"
                    f"<td>{escape(fmt_time(r.window_start))}</td>"
                    f"<td>{escape(r.model_version)}</td>"
                    f"<td>{escape(', '.join(map(str, r.reasons or ())))}</td>"
                    f"<td class=num>{escape(fmt_num(r.severity))}</td>"
                    f"<td class=num>{escape(fmt_num(r.score))}</td>"
                    f"<td class=num>{escape(fmt_ms(r.latency_ms))}</td></tr>")
    more = (f'<p class="muted">{plural(len(rows) - limit, "more row")} '
            f'{word(len(rows) - limit, "is", "are")} in summary.json '
            "(<code>anomalies</code>).</p>" if len(rows) > limit else "")
    return (f'<div class="obskit"><table>{head}<tbody>{"".join(body)}</tbody></table>'
            f"{more}</div>")


def latency_figure(latency: Any, health: Health | None, *,
                   request: str = "this request") -> Figure | None:
    """The request's latency against its window's p50/p95/p99 (horizontal bars).

    Parameters
    ----------
    latency : float or None
        The request's latency (milliseconds).
    health : Health or None
        Its window's health (latency quantiles, milliseconds).
    request : str
        The label of the request's bar.

    Returns
    -------
    Figure or None
        ``None`` when there is neither a latency nor a quantile.
    """
    value = finite(latency)
    quantiles = (() if health is None else
                 (("window p50", health.latency_p50_ms), ("window p95", health.latency_p95_ms),
                  ("window p99", health.latency_p99_ms)))
    marks: list[tuple[str, float]] = [(label, v) for label, q in quantiles
                                      if (v := finite(q)) is not None]
    if value is None and not marks:
        return None
    labels = [label for label, _ in marks] + ([request] if value is not None else [])
    values: list[float] = [v for _, v in marks] + ([value] if value is not None else [])
    colors = [COLOR_REFERENCE] * len(marks) + ([COLOR_CURRENT] if value is not None else [])
    if value is not None and marks and value > max(v for _, v in marks):
        colors[-1] = COLOR_ALERT
    fig = Figure(figsize=(6, 0.42 * len(labels) + 1.1), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(range(len(labels)), values, color=colors)
    ax.set_yticks(range(len(labels)), [mpl(t) for t in labels])
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:,.0f} ms", va="center", fontsize=8)
    ax.set_xlim(0, max(values) * 1.25 if max(values) > 0 else 1)
    ax.set_xlabel("Latency (ms)")
    ax.set_title("Latency against its window", fontsize=10)
    return fig


def _percentile_band(value: Any, quantiles: Mapping[float, float] | None) -> str:
    v = finite(value)
    if v is None or not quantiles:
        return ""
    qs = sorted(quantiles.items())
    if v < qs[0][1]:
        return f"below the reference's p{qs[0][0] * 100:g}"
    if v > qs[-1][1]:
        return f"above the reference's p{qs[-1][0] * 100:g}"
    for (q_lo, lo), (q_hi, hi) in zip(qs[:-1], qs[1:], strict=True):
        if lo <= v <= hi:
            return f"between the reference's p{q_lo * 100:g} and p{q_hi * 100:g}"
    return ""


def explanation_html(explanation: ExplainedRow | None, *, values: Mapping[str, Any],
                     request_id: str, status: str = "") -> str:
    """SHAP waterfall and LIME chart of one explained request (or why there are none).

    Parameters
    ----------
    explanation : ExplainedRow or None
        The request's entry of ``run.explanations.rows``.
    values : Mapping
        Feature → the request's value (for the waterfall's labels).
    request_id : str
        The request.
    status : str
        Why there may be no explanation.

    Returns
    -------
    str
        An HTML fragment.
    """
    explanation = complete(explanation) if explanation is not None else None
    if explanation is None or explanation.layout == ():
        return (f"<p><em>This request has no explanation in the run: "
                f"{escape(status or 'it was not among the rows explained')}.</em></p>")
    shap_row = {str(k): finite(v) or 0.0 for k, v in explanation.shap.items()}
    parts = []
    if len(shap_row):
        base = finite(explanation.base_value) or 0.0
        parts.append(img_html(waterfall_figure(shap_row, base, values,
                                               f"SHAP, request {request_id}"),
                              f"SHAP waterfall of request {request_id}"))
    lime = [(str(f), finite(w) or 0.0) for f, w in explanation.lime or ()]
    if lime:
        parts.append(img_html(lime_figure(lime, f"LIME, request {request_id}"),
                              f"LIME weights of request {request_id}"))
        agreement = explanation.agreement
        if agreement is not None and agreement.layout != ():
            verdict = "agree" if agreement.agree else "disagree"
            shap_top = ", ".join(map(str, agreement.shap_top or ()))
            lime_top = ", ".join(map(str, agreement.lime_top or ()))
            parts.append(f"<p>SHAP and LIME {verdict} on the top features (SHAP: "
                         f"{escape(shap_top)}; LIME: {escape(lime_top)}).</p>")
    else:
        parts.append("<p class=muted>LIME explained only the first flagged rows "
                     "(anomalies.lime_rows).</p>")
    return "".join(parts)


def request_html(request_id: str, anomaly: AnomalousPrediction | None,
                 row: Mapping[str, Any] | None, window: Window | None, *,
                 features: Sequence[str] = (), explanation: ExplainedRow | None = None,
                 explanation_status: str = "",
                 quantiles: Mapping[str, Mapping[float, float]] | None = None,
                 data_note: str = "") -> str:
    """One request in detail: ids, why it was flagged, latency and status against its
    window, its inputs against the reference (with SHAP), and its explanations.

    Parameters
    ----------
    request_id : str
        The request.
    anomaly : AnomalousPrediction or None
        Its entry in the run's ``anomalies`` (``None`` if it was not flagged).
    row : Mapping or None
        Its full logged row (``None`` without the logs, ``{}`` when not found).
    window : Window or None
        Its window (for the latency quantiles).
    features : sequence of str
        The features, in the order to list them.
    explanation : ExplainedRow, optional
        Its entry in ``explanations.rows``.
    explanation_status : str
        Why there may be no explanation.
    quantiles : Mapping, optional
        Feature → {quantile: value} on the reference.
    data_note : str
        What is missing without the logs.

    Returns
    -------
    str
        An HTML fragment.
    """
    anomaly = complete(anomaly) if anomaly is not None else None
    explanation = complete(explanation) if explanation is not None else None
    window = complete(window) if window is not None else None
    # the logged row with the anomaly's fields over it (the keys its document has)
    record: dict[str, Any] = {**(row or {}), **(anomaly.to_dict() if anomaly else {})}
    if not anomaly and not row:
        missing = data_note or "it is neither among the flagged rows nor in the logs"
        return (f'<div class="obskit"><p>Request <code>{escape(request_id)}</code> is not '
                f"available: {escape(missing)}.</p></div>")
    parts = [f'<div class="obskit"><h3>Request <code>{escape(request_id)}</code></h3>']
    ids = [(k.replace("_", " "), record.get(k)) for k in _ID_FIELDS if record.get(k)]
    ids.append(("window", fmt_time(record.get("window_start")
                                   or (window.start if window is not None else None))))
    parts.append('<dl class="facts">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>"
                                                  for k, v in ids) + "</dl>")
    if anomaly:
        reasons = anomaly.reasons or ()
        parts.append(f"<p>Flagged with severity {escape(fmt_num(anomaly.severity))} "
                     "because:</p><ul>" + "".join(f"<li>{escape(reason_text(r, record))}</li>"
                                                  for r in reasons) + "</ul>")
    else:
        parts.append("<p>This request was not flagged as anomalous.</p>")
    status = record.get("status")
    error = record.get("error")
    parts.append(f"<p>Status {escape(status)}"
                 + (f"; error: <code>{escape(error)}</code>" if error else "; no error")
                 + (f"; trace id <code>{escape(record.get('trace_id'))}</code> (look it up in "
                    "your tracing system for the span breakdown)" if record.get("trace_id")
                    else "") + ".</p>")
    parts.append(img_html(latency_figure(record.get("latency_ms"),
                                         window.health if window is not None else None,
                                         request=f"request {request_id}"),
                          f"Latency of request {request_id} against its window"))
    shap: Mapping[str, Any] = explanation.shap if explanation is not None else {}
    values: Mapping[str, Any] = (explanation.values if explanation is not None else {}) or record
    if features:
        rows = []
        order = sorted(features, key=lambda f: -abs(finite(shap.get(f)) or 0)) if shap \
            else list(features)
        for f in order:
            rows.append(f"<tr><td>{escape(f)}</td>"
                        f"<td class=num>{escape(_value(values.get(f)))}</td>"
                        f"<td>{escape(_percentile_band(values.get(f), (quantiles or {}).get(f)))}"
                        f"</td><td class=num>{escape(fmt_num(shap.get(f)) if shap else '—')}"
                        "</td></tr>")
        parts.append("<table><thead><tr><th>Feature</th><th class=num>Value</th>"
                     "<th>Against the reference</th><th class=num>SHAP</th></tr></thead>"
                     f"<tbody>{''.join(rows)}</tbody></table>")
        if not row and data_note:
            parts.append(f'<p class="muted">{escape(data_note)}</p>')
    parts.append(explanation_html(explanation, values=values, request_id=request_id,
                                  status=explanation_status))
    return "".join(parts) + "</div>"


def _value(value: Any) -> str:
    v = finite(value)
    if v is not None:
        return fmt_num(v)
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) \
        else str(value)
