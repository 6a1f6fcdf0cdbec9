"""One monitoring run: load the logs, cut windows, run the monitors, judge the rules.

:func:`analyze` is what ``obskit report`` and the notebooks call. It builds the typed
result once: an :class:`Analysis`, which IS the run (:class:`obskit.results.Run`) plus
the live objects a notebook explores (the config, the loaded logs, the windowed table).
``summary.json``, the public contract, is its :meth:`~obskit.results.Run.to_dict`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from obskit._format import finite
from obskit._version import __version__
from obskit.analysis.anomalies import AnomalyResult, analyse_anomalies
from obskit.analysis.assemble import record
from obskit.analysis.judge import (
    NO_REFERENCE_NOTE,
    alert_rules,
    judge,
    reference_rules_not_judged,
)
from obskit.analysis.preflight import preflight
from obskit.analysis.probes import analyse_probes
from obskit.analysis.segments import analyse_segments
from obskit.analysis.table import (
    TableResult,
    analyse_table,
    estimation_status,
    reference_cache,
)
from obskit.analysis.traces import analyse_traces, link_traces, read_traces
from obskit.analysis.window_cache import window_cache
from obskit.config import Config, load_config
from obskit.exceptions import InputError
from obskit.findings import build_findings
from obskit.findings.alert_rules import check_alert_metrics, split_applicable
from obskit.io.logs import LoadedLogs, check_predictions, load_logs, require_used_rows
from obskit.io.paths import SkippedFile, unfinished_note
from obskit.profiles.period import analysed_table
from obskit.profiles.segments import segment_columns
from obskit.profiles.values import iso
from obskit.results import (
    SCHEMA_VERSION,
    Alert,
    AlertRule,
    Alerts,
    CohortShare,
    DriftMethod,
    EstimationStatus,
    Finding,
    InsufficientData,
    LabelCounts,
    Methods,
    Period,
    ProbeCounts,
    Quarantine,
    ReferenceCacheStats,
    ReferenceResult,
    RowCounts,
    RuleNotApplicable,
    Run,
    SegmentResult,
    SlowRequest,
    Sources,
    TraceCounts,
    UnfinishedFile,
    WindowCacheStats,
    Windows,
)
from obskit.stattests.drift_rules import NOT_JUDGED
from obskit.timings import Stopwatch, active, recording, stage
from obskit.windows import RowWindow

__all__ = ["Analysis", "RunParts", "analyze", "assemble_run", "SCHEMA_VERSION"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Analysis(Run):
    """One monitoring run: the typed :class:`~obskit.results.Run` (every key of
    ``summary.json``) and the live objects it was computed from.

    The live fields (``config``, ``logs``, ``table``, ``drift``) are not part of the
    run's document (:meth:`to_dict`), its equality or its repr.
    """

    #: the config of the run
    config: Config = field(compare=False, repr=False)
    #: the loaded logs (current, reference, labels, quarantine)
    logs: LoadedLogs = field(compare=False, repr=False)
    #: the analysed current rows with their ``window_index`` (an engine table)
    table: Any = field(default=None, compare=False, repr=False)
    #: (window, feature) → method, value, threshold, verdict: the drift monitor's frame
    drift: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)

    @property
    def run(self) -> Run:
        """This analysis as a :class:`~obskit.results.Run` (it is one)."""
        return self

    def to_dict(self) -> dict[str, Any]:
        """The ``summary.json`` document of the run (schema :data:`SCHEMA_VERSION`).

        Returns
        -------
        dict[str, Any]
            A new dict each call: the run's keys only, none of the live fields.
        """
        return Run(**{f.name: getattr(self, f.name) for f in fields(Run)}).to_dict()

    def to_summary(self) -> dict[str, Any]:
        """The ``summary.json`` document: :meth:`to_dict` (a new dict each call).

        Returns
        -------
        dict[str, Any]
        """
        return self.to_dict()

    def __repr__(self) -> str:
        return Run.__repr__(self)

    def _repr_html_(self) -> str:
        from obskit.render.rich import analysis_html

        return analysis_html(self)

    def explore(self, **kwargs: Any) -> Any:
        """An interactive :class:`obskit.widgets.Explorer` of this run (needs ipywidgets).

        Parameters
        ----------
        **kwargs
            Passed to :func:`obskit.widgets.explore`.

        Returns
        -------
        obskit.widgets.Explorer
        """
        from obskit.widgets import explore

        return explore(self, **kwargs)


@dataclass
class RunParts:
    """What :func:`_analyze` computed, before the run is assembled (:func:`assemble_run`)."""

    config: Config
    logs: LoadedLogs
    overall: TableResult
    table: Any
    generated_at: str | None
    #: rows read and typed but outside ``period`` (not analysed)
    outside_period: int
    alerts: list[Alert]
    insufficient: list[InsufficientData]
    estimation: EstimationStatus
    rules_not_applicable: list[RuleNotApplicable]
    segments: dict[str, tuple[SegmentResult, ...]] = field(default_factory=dict)
    anomalies: AnomalyResult = field(default_factory=AnomalyResult)
    reference_cache: ReferenceCacheStats = field(default_factory=ReferenceCacheStats)
    window_cache: WindowCacheStats = field(default_factory=WindowCacheStats)
    #: the probe results read (``sources.probes``), None without
    probes: ProbeCounts | None = None
    #: the unfinished probe result files skipped (``.part``)
    probes_unfinished: tuple[SkippedFile, ...] = ()
    #: the spans read (``sources.traces``), None without; the unfinished files skipped
    traces: TraceCounts | None = None
    traces_unfinished: tuple[SkippedFile, ...] = ()
    #: the slowest traced predictions, None without ``sources.traces``
    slowest_requests: tuple[SlowRequest, ...] | None = None


def _windows(parts: RunParts) -> Windows:
    """The overall windows with their anomaly counts and attribution drift."""
    drift = (parts.anomalies.explanations.attribution_drift
             if parts.anomalies.explanations is not None else None) or {}
    out = []
    for w in parts.overall.windows:
        moved = drift.get(w.index)
        out.append(dataclasses.replace(
            w, anomaly_counts=dict(parts.anomalies.counts.get(w.index, {})),
            attribution_drift=moved.tv_distance if moved else None,
            layout=None if w.layout is None
            else (*w.layout, "anomaly_counts", "attribution_drift")))
    return Windows(out)


def _unfinished(parts: RunParts) -> dict[str, tuple[UnfinishedFile, ...]]:
    """The unfinished log files each source skipped (only the sources that skipped some)."""
    logs = parts.logs
    skipped = {"current": logs.current.unfinished,
               "reference": logs.reference.unfinished if logs.reference else (),
               "labels": logs.label_quarantine.unfinished if logs.label_quarantine else (),
               "probes": parts.probes_unfinished, "traces": parts.traces_unfinished}
    return {source: tuple(UnfinishedFile(path=f.path, bytes=f.bytes) for f in files)
            for source, files in skipped.items() if files}


def assemble_run(parts: RunParts, timings: dict[str, float]) -> Analysis:
    """The :class:`Analysis` of a run's parts (findings not yet judged).

    Parameters
    ----------
    parts : RunParts
    timings : dict[str, float]
        Seconds per stage.

    Returns
    -------
    Analysis
    """
    config, logs, overall = parts.config, parts.logs, parts.overall
    cur, ref, labels = logs.current, logs.reference, logs.labels
    windows = _windows(parts)
    explanations = parts.anomalies.explanations
    rules = overall.drift_rules
    return Analysis(
        config=config, logs=logs, table=parts.table, drift=overall.drift,
        schema_version=SCHEMA_VERSION,
        obskit_version=__version__,
        generated_at=parts.generated_at,
        title=config.title,
        status="alert" if parts.alerts else "ok",
        task=logs.task,
        window=config.window,
        period=Period(start=windows[0].start if windows else None,
                      end=windows[-1].end if windows else None,
                      requested_start=config.period_start,
                      requested_end=config.period_end),
        rows=RowCounts(read=cur.rows_read,
                       current=cur.rows_used - parts.outside_period,
                       outside_period=parts.outside_period,
                       quarantined=cur.rows_quarantined,
                       reference=ref.rows_used if ref else 0,
                       reference_quarantined=ref.rows_quarantined if ref else 0),
        labels=None if labels is None else record(LabelCounts, dataclasses.asdict(labels)),
        probes=parts.probes,
        traces=parts.traces,
        slowest_requests=parts.slowest_requests,
        quarantine=Quarantine.from_dict(cur.quarantine_summary()),
        sources=Sources(current=tuple(cur.files),
                        reference=tuple(ref.files) if ref else (),
                        labels=tuple(logs.label_quarantine.files)
                        if logs.label_quarantine else (),
                        unfinished=_unfinished(parts)),
        features=dict(logs.features),
        missing_features=tuple(logs.missing_features),
        roles=tuple(logs.roles),
        class_scores=dict(logs.class_scores),
        reference=ReferenceResult(performance=overall.reference_performance,
                                  performance_ci=overall.reference_performance_ci),
        windows=windows,
        drift_summary=overall.drift_summary,
        data_quality=overall.quality_summary,
        distributions=overall.distributions,
        segments=parts.segments,
        anomalies=parts.anomalies.rows,
        window_anomalies=parts.anomalies.window_anomalies,
        explanations=explanations,
        cohort_attribution={
            r.feature: CohortShare(anomalous=r.anomalous, normal=r.normal,
                                   reference=r.reference)
            for r in (explanations.cohort_attribution or ()
                      if explanations is not None else ())},
        alerts=Alerts(parts.alerts),
        insufficient_data=tuple(parts.insufficient),
        alert_rules=tuple(AlertRule.from_dict(vars(r)) for r in alert_rules(config, logs)),
        alert_rules_default=config.alerts_default,
        alert_rules_not_applicable=tuple(parts.rules_not_applicable),
        findings=(),
        timings=dict(timings),
        reference_cache=parts.reference_cache,
        window_cache=parts.window_cache,
        notes=(*logs.notes, *(r.note for r in rules.values() if r.note)),
        estimation=parts.estimation,
        drift_not_judged={name: r.note for name, r in rules.items()
                          if r.method == NOT_JUDGED},
        methods=Methods(
            drift={name: record(DriftMethod, {"method": r.method, "threshold":
                                              finite(r.threshold),
                                              **({"note": r.note} if r.note else {})})
                   for name, r in rules.items()},
            drift_fdr=config.drift_default.get("fdr"),
            drift_persistence=config.drift_default.get("persistence"),
            min_window_rows=config.min_window_rows,
            min_segment_rows=config.min_segment_rows,
            latency_quantiles="exact, linear interpolation (numpy's default)"),
    )


def _findings(run: Run) -> tuple[Finding, ...]:
    """The findings of ``run`` (:func:`obskit.findings.build_findings`)."""
    return build_findings(run)


def analyze(config: Config | str, *, logs: LoadedLogs | None = None) -> Analysis:
    """Run the whole analysis for ``config``.

    Seconds per stage land in ``timings`` (and the ``obskit.timings`` log), recorded into
    the caller's active stopwatch when there is one.

    Parameters
    ----------
    config : Config or str
        The config, or a config file path.
    logs : LoadedLogs, optional
        Logs already loaded for ``config`` (None: load them).

    Returns
    -------
    Analysis
        The run, with its findings.

    Raises
    ------
    obskit.exceptions.ConfigError, obskit.exceptions.InputError
        A bad config, or logs that cannot be analysed (no row in the period, ...).
    """
    if isinstance(config, Mapping):
        raise TypeError("analyze() takes a Config or a config file path; for settings in "
                        "a dict use obskit.load_config(path, overrides={...})")
    if not isinstance(config, Config):
        config = load_config(config)
    stopwatch = active() or Stopwatch()
    with recording(stopwatch):
        parts = _analyze(config, logs)
    analysis = assemble_run(parts, stopwatch.to_dict())
    return dataclasses.replace(analysis, findings=_findings(analysis))


def _empty_period(config: Config, logs: LoadedLogs) -> InputError:
    """No current row falls in the run's ``period``: a run over nothing is not "ok"."""
    ts = logs.current.table.timestamp
    span = logs.current.table.aggregate(lo=ts.min(), hi=ts.max()).execute().iloc[0]
    return InputError(
        f"period: no row of sources.current falls between {config.period_start or '...'} "
        f"and {config.period_end or '...'} (config keys 'period.start', 'period.end'); "
        f"its {logs.current.rows_used:,} rows run from {iso(span.lo)} to {iso(span.hi)}.",
        path=logs.current.files[0] if logs.current.files else None)


