"""How findings read: days, metric names, percentages, segment keys, and the one way a
:class:`~obskit.results.Finding` is built (its document keys exactly as given)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from obskit._text import word
from obskit.profiles.segments import segment_key
from obskit.results import Finding, Quarantine, Record, Window

__all__ = ["day", "finding", "quarantine_finding", "metric_label", "pct", "present",
           "segment_text", "judged"]

_METRIC_LABELS = {"latency_p50_ms": "p50 latency", "latency_p95_ms": "p95 latency",
                  "latency_p99_ms": "p99 latency", "error_rate": "error rate",
                  "pass_rate": "probe pass rate",
                  "drift_share": "share of drifted features"}


def day(iso: str | None) -> str:
    """An ISO-8601 time as a reader sees it: ``2026-11-03`` for midnight, else
    ``2026-11-03 06:00``; ``?`` when unknown.

    Parameters
    ----------
    iso : str or None
        ISO-8601 UTC text.

    Returns
    -------
    str

    Examples
    --------
    >>> day("2026-11-03T00:00:00Z"), day("2026-11-03T06:00:00Z"), day(None)
    ('2026-11-03', '2026-11-03 06:00', '?')
    """
    return (iso or "?")[:16].replace("T00:00", "").replace("T", " ")


def metric_label(metric: str) -> str:
    """A rule's metric path in words (``health.latency_p95_ms`` → ``p95 latency``); other
    metrics by their last part.

    Parameters
    ----------
    metric : str
        A metric path of ``summary.json`` windows.

    Returns
    -------
    str
    """
    name = metric.split(".")[-1]
    return _METRIC_LABELS.get(name, name)


def pct(share: float) -> str:
    """A share (0-1) as a percentage, small ones with two decimals.

    Parameters
    ----------
    share : float
        A fraction.

    Returns
    -------
    str

    Examples
    --------
    >>> pct(0.0004), pct(0.25)
    ('0.04%', '25.0%')
    """
    return f"{share:.2%}" if 0 < abs(share) < 0.01 else f"{share:.1%}"


def segment_text(segment: Mapping[str, Any] | None) -> str:
    """An alert's segment as one key (``col=value,...``; ``""`` for the whole log)."""
    return segment_key(segment)


def judged(windows: tuple[Window, ...]) -> int:
    """How many of ``windows`` were judged (status ``ok``)."""
    return sum(1 for w in windows if w.status == "ok")


def present(record: Record, key: str) -> bool:
    """Whether ``record``'s document has ``key`` (a record built in code has all its
    fields; one read from a document only the keys it had).

    Parameters
    ----------
    record : Record
    key : str
        A field name.

    Returns
    -------
    bool
    """
    return record.layout is None or key in record.layout


def finding(**fields: Any) -> Finding:
    """A :class:`~obskit.results.Finding` whose document holds exactly ``fields``, in
    this order (the keys each kind of finding has always had).

    Parameters
    ----------
    **fields
        Field values of :class:`~obskit.results.Finding`.

    Returns
    -------
    Finding

    Raises
    ------
    TypeError
        A name is not a field of :class:`~obskit.results.Finding`.
    """
    if "windows" in fields and fields["windows"] is not None:
        fields["windows"] = tuple(fields["windows"])
    return Finding(**fields, layout=tuple(fields))


def quarantine_finding(*, kind: str, quarantined: int, read: int, quarantine: Quarantine,
                       things: str, section: str, next_step: str) -> Finding:
    """The ``info`` finding of a secondary source's quarantine (probes, traces): how many
    of the ``things`` read were quarantined, and the most frequent reason."""
    return finding(
        severity="info", kind=kind,
        text=f"{quarantined:,} of {read:,} {things} {word(quarantined, 'was', 'were')} "
             f"quarantined; most often: {quarantine.top_reason}.",
        section=section, next_step=next_step)
