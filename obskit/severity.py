"""Severity of alerts and findings: the one order, least to most severe.

Foundation module (anyone may import it).
"""

from __future__ import annotations

__all__ = ["SEVERITIES", "SEVERITY_ORDER", "severity_rank"]

#: the severities an alert rule or finding may carry, least severe first
SEVERITIES = ("info", "warning", "critical")
#: severity → rank, most severe first (0 is the most severe)
SEVERITY_ORDER = {name: rank for rank, name in enumerate(reversed(SEVERITIES))}


def severity_rank(severity: object) -> int:
    """The sort key that puts the most severe first.

    Parameters
    ----------
    severity : object
        ``"critical"``, ``"warning"`` or ``"info"``; anything else ranks last.

    Returns
    -------
    int
        0 for critical, 1 for warning, 2 for info, 3 for anything else.

    Examples
    --------
    >>> sorted(["info", "bogus", "critical", "warning"], key=severity_rank)
    ['critical', 'warning', 'info', 'bogus']
    """
    return SEVERITY_ORDER.get(str(severity), len(SEVERITIES))
