"""One monitoring run: load the logs, cut windows, run the monitors, judge the rules.

:func:`analyze` is what ``obskit report`` and the notebooks call. It builds the typed
result (:class:`obskit.results.Run`, :attr:`Analysis.run`) once; ``summary.json``, the
public contract, is that run's document (:meth:`Analysis.to_summary`).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from obskit._text import plural
from obskit._version import __version__
from obskit.alerts import evaluate_rules, split_applicable
from obskit.anomaly_report import analyse_anomalies
from obskit.assemble import WindowFrames, assemble_windows, iso, number
from obskit.config import AlertRuleConfig, Config, DriftRule, load_config
from obskit.drift import NOT_JUDGED
from obskit.exceptions import InputError
from obskit.findings import build_findings
from obskit.io.engine import materialize
from obskit.io.logs import LoadedLogs, check_predictions, load_logs, require_used_rows
from obskit.monitors import (
    DataQualityMonitor,
    DomainClassifierMonitor,
    DriftMonitor,
    EstimatedPerformanceMonitor,
    PCAReconstructionMonitor,
    PerformanceMonitor,
)
from obskit.monitors.data_quality import data_quality_summary, windowed_quarantine
from obskit.performance import METRICS, primary_metric
from obskit.profiles import W, health_by_window, window_overview
from obskit.profiles.period import analysed_rows
from obskit.reference_cache import ReferenceCache, data_fingerprint
from obskit.results import SCHEMA_VERSION, Run
from obskit.schema import is_numeric_type, measures_performance
from obskit.segments import Segment, find_segments, segment_columns
from obskit.timings import Stopwatch, active, recording, stage
from obskit.windows import PeriodWindow, WindowSpec

__all__ = ["Analysis", "analyze", "SCHEMA_VERSION"]


def drift_rules(config: Config, features: dict[str, str], reference=None,
                current=None) -> dict[str, DriftRule]:
    """The drift rule of each feature: per-feature config, else the configured rule for its
    type, else Evidently 0.7's default for it (:func:`obskit.drift.default_rule`, from the
    reference rows and the distinct values of reference and current, counted in one engine
    query). Without a ``reference`` such features get ``DriftRule("auto", nan)``."""
    from obskit.drift import cardinality_rule, default_rule
    from obskit.profiles.drift import category_cardinality, feature_stats

    stats = feature_stats(reference, current, features) if reference is not None else None
    wide: dict[str, DriftRule] = {}  # categoricals with too many values for a binned method
    if reference is not None:
        names = [f for f, kind in features.items()
                 if kind == "categorical" and f not in config.drift_features]
        counts, window_rows = category_cardinality(reference, current, names)
        for f, r in counts.iterrows():
            rule = cardinality_rule(str(f), reference_rows=int(r.reference_rows),
                                    reference_unique=int(r.reference_unique),
                                    window_rows=window_rows or float(r.reference_rows))
            if rule is not None:
                wide[str(f)] = rule
    rules = {}
    for name, kind in features.items():
        configured = config.drift_default.get("numeric" if is_numeric_type(kind)
                                              else "categorical")
        if name in config.drift_features:
            rules[name] = config.drift_features[name]
        elif name in wide:
            rules[name] = wide[name]
        elif configured is not None:
            rules[name] = configured
        elif stats is not None:
            rules[name] = default_rule(kind, int(stats.reference_rows[name]),
                                       int(stats.n_unique[name]))
        else:
            rules[name] = DriftRule("auto", float("nan"))
    return rules


def alert_rules(config: Config, logs: LoadedLogs) -> tuple[AlertRuleConfig, ...]:
    """The rules in force: the configured ones, or the defaults with the performance rule
    watching the task's primary metric."""
    if not config.alerts_default:
        return config.alerts
    primary = primary_metric(logs.task, has_score="score" in logs.roles)
    return tuple(
        dataclasses.replace(r, metric=f"performance.{primary}")
        if r.metric == "performance.*" else r
        for r in config.alerts
    )


