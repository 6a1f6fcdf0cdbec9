"""Alert rules evaluated over the windows of a run (the contract of ``summary.json``).

A rule names a window key of ``summary.json`` by path (``drift_share``,
``health.latency_p95_ms``, ``performance.roc_auc``, ``drift.income``), a comparison and a
value. ``drop_pct`` compares a performance metric with its reference value;
``significant_drop`` fires when a metric is worse than its reference value beyond both
sampling uncertainties (:func:`significant_drop`); ``performance.*`` applies a rule to
every metric, and ``data_quality.*.missing_increase`` to every feature that has that
measure. A window without data for a metric is ``insufficient_data`` for that rule:
reported, never a silent pass. A rule whose metric can never have a value in these logs,
because the log has no column for the role it needs (no ``latency_ms`` for
``health.latency_p95_ms``), is not applicable instead: not evaluated, and listed once with
the reason (:func:`split_applicable`).

Windows are read as the analysis gives them (dicts, tagged with their ``segment``) or as
typed :class:`obskit.results.Window` records (a loaded run's; their segment given with
``segment=``): a path walks mappings by key and records by field, a key absent from the
document being absent either way. Alerts and not-judged pairs are returned as the dicts
of ``summary.json`` (the analysis builds the run's :class:`~obskit.results.Alert` and
:class:`~obskit.results.InsufficientData` records from them).
"""

from __future__ import annotations

import math
import operator
import types
import typing
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from obskit.config import AlertRuleConfig
from obskit.exceptions import ConfigError
from obskit.metrics.performance import METRICS, metric_direction
from obskit.results import Record, Window

__all__ = ["check_alert_metrics", "evaluate_rules", "resolve_metric", "significant_drop",
           "split_applicable", "METRIC_ROLES"]

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


#: a window as the analysis gives it (a dict) or as a run holds it
WindowLike = Window | Mapping[str, Any]


def resolve_metric(window: WindowLike, path: str) -> Any:
    """The value at ``path`` in a window.

    Parameters
    ----------
    window : Window or Mapping
        A typed window, or a window dict of ``summary.json``.
    path : str
        Dotted keys (``health.latency_p95_ms``, ``performance.roc_auc``); ``drift.<feature>``
        gives the feature's ``value``.

    Returns
    -------
    Any
        The value; None when the path is absent.
    """
    node = _walk(window, path)
    if node is _ABSENT:
        return None
    value = _child(node, "value")
    return node if value is _ABSENT else value


#: window keys whose next part names a feature of the logs
_FEATURE_KEYED = ("drift", "data_quality")
#: window keys whose next part names a performance metric of the task
_METRIC_KEYED = ("performance", "performance_ci", "estimated_performance",
                 "estimated_performance_ci")


def check_alert_metrics(rules: Sequence[AlertRuleConfig], *,
                        features: Collection[str] | None = None,
                        task: str | None = None) -> None:
    """Check that every rule's ``metric`` is a path a window of ``summary.json`` can have.

    A misspelt metric would never have a value: every window would be "insufficient data"
    for it, and the run would end "ok" with the rule never judged. The path is checked
    against the typed window (:class:`obskit.results.Window`: its fields, the fields of
    its records, any key of its mappings); with ``features``, a ``drift.<feature>`` or
    ``data_quality.<feature>`` key must name one; with ``task``, a ``performance.<metric>``
    key must be one of the task's metrics (scikit-learn's names). ``*`` stands for any key.

    Parameters
    ----------
    rules : sequence of AlertRuleConfig
        The config's ``alerts``, in order.
    features : collection of str, optional
        The logs' feature columns (after loading).
    task : str, optional
        ``binary``, ``multiclass`` or ``regression`` (after loading).

    Raises
    ------
    ConfigError
        The first rule whose metric cannot be; ``key`` is ``alerts[i].metric``.
    """
    for i, rule in enumerate(rules):
        problem = _path_problem(rule.metric) or _key_problem(rule.metric, features, task)
        if problem:
            raise ConfigError(f"config key 'alerts[{i}].metric': {rule.metric!r}: {problem}",
                              key=f"alerts[{i}].metric")


