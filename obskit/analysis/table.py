"""Every monitor on one windowed table (the whole log, or one segment) against one
reference: :func:`analyse_table` and the monitors' settings it reads from the config."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from obskit._format import finite
from obskit._text import plural
from obskit.analysis.assemble import WindowFrames, assemble_windows
from obskit.analysis.drift_rules import drift_rules, drift_summary
from obskit.analysis.reference_cache import ReferenceCache, cache_directory, log_fingerprint
from obskit.analysis.window_cache import WindowCache, settings_text
from obskit.config import Config, DriftRule
from obskit.io.logs import LoadedLogs
from obskit.io.timestamps import in_period
from obskit.metrics.performance import METRICS
from obskit.monitors import (
    DataQualityMonitor,
    DomainClassifierMonitor,
    DriftMonitor,
    EstimatedPerformanceMonitor,
    PCAReconstructionMonitor,
    PerformanceMonitor,
)
from obskit.monitors.data_quality import data_quality_summary, windowed_quarantine
from obskit.profiles import W, health_by_window, model_versions_by_window, window_overview
from obskit.profiles.segments import Segment
from obskit.results import (
    DataQualitySummary,
    Distribution,
    DriftSummary,
    EstimationStatus,
    Windows,
)
from obskit.results.windows import Interval
from obskit.schema import measures_performance
from obskit.stattests.drift_rules import NOT_JUDGED
from obskit.timings import stage
from obskit.windows import PeriodWindow, WindowSpec

__all__ = ["ESTIMATION_METHODS", "NO_REFERENCE_DRIFT", "TableResult", "analyse_table",
           "data_quality", "estimated_performance", "estimation_status",
           "multivariate_drift", "reference_cache"]

#: the reason of a drift entry of a run without a reference
NO_REFERENCE_DRIFT = "no reference to compare with (--reference, 'sources.reference')"


@dataclass
class TableResult:
    """What the monitors found on one table (the whole log, or one segment).

    ``drift`` and ``data_quality`` are the monitors' long frames (one row per window and
    feature); the rest are the typed records the run holds.
    """

    windows: Windows
    drift: pd.DataFrame
    reference_performance: dict[str, float | None]
    distributions: dict[str, Distribution] = field(default_factory=dict)
    drift_rules: dict[str, DriftRule] = field(default_factory=dict)
    reference_performance_ci: dict[str, Interval] = field(default_factory=dict)
    #: (window, feature) → data quality counts and shares (:class:`DataQualityMonitor`)
    data_quality: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: feature → its drift over the judged windows (computed once per table)
    drift_summary: dict[str, DriftSummary] = field(default_factory=dict)
    #: feature → its data quality over the windows
    quality_summary: dict[str, DataQualitySummary] = field(default_factory=dict)


def _overview(spec: WindowSpec, table: Any) -> pd.DataFrame:
    overview = window_overview(table)
    if isinstance(spec, PeriodWindow) and len(overview):
        full = pd.DataFrame({W: np.arange(overview[W].min(), overview[W].max() + 1)})
        overview = full.merge(overview, on=W, how="left")
        overview["rows"] = overview["rows"].fillna(0).astype(int)
    return overview


def _with_quarantined(overview: pd.DataFrame, quality: pd.DataFrame) -> pd.DataFrame:
    """The overview with the (period) windows whose every row was quarantined: a day that
    logged only values of the wrong type keeps its window (0 rows used), so its data
    quality is judged, even when it is the last day."""
    if not len(quality) or W not in quality:
        return overview
    known = set(overview[W].astype(int)) if len(overview) else set()
    extra = sorted(set(quality[W].astype(int)) - known)
    if not extra:
        return overview
    full = pd.concat([overview, pd.DataFrame({W: extra, "rows": 0})], ignore_index=True)
    low, high = int(full[W].min()), int(full[W].max())
    full = pd.DataFrame({W: np.arange(low, high + 1)}).merge(full, on=W, how="left")
    full["rows"] = full["rows"].fillna(0).astype(int)
    return full


def reference_cache(config: Config, logs: LoadedLogs) -> ReferenceCache:
    """The cache of fitted reference statistics for this config and reference data.

    Returns
    -------
    ReferenceCache
        Off (fits every time) without a reference or with ``reference_cache: false``.
    """
    ref = logs.reference
    setting = config.reference_cache
    if ref is None or setting is False:
        return ReferenceCache(None, None)
    directory = cache_directory(setting, config.out, "reference")
    key = log_fingerprint(ref, logs.features)
    # each engine fits its own: a parity check between engines must not share a fit
    return ReferenceCache(directory, key and f"{config.engine}:{key}")


def multivariate_drift(config: Config, features: dict[str, str], table: Any, reference: Any,
                       cache: ReferenceCache | None = None) -> pd.DataFrame:
    """Domain-classifier AUC and PCA reconstruction error per window (both methods stacked).

    Run on the whole log only: segments would multiply the model fits.

    Returns
    -------
    pandas.DataFrame
        One row per (window, method); empty without a reference, features, or when
        turned off.
    """
    settings = config.multivariate
    if reference is None or not features or not settings["enabled"]:
        return pd.DataFrame()
    cache = cache or ReferenceCache(None, None)
    domain = cache.fit(DomainClassifierMonitor(features, sample_rows=settings["sample_rows"],
                                               threshold=settings["threshold"]), reference)
    pca = cache.fit(PCAReconstructionMonitor(features), reference)
    return pd.concat([domain.calculate(table), pca.calculate(table)], ignore_index=True)


#: the label-free method of each task
ESTIMATION_METHODS = {"binary": "CBPE", "multiclass": "CBPE (one-vs-rest)", "regression": "DLE"}


def estimation_status(config: Config, logs: LoadedLogs, reference: Any) -> EstimationStatus:
    """The method that estimates performance without labels, or ``method`` None and the
    reason it cannot run (a sentence for readers).

    Returns
    -------
    EstimationStatus
    """
    method = ESTIMATION_METHODS.get(logs.task)
    reason = None
    if not config.estimation:
        reason = "turned off in the config (estimation: false)"
    elif reference is None:
        reason = "there are no reference logs to calibrate it on"
    elif "label" not in reference.columns:
        reason = "the reference logs have no labels to calibrate it on"
    elif logs.task == "binary" and "score" not in reference.columns:
        reason = "the logs have no score column (CBPE needs the model's probabilities)"
    elif logs.task == "multiclass" and not logs.class_scores:
        reason = ("the logs have no probability column per class (y_pred_proba_<class>, "
                  "proba_<class>, or mapped with columns.class_scores); CBPE needs them")
    elif logs.task == "regression" and "prediction" not in reference.columns:
        reason = "the logs have no prediction column"
    else:
        labelled = int(reference.label.notnull().sum().execute() or 0)
        if labelled < config.min_window_rows:
            reason = (f"the reference has {plural(labelled, 'labelled row')}, fewer than "
                      f"min_window_rows ({config.min_window_rows})")
    return EstimationStatus(method=None if reason else method, reason=reason)


def estimated_performance(config: Config, logs: LoadedLogs, table: Any, reference: Any,
                          cache: ReferenceCache | None = None, scope: str = "all"
                          ) -> pd.DataFrame:
    """Performance estimated without labels: CBPE (binary, multiclass with one probability
    column per class) or DLE (regression); nothing where :func:`estimation_status` gives
    a reason.

    Returns
    -------
    pandas.DataFrame
        One row per window (empty when not estimated).
    """
    if estimation_status(config, logs, reference).reason:
        return pd.DataFrame()
    monitor = EstimatedPerformanceMonitor(logs.task, positive_label=config.positive_label,
                                          features=logs.features,
                                          class_scores=logs.class_scores or None)
    cache = cache or ReferenceCache(None, None)
    return cache.fit(monitor, reference, scope=scope).calculate(table)


def _covered(config: Config) -> tuple[datetime | None, datetime | None]:
    """The span the data of this run can cover: its ``period`` (None: open)."""
    def moment(text: str | None) -> datetime | None:
        if not text:
            return None
        ts = pd.Timestamp(text)
        return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
                ).to_pydatetime()

    return moment(config.period_start), moment(config.period_end)


def data_quality(logs: LoadedLogs, spec: WindowSpec, table: Any, reference: Any,
                 segment: Segment | None = None,
                 period: tuple[str | None, str | None] = (None, None),
                 cache: ReferenceCache | None = None, scope: str = "all") -> pd.DataFrame:
    """Data quality per (window, feature) against ``reference``; wrong-type values from
    the quarantine (period windows: a quarantined row has no place among row windows),
    counted against the whole reference's quarantine; in a segment, only when the
    quarantine knows the segment column; only the quarantined rows in ``period`` (the
    run's ``period_start``, ``period_end``). The reference's fit comes from ``cache``
    (under ``scope``, the reference's name) when there.

    Returns
    -------
    pandas.DataFrame
        One row per (window, feature) (:class:`DataQualityMonitor`).
    """
    ref_q = logs.reference.quarantine if logs.reference is not None else None
    cur_q = (windowed_quarantine(logs.current.quarantine, spec.assign)
             if isinstance(spec, PeriodWindow) else None)
    if cur_q is not None:
        cur_q = in_period(cur_q, *period)
    basis = "whole quarantine"
    if segment is not None and cur_q is not None:
        cur_q = segment.filter(cur_q) if segment.column in cur_q.columns else None
        if cur_q is None:
            ref_q = None
        elif ref_q is not None and segment.column in ref_q.columns:
            ref_q, basis = segment.filter(ref_q), f"quarantine of {segment.label}"
    if ref_q is None:
        basis = "no quarantine"
    monitor = (cache or ReferenceCache(None, None)).fit(
        DataQualityMonitor(logs.features), reference, scope=f"{scope}|{basis}",
        quarantine=ref_q)
    return monitor.calculate(table, quarantine=cur_q)


def analyse_table(config: Config, logs: LoadedLogs, spec: WindowSpec, table: Any,
                  reference: Any, *, distributions: bool = False,
                  cache: ReferenceCache | None = None, scope: str = "all",
                  segment: Segment | None = None,
                  window_cache: WindowCache | None = None) -> TableResult:
    """Run every monitor on one windowed table against one reference.

    Parameters
    ----------
    config : Config
    logs : LoadedLogs
    spec : WindowSpec
        How ``table``'s rows are cut into windows.
    table : ibis.Table
        The current rows with their ``window_index``.
    reference : ibis.Table or None
        The reference rows (None: nothing to compare with).
    distributions : bool, default False
        Compute the distributions and multivariate drift (the whole log only).
    cache : ReferenceCache, optional
        Fitted reference statistics, under ``scope`` (the reference's name: ``all`` or a
        segment), when there.
    scope : str, default ``"all"``
    segment : Segment, optional
        The segment ``table`` holds (None: the whole log).
    window_cache : WindowCache, optional
        Per-window results of earlier runs: only the windows not found are computed.

    Returns
    -------
    TableResult
    """
    cache = cache or ReferenceCache(None, None)
    rules: dict[str, DriftRule] = {}
    with stage("drift"):  # the rules look at the whole table: part of every window's key
        if reference is not None and logs.features:
            rules = drift_rules(config, logs.features, reference, table)
    plan = (window_cache or WindowCache(None)).plan(
        spec, table, settings=settings_text(rules), scope=f"{segment and segment.label}|{scope}",
        segment=segment, by_index=logs.task == "regression")
    todo = plan.pending  # the rows of the windows not found in the cache
    with stage("profile"):
        overview = _overview(spec, todo)
        rows = {int(w): int(n) for w, n in zip(overview[W], overview.rows, strict=True)}
        health = health_by_window(todo, window_rows=rows)
        versions = (model_versions_by_window(todo) if "model_version" in table.columns
                    else None)
        quality = data_quality(logs, spec, todo, reference, segment,
                               period=(config.period_start, config.period_end),
                               cache=cache if reference is not None else None, scope=scope)
        overview = _with_quarantined(overview, quality)
    drift = pd.DataFrame(columns=[W, "feature", "method", "value", "threshold", "drifted"])
    dists: dict[str, Any] = {}
    with stage("drift"):
        if reference is not None and logs.features:
            options = {k: config.drift_default[k] for k in ("threshold", "persistence", "fdr")}
            judged = {f: k for f, k in logs.features.items() if rules[f].method != NOT_JUDGED}
            monitor = cache.fit(DriftMonitor(judged, {f: rules[f] for f in judged}, **options),
                                reference, scope=scope)
            drift = monitor.calculate(todo)
            dists = monitor.distributions(table) if distributions else {}
        multivariate = (multivariate_drift(config, logs.features, todo, reference, cache)
                        if distributions else pd.DataFrame())
    with stage("performance"):
        perf_monitor = PerformanceMonitor(logs.task, positive_label=config.positive_label,
                                          class_scores=logs.class_scores)
        if reference is None:
            perf_monitor.fit(reference)
        else:
            cache.fit(perf_monitor, reference, scope=scope)
        performance = perf_monitor.calculate(todo)
        estimated = estimated_performance(config, logs, todo, reference, cache, scope)
    frames = plan.merge(WindowFrames(overview=overview, drift=drift, performance=performance,
                                     estimated=estimated, multivariate=multivariate,
                                     health=health, data_quality=quality, versions=versions),
                        persistence=config.drift_default.get("persistence"))
    drift, quality = frames.drift, frames.data_quality
    windows = assemble_windows(spec, frames, features=list(logs.features),
                               metrics=METRICS[logs.task], min_rows=config.min_window_rows,
                               has_labels=measures_performance(
                                   logs.task, table.columns,
                                   class_scores=bool(logs.class_scores)),
                               covered=_covered(config),
                               not_judged=NO_REFERENCE_DRIFT if reference is None else None)
    _count_values(dists, quality, windows)
    reference_performance = {k: finite(v) for k, v in perf_monitor.reference_.items()}
    reference_ci: dict[str, Interval] = {
        k: (finite(v[0]), finite(v[1]))
        for k, v in getattr(perf_monitor, "reference_ci_", {}).items()}
    quality_summary = data_quality_summary([w.to_dict() for w in windows], logs.features,
                                           min_rows=config.min_window_rows)
    return TableResult(windows, drift, reference_performance,
                       {f: Distribution.from_dict(d) for f, d in dists.items()}, rules,
                       reference_performance_ci=reference_ci, data_quality=quality,
                       drift_summary=drift_summary(drift, windows, logs.features),
                       quality_summary={f: DataQualitySummary.from_dict(q)
                                        for f, q in quality_summary.items()})


def _count_values(dists: dict[str, Any], quality: pd.DataFrame, windows: Windows) -> None:
    """Each distribution says how many current values it holds and which were left out
    (missing, non-finite), over the windows of the run."""
    if not len(quality):
        return
    shown = quality[quality[W].isin({w.index for w in windows})]
    for f, dist in dists.items():
        rows = shown[shown.feature == f]
        dist["current_values"] = int(rows["values"].sum())
        dist["current_left_out"] = {"missing": int(rows["missing"].sum()),
                                    "non_finite": int(rows["non_finite"].fillna(0).sum())}