def drift_summary(drift: pd.DataFrame, windows: list[dict[str, Any]],
                  features: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per feature: method, threshold, windows drifted, first drifted window, peak.

    ``worst_value`` is the value of the most drifted window in the method's direction (the
    smallest p-value, the largest distance); ``max_value`` stays the largest value (for a
    p-value method, the least drifted window), kept for compatibility."""
    from obskit.drift import worst_value

    out: dict[str, dict[str, Any]] = {}
    starts = {w["index"]: w["start"] for w in windows}
    judged = {w["index"] for w in windows if w["status"] == "ok"}
    for feature, grp in drift.groupby("feature", sort=False):
        grp = grp[grp[W].isin(judged)].sort_values(W)
        if not len(grp):
            continue
        drifted = grp[grp.drifted == True]  # noqa: E712 - None means not judged
        finite = grp.value[np.isfinite(grp.value.astype(float))]
        out[feature] = {
            "type": features.get(feature),
            "method": grp.method.iloc[0],
            "threshold": number(grp.threshold.iloc[-1]),
            "threshold_kind": (grp.threshold_kind.iloc[-1] if "threshold_kind" in grp
                               else "constant"),
            "windows": int(grp.drifted.notna().sum()),
            "drifted_windows": int(len(drifted)),
            "first_drifted": starts.get(int(drifted[W].iloc[0])) if len(drifted) else None,
            "max_value": number(finite.max()) if len(finite) else None,
            "last_value": number(grp.value.iloc[-1]),
            "worst_value": number(worst_value(finite, grp.method.iloc[0])),
        }
    return out


@dataclass
class TableResult:
    """What the monitors found on one table (the whole log, or one segment)."""

    windows: list[dict[str, Any]]
    drift: pd.DataFrame
    reference_performance: dict[str, Any]
    distributions: dict[str, Any] = field(default_factory=dict)
    drift_rules: dict[str, DriftRule] = field(default_factory=dict)
    reference_performance_ci: dict[str, Any] = field(default_factory=dict)
    #: (window, feature) → data quality counts and shares (:class:`DataQualityMonitor`)
    data_quality: pd.DataFrame = field(default_factory=pd.DataFrame)


def _overview(spec: WindowSpec, table) -> pd.DataFrame:
    overview = window_overview(table)
    if isinstance(spec, PeriodWindow) and len(overview):
        full = pd.DataFrame({W: np.arange(overview[W].min(), overview[W].max() + 1)})
        overview = full.merge(overview, on=W, how="left")
        overview["rows"] = overview["rows"].fillna(0).astype(int)
    return overview


def reference_cache(config: Config, logs: LoadedLogs) -> ReferenceCache:
    """The cache of fitted reference statistics for this config and reference data."""
    ref = logs.reference
    setting = config.reference_cache
    if ref is None or setting is False:
        return ReferenceCache(None, None)
    directory = Path(setting) if isinstance(setting, str) \
        else Path(config.out).absolute() / ".cache" / "reference"
    key = data_fingerprint(ref.files, rows_used=ref.rows_used,
                           rows_quarantined=ref.rows_quarantined, features=logs.features)
    # each engine fits its own: a parity check between engines must not share a fit
    return ReferenceCache(directory, key and f"{config.engine}:{key}")


def multivariate_drift(config: Config, features: dict[str, str], table, reference,
                       cache: ReferenceCache | None = None) -> pd.DataFrame:
    """Domain-classifier AUC and PCA reconstruction error per window (both methods stacked).

    Run on the whole log only: segments would multiply the model fits.
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


def estimation_status(config: Config, logs: LoadedLogs, reference) -> dict[str, Any]:
    """``{"method": ..., "reason": ...}``: the method that estimates performance without
    labels, or ``method`` None and the reason it cannot run (a sentence for readers)."""
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
    return {"method": None if reason else method, "reason": reason}


def estimated_performance(config: Config, logs: LoadedLogs, table, reference,
                          cache: ReferenceCache | None = None, scope: str = "all"
                          ) -> pd.DataFrame:
    """Performance estimated without labels: CBPE (binary, multiclass with one probability
    column per class) or DLE (regression); nothing where :func:`estimation_status` gives
    a reason."""
    if estimation_status(config, logs, reference)["reason"]:
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


