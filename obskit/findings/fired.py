"""Findings of the alert rules that fired on health, performance and drift share: one per
rule, metric and segment, with its worst window (drift of single features and data quality
have their own findings, :mod:`~obskit.findings.drift` and
:mod:`~obskit.findings.quality`)."""

from __future__ import annotations

from collections import defaultdict

from obskit._format import fmt_metric
from obskit._text import plural, word
from obskit.findings.wording import day, finding, judged, metric_label, segment_text
from obskit.metrics.performance import metric_direction
from obskit.results import Alert, Finding, Run

__all__ = ["rule_findings", "verdict_findings"]

_STEPS = {"health": "Look at the serving side for these windows: traces, deploys, "
                    "upstream dependencies.",
          "drift": "See the per-feature drift table below."}
_RETRAIN = "Check label quality and retrain on recent data."


def _window(alert: Alert) -> int:
    return alert.window if alert.window is not None else -1


def _drop_text(prefix: str, label: str, metric: str, alerts: list[Alert], total: int
               ) -> tuple[str, Alert]:
    first = alerts[0]
    worst = min(alerts, key=lambda a: a.value) if first.value <= first.threshold \
        else max(alerts, key=lambda a: a.value)
    text = (f"{prefix}{label} fell from {fmt_metric(metric, first.reference)} "
            f"(reference) to "
            f"{fmt_metric(metric, worst.value)} on {day(worst.window_start)}; "
            f"beyond the allowed drop in {len(alerts)} of {total} windows from "
            f"{day(first.window_start)}.")
    return text, worst


def _significant_text(prefix: str, label: str, metric: str, alerts: list[Alert], total: int
                      ) -> tuple[str, Alert]:
    first = alerts[0]
    higher = metric_direction(metric.split(".")[-1]) == "higher"
    worst = (min if higher else max)(alerts, key=lambda a: a.value)
    lo, hi = worst.interval or (None, None)
    verb = "fell" if higher else "rose"
    text = (f"{prefix}{label} {verb} from {fmt_metric(metric, first.reference)} "
            f"(reference) to {fmt_metric(metric, worst.value)} on "
            f"{day(worst.window_start)} (95% interval {fmt_metric(metric, lo)}–"
            f"{fmt_metric(metric, hi)}): worse than the reference beyond sampling noise in "
            f"{len(alerts)} of {total} windows from {day(first.window_start)}.")
    instead = sorted({a.instead_of.split(".")[-1] for a in alerts if a.instead_of})
    if instead:
        text += (f" ({', '.join(instead)} is undefined in "
                 f"{sum(1 for a in alerts if a.instead_of)} of these windows, "
                 f"with one class labelled: {label} was judged instead.)")
    return text, worst


def rule_findings(run: Run) -> list[Finding]:
    """One finding per fired rule, metric and segment (health, performance, drift share).

    A segment's finding is left out when the whole log fired in the same windows.

    Parameters
    ----------
    run : Run
        The run; its ``alerts`` and ``windows`` are read.

    Returns
    -------
    list of Finding
        In the order the rules first fired (kinds: the rule names).
    """
    groups: dict[tuple[str, str, str], list[Alert]] = defaultdict(list)
    for alert in run.alerts:
        groups[(alert.rule or "", alert.metric or "", segment_text(alert.segment))
               ].append(alert)
    total = judged(run.windows)
    out = []
    for (rule, metric, segment), alerts in groups.items():
        alerts.sort(key=_window)
        if metric.startswith(("drift.", "data_quality.")):
            continue  # reported by the drift and data quality findings
        if segment:
            overall = {a.window for a in groups.get((rule, metric, ""), [])}
            if {a.window for a in alerts} <= overall:
                continue  # the whole log already shows it
        label = metric_label(metric)
        prefix = f"In segment {segment}: " if segment else ""
        first = alerts[0]
        if first.op == "drop_pct":
            text, worst = _drop_text(prefix, label, metric, alerts, total)
            section, step = "performance", _RETRAIN
        elif first.op == "significant_drop":
            text, worst = _significant_text(prefix, label, metric, alerts, total)
            section, step = "performance", _RETRAIN
        else:
            worst = max(alerts, key=lambda a: a.value) if first.op in (">", ">=") \
                else min(alerts, key=lambda a: a.value)
            text = (f"{prefix}{label} {first.op} {fmt_metric(metric, first.threshold)} in "
                    f"{len(alerts)} of {total} windows from {day(first.window_start)} "
                    f"(worst {fmt_metric(metric, worst.value)} on "
                    f"{day(worst.window_start)}).")
            section = "health" if metric.startswith("health.") else "drift"
            step = _STEPS[section]
        out.append(finding(severity=first.severity, kind=rule, text=text, section=section,
                           next_step=step, segment=alerts[0].segment,
                           windows=[a.window for a in alerts],
                           window_start=worst.window_start))
    return out


def verdict_findings(run: Run) -> list[Finding]:
    """The verdict when no rule fired: ``ok``, or ``nothing_judged`` when no window had
    enough rows to be judged, so no rule was evaluated and "no alert" says nothing.

    A run keeps its ``status`` ``ok`` then (``summary.json``'s status values are a
    contract: ``ok`` means no alert fired); this ``warning`` finding says that nothing
    was checked.

    Parameters
    ----------
    run : Run
        The run; its ``alerts``, ``windows``, ``rows`` and ``methods.min_window_rows``
        are read.

    Returns
    -------
    list of Finding
        None when a rule fired; else ``nothing_judged`` (``warning``) when no window was
        judged, or ``ok`` (``info``), which counts the windows not judged (empty, or with
        fewer than ``min_window_rows`` rows) when there are any.
    """
    if run.alerts:
        return []
    windows = run.windows
    n_judged = judged(windows)
    if not n_judged:
        least = run.methods.min_window_rows
        why = f"; min_window_rows {least:,}" if least is not None else ""
        return [finding(
            severity="warning", kind="nothing_judged", section="health",
            text=f"No window had enough rows to be judged ({plural(run.rows.current, 'row')} "
                 f"in {plural(len(windows), 'window')}{why}): no alert rule was evaluated, "
                 "so the absence of alerts says nothing about the model's health.",
            next_step="Run over more rows (a longer period, or larger windows with "
                      "--window), or lower min_window_rows (--min-window-rows) if fewer "
                      "rows per window are enough to judge.")]
    skipped = len(windows) - n_judged
    text = ("No alert rule fired in any window." if not skipped else
            f"No alert rule fired in the {plural(n_judged, 'judged window')}; "
            f"{plural(skipped, 'window')} {word(skipped, 'was', 'were')} empty or had too "
            "few rows to be judged.")
    return [finding(severity="info", kind="ok", section="health", text=text, next_step="")]
