"""The traces of single predictions (``sources.traces``): the stage breakdown of a
request's trace, for the slowest requests of a run (``slowest_requests`` of
``summary.json``) and for each anomalous prediction whose trace was read
(``anomalies[].trace``)."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from obskit.results.record import Record

__all__ = ["SlowRequest", "TraceBreakdown"]


@dataclass(frozen=True, kw_only=True, slots=True)
class TraceBreakdown(Record):
    """One trace: its spans and how many have status ERROR, the duration of its root span
    (``root_ms``; None when no root span was read) and, per stage (a span with a parent,
    by name, in start order), the summed duration in milliseconds; ``slowest_stage`` is
    the stage that took longest among those without child spans (where the time was
    spent: ``inference``, not the ``predict`` span around it)."""

    trace_id: str = ""
    spans: int = 0
    error_spans: int = 0
    root_ms: float | None = None
    #: stage name → milliseconds, in the order the stages started
    stages: Mapping[str, float] = field(default_factory=dict)
    slowest_stage: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SlowRequest(Record):
    """One of the slowest traced predictions of a run: its ids, time and window, its
    latency (the logged ``latency_ms``, else the root span's duration) and its trace."""

    request_id: str | int | float | bool | None = None
    trace_id: str = ""
    timestamp: str | None = None
    window: int = 0
    latency_ms: float | None = None
    trace: TraceBreakdown = field(default_factory=TraceBreakdown)