def data_quality(logs: LoadedLogs, spec: WindowSpec, table, reference,
                 segment: Segment | None = None) -> pd.DataFrame:
    """Data quality per (window, feature) against ``reference``; wrong-type values from
    the quarantine (period windows: a quarantined row has no place among row windows),
    counted against the whole reference's quarantine; in a segment, only when the
    quarantine knows the segment column."""
    ref_q = logs.reference.quarantine if logs.reference is not None else None
    cur_q = (windowed_quarantine(logs.current.quarantine, spec.assign)
             if isinstance(spec, PeriodWindow) else None)
    if segment is not None and cur_q is not None:
        cur_q = segment.filter(cur_q) if segment.column in cur_q.columns else None
        ref_q = (segment.filter(ref_q) if ref_q is not None and segment.column in ref_q.columns
                 else ref_q) if cur_q is not None else None
    monitor = DataQualityMonitor(logs.features).fit(reference, quarantine=ref_q)
    return monitor.calculate(table, quarantine=cur_q)


def analyse_table(config: Config, logs: LoadedLogs, spec: WindowSpec, table, reference, *,
                  distributions: bool = False, cache: ReferenceCache | None = None,
                  scope: str = "all", segment: Segment | None = None) -> TableResult:
    """Run every monitor on one windowed table against one reference (``distributions``
    and multivariate drift only for the whole log). Fitted reference statistics come from
    ``cache`` under ``scope`` (the reference's name: ``all`` or a segment) when there."""
    cache = cache or ReferenceCache(None, None)
    with stage("profile"):
        overview = _overview(spec, table)
        health = health_by_window(table)
        quality = data_quality(logs, spec, table, reference, segment)
    drift = pd.DataFrame(columns=[W, "feature", "method", "value", "threshold", "drifted"])
    dists: dict[str, Any] = {}
    rules: dict[str, DriftRule] = {}
    with stage("drift"):
        if reference is not None and logs.features:
            rules = drift_rules(config, logs.features, reference, table)
            options = {k: config.drift_default[k] for k in ("threshold", "persistence", "fdr")}
            judged = {f: k for f, k in logs.features.items() if rules[f].method != NOT_JUDGED}
            monitor = cache.fit(DriftMonitor(judged, {f: rules[f] for f in judged}, **options),
                                reference, scope=scope)
            drift = monitor.calculate(table)
            dists = monitor.distributions(table) if distributions else {}
        multivariate = (multivariate_drift(config, logs.features, table, reference, cache)
                        if distributions else pd.DataFrame())
    with stage("performance"):
        perf_monitor = PerformanceMonitor(logs.task, positive_label=config.positive_label,
                                          class_scores=logs.class_scores)
        if reference is None:
            perf_monitor.fit(reference)
        else:
            cache.fit(perf_monitor, reference, scope=scope)
        performance = perf_monitor.calculate(table)
        estimated = estimated_performance(config, logs, table, reference, cache, scope)
    frames = WindowFrames(overview=overview, drift=drift, performance=performance,
                          estimated=estimated, multivariate=multivariate, health=health,
                          data_quality=quality)
    windows = assemble_windows(spec, frames, features=list(logs.features),
                               metrics=METRICS[logs.task], min_rows=config.min_window_rows,
                               has_labels=measures_performance(
                                   logs.task, table.columns,
                                   class_scores=bool(logs.class_scores)),
                               covered=_covered(config))
    _count_values(dists, quality, windows)
    if reference is None:  # nothing to compare with: say so in every drift entry
        for w in windows:
            for entry in w["drift"].values():
                if entry["drifted"] is None and not entry.get("reason"):
                    entry["reason"] = NO_REFERENCE_DRIFT
    reference_performance = {k: number(v) for k, v in perf_monitor.reference_.items()}
    reference_ci = {k: [number(b) for b in v]
                    for k, v in getattr(perf_monitor, "reference_ci_", {}).items()}
    return TableResult(windows, drift, reference_performance, dists, rules,
                       reference_performance_ci=reference_ci, data_quality=quality)