def _path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a window key (None: it can)."""
    node: Any = Window
    for depth, part in enumerate(path.split(".")):
        node = _strip_none(node)
        if isinstance(node, type) and issubclass(node, Record):
            hints = typing.get_type_hints(node)
            names = [f.name for f in fields(node) if f.name not in ("extra", "layout")]
            if part not in names:
                where = ".".join(path.split(".")[:depth]) or "a window"
                return f"{where} has no key {part!r}; expected one of {', '.join(names)}"
            node = hints[part]
        elif typing.get_origin(node) in (Mapping, dict):
            node = typing.get_args(node)[1]  # any key of the data
        else:
            where = ".".join(path.split(".")[:depth])
            return f"{where} is a value, it has no key {part!r}"
    return None


def _strip_none(hint: Any) -> Any:
    """``X`` of ``X | None``."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def _key_problem(path: str, features: Collection[str] | None, task: str | None) -> str | None:
    """Why ``path``'s data key cannot be in these logs (None: it can, or is unknown yet)."""
    parts = path.split(".")
    if len(parts) < 2 or parts[1] == "*":
        return None
    key = parts[1]
    if parts[0] in _FEATURE_KEYED and features is not None and key not in features:
        return (f"the logs have no feature {key!r}; features: "
                f"{', '.join(sorted(features)) or '(none)'}")
    if parts[0] in _METRIC_KEYED and task in METRICS and key not in METRICS[task] \
            and not (task == "multiclass" and key.startswith("recall[") and key.endswith("]")):
        extra = ", recall[<class>]" if task == "multiclass" else ""
        return f"not a metric of a {task} model; expected one of {', '.join(METRICS[task])}{extra}"
    return None


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


def _expand(rule: AlertRuleConfig, window: WindowLike) -> list[str]:
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
            grown += [f"{path}.{k}" if path else str(k) for k in _keys(node)]
        paths = grown
    if rule.metric.endswith(".*"):
        return paths
    return [p for p in paths if _walk(window, p) is not _ABSENT]


_ABSENT = object()
_FIELDS: dict[type, frozenset[str]] = {}


def _names(record: Record) -> frozenset[str]:
    """The document keys of a record class (its fields but ``extra`` and ``layout``)."""
    cls = type(record)
    if cls not in _FIELDS:
        _FIELDS[cls] = frozenset(f.name for f in fields(record)) - {"extra", "layout"}
    return _FIELDS[cls]


def _keys(node: Any) -> list[Any]:
    """The keys of a mapping, or the document keys a record has; ``[]`` for a leaf."""
    if isinstance(node, Record):
        if node.layout is not None:
            return list(node.layout)
        return [*(f for f in _names(node)), *node.extra]
    return list(node) if isinstance(node, Mapping) else []


def _child(node: Any, key: str) -> Any:
    """``node[key]`` (a mapping) or its field ``key`` (a record), or ``_ABSENT``."""
    if isinstance(node, Record):
        if key in node.extra:
            return node.extra[key]
        if key in _names(node) and (node.layout is None or key in node.layout):
            return getattr(node, key)
        return _ABSENT
    if isinstance(node, Mapping) and key in node:
        return node[key]
    return _ABSENT


def _fact(window: WindowLike, key: str) -> Any:
    """A window's own ``index``, ``start`` or ``end`` (None when it has none)."""
    value = _child(window, key)
    return None if value is _ABSENT else value


def _walk(window: WindowLike, path: str) -> Any:
    """The node at ``path`` (not its ``value``), or ``_ABSENT``."""
    node: Any = window
    for part in path.split("."):
        node = _child(node, part)
        if node is _ABSENT:
            return _ABSENT
    return node


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def significant_drop(value: float, interval: tuple[float | None, float | None] | None,
                     reference: float, reference_interval: tuple[float | None, float | None]
                     | None, *, higher_is_better: bool, min_drop_pct: float = 0.0
                     ) -> bool | None:
    """Whether a window's metric is worse than the reference's beyond sampling noise.

    The 95% interval of the difference (window − reference), from the half-widths of both
    intervals combined as independent normal errors (``√(h_w² + h_r²)``), must lie wholly
    on the worse side, and the relative change must exceed ``min_drop_pct`` percent. A
    reference without an interval counts as exact (the window's interval alone decides:
    the reference value outside it). None when the window has no interval.

    Examples
    --------
    >>> significant_drop(0.912, (0.904, 0.920), 0.944, (0.938, 0.950), higher_is_better=True)
    True
    >>> significant_drop(0.94, (0.932, 0.948), 0.944, (0.938, 0.950), higher_is_better=True)
    False
    """
    if interval is None or None in interval:
        return None
    lo, hi = float(interval[0]), float(interval[1])  # type: ignore[arg-type]
    # an interval clipped at the metric's range is not symmetric: take the side that faces
    # the reference
    half = (hi - value) if higher_is_better else (value - lo)
    ref_half = 0.0
    if reference_interval is not None and None not in reference_interval:
        r_lo, r_hi = (float(b) for b in reference_interval)  # type: ignore[arg-type]
        ref_half = (reference - r_lo) if higher_is_better else (r_hi - reference)
    margin = math.hypot(max(half, 0.0), max(ref_half, 0.0))
    gap = (reference - value) if higher_is_better else (value - reference)
    relative = gap / abs(reference) * 100 if reference else math.inf
    return bool(gap > margin and relative > min_drop_pct)


