"""Alert rules evaluated over the windows of a run (the contract of ``summary.json``).

A rule names a window key of ``summary.json`` by path (``drift_share``,
``health.latency_p95_ms``, ``performance.roc_auc``, ``drift.income``), a comparison and a
value. ``drop_pct`` compares a performance metric with its reference value;
``performance.*`` applies a rule to every metric, and ``data_quality.*.missing_increase``
to every feature that has that measure. A window without data for a metric is
``insufficient_data`` for that rule: reported, never a silent pass.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping
from typing import Any

from obskit.config import AlertRuleConfig
from obskit.performance import metric_direction

__all__ = ["evaluate_rules", "resolve_metric"]

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


def _expand(rule: AlertRuleConfig, window: Mapping[str, Any]) -> list[str]:
    """The metric paths a rule watches in ``window``: a ``*`` part stands for every key at
    that level that has the rest of the path (``performance.*``,
    ``data_quality.*.missing_increase``); a key without it is not watched."""
    if "*" not in rule.metric.split("."):
        return [rule.metric]
    paths = [""]
    for part in rule.metric.split("."):
        grown = []
        for path in paths:
            if part != "*":
                grown.append(f"{path}.{part}" if path else part)
                continue
            node = _walk(window, path) if path else window
            if isinstance(node, Mapping):
                grown += [f"{path}.{k}" if path else str(k) for k in node]
        paths = grown
    if rule.metric.endswith(".*"):
        return paths
    return [p for p in paths if _walk(window, p) is not _ABSENT]


_ABSENT = object()


def _walk(window: Mapping[str, Any], path: str) -> Any:
    """The node at ``path`` (not its ``value``), or ``_ABSENT``."""
    node: Any = window
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


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
