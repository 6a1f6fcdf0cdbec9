"""Performance findings: realized performance worse than its label-free estimate (concept
drift or broken inputs), for the whole log and each segment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from obskit.findings.wording import day, finding, present
from obskit.metrics.performance import metric_direction, summary_primary_metric
from obskit.profiles.segments import segment_label
from obskit.results import Finding, Run, Window

__all__ = ["Gap", "estimate_findings", "gap_windows", "is_gap"]


class Gap(NamedTuple):
    """A window whose realized metric lies beyond its estimate's band on the bad side."""

    #: ISO-8601 UTC start of the window
    start: str | None
    realized: float
    estimated: float
    #: the realized value's own 95% interval lies wholly beyond the band
    clear: bool


def gap_windows(windows: Sequence[Window], metric: str) -> list[Gap]:
    """Windows whose realized ``metric`` lies beyond the estimate's sampling band, on the
    bad side: the labels disagree with what the scores promise.

    Parameters
    ----------
    windows : sequence of Window
    metric : str
        A metric name (``accuracy``).

    Returns
    -------
    list of Gap
        In window order.
    """
    direction = metric_direction(metric)
    out = []
    for w in windows:
        realized = w.performance.get(metric)
        band = w.estimated_performance_ci.get(metric)
        estimate = w.estimated_performance.get(metric)
        if realized is None or estimate is None or not band:
            continue
        low, high = band
        if low is None or high is None:
            continue
        if (direction == "higher" and realized < low) or \
                (direction == "lower" and realized > high):
            ci_low, ci_high = w.performance_ci.get(metric) or (None, None)
            clear = (ci_high is not None and ci_high < low if direction == "higher"
                     else ci_low is not None and ci_low > high)
            out.append(Gap(w.start, realized, estimate, clear))
    return out


def is_gap(gaps: Sequence[Gap]) -> bool:
    """A gap worth a finding: two windows or more beyond the band, or one whose realized
    value's own interval lies wholly beyond it (a clear one-window collapse; one window
    slightly beyond the band is noise)."""
    return len(gaps) >= 2 or any(g.clear for g in gaps)


def _headline(run: Run) -> str:
    """The run's primary metric (scores count as logged when the document has no
    ``roles``: older summaries)."""
    if present(run, "roles"):
        return summary_primary_metric({"task": run.task, "roles": list(run.roles)})
    return summary_primary_metric({"task": run.task})


def estimate_findings(run: Run) -> list[Finding]:
    """Realized performance worse than its label-free estimate: concept drift or broken
    inputs, which neither drift statistics nor estimates can see on their own.

    Parameters
    ----------
    run : Run
        The run; the windows of the whole log and of each segment are read.

    Returns
    -------
    list of Finding
        Kind ``estimate_gap``, at most one per scope (the whole log first).
    """
    scopes: list[tuple[str, Sequence[Window]]] = [("", run.windows)]
    for column, entries in run.segments.items():
        scopes += [(segment_label(column, e.value), e.windows or ()) for e in entries]
    headline = _headline(run)
    out = []
    for scope, windows in scopes:
        metrics = sorted({m for w in windows for m in w.estimated_performance})
        gaps = {m: g for m in metrics if is_gap(g := gap_windows(windows, m))}
        if not gaps:
            continue
        metric = headline if headline in gaps else next(iter(gaps))
        first, last = gaps[metric][0], gaps[metric][-1]
        others = [m for m in gaps if m != metric]
        where = f"In segment {scope}: " if scope else ""
        also = f" (also {', '.join(others)})" if others else ""
        out.append(finding(
            severity="warning", kind="estimate_gap", section="performance",
            segment=scope or None,
            text=f"{where}realized {metric}{also} is below its label-free estimate from "
                 f"{day(first.start)} in {len(gaps[metric])} "
                 f"window{'s' if len(gaps[metric]) != 1 else ''} "
                 f"({last.realized:.3g} realized vs {last.estimated:.3g} estimated "
                 f"on {day(last.start)}): the link between inputs and outcomes "
                 "changed (concept drift) or inputs are broken.",
            next_step="Check recent labels and upstream inputs; retrain if the relation "
                      "changed."))
    return out
