"""The alert rules in force, and judging them on a table's windows (alerts and the
rule/window pairs without enough data)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from obskit.config import AlertRuleConfig, Config
from obskit.findings.alert_rules import evaluate_rules, split_applicable
from obskit.io.logs import LoadedLogs
from obskit.metrics.performance import primary_metric
from obskit.monitors.data_quality import judged_on_quarantine
from obskit.profiles.segments import Segment
from obskit.results import Alert, InsufficientData, RuleNotApplicable, Window
from obskit.schema import measures_performance

__all__ = ["NO_REFERENCE_NOTE", "alert_rules", "judge", "reference_rules_not_judged"]

#: the note of a run without a reference
NO_REFERENCE_NOTE = ("No reference: drift and data-quality comparisons (values outside the "
                     "reference's range, unseen categories, jumps in missing share) need a "
                     "reference; give one with --reference or 'sources.reference'.")


def alert_rules(config: Config, logs: LoadedLogs) -> tuple[AlertRuleConfig, ...]:
    """The rules in force: the configured ones, or the defaults with the performance rule
    watching the task's primary metric.

    Returns
    -------
    tuple of AlertRuleConfig
    """
    if not config.alerts_default:
        return config.alerts
    primary = primary_metric(logs.task, has_score="score" in logs.roles)
    return tuple(
        dataclasses.replace(r, metric=f"performance.{primary}")
        if r.metric == "performance.*" else r
        for r in config.alerts
    )


def _fallback(config: Config, logs: LoadedLogs) -> dict[str, str]:
    """The default performance rule judges accuracy in a window where its primary metric
    is undefined (roc_auc with one class labelled) — a broken label feed is not "ok"."""
    primary = primary_metric(logs.task, has_score="score" in logs.roles)
    if not config.alerts_default or logs.task == "regression" or primary == "accuracy":
        return {}
    return {f"performance.{primary}": "performance.accuracy"}


def reference_rules_not_judged(config: Config, logs: LoadedLogs,
                               reference_performance: Mapping[str, Any]
                               ) -> list[RuleNotApplicable]:
    """The applicable rules relative to the reference's performance when the reference
    measures none: no reference, or a reference without labelled rows. Never a silent pass.

    Returns
    -------
    list of RuleNotApplicable
        One per such rule (``needs_reference`` True), as in ``alert_rules_not_applicable``.
    """
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
    return [RuleNotApplicable(rule=r.name, metric=r.metric, missing_roles=(),
                              needs_reference=True,
                              reason=f"no reference performance to compare with: {why}")
            for r in rules]


def judge(config: Config, logs: LoadedLogs, windows: tuple[Window, ...],
          reference_performance: Mapping[str, Any],
          reference_ci: Mapping[str, Any], segment: Segment | None = None
          ) -> tuple[list[Alert], list[InsufficientData]]:
    """Alerts and not-judged pairs of one table's windows (tagged with the segment).

    Parameters
    ----------
    config : Config
    logs : LoadedLogs
    windows : tuple of Window
        The table's windows, in time order.
    reference_performance, reference_ci : Mapping
        Metric → the reference's value, and its 95% interval.
    segment : Segment, optional
        The segment the windows belong to (None: the whole log).

    Returns
    -------
    (list of Alert, list of InsufficientData)
        The rule/window pairs that fired; those that could not be judged, then one entry
        per window with too few rows (``rule`` None).
    """
    tag = {segment.column: segment.value} if segment else None
    rules, _ = split_applicable(alert_rules(config, logs), logs.roles)  # the rest: never
    alerts, insufficient = evaluate_rules(
        [w for w in windows if w.status == "ok"], rules, segment=tag,
        reference=reference_performance, reference_ci=reference_ci,
        fallback=_fallback(config, logs),
    )
    # a window whose rows were (nearly) all quarantined is judged on its data quality
    quarantined = [w for w in windows
                   if judged_on_quarantine(w.to_dict(), config.min_window_rows)]
    quality_rules = [r for r in rules if r.metric.startswith("data_quality.")]
    if quarantined and quality_rules:
        alerts += evaluate_rules(quarantined, quality_rules, segment=tag,
                                 reference=reference_performance)[0]
        alerts.sort(key=lambda a: a.get("window") or 0)  # in window order, as before
    insufficient += [{"rule": None, "metric": None, "window": w.index,
                      "window_start": w.start, "window_end": w.end, "reason": w.status}
                     for w in windows if w.status != "ok"]
    return ([Alert.from_dict({**a, "segment": tag}) for a in alerts],
            [InsufficientData.from_dict({**i, "segment": tag}) for i in insufficient])