def _count_values(dists: dict[str, Any], quality: pd.DataFrame,
                  windows: list[dict[str, Any]]) -> None:
    """Each distribution says how many current values it holds and which were left out
    (missing, non-finite), over the windows of the run."""
    if not len(quality):
        return
    shown = quality[quality[W].isin({w["index"] for w in windows})]
    for f, dist in dists.items():
        rows = shown[shown.feature == f]
        dist["current_values"] = int(rows["values"].sum())
        dist["current_left_out"] = {"missing": int(rows["missing"].sum()),
                                    "non_finite": int(rows["non_finite"].fillna(0).sum())}


def _fallback(config: Config, logs: LoadedLogs) -> dict[str, str]:
    """The default performance rule judges accuracy in a window where its primary metric
    is undefined (roc_auc with one class labelled) — a broken label feed is not "ok"."""
    primary = primary_metric(logs.task, has_score="score" in logs.roles)
    if not config.alerts_default or logs.task == "regression" or primary == "accuracy":
        return {}
    return {f"performance.{primary}": "performance.accuracy"}


#: the reason of a drift entry, and the note, of a run without a reference
NO_REFERENCE_DRIFT = "no reference to compare with (--reference, 'sources.reference')"
NO_REFERENCE_NOTE = ("No reference: drift and data-quality comparisons (values outside the "
                     "reference's range, unseen categories, jumps in missing share) need a "
                     "reference; give one with --reference or 'sources.reference'.")


def reference_rules_not_judged(config: Config, logs: LoadedLogs,
                               reference_performance: dict[str, Any]) -> list[dict[str, Any]]:
    """Entries (as in ``alert_rules_not_applicable``) of the applicable rules relative to
    the reference's performance when the reference measures none: no reference, or a
    reference without labelled rows. Never a silent pass."""
    if (any(v is not None for v in reference_performance.values())
            or not measures_performance(logs.task, logs.roles,
                                        class_scores=bool(logs.class_scores))):
        return []
    rules = [r for r in split_applicable(alert_rules(config, logs), logs.roles)[0]
             if r.op in ("drop_pct", "significant_drop") and r.metric.startswith("performance.")]
    if not rules:
        return []
    ref, label = logs.reference, config.column("label")
    if ref is None:
        why = "there is no reference (--reference, 'sources.reference')"
    elif "label" not in ref.table.columns:
        why = f"the reference has no label column {label!r}"
    else:
        labelled = int(ref.table.label.notnull().sum().execute() or 0)
        why = (f"the reference's label column {label!r} is null in all {ref.rows_used:,} rows"
               if not labelled else
               f"no labelled reference row has a prediction or score ({labelled:,} labels)")
    return [{"rule": r.name, "metric": r.metric, "missing_roles": [], "needs_reference": True,
             "reason": f"no reference performance to compare with: {why}"} for r in rules]


def _judge(config: Config, logs: LoadedLogs, result: TableResult,
           segment: Segment | None = None) -> tuple[list[dict], list[dict]]:
    """Alerts and not-judged pairs of one table's windows (tagged with the segment)."""
    tag = {segment.column: segment.value} if segment else None
    rules, _ = split_applicable(alert_rules(config, logs), logs.roles)  # the rest: never
    alerts, insufficient = evaluate_rules(
        [{**w, "segment": tag} for w in result.windows if w["status"] == "ok"],
        rules, reference=result.reference_performance,
        reference_ci=result.reference_performance_ci, fallback=_fallback(config, logs),
    )
    insufficient += [{"rule": None, "metric": None, "window": w["index"],
                      "window_start": w["start"], "window_end": w["end"], "reason": w["status"]}
                     for w in result.windows if w["status"] != "ok"]
    for item in alerts + insufficient:
        item["segment"] = tag
    return alerts, insufficient


def _segment_reference(config: Config, logs: LoadedLogs, segment: Segment):
    """The segment's own reference when the reference has enough of it, else all of it."""
    ref = logs.reference.table if logs.reference else None
    if ref is None or segment.column not in ref.columns:
        return ref, "whole reference"
    own = segment.filter(ref)
    if int(own.count().execute()) >= config.min_segment_rows:
        return own, "same segment"
    return ref, "whole reference"


