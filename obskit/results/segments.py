"""The result of one segment (one value of a segment column), analysed against its own
reference (``segments`` of ``summary.json``)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from obskit.results.drift import DataQualitySummary, DriftSummary
from obskit.results.record import Record
from obskit.results.tables import Alerts, Windows

__all__ = ["SegmentResult"]


@dataclass(frozen=True, kw_only=True, slots=True)
class SegmentResult(Record):
    """One segment: its rows and, when it has enough (``status`` ``ok``), its windows,
    drift and data quality summaries, reference performance and alerts; the other fields
    are None for a segment with too few rows. ``reference_basis`` is ``same segment`` or
    ``whole reference``."""

    value: Any = None
    rows: int = 0
    status: str = "ok"
    reference_basis: str | None = None
    windows: Windows | None = None
    drift_summary: Mapping[str, DriftSummary] | None = None
    data_quality: Mapping[str, DataQualitySummary] | None = None
    reference_performance: Mapping[str, float | None] | None = None
    alerts: Alerts | None = None
