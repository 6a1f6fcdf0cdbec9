"""The typed result of one monitoring run (:class:`Run`, the whole of ``summary.json``
but the runner's facts) and the runner's record beside it (:class:`RunRecord`).

Model choice: frozen dataclasses, ``@dataclass(frozen=True, kw_only=True, slots=True)``
(no pydantic): immutable after ``analyze()`` builds them, built by keyword, light. JSON
exists only at the edges (:mod:`obskit.results.serialize`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any, ClassVar

from obskit.results.alerts import AlertRule, Finding, InsufficientData, RuleNotApplicable
from obskit.results.anomalies import CohortShare, Explanations, WindowAnomaly
from obskit.results.drift import DataQualitySummary, Distribution, DriftMethod, DriftSummary
from obskit.results.record import Record
from obskit.results.segments import SegmentResult
from obskit.results.tables import Alerts, Anomalies, Windows
from obskit.results.trace_links import SlowRequest
from obskit.results.windows import Interval

__all__ = ["SCHEMA_VERSION", "EstimationStatus", "LabelCounts", "Methods", "Period",
           "require_run", "Quarantine", "QuarantineExample", "ReferenceCacheStats",
           "WindowCacheStats",
           "ReferenceResult",
           "ProbeCounts", "RowCounts", "TraceCounts", "Run", "RunRecord", "Sources",
           "UnfinishedFile"]

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True, kw_only=True, slots=True)
class Period(Record):
    """The span the windows cover (ISO-8601 UTC) and the ``period`` the config asked for."""

    start: str | None = None
    end: str | None = None
    requested_start: str | None = None
    requested_end: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RowCounts(Record):
    """Rows read, analysed (``current``), outside the period, quarantined; reference rows."""

    read: int = 0
    current: int = 0
    outside_period: int = 0
    quarantined: int = 0
    reference: int = 0
    reference_quarantined: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class LabelCounts(Record):
    """How a separate label source matched the logs (rows)."""

    read: int = 0
    used: int = 0
    quarantined: int = 0
    duplicates: int = 0
    matched: int = 0
    unmatched: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class QuarantineExample(Record):
    """One quarantined row: its file, line (1-based), reason and detail."""

    file: str | None = None
    line: int | None = None
    reason: str | None = None
    detail: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Quarantine(Record):
    """Quarantined current rows by reason, and the first examples."""

    by_reason: Mapping[str, int] = field(default_factory=dict)
    examples: tuple[QuarantineExample, ...] = ()

    @property
    def top_reason(self) -> str:
        """The most frequent reason ("?" when none is recorded; the first on a tie)."""
        reasons = self.by_reason
        return max(reasons, key=lambda r: reasons[r]) if reasons else "?"


@dataclass(frozen=True, kw_only=True, slots=True)
class ProbeCounts(Record):
    """The probe results read (``sources.probes``): lines read = used + quarantined;
    ``outside_windows``, used lines that fall in no window of the run (the per-window
    figures are in ``windows[i].health.probes``); the quarantine like the logs'."""

    files: tuple[str, ...] = ()
    read: int = 0
    used: int = 0
    quarantined: int = 0
    outside_windows: int = 0
    quarantine: Quarantine = field(default_factory=Quarantine)


@dataclass(frozen=True, kw_only=True, slots=True)
class TraceCounts(Record):
    """The spans read (``sources.traces``): every span read is ``used``, ``quarantined``
    or a duplicate, ``read = used + quarantined + duplicates`` (a line that is not a
    traces export counts as one span read and quarantined; a duplicate repeats the trace
    and span id of a span used). ``matched`` / ``unmatched``: the traces (distinct trace
    ids) of the used spans whose trace id is / is not the ``trace_id`` of an analysed
    prediction row."""

    files: tuple[str, ...] = ()
    read: int = 0
    used: int = 0
    quarantined: int = 0
    duplicates: int = 0
    matched: int = 0
    unmatched: int = 0
    quarantine: Quarantine = field(default_factory=Quarantine)


