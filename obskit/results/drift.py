"""Per-feature summaries over a run's windows: drift, data quality and distributions
(``drift_summary``, ``data_quality``, ``distributions`` and ``methods.drift`` of
``summary.json``)."""

from dataclasses import dataclass

from obskit.results.record import Record

__all__ = ["DataQualitySummary", "DriftMethod", "DriftSummary", "Distribution", "LeftOut",
           "MeasureSummary"]


@dataclass(frozen=True, kw_only=True, slots=True)
class DriftSummary(Record):
    """One feature's drift over the judged windows.

    ``worst_value`` is the most drifted window's value in the method's direction (the
    smallest p-value, the largest distance); ``max_value`` the largest value.
    ``first_drifted`` is the ISO start of the first drifted window.
    """

    type: str | None = None
    method: str | None = None
    threshold: float | None = None
    threshold_kind: str = "constant"
    #: judged windows
    windows: int = 0
    drifted_windows: int = 0
    first_drifted: str | None = None
    max_value: float | None = None
    last_value: float | None = None
    worst_value: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class MeasureSummary(Record):
    """One data-quality measure of one feature over the run: ``count`` rows, ``share``
    (0-1), the reference's share, the largest increase over it among the judged windows
    and the ISO start of that window (when it rose at all)."""

    count: int = 0
    share: float | None = None
    reference_share: float | None = None
    max_increase: float | None = None
    worst_window: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DataQualitySummary(Record):
    """One feature's data quality over the run's windows; a measure that does not apply
    to the feature is None (absent from the document)."""

    type: str | None = None
    rows: int = 0
    values: int = 0
    missing: MeasureSummary | None = None
    non_finite: MeasureSummary | None = None
    out_of_range: MeasureSummary | None = None
    unseen: MeasureSummary | None = None
    wrong_type: MeasureSummary | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LeftOut(Record):
    """Current values a distribution leaves out."""

    missing: int = 0
    non_finite: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Distribution(Record):
    """Reference and whole-current counts of one feature, for figures: numeric features
    by bin (``edges``, n + 1 of them, the outer ones None: open-ended), categorical ones
    by category."""

    kind: str = "numeric"
    edges: tuple[float | None, ...] | None = None
    categories: tuple[str, ...] | None = None
    reference: tuple[int, ...] = ()
    current: tuple[int, ...] = ()
    current_values: int | None = None
    current_left_out: LeftOut | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DriftMethod(Record):
    """The drift method and threshold chosen for one feature (``methods.drift``)."""

    method: str | None = None
    threshold: float | None = None
    note: str | None = None