def _analyze(config: Config, logs: LoadedLogs | None) -> RunParts:
    generated = iso(datetime.now(timezone.utc))
    preflight(config)
    with stage("load"):
        logs = logs or load_logs(config)
    require_used_rows(logs)
    check_predictions(config, logs)
    check_alert_metrics(config.alerts, features=list(logs.features), task=logs.task)
    # a bad 'segments' stops before the work
    segment_columns(config, list(logs.current.table.columns))
    with stage("load"):
        table, spec, outside = analysed_table(config, logs)  # period filter, window 0 first
    if outside and outside == logs.current.rows_used:
        raise _empty_period(config, logs)
    reference = logs.reference.table if logs.reference else None
    cache = reference_cache(config, logs)
    windows = window_cache(config, logs, spec, table)
    overall = analyse_table(config, logs, spec, table, reference, distributions=True,
                            cache=cache, window_cache=windows)
    with stage("profile"):
        overall.windows, probes, probes_unfinished = analyse_probes(config, logs.con, spec,
                                                                   overall.windows)
        spans = read_traces(config, logs.con)
        overall.windows, traces, traces_unfinished = analyse_traces(
            config, logs.con, table, overall.windows, spans=spans,
            row_windows=isinstance(spec, RowWindow))
    for source, skipped in (("probes", probes_unfinished), ("traces", traces_unfinished)):
        if skipped:
            logs.notes.append(unfinished_note(source, skipped))
    alerts, insufficient = judge(config, logs, overall.windows, overall.reference_performance,
                                 overall.reference_performance_ci)
    if reference is None and NO_REFERENCE_NOTE not in logs.notes:
        logs.notes.append(NO_REFERENCE_NOTE)
    unjudged = reference_rules_not_judged(config, logs, overall.reference_performance)
    for entry in unjudged:
        note = f"Rule {entry.rule} is not judged: {entry.reason}."
        if note not in logs.notes:
            logs.notes.append(note)
    not_applicable = split_applicable(alert_rules(config, logs), logs.roles)[1]
    parts = RunParts(config=config, logs=logs, overall=overall, table=table,
                     generated_at=generated, outside_period=outside, alerts=alerts,
                     insufficient=insufficient, probes=probes,
                     probes_unfinished=probes_unfinished, traces=traces,
                     traces_unfinished=traces_unfinished,
                     estimation=estimation_status(config, logs, reference),
                     rules_not_applicable=[RuleNotApplicable.from_dict(r)
                                           for r in not_applicable] + unjudged)
    note = f"Performance was not estimated without labels: {parts.estimation.reason}."
    if parts.estimation.reason and config.estimation and note not in logs.notes:
        logs.notes.append(note)
    with stage("segments", absorb=True):
        parts.segments, segment_alerts = analyse_segments(config, logs, spec, table, cache,
                                                          windows)
        parts.alerts += segment_alerts
    with stage("anomalies"):
        parts.anomalies = analyse_anomalies(config, logs, table, reference, overall.windows,
                                            overall.drift_summary, cache=cache,
                                            window_cache=windows, spec=spec)
        parts.slowest_requests, linked = link_traces(spans, table, parts.anomalies.rows)
        parts.anomalies = dataclasses.replace(parts.anomalies, rows=linked)
    parts.reference_cache = ReferenceCacheStats(enabled=cache.enabled, hits=cache.hits,
                                                misses=cache.misses)
    parts.window_cache = windows.stats()
    return parts
