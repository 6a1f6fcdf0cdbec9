"""The anomalies of a run: flagged predictions, anomalous windows, and the SHAP / LIME
explanations of what drives them (``anomalies``, ``window_anomalies``, ``explanations``
and ``cohort_attribution`` of ``summary.json``)."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from obskit.results.record import Record
from obskit.results.trace_links import TraceBreakdown

__all__ = ["Agreement", "AnomalousPrediction", "AttributionDrift", "CohortRow", "CohortShare",
           "DriftImportance", "ExplainedRow", "Explanations", "WindowAnomaly"]

#: a JSON scalar as logged (a label, a prediction, a request id, a feature value)
Scalar = str | int | float | bool | None


@dataclass(frozen=True, kw_only=True, slots=True)
class AnomalousPrediction(Record):
    """One flagged prediction: its window, the reasons (``failed``,
    ``out_of_range:<feature>``, ...), a severity (larger: more unusual), and the logged
    columns that identify it; ``routine`` when its reasons are at their usual rate.
    ``top_features`` are the three largest SHAP contributions when explained; ``trace``
    its trace's breakdown when ``sources.traces`` has its spans."""

    window: int = 0
    window_start: str | None = None
    timestamp: str | None = None
    reasons: tuple[str, ...] = ()
    severity: float | None = None
    routine: bool = False
    request_id: Scalar = None
    trace_id: Scalar = None
    model_version: Scalar = None
    score: float | None = None
    prediction: Scalar = None
    label: Scalar = None
    latency_ms: float | None = None
    status: Scalar = None
    error: Scalar = None
    top_features: tuple[str, ...] | None = None
    #: its trace's stage breakdown, when the run read spans of its ``trace_id``
    trace: TraceBreakdown | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowAnomaly(Record):
    """A window whose value of a series is far from that series' usual value
    (``robust_z`` robust standard deviations from ``baseline``)."""

    window: int = 0
    window_start: str | None = None
    series: str = ""
    value: float | None = None
    baseline: float | None = None
    robust_z: float | None = None
    severity: str = "warning"
    text: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Agreement(Record):
    """How far SHAP and LIME agree on one row's top features."""

    shap_top: tuple[str, ...] = ()
    lime_top: tuple[str, ...] = ()
    #: features in both tops
    overlap: int = 0
    jaccard: float | None = None
    agree: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class ExplainedRow(Record):
    """SHAP values of one flagged row (``shap`` per feature, in the model's ``output``
    units), its feature ``values``, and the LIME weights and their agreement when LIME
    explained it."""

    request_id: Scalar = None
    base_value: float | None = None
    shap: Mapping[str, float | None] = field(default_factory=dict)
    values: Mapping[str, Scalar] = field(default_factory=dict)
    lime: tuple[tuple[str, float | None], ...] | None = None
    agreement: Agreement | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CohortRow(Record):
    """Mean absolute SHAP of one feature in the flagged, normal and reference rows."""

    feature: str = ""
    anomalous: float | None = None
    normal: float | None = None
    reference: float | None = None
    ratio: float | None = None
    excess: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CohortShare(Record):
    """One feature of ``cohort_attribution``: mean absolute SHAP per cohort."""

    anomalous: float | None = None
    normal: float | None = None
    reference: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AttributionDrift(Record):
    """How a window's SHAP shares (per feature, 0-1) moved from the reference's:
    ``tv_distance`` (total variation, 0-1)."""

    tv_distance: float | None = None
    shares: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class DriftImportance(Record):
    """One feature ranked by drift times importance."""

    feature: str = ""
    max_value: float | None = None
    threshold: float | None = None
    drift_ratio: float | None = None
    drifted_windows: int | None = None
    importance_share: float | None = None
    score: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Explanations(Record):
    """What drives the flagged predictions; ``status`` is ``ok`` or why there are none
    (the other fields are then None)."""

    status: str = ""
    explainer: str | None = None
    output: str | None = None
    rows_explained: int | None = None
    lime_rows: int | None = None
    rows: tuple[ExplainedRow, ...] | None = None
    cohort_attribution: tuple[CohortRow, ...] | None = None
    #: window index → its attribution drift
    attribution_drift: Mapping[int, AttributionDrift] | None = None
    drift_importance: tuple[DriftImportance, ...] | None = None
    #: feature → mean absolute SHAP over the reference rows
    importance: Mapping[str, float | None] | None = None
