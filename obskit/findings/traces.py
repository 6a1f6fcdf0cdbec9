"""Findings about the traces (``sources.traces``): spans that could not be read."""

from __future__ import annotations

from obskit._text import word
from obskit.findings.wording import finding
from obskit.results import Finding, Run

__all__ = ["trace_findings"]


def trace_findings(run: Run) -> list[Finding]:
    """Findings about the traces of a run (none without ``sources.traces``).

    Parameters
    ----------
    run : Run
        The run; its ``traces`` is read.

    Returns
    -------
    list of Finding
        ``trace_quarantine`` (``info``) when spans were quarantined.
    """
    traces = run.traces
    if traces is None or not traces.quarantined:
        return []
    reasons = traces.quarantine.by_reason
    top = max(reasons, key=lambda r: reasons[r]) if reasons else "?"
    return [finding(
        severity="info", kind="trace_quarantine",
        text=f"{traces.quarantined:,} of {traces.read:,} spans read "
             f"{word(traces.quarantined, 'was', 'were')} quarantined; most often: {top}.",
        section="data-quality",
        next_step="Check the files of sources.traces (OTLP JSON: hex ids, integer enums, "
                  "times as decimal strings); the data quality section lists file and line.")]