@dataclass
class Analysis:
    """The results of one run, as plain data."""

    config: Config
    logs: LoadedLogs
    overall: TableResult
    alerts: list[dict[str, Any]] = field(default_factory=list)
    insufficient: list[dict[str, Any]] = field(default_factory=list)
    segments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    generated_at: str = ""
    #: rows read and typed but outside ``period`` (not analysed)
    outside_period: int = 0
    anomalies: dict[str, Any] = field(default_factory=dict)
    #: seconds per stage (:mod:`obskit.timings`); a report run adds ``render_s``
    timings: dict[str, float] = field(default_factory=dict)
    #: reference fits restored from the cache (hits) or computed (misses)
    reference_cache: dict[str, Any] = field(default_factory=dict)
    #: the analysed current rows with their ``window_index`` (an engine table)
    table: Any = field(default=None, repr=False)
    #: the label-free estimation method, or why it did not run (:func:`estimation_status`)
    estimation: dict[str, Any] = field(default_factory=dict)
    #: rules never evaluated: a role their metric needs is not logged, or the reference
    #: measures no performance to compare with (``alert_rules_not_applicable``)
    rules_not_applicable: list[dict[str, Any]] = field(default_factory=list)
    #: per feature drift over the windows, computed once (:meth:`drift_summary`)
    _drift_summary: dict[str, dict[str, Any]] | None = field(default=None, init=False,
                                                             repr=False)
    #: the typed result and its document, built once (:meth:`finish`)
    _run: Run | None = field(default=None, init=False, repr=False)
    _document: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def _repr_html_(self) -> str:
        from obskit.render.rich import analysis_html

        return analysis_html(self)

    def explore(self, **kwargs: Any) -> Any:
        """An interactive :class:`obskit.widgets.Explorer` of this run (needs ipywidgets)."""
        from obskit.widgets import explore

        return explore(self, **kwargs)

    @property
    def windows(self) -> list[dict[str, Any]]:
        return self.overall.windows

    @property
    def drift(self) -> pd.DataFrame:
        """(window, feature) → method, value, threshold, verdict."""
        return self.overall.drift

    @property
    def status(self) -> str:
        return "alert" if self.alerts else "ok"

    def drift_summary(self) -> dict[str, dict[str, Any]]:
        """Per feature: method, threshold, windows drifted, first drifted window, peak
        (computed once, from the windows' verdicts)."""
        if self._drift_summary is None:
            self._drift_summary = drift_summary(self.drift, self.windows, self.logs.features)
        return self._drift_summary

    @property
    def run(self) -> Run:
        """The typed result of this run (:class:`obskit.results.Run`), built once."""
        if self._run is None:
            self.finish()
        assert self._run is not None
        return self._run

    def finish(self) -> Run:
        """Judge the findings and build the typed :class:`~obskit.results.Run` (once, at
        the end of :func:`analyze`; again only when called again).

        Returns
        -------
        Run
            The run; its document is what :meth:`to_summary` gives from now on.
        """
        run = Run.from_dict(self._assemble())
        self._run = dataclasses.replace(run, findings=build_findings(run))
        self.findings = [f.to_dict() for f in self._run.findings]
        self._document = self._run.to_dict()
        return self._run

    def to_summary(self) -> dict[str, Any]:
        """The ``summary.json`` document (schema :data:`SCHEMA_VERSION`) of :attr:`run`.

        Returns
        -------
        dict[str, Any]
            A copy of the run's document (made once): changing it (the runner adds its
            own keys) changes neither the run nor what the next caller gets.
        """
        if self._document is None:
            self.finish()
        assert self._document is not None
        return copy.deepcopy(self._document)

    def _assemble(self) -> dict[str, Any]:
        """The document as the monitors' records give it (findings not yet judged)."""
        logs, cur = self.logs, self.logs.current
        ref = logs.reference
        labels = logs.labels
        windows = self.windows
        return {
            "schema_version": SCHEMA_VERSION,
            "obskit_version": __version__,
            "generated_at": self.generated_at,
            "title": self.config.title,
            "status": self.status,
            "task": logs.task,
            "window": self.config.window,
            "period": {"start": windows[0]["start"] if windows else None,
                       "end": windows[-1]["end"] if windows else None,
                       "requested_start": self.config.period_start,
                       "requested_end": self.config.period_end},
            "rows": {
                "read": cur.rows_read,
                "current": cur.rows_used - self.outside_period,
                "outside_period": self.outside_period,
                "quarantined": cur.rows_quarantined,
                "reference": ref.rows_used if ref else 0,
                "reference_quarantined": ref.rows_quarantined if ref else 0,
            },
            "labels": None if labels is None else dataclasses.asdict(labels),
            "quarantine": cur.quarantine_summary(),
            "sources": {"current": list(cur.files), "reference": list(ref.files) if ref else [],
                        "labels": list(logs.label_quarantine.files)
                        if logs.label_quarantine else []},
            "features": dict(logs.features),
            "missing_features": list(logs.missing_features),
            "roles": list(logs.roles),
            "class_scores": dict(logs.class_scores),
            "reference": {"performance": self.overall.reference_performance,
                          "performance_ci": self.overall.reference_performance_ci},
            "windows": windows,
            "drift_summary": self.drift_summary(),
            "data_quality": data_quality_summary(windows, logs.features),
            "distributions": self.overall.distributions,
            "segments": self.segments,
            "anomalies": self.anomalies.get("rows", []),
            "window_anomalies": self.anomalies.get("window_anomalies", []),
            "explanations": self.anomalies.get("explanations"),
            "cohort_attribution": {
                r["feature"]: {"anomalous": r["anomalous"], "normal": r["normal"],
                               "reference": r["reference"]}
                for r in (self.anomalies.get("explanations") or {}).get("cohort_attribution",
                                                                         [])},
            "alerts": self.alerts,
            "insufficient_data": self.insufficient,
            "alert_rules": [vars(r) for r in alert_rules(self.config, logs)],
            "alert_rules_default": self.config.alerts_default,
            "alert_rules_not_applicable": list(self.rules_not_applicable),
            "findings": self.findings,
            "timings": dict(self.timings),
            "reference_cache": dict(self.reference_cache),
            "notes": list(logs.notes) + [r.note for r in self.overall.drift_rules.values()
                                         if r.note],
            "estimation": dict(self.estimation),
            "drift_not_judged": {name: r.note for name, r in self.overall.drift_rules.items()
                                 if r.method == NOT_JUDGED},
            "methods": {
                "drift": {name: {"method": r.method, "threshold": number(r.threshold),
                                 **({"note": r.note} if r.note else {})}
                          for name, r in self.overall.drift_rules.items()},
                "drift_fdr": self.config.drift_default.get("fdr"),
                "drift_persistence": self.config.drift_default.get("persistence"),
                "min_window_rows": self.config.min_window_rows,
                "min_segment_rows": self.config.min_segment_rows,
                "latency_quantiles": "exact, linear interpolation (numpy's default)",
            },
        }


