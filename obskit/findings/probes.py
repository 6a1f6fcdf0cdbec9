"""Findings about the health probes (``sources.probes``): golden requests that failed in
a window, and probe result lines that could not be read."""

from __future__ import annotations

from collections import Counter

from obskit._text import plural
from obskit.findings.wording import day, finding, pct, quarantine_finding
from obskit.results import Finding, Run

__all__ = ["probe_findings"]


def _failed(run: Run) -> list[Finding]:
    failed = [(w, w.health.probes) for w in run.windows
              if w.health.probes is not None and w.health.probes.failed]
    if not failed:
        return []
    sent = sum(w.health.probes.sent for w in run.windows if w.health.probes is not None)
    n_failed = sum(p.failed for _, p in failed)
    worst, probes = min(failed, key=lambda wp: (wp[1].pass_rate or 0.0, wp[0].index))
    reasons: Counter[str] = Counter()
    for _, p in failed:
        reasons.update(p.failures)
    top = reasons.most_common(1)[0][0] if reasons else "?"
    none_passed = any(p.passed == 0 for _, p in failed)
    return [finding(
        severity="critical" if none_passed else "warning", kind="probe_failures",
        text=f"Health probes failed in {plural(len(failed), 'window')} ({n_failed:,} of "
             f"{sent:,} golden requests); lowest pass rate {pct(probes.pass_rate or 0.0)} "
             f"on {day(worst.start)}; most often: {top}.",
        section="health",
        next_step="Run obskit probe against the service to see the failing requests; a "
                  "wrong answer means the served model or its inputs changed.",
        measure="health.probes.pass_rate",
        windows=[w.index for w, _ in failed], window_start=worst.start)]


def _quarantined(run: Run) -> list[Finding]:
    probes = run.probes
    if probes is None or not probes.quarantined:
        return []
    return [quarantine_finding(
        kind="probe_quarantine", quarantined=probes.quarantined, read=probes.read,
        quarantine=probes.quarantine, things="probe result lines", section="health",
        next_step="Check the files of sources.probes; the health section lists file and "
                  "line.")]


def probe_findings(run: Run) -> list[Finding]:
    """Findings about the health probes of a run (none without ``sources.probes``).

    Parameters
    ----------
    run : Run
        The run; its windows' ``health.probes`` and its ``probes`` are read.

    Returns
    -------
    list of Finding
        ``probe_failures`` (``critical`` when no probe passed in some window, else
        ``warning``) and ``probe_quarantine`` (``info``).
    """
    return _failed(run) + _quarantined(run)
