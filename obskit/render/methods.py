"""The report's method notes: drift methods and thresholds in force, feature types, the
alert rules (and those that do not apply to these logs), and the windows that could not
be judged. Every string is escaped."""

from __future__ import annotations

from obskit._format import fmt_int, fmt_metric, fmt_num, fmt_time
from obskit._text import plural
from obskit.render.common import complete, escape, logged, method_name, table
from obskit.results import AlertRule, InsufficientData, Run

__all__ = ["methods_html"]


def _rule_condition(rule: AlertRule) -> str:
    op, value, metric = rule.op, rule.value, str(rule.metric or "")
    if op == "drop_pct":
        return f"worse than the reference by more than {fmt_num(value)}%"
    if op == "significant_drop":
        return ("worse than the reference beyond both 95% intervals and by more than "
                f"{fmt_num(value)}%")
    return f"{op} {fmt_metric(metric, value)}"


def _methods_part(run: Run) -> list[str]:
    methods = run.methods
    parts = []
    groups: dict[tuple[str, str], list[str]] = {}
    for feature, m in methods.drift.items():
        key = (method_name(m.method), fmt_num(m.threshold))
        groups.setdefault(key, []).append(str(feature))
    if groups:
        parts.append(table(("Drift method", "Threshold", "Features"),
                           [(m, t, ", ".join(fs)) for (m, t), fs in groups.items()],
                           frozenset({1})))
    else:
        parts.append("<p>No drift methods in force.</p>")
    if run.features:
        by_type: dict[str, list[str]] = {}
        for feature, kind in run.features.items():
            by_type.setdefault(str(kind), []).append(str(feature))
        parts.append("<p>Feature types: " + "; ".join(
            f"{escape(k)}: {escape(', '.join(v))}" for k, v in by_type.items()) + ".</p>")
    parts.append(f"<p>Windows with fewer than {escape(fmt_int(methods.min_window_rows))} "
                 "rows are marked as having insufficient data and are not judged by the alert "
                 "rules."
                 + (f" Latency quantiles: {escape(methods.latency_quantiles)}."
                    if logged(run, "latency_ms") else "") + "</p>")
    return parts


def _rules_part(run: Run) -> list[str]:
    which = {True: "the default rules", False: "rules from the configuration"}.get(
        run.alert_rules_default, "rules")
    parts = [f"<h3>Alert rules in force ({escape(which)})</h3>"]
    if run.alert_rules:
        parts.append(table(("Rule", "Metric", "Fires when", "Severity"),
                           [(r.name, r.metric, _rule_condition(r), r.severity)
                            for r in run.alert_rules]))
    else:
        parts.append("<p>No alert rules in force.</p>")
    if run.alert_rules_not_applicable:
        parts.append("<h3>Rules that do not apply to these logs</h3><p>Never evaluated: their "
                     "metric needs a column the logs do not have.</p>")
        parts.append(table(("Rule", "Metric", "Why"),
                           [(r.rule, r.metric, r.reason)
                            for r in run.alert_rules_not_applicable]))
    return parts


def _not_judged_part(run: Run) -> list[str]:
    starts = {w.index: w.start for w in run.windows}
    grouped: dict[str, list[str]] = {}
    for entry in run.insufficient_data:
        # an early summary listed bare window indexes
        item = entry if isinstance(entry, InsufficientData) else InsufficientData(window=entry)
        start = item.window_start or (starts.get(item.window) if item.window is not None
                                      else None)
        what = item.metric or {"empty": "empty window",
                               "insufficient_data": "too few rows"}.get(
            str(item.reason), str(item.reason or "not judged"))
        grouped.setdefault(fmt_time(start), []).append(str(what))
    parts = ["<h3>Not judged for lack of data</h3>"]
    if grouped:
        shown = table(("Window start", "Not judged"),
                      [(s, ", ".join(dict.fromkeys(w))) for s, w in grouped.items()])
        parts.append(shown if len(grouped) <= 5 else
                     f"<details><summary>{plural(len(grouped), 'window')}</summary>{shown}"
                     "</details>")
    else:
        parts.append("<p>Every rule could be judged in every window.</p>")
    return parts


def methods_html(run: Run) -> str:
    """Methods and thresholds in force, alert rules, and the windows that could not be judged.

    Parameters
    ----------
    run : Run
        The run (its ``methods``, ``features``, ``alert_rules``,
        ``alert_rules_not_applicable`` and ``insufficient_data``).

    Returns
    -------
    str
        An HTML fragment.
    """
    run = complete(run)
    parts = ['<div class="obskit"><h3>Methods and thresholds</h3>', *_methods_part(run),
             *_rules_part(run), *_not_judged_part(run)]
    return "".join(parts) + "</div>"