def analyze(config: Config | str, *, logs: LoadedLogs | None = None) -> Analysis:
    """Run the whole analysis for ``config`` (a :class:`Config` or a config file path).

    Seconds per stage land in :attr:`Analysis.timings` (and the ``obskit.timings`` log),
    recorded into the caller's active stopwatch when there is one.
    """
    if not isinstance(config, Config):
        config = load_config(config)
    stopwatch = active() or Stopwatch()
    with recording(stopwatch):
        analysis = _analyze(config, logs)
    analysis.timings = stopwatch.to_dict()
    analysis.finish()
    return analysis


def _empty_period(config: Config, logs: LoadedLogs) -> InputError:
    """No current row falls in the run's ``period``: a run over nothing is not "ok"."""
    ts = logs.current.table.timestamp
    span = logs.current.table.aggregate(lo=ts.min(), hi=ts.max()).execute().iloc[0]
    return InputError(
        f"period: no row of sources.current falls between {config.period_start or '...'} "
        f"and {config.period_end or '...'} (config keys 'period.start', 'period.end'); "
        f"its {logs.current.rows_used:,} rows run from {iso(span.lo)} to {iso(span.hi)}.",
        path=logs.current.files[0] if logs.current.files else None)


def _analyze(config: Config, logs: LoadedLogs | None) -> Analysis:
    generated = iso(datetime.now(timezone.utc))
    with stage("load"):
        logs = logs or load_logs(config)
    require_used_rows(logs)
    check_predictions(config, logs)
    # a bad 'segments' stops before the work
    segment_columns(config, list(logs.current.table.columns))
    with stage("load"):
        windowed, spec = analysed_rows(config, logs)  # period filter, window 0 first
        table = materialize(windowed)
        outside = logs.current.rows_used - int(table.count().execute())
    if outside and outside == logs.current.rows_used:
        raise _empty_period(config, logs)
    reference = logs.reference.table if logs.reference else None
    cache = reference_cache(config, logs)
    overall = analyse_table(config, logs, spec, table, reference, distributions=True,
                            cache=cache)
    alerts, insufficient = _judge(config, logs, overall)
    if reference is None and NO_REFERENCE_NOTE not in logs.notes:
        logs.notes.append(NO_REFERENCE_NOTE)
    unjudged = reference_rules_not_judged(config, logs, overall.reference_performance)
    for entry in unjudged:
        note = f"Rule {entry['rule']} is not judged: {entry['reason']}."
        if note not in logs.notes:
            logs.notes.append(note)
    analysis = Analysis(config, logs, overall, alerts, insufficient, generated_at=generated,
                        outside_period=outside, table=table,
                        estimation=estimation_status(config, logs, reference),
                        rules_not_applicable=split_applicable(alert_rules(config, logs),
                                                              logs.roles)[1] + unjudged)
    note = f"Performance was not estimated without labels: {analysis.estimation['reason']}."
    if analysis.estimation["reason"] and config.estimation and note not in logs.notes:
        logs.notes.append(note)
    with stage("segments", absorb=True):
        _analyse_segments(analysis, spec, table, cache)
    with stage("anomalies"):
        analysis.anomalies = analyse_anomalies(config, logs, table, reference,
                                               overall.windows, analysis.drift_summary(),
                                               cache=cache)
    for w in overall.windows:
        w["anomaly_counts"] = analysis.anomalies["counts"].get(w["index"], {})
        drift_w = ((analysis.anomalies.get("explanations") or {}).get("attribution_drift")
                   or {}).get(w["index"])
        w["attribution_drift"] = drift_w["tv_distance"] if drift_w else None
    analysis.reference_cache = {"enabled": cache.enabled, "hits": cache.hits,
                                "misses": cache.misses}
    return analysis


