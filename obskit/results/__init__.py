"""The typed result model of a monitoring run.

Frozen dataclasses (``@dataclass(frozen=True, kw_only=True, slots=True)``, no pydantic):
a :class:`Run` holds every key of ``summary.json``; the runner's own facts (model, config
path, run folder, run id) live in a :class:`RunRecord` beside it. JSON exists only at the
edges: :meth:`Run.to_dict` gives the document, :func:`load` reads one back (older
documents too: missing keys take defaults, unknown keys are kept), :func:`dump` writes
it. Notebook tables: ``run.windows.to_df()`` (windows × metrics with intervals),
``run.windows.drift.to_df()`` (the long drift table), ``run.windows.quality.to_df()``,
``run.anomalies.to_df()``, ``run.alerts.to_df()``.

Modules: :mod:`~obskit.results.record` (the base record and JSON conversion),
:mod:`~obskit.results.windows`, :mod:`~obskit.results.drift`,
:mod:`~obskit.results.anomalies`, :mod:`~obskit.results.alerts`,
:mod:`~obskit.results.segments`, :mod:`~obskit.results.tables` (``to_df``),
:mod:`~obskit.results.run`, :mod:`~obskit.results.serialize`.
"""

from obskit.results.alerts import Alert, AlertRule, Finding, InsufficientData, RuleNotApplicable
from obskit.results.anomalies import (
    Agreement,
    AnomalousPrediction,
    AttributionDrift,
    CohortRow,
    CohortShare,
    DriftImportance,
    ExplainedRow,
    Explanations,
    WindowAnomaly,
)
from obskit.results.drift import (
    DataQualitySummary,
    Distribution,
    DriftMethod,
    DriftSummary,
    LeftOut,
    MeasureSummary,
)
from obskit.results.record import Record
from obskit.results.run import (
    SCHEMA_VERSION,
    EstimationStatus,
    LabelCounts,
    Methods,
    Period,
    ProbeCounts,
    Quarantine,
    QuarantineExample,
    ReferenceCacheStats,
    ReferenceResult,
    RowCounts,
    Run,
    RunRecord,
    Sources,
    TraceCounts,
    UnfinishedFile,
    WindowCacheStats,
    require_run,
)
from obskit.results.segments import SegmentResult
from obskit.results.serialize import document, dump, load, load_record, read_document
from obskit.results.tables import Alerts, Anomalies, DriftTable, QualityTable, Windows
from obskit.results.trace_links import SlowRequest, TraceBreakdown
from obskit.results.windows import (
    FeatureDrift,
    FeatureQuality,
    Health,
    LlmCalls,
    ModelVersionRows,
    MultivariateDrift,
    ProbeSummary,
    StageLatency,
    TraceSummary,
    Window,
)

__all__ = [
    "SCHEMA_VERSION", "Agreement", "Alert", "AlertRule", "Alerts", "Anomalies",
    "AnomalousPrediction", "AttributionDrift", "CohortRow", "CohortShare",
    "DataQualitySummary", "Distribution", "DriftImportance", "DriftMethod", "DriftSummary",
    "DriftTable", "EstimationStatus", "ExplainedRow", "Explanations", "FeatureDrift",
    "FeatureQuality", "Finding", "Health", "InsufficientData", "LabelCounts", "LeftOut", "LlmCalls",
    "MeasureSummary", "Methods", "ModelVersionRows", "MultivariateDrift", "Period",
    "ProbeCounts", "ProbeSummary",
    "QualityTable", "Quarantine",
    "QuarantineExample", "Record", "ReferenceCacheStats", "ReferenceResult", "RowCounts",
    "RuleNotApplicable", "Run", "RunRecord", "SegmentResult", "SlowRequest", "Sources",
    "StageLatency", "TraceBreakdown",
    "TraceCounts", "TraceSummary",
    "UnfinishedFile",
    "Window",
    "WindowAnomaly", "WindowCacheStats", "Windows",
    "document", "dump", "load", "load_record", "read_document",
    "require_run",
]
