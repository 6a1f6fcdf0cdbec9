"""The records of one window: its performance with intervals, estimates, feature drift,
data quality, multivariate drift and health (the ``windows`` list of ``summary.json``).

Every record is a frozen dataclass (see :mod:`obskit.results.record`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from obskit.results.record import Record

__all__ = ["FeatureDrift", "FeatureQuality", "Health", "Interval", "LlmCalls",
           "ModelVersionRows", "MultivariateDrift", "ProbeSummary", "Window"]

#: a 95% interval ``(lower, upper)``; either bound may be None (not computable)
Interval = tuple[float | None, float | None]


@dataclass(frozen=True, kw_only=True, slots=True)
class FeatureDrift(Record):
    """One feature's drift in one window (``windows[i].drift[feature]``).

    ``value`` is the statistic (distance, or p-value for a test), None when the window has
    too few rows; ``drifted`` None when not judged (``reason`` says why, when known).
    """

    method: str | None = None
    value: float | None = None
    threshold: float | None = None
    drifted: bool | None = None
    #: ``constant`` or reference-derived
    threshold_kind: str | None = None
    p_value: float | None = None
    #: the verdict after the false-discovery-rate adjustment
    adjusted: bool | None = None
    #: drifted for ``persistence`` windows in a row
    persistent: bool | None = None
    #: the values the statistic used (rows minus missing and non-finite)
    values_used: int | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class FeatureQuality(Record):
    """One feature's data quality in one window (``windows[i].data_quality[feature]``).

    Counts are rows; ``*_share`` are fractions (0-1) of the rows (``missing``,
    ``non_finite``, ``wrong_type``) or of the values (``out_of_range``, ``unseen``);
    ``reference_*_share`` the reference's share and ``*_increase`` the difference. A
    measure that does not apply to the feature is None (absent from the document).
    """

    rows: int = 0
    values: int = 0
    missing: int | None = None
    missing_share: float | None = None
    reference_missing_share: float | None = None
    missing_increase: float | None = None
    non_finite: int | None = None
    non_finite_share: float | None = None
    reference_non_finite_share: float | None = None
    non_finite_increase: float | None = None
    out_of_range: int | None = None
    out_of_range_share: float | None = None
    reference_out_of_range_share: float | None = None
    out_of_range_increase: float | None = None
    unseen: int | None = None
    unseen_share: float | None = None
    reference_unseen_share: float | None = None
    unseen_increase: float | None = None
    wrong_type: int | None = None
    wrong_type_share: float | None = None
    reference_wrong_type_share: float | None = None
    wrong_type_increase: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class MultivariateDrift(Record):
    """One multivariate method in one window (domain-classifier AUC, or PCA
    reconstruction error with its reference band ``threshold_lower``-``threshold_upper``)."""

    value: float | None = None
    threshold: float | None = None
    drifted: bool | None = None
    #: window rows the classifier used
    rows_used: float | None = None
    threshold_lower: float | None = None
    threshold_upper: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ProbeSummary(Record):
    """The health probes of one window (``windows[i].health.probes``, with
    ``sources.probes``): golden requests sent and passed, the pass rate (0-1, None
    without probes), their latency quantiles (milliseconds, exact, linear interpolation;
    over the requests that were answered) and the failures by reason."""

    sent: int = 0
    passed: int = 0
    failed: int = 0
    pass_rate: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    #: reason → failed probes, most frequent first
    failures: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class StageLatency(Record):
    """One span name in one window's traces: spans, and their duration quantiles
    (milliseconds, exact, linear interpolation as numpy's default)."""

    spans: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TraceSummary(Record):
    """The traces of one window's predictions (``windows[i].health.traces``, with
    ``sources.traces``): prediction rows (``requests``) and those whose ``trace_id`` has
    spans (``traced``, ``traced_share`` 0-1, None without rows), the spans of those traces
    and how many have status ERROR, and per span name of the spans that have a parent
    (the stages, e.g. ``preprocess`` / ``inference`` / ``postprocess``) their latency."""

    requests: int = 0
    traced: int = 0
    traced_share: float | None = None
    spans: int = 0
    error_spans: int = 0
    #: span name → its latency, most spans first
    stages: Mapping[str, StageLatency] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class LlmCalls(Record):
    """The LLM calls of one model in one window (``windows[i].health.llm[model]``, with
    ``sources.traces``): spans of OpenInference kind ``LLM`` or GenAI inference spans
    (``gen_ai.operation.name`` chat / text_completion / generate_content) that start in
    the window. ``errors`` / ``error_rate`` (0-1): calls with status ERROR; latency: exact
    quantiles of the span duration (milliseconds, linear interpolation); token sums over
    the calls that report them, ``mean_*_tokens`` per such call (None when none does).
    ``total_tokens``: ``llm.token_count.total``, else input + output."""

    calls: int = 0
    errors: int = 0
    error_rate: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    mean_input_tokens: float | None = None
    mean_output_tokens: float | None = None
    mean_total_tokens: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Health(Record):
    """Serving health of one window: latency quantiles (milliseconds), error count and
    rate (0-1). Empty when the window has too few rows or the log no such column.
    ``probes``: the health probes in the window, only when the run reads
    ``sources.probes`` (alert rules name ``health.probes.pass_rate``); ``traces``: the
    traces of the window's predictions, and ``llm``: model → its LLM calls in the window
    (most calls first), only when the run reads ``sources.traces``."""

    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    errors: int | None = None
    error_rate: float | None = None
    probes: ProbeSummary | None = None
    traces: TraceSummary | None = None
    llm: Mapping[str, LlmCalls] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelVersionRows(Record):
    """One model version that served a window (``windows[i].model_versions[]``): the
    ``model_version`` value of the log (None: rows that name none) and its rows."""

    version: str | None = None
    rows: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Window(Record):
    """One time window of a run (or of a segment) and what the monitors found in it.

    ``start`` / ``end`` are ISO-8601 UTC texts; ``status`` is ``ok``, ``empty`` or
    ``insufficient_data``; metric mappings are keyed by metric name, drift and data
    quality by feature. ``anomaly_counts`` (rows per reason) and ``attribution_drift``
    (total-variation distance of SHAP shares, 0-1) exist for the whole log only.
    """

    index: int = 0
    start: str | None = None
    end: str | None = None
    rows: int = 0
    status: str = "ok"
    #: the window reaches outside the data's span, or the data covers it in part
    partial: bool = False
    labelled_rows: int | None = None
    #: labelled share of the rows (0-1)
    label_coverage: float | None = None
    mean_score: float | None = None
    #: rows without a score (None: the log has no score column)
    null_scores: int | None = None
    performance: Mapping[str, float | None] = field(default_factory=dict)
    performance_ci: Mapping[str, Interval] = field(default_factory=dict)
    estimated_performance: Mapping[str, float | None] = field(default_factory=dict)
    estimated_performance_ci: Mapping[str, Interval] = field(default_factory=dict)
    drift: Mapping[str, FeatureDrift] = field(default_factory=dict)
    data_quality: Mapping[str, FeatureQuality] = field(default_factory=dict)
    drifted_features: tuple[str, ...] = ()
    #: drifted share of the judged features (0-1)
    drift_share: float | None = None
    multivariate_drift: Mapping[str, MultivariateDrift] = field(default_factory=dict)
    health: Health = field(default_factory=Health)
    anomaly_counts: Mapping[str, int] = field(default_factory=dict)
    attribution_drift: float | None = None
    #: the model versions that served the window, most rows first (only when the log
    #: has a ``model_version`` column)
    model_versions: tuple[ModelVersionRows, ...] = ()