def _analyse_segments(analysis: Analysis, spec: WindowSpec, table,
                      cache: ReferenceCache) -> None:
    """Every segment with enough rows, against its own reference: into
    ``analysis.segments`` (and its alerts into ``analysis.alerts``)."""
    config, logs = analysis.config, analysis.logs
    for segment in find_segments(table, segment_columns(config, list(table.columns)),
                                 min_rows=config.min_segment_rows):
        entry: dict[str, Any] = {"value": segment.value, "rows": segment.rows,
                                 "status": "ok" if segment.enough else "insufficient_data"}
        if segment.enough:
            seg_ref, basis = _segment_reference(config, logs, segment)
            scope = "all" if basis == "whole reference" else f"{segment.column}={segment.value!r}"
            result = analyse_table(config, logs, spec, segment.filter(table), seg_ref,
                                   cache=cache, scope=scope, segment=segment)
            seg_alerts, _ = _judge(config, logs, result, segment)
            analysis.alerts += seg_alerts
            entry.update(reference_basis=basis, windows=result.windows,
                         drift_summary=drift_summary(result.drift, result.windows,
                                                     logs.features),
                         data_quality=data_quality_summary(result.windows, logs.features),
                         reference_performance=result.reference_performance,
                         alerts=seg_alerts)
        analysis.segments.setdefault(segment.column, []).append(entry)
