"""Findings about the traces (``sources.traces``): spans that could not be read."""

from __future__ import annotations

from obskit.findings.wording import quarantine_finding
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
    return [quarantine_finding(
        kind="trace_quarantine", quarantined=traces.quarantined, read=traces.read,
        quarantine=traces.quarantine, things="spans read", section="data-quality",
        next_step="Check the files of sources.traces (OTLP JSON: hex ids, integer enums, "
                  "times as decimal strings); the data quality section lists file and line.")]