def _interval(window: WindowLike, metric: str) -> Any:
    """The ``[lo, hi]`` of ``metric`` (``performance.x`` → ``performance_ci.x``)."""
    head, _, name = metric.rpartition(".")
    return resolve_metric(window, f"{head}_ci.{name}") if head else None


def _segment(window: WindowLike, segment: Mapping[str, Any] | None) -> Any:
    """The segment a window belongs to: its own ``segment`` tag, else ``segment``."""
    tag = _child(window, "segment")
    return segment if tag is _ABSENT else tag


def _in_segment(rule: AlertRuleConfig, tag: Any) -> bool:
    """Whether the rule watches a window of segment ``tag`` (None for the whole log): a
    rule without a segment watches every window, one with a segment only that one."""
    return rule.segment is None or (tag or None) == dict(rule.segment)


def evaluate_rules(windows: Iterable[WindowLike], rules: Iterable[AlertRuleConfig], *,
                   reference: Mapping[str, Any],
                   reference_ci: Mapping[str, Any] | None = None,
                   fallback: Mapping[str, str] | None = None,
                   segment: Mapping[str, Any] | None = None
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return ``(alerts, insufficient)``: the rule/window pairs that fired, and those that
    could not be judged for lack of data. ``reference_ci`` (metric → ``[lo, hi]``) is the
    reference's own uncertainty, used by ``significant_drop``. ``fallback`` (metric path →
    metric path) names the metric a ``significant_drop`` rule judges in a window where its
    own is undefined but the fallback's is not (the default performance rule: roc_auc →
    accuracy, so a window with one labelled class is still judged); such an alert names the
    fallback metric, with ``instead_of`` the rule's.

    Windows are judged in order; a rule with ``persistence`` k fires from the k-th
    consecutive breaching window on (a window without data breaks the run). A window's
    segment is its own ``segment`` tag (window dicts), else ``segment`` (None: the whole
    log).
    """
    alerts: list[dict[str, Any]] = []
    insufficient: list[dict[str, Any]] = []
    streak: dict[tuple[str, str], int] = {}
    rules = list(rules)
    for window in windows:
        tag = _segment(window, segment)
        for rule in rules:
            if not _in_segment(rule, tag):
                continue
            for metric in _expand(rule, window):
                value = resolve_metric(window, metric)
                where = {"rule": rule.name, "metric": metric,
                         "window": _fact(window, "index"),
                         "window_start": _fact(window, "start"),
                         "window_end": _fact(window, "end")}
                key = (rule.name, metric)
                extra: dict[str, Any] = {}
                if rule.op == "significant_drop":
                    substitute = (fallback or {}).get(metric)
                    if _missing(value) and substitute and not _missing(
                            resolve_metric(window, substitute)):
                        extra["instead_of"] = metric
                        metric, value = substitute, resolve_metric(window, substitute)
                        where["metric"] = metric
                    name = metric.split(".")[-1]
                    base: Any = reference.get(name)  # a number once not _missing
                    direction = metric_direction(name)
                    if _missing(base) or direction is None:
                        continue
                    interval = _interval(window, metric)
                    verdict = None if _missing(value) else significant_drop(
                        value, interval, base, (reference_ci or {}).get(name),
                        higher_is_better=direction == "higher", min_drop_pct=rule.value)
                    if verdict is None:
                        insufficient.append(where)
                        streak[key] = 0
                        continue
                    fired = verdict
                    threshold = base * (1 - rule.value / 100) if direction == "higher" \
                        else base * (1 + rule.value / 100)
                    extra.update({"interval": list(interval),
                                  "reference_interval": (reference_ci or {}).get(name)})
                elif rule.op == "drop_pct":
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
                                   if rule.op in ("drop_pct", "significant_drop") else None,
                                   "action": list(rule.action) if rule.action else None,
                                   **extra})
    return alerts, insufficient
