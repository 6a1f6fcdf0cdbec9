"""Alert rules evaluated over the windows of a run (the contract of ``summary.json``).

A rule names a window key of ``summary.json`` by path (``drift_share``,
``health.latency_p95_ms``, ``performance.roc_auc``, ``drift.income``), a comparison and a
value. ``drop_pct`` compares a performance metric with its reference value;
``performance.*`` applies a rule to every metric. A window without data for a metric is
``insufficient_data`` for that rule: reported, never a silent pass. A rule whose metric
can never have a value in these logs, because the log has no column for the role it needs
(no ``latency_ms`` for ``health.latency_p95_ms``), is not applicable instead: not
evaluated, and listed once with the reason (:func:`split_applicable`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping
from typing import Any

from obskit.config import AlertRuleConfig
from obskit.performance import metric_direction

__all__ = ["evaluate_rules", "resolve_metric", "split_applicable", "METRIC_ROLES"]

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def resolve_metric(window: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` in a window dict (``drift.<feature>`` gives its value)."""
    node: Any = window
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    if isinstance(node, Mapping) and "value" in node:
        node = node["value"]
    return node


#: metric prefix → the roles its values come from: each tuple is "one of these" and every
#: tuple is needed (performance needs a label, and a prediction or a score)
METRIC_ROLES: dict[str, tuple[tuple[str, ...], ...]] = {
    "health.latency_": (("latency_ms",),),
    "health.error": (("status", "error"),),
    "performance.": (("label",), ("prediction", "score")),
    "estimated_performance.": (("prediction", "score"),),
}


def split_applicable(rules: Iterable[AlertRuleConfig], roles: Iterable[str]
                     ) -> tuple[list[AlertRuleConfig], list[dict[str, Any]]]:
    """Split ``rules`` into those that apply to a log with ``roles`` and the entries of
    those that cannot (their metric needs a role the log lacks).

    Examples
    --------
    >>> rule = AlertRuleConfig("latency_p95", "health.latency_p95_ms", ">", 500.0, "critical")
    >>> split_applicable([rule], ["timestamp", "score", "label"])[1]
    [{'rule': 'latency_p95', 'metric': 'health.latency_p95_ms', 'missing_roles': ['latency_ms'], \
'reason': 'no latency_ms column'}]
    """
    roles = set(roles)
    applicable, not_applicable = [], []
    for rule in rules:
        needs = next((v for k, v in METRIC_ROLES.items() if rule.metric.startswith(k)), ())
        missing = [group for group in needs if not roles & set(group)]
        if not missing:
            applicable.append(rule)
            continue
        not_applicable.append({
            "rule": rule.name, "metric": rule.metric,
            "missing_roles": [r for group in missing for r in group],
            "reason": "; ".join(f"no {' or '.join(group)} column" for group in missing)})
    return applicable, not_applicable


def _expand(rule: AlertRuleConfig, window: Mapping[str, Any]) -> list[str]:
    if not rule.metric.endswith(".*"):
        return [rule.metric]
    prefix = rule.metric[:-2]
    node = resolve_metric(window, prefix)
    return [f"{prefix}.{k}" for k in node] if isinstance(node, Mapping) else []


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _in_segment(rule: AlertRuleConfig, window: Mapping[str, Any]) -> bool:
    """Whether the rule watches ``window`` (tagged with its ``segment``, None for the whole
    log): a rule without a segment watches every window, one with a segment only that one."""
    return rule.segment is None or (window.get("segment") or None) == dict(rule.segment)


def evaluate_rules(windows: Iterable[Mapping[str, Any]], rules: Iterable[AlertRuleConfig], *,
                   reference: Mapping[str, Any]) -> tuple[list[dict], list[dict]]:
    """Return ``(alerts, insufficient)``: the rule/window pairs that fired, and those that
    could not be judged for lack of data.

    Windows are judged in order; a rule with ``persistence`` k fires from the k-th
    consecutive breaching window on (a window without data breaks the run).
    """
    alerts: list[dict] = []
    insufficient: list[dict] = []
    streak: dict[tuple[str, str], int] = {}
    for window in windows:
        for rule in rules:
            if not _in_segment(rule, window):
                continue
            for metric in _expand(rule, window):
                value = resolve_metric(window, metric)
                where = {"rule": rule.name, "metric": metric, "window": window["index"],
                         "window_start": window["start"], "window_end": window["end"]}
                key = (rule.name, metric)
                if rule.op == "drop_pct":
                    name = metric.split(".")[-1]
                    base = reference.get(name)
                    if _missing(base):
                        continue
                    if _missing(value):
                        insufficient.append(where)
                        streak[key] = 0
                        continue
                    direction = metric_direction(name)
                    if direction is None:
                        continue  # e.g. mean_error: neither higher nor lower is better
                    higher = direction == "higher"
                    bound = base * (1 - rule.value / 100) if higher else \
                        base * (1 + rule.value / 100)
                    fired = value < bound if higher else value > bound
                    threshold = bound
                else:
                    if _missing(value):
                        insufficient.append(where)
                        streak[key] = 0
                        continue
                    fired = _OPS[rule.op](value, rule.value)
                    threshold = rule.value
                streak[key] = streak.get(key, 0) + 1 if fired else 0
                if fired and streak[key] >= rule.persistence:
                    alerts.append({**where, "op": rule.op, "value": value,
                                   "threshold": threshold, "severity": rule.severity,
                                   "reference": reference.get(metric.split(".")[-1])
                                   if rule.op == "drop_pct" else None,
                                   "action": list(rule.action) if rule.action else None})
    return alerts, insufficient