@dataclass(frozen=True, kw_only=True, slots=True)
class UnfinishedFile(Record):
    """A log file a source skipped because it is unfinished (``x.jsonl.part``: still being
    written, or left by a writer that stopped): its path and size in bytes (None when it
    was gone by the time it was measured)."""

    path: str | None = None
    bytes: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Sources(Record):
    """The files read, and (``unfinished``) the unfinished log files skipped, by source
    (``current``, ``reference``, ``labels``, ``probes``, ``traces``; only the sources that skipped
    some): their rows are in no count of the run."""

    current: tuple[str, ...] = ()
    reference: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    unfinished: Mapping[str, tuple[UnfinishedFile, ...]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReferenceResult(Record):
    """The reference's performance (metric → value) and its 95% intervals."""

    performance: Mapping[str, float | None] = field(default_factory=dict)
    performance_ci: Mapping[str, Interval] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReferenceCacheStats(Record):
    """Reference fits restored from the cache (hits) or computed (misses)."""

    enabled: bool = False
    hits: int = 0
    misses: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowCacheStats(Record):
    """Windows whose results were restored from the cache (hits) or computed (misses),
    over the whole log and every segment."""

    enabled: bool = False
    hits: int = 0
    misses: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class EstimationStatus(Record):
    """The label-free estimation method, or (``method`` None) why it did not run."""

    method: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Methods(Record):
    """The methods and settings the run used."""

    drift: Mapping[str, DriftMethod] = field(default_factory=dict)
    drift_fdr: float | None = None
    drift_persistence: int | None = None
    min_window_rows: int | None = None
    min_segment_rows: int | None = None
    latency_quantiles: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Run(Record):
    """One monitoring run: everything ``summary.json`` holds but the runner's facts.

    Mappings keyed by data are keyed by feature (``features``, ``drift_summary``,
    ``data_quality``, ``distributions``, ``cohort_attribution``, ``drift_not_judged``,
    ``methods.drift``), by segment column (``segments``) or by metric. ``timings`` are
    seconds per stage. ``to_dict()`` gives the ``summary.json`` document; see
    :func:`obskit.results.load` and :func:`obskit.results.dump`.
    """

    schema_version: str = SCHEMA_VERSION
    obskit_version: str | None = None
    #: ISO-8601 UTC
    generated_at: str | None = None
    title: str | None = None
    #: ``ok`` or ``alert`` (a failed report is ``failed``); None when the document does
    #: not say (a truncated or hand-made summary is never read as "ok")
    status: str | None = None
    task: str | None = None
    window: str | None = None
    period: Period = field(default_factory=Period)
    rows: RowCounts = field(default_factory=RowCounts)
    labels: LabelCounts | None = None
    #: the probe results read; None without ``sources.probes``
    probes: ProbeCounts | None = None
    #: the spans read; None without ``sources.traces``
    traces: TraceCounts | None = None
    #: the slowest traced predictions with their stages; None without ``sources.traces``
    slowest_requests: tuple[SlowRequest, ...] | None = None
    quarantine: Quarantine = field(default_factory=Quarantine)
    sources: Sources = field(default_factory=Sources)
    #: feature → ``numeric`` / ``categorical``
    features: Mapping[str, str] = field(default_factory=dict)
    missing_features: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    #: class → its probability column
    class_scores: Mapping[str, str] = field(default_factory=dict)
    reference: ReferenceResult = field(default_factory=ReferenceResult)
    windows: Windows = field(default_factory=Windows)
    drift_summary: Mapping[str, DriftSummary] = field(default_factory=dict)
    data_quality: Mapping[str, DataQualitySummary] = field(default_factory=dict)
    distributions: Mapping[str, Distribution] = field(default_factory=dict)
    segments: Mapping[str, tuple[SegmentResult, ...]] = field(default_factory=dict)
    anomalies: Anomalies = field(default_factory=Anomalies)
    window_anomalies: tuple[WindowAnomaly, ...] = ()
    explanations: Explanations | None = None
    cohort_attribution: Mapping[str, CohortShare] = field(default_factory=dict)
    alerts: Alerts = field(default_factory=Alerts)
    insufficient_data: tuple[InsufficientData, ...] = ()
    alert_rules: tuple[AlertRule, ...] = ()
    alert_rules_default: bool = False
    alert_rules_not_applicable: tuple[RuleNotApplicable, ...] = ()
    findings: tuple[Finding, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)
    reference_cache: ReferenceCacheStats = field(default_factory=ReferenceCacheStats)
    window_cache: WindowCacheStats = field(default_factory=WindowCacheStats)
    notes: tuple[str, ...] = ()
    estimation: EstimationStatus = field(default_factory=EstimationStatus)
    #: feature → why its drift is not judged
    drift_not_judged: Mapping[str, str | None] = field(default_factory=dict)
    methods: Methods = field(default_factory=Methods)

    def __repr__(self) -> str:
        # the generated repr of every field runs to megabytes on a real run
        return (f"{type(self).__name__}(title={self.title!r}, status={self.status!r}, "
                f"generated_at={self.generated_at!r}, windows={len(self.windows)}, "
                f"rows={self.rows.current}, alerts={len(self.alerts)}, "
                f"findings={len(self.findings)})")

    def _repr_html_(self) -> str:
        """A notebook cell's view of a run read back from ``summary.json``: the verdict,
        the first findings and the windows table (an :class:`~obskit.analysis.Analysis`
        shows the report's richer view)."""
        findings = "".join(f"<li>[{escape(f.severity or '')}] {escape(f.text or '')}</li>"
                           for f in self.findings[:5])
        return (f"<div><p><b>{escape(self.title or 'obskit run')}</b> — status "
                f"<b>{escape(self.status or 'unknown')}</b>, {len(self.windows)} windows, "
                f"{self.rows.current:,} rows, {len(self.alerts)} alerts</p>"
                f"<ul>{findings}</ul>{self.windows._repr_html_()}</div>")


@dataclass(frozen=True, kw_only=True, slots=True)
class RunRecord(Record):
    """The runner's facts about a written run, beside the :class:`Run`: the model file,
    the config file, the run folder (absolute paths) and the run id; ``error`` when the
    notebook failed; ``render_s``, the seconds spent executing and converting the
    notebook. Written at the top level of ``summary.json`` after the run's keys
    (``render_s`` as ``timings.render_s``)."""

    model: str | None = None
    config_path: str | None = None
    run_dir: str | None = None
    run_id: str | None = None
    error: str | None = None
    #: seconds; written into the document's ``timings``
    render_s: float | None = None

    #: the document keys that belong to the record, not to the run
    KEYS: ClassVar[tuple[str, ...]] = ("model", "config_path", "run_dir", "run_id", "error")

    def write_into(self, document: dict[str, Any]) -> dict[str, Any]:
        """``document`` with the record's keys added (in place), after the run's keys.

        Parameters
        ----------
        document : dict[str, Any]
            A run's ``to_dict()``.

        Returns
        -------
        dict[str, Any]
            The same dict; ``render_s`` set in its ``timings`` (a new ``timings`` object
            at the end when it has none).
        """
        own = self.to_dict()
        own.pop("render_s", None)
        if own.get("error") is None and "error" not in (self.layout or ()):
            own.pop("error", None)  # only a failed run has one
        document.update(own)
        if self.render_s is not None:
            timings = document.get("timings")
            if not isinstance(timings, dict):
                timings = document["timings"] = {}
            timings["render_s"] = self.render_s
        return document


def require_run(value: Any) -> Run:
    """``value`` if it is a :class:`Run` (an :class:`~obskit.analysis.Analysis` is one).

    Parameters
    ----------
    value : Run
        What a reader of results was given.

    Returns
    -------
    Run

    Raises
    ------
    TypeError
        ``value`` is not a Run (e.g. a summary dict): the message says to read it with
        :func:`obskit.results.load`.
    """
    if not isinstance(value, Run):
        raise TypeError(f"expected an obskit.results.Run (or an Analysis), got "
                        f"{type(value).__name__}; read a summary.json (or its dict) with "
                        "obskit.results.load(...)")
    return value

