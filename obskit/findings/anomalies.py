"""Anomaly findings: unusual windows, and the feature that drives the anomalous
predictions (with a model), with the segment most flagged rows come from."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from obskit._text import plural
from obskit.findings.wording import finding
from obskit.profiles.segments import segment_label
from obskit.results import AnomalousPrediction, Finding, Run

__all__ = ["anomaly_findings", "logged_value"]

_FIELDS = frozenset(f.name for f in fields(AnomalousPrediction)) - {"extra", "layout"}


def logged_value(row: AnomalousPrediction, column: str) -> Any:
    """The value of a logged ``column`` in a flagged row (None when the row lacks it).

    Parameters
    ----------
    row : AnomalousPrediction
    column : str
        A log column (a segment column, ``request_id``, ...).

    Returns
    -------
    Any
        The value as logged.
    """
    if column in row.extra:
        return row.extra[column]
    if column in _FIELDS and (row.layout is None or column in row.layout):
        return getattr(row, column)
    return None


def _where(run: Run) -> str:
    """The segment most flagged rows come from, when they are over-represented there."""
    rows = run.anomalies
    where = ""
    for column, entries in run.segments.items():
        total = sum(e.rows for e in entries) or 1
        for e in entries:
            flagged = sum(1 for r in rows if str(logged_value(r, column)) == e.value)
            share, base = flagged / len(rows), e.rows / total
            if share >= 0.5 and share > 2 * base:
                where = (f"; {share:.0%} of them come from {segment_label(column, e.value)} "
                         f"({base:.0%} of all rows)")
    return where


def anomaly_findings(run: Run) -> list[Finding]:
    """Unusual windows (the first five critical ones), and what drives the anomalous
    predictions (with a model).

    Parameters
    ----------
    run : Run
        The run; its ``window_anomalies``, ``anomalies``, ``explanations`` and
        ``segments`` are read.

    Returns
    -------
    list of Finding
        Kinds ``window_anomaly`` and ``anomaly_drivers``.
    """
    out = []
    for a in [a for a in run.window_anomalies if a.severity == "critical"][:5]:
        out.append(finding(severity="warning", kind="window_anomaly", section="anomalies",
                           window_start=a.window_start, text=a.text + ".",
                           next_step="See the anomalous predictions of that window below."))
    rows = run.anomalies
    cohort = (run.explanations.cohort_attribution if run.explanations else None) or ()
    if rows and cohort and (cohort[0].excess or 0) > 0:
        top = cohort[0]
        out.append(finding(
            severity="warning", kind="anomaly_drivers", section="anomalies",
            feature=top.feature, request_id=rows[0].request_id,
            text=f"{top.feature} drives the anomalous predictions: mean |SHAP| "
                 f"{top.anomalous:.3g} in the {plural(len(rows), 'flagged row')} vs "
                 f"{top.normal:.3g} in normal rows and {top.reference:.3g} on the "
                 f"reference{_where(run)}.",
            next_step=f"Inspect {top.feature} upstream for the flagged rows "
                      "(request ids below)."))
    return out
