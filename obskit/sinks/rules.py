"""``obskit alert-rules``: Prometheus alerting rules from the report's own alert rules.

The report's rules (the config's ``alerts``, or :data:`obskit.config.model.DEFAULT_ALERTS`)
are turned into Prometheus alerting rules over the metrics ``obskit exporter`` publishes,
so the report and Prometheus never disagree on a threshold:

* a comparison on a window key with an exported gauge (``drift_share``,
  ``health.latency_p50/p95/p99_ms``, ``health.error_rate``, ``performance.<metric>``) is the
  same comparison on the gauge (``obskit_drift_share > 0.1``);
* any other rule (``drop_pct``, ``significant_drop``, data-quality keys, segments) is judged
  by the report only; its rule fires while the report's alert is active
  (``obskit_alert_active{rule="..."} == 1``).

Then the service's own, over the live metrics of :mod:`obskit.instrument.metrics`, with the
thresholds of the report's ``latency_p95`` and ``error_rate`` rules: p95 latency from the
duration histogram, error rate over 5 minutes (``--window``); and the report's freshness:
the exporter cannot read a report, or the latest run is older than N schedule periods.
Each rule has its own ``for:`` (5 to 15 minutes); ``--for`` sets one for all of them.

The file follows Prometheus' rule format
(https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/): load it with
``rule_files:`` and check it with ``promtool check rules``.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from obskit.config import AlertRuleConfig, Config, load_config
from obskit.config.model import DEFAULT_ALERTS
from obskit.exceptions import ConfigError, InputError

__all__ = ["DAY_S", "GROUP_REPORT", "GROUP_SERVICE", "schedule_period_s", "check_duration",
           "alerting_rules", "rule_groups", "write_rules", "add_parser", "run"]

DAY_S = 86400.0
GROUP_REPORT, GROUP_SERVICE = "obskit-report", "obskit-service"
#: report window keys exported as a gauge (:mod:`obskit.sinks.prometheus`)
_GAUGES = {"drift_share": "obskit_drift_share",
           "health.error_rate": "obskit_error_rate",
           "health.latency_p50_ms": 'obskit_latency_ms{quantile="0.5"}',
           "health.latency_p95_ms": 'obskit_latency_ms{quantile="0.95"}',
           "health.latency_p99_ms": 'obskit_latency_ms{quantile="0.99"}'}
_BY = "job, model_name, model_version"
#: a Prometheus duration (https://prometheus.io/docs/prometheus/latest/querying/basics/#time-durations)
_DURATION = re.compile(r"(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?")


def check_duration(value: str, *, flag: str, positive: bool = True) -> str:
    """``value`` if it is a Prometheus duration (``30s``, ``5m``, ``1h30m``).

    Parameters
    ----------
    value : str
    flag : str
        Named in the error message.
    positive : bool
        Refuse a zero duration (a rate window must be longer than zero; ``for: 0s`` is fine).

    Returns
    -------
    str

    Raises
    ------
    ConfigError
        Not a duration in Prometheus' syntax, or zero where ``positive``.

    Examples
    --------
    >>> check_duration("1h30m", flag="--window")
    '1h30m'
    """
    if not value or not _DURATION.fullmatch(value):
        raise ConfigError(f"{flag}: expected a Prometheus duration such as 30s, 5m or 1h30m, "
                          f"got {value!r}")
    if positive and not any(ch in "123456789" for ch in value):
        raise ConfigError(f"{flag}: expected a duration above zero, got {value!r}")
    return value


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name)
                   if part)


def _number(value: float) -> str:
    return f"{value:g}"


def _rule(alert: str, expr: str, *, for_: str, severity: str, summary: str,
          description: str, **labels: str) -> dict[str, Any]:
    return {"alert": alert, "expr": expr, "for": for_,
            "labels": {"severity": severity, **labels},
            "annotations": {"summary": summary, "description": description}}


def _gauge(rule: AlertRuleConfig) -> str | None:
    """The exported gauge a rule's comparison can be made on, or None."""
    if rule.segment or rule.op not in (">", ">=", "<", "<="):
        return None
    if rule.metric in _GAUGES:
        return _GAUGES[rule.metric]
    head, _, metric = rule.metric.partition(".")
    if head == "performance" and metric and "." not in metric:
        return ("obskit_performance" if metric == "*"
                else f'obskit_performance{{metric="{metric}"}}')
    return None


def _describe(rule: AlertRuleConfig) -> str:
    """The rule in words (the ops of :class:`obskit.config.AlertRuleConfig`)."""
    value = _number(rule.value)
    if rule.op == "drop_pct":
        return f"{rule.metric} fell more than {value}% below the reference"
    if rule.op == "significant_drop":
        return (f"{rule.metric} is worse than the reference beyond both 95% intervals and "
                f"by more than {value}%")
    return f"{rule.metric} {rule.op} {value}"


def _report_rule(rule: AlertRuleConfig) -> dict[str, Any]:
    gauge = _gauge(rule)
    name = f"Obskit{_camel(rule.name)}"
    where = f" in segment {dict(rule.segment)}" if rule.segment else ""
    if gauge is not None:
        expr = f"{gauge} {rule.op} {_number(rule.value)}"
        text = f"{rule.metric} {rule.op} {_number(rule.value)}"
        return _rule(name, expr, for_="5m", severity=rule.severity, obskit_rule=rule.name,
                     summary=f"obskit report: {text} in the latest window",
                     description=f"The report rule {rule.name!r} ({text}) holds for the "
                                 "latest window the exporter publishes.")
    text = _describe(rule)
    return _rule(name, f'obskit_alert_active{{rule="{rule.name}"}} == 1', for_="5m",
                 severity=rule.severity, obskit_rule=rule.name,
                 summary=f"obskit report: rule {rule.name} fires{where}",
                 description=f"The report judged {text}{where} and its alert is active "
                             "(see the report's alerts.json).")


def schedule_period_s(config: Config) -> float:
    """The longest gap between two runs of the config's schedule (one day without one).

    Parameters
    ----------
    config : Config

    Returns
    -------
    float
        Seconds: the largest gap between consecutive cron ticks of any job, over the
        ticks of a year from 2026-01-01 (capped at 400 ticks a job).
    """
    if config.schedule is None:
        return DAY_S
    from croniter import croniter

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    longest = 0.0
    for job in config.schedule.jobs:
        ticks = croniter(job.cron, start)
        previous = ticks.get_next(datetime)
        for _ in range(400):
            tick = ticks.get_next(datetime)
            longest = max(longest, (tick - previous).total_seconds())
            previous = tick
            if (tick - start).days > 366:
                break
    return longest or DAY_S


def _threshold(rules: tuple[AlertRuleConfig, ...], metric: str) -> AlertRuleConfig:
    """The rule on ``metric`` (a comparison), else the default rule on it."""
    for rule in (*rules, *DEFAULT_ALERTS):
        if rule.metric == metric and rule.op in (">", ">=") and not rule.segment:
            return rule
    raise AssertionError(f"no default rule on {metric}")  # pragma: no cover


def _service_rules(rules: tuple[AlertRuleConfig, ...], *, stale_after_s: float, window: str
                   ) -> list[dict[str, Any]]:
    latency = _threshold(rules, "health.latency_p95_ms")
    errors = _threshold(rules, "health.error_rate")
    seconds = latency.value / 1000.0
    stale = _number(stale_after_s)
    return [
        _rule("ObskitServiceLatencyP95",
              f"histogram_quantile(0.95, sum by ({_BY}, le) "
              f"(rate(obskit_prediction_duration_seconds_bucket[{window}]))) {latency.op} "
              f"{_number(seconds)}", for_="10m", severity=latency.severity,
              summary=f"p95 prediction latency above {_number(latency.value)} ms",
              description="The 95th percentile of obskit_prediction_duration_seconds over "
                          f"{window} is above {_number(seconds)} s (report rule "
                          f"{latency.name!r})."),
        _rule("ObskitServiceErrorRate",
              f"sum by ({_BY}) (rate(obskit_prediction_errors_total[{window}])) / "
              f"sum by ({_BY}) (rate(obskit_prediction_requests_total[{window}])) {errors.op} "
              f"{_number(errors.value)}", for_="5m", severity=errors.severity,
              summary=f"prediction error rate above {_number(errors.value)}",
              description=f"Failed predictions over all requests in {window} (report rule "
                          f"{errors.name!r})."),
        _rule("ObskitReportUnavailable", "obskit_report_available == 0", for_="15m",
              severity="warning", summary="obskit exporter has no readable report",
              description="The exporter cannot read <reports>/latest/summary.json: no run "
                          "succeeded yet, or the folder is wrong."),
        _rule("ObskitReportStale",
              f"time() - obskit_last_run_timestamp_seconds > {stale}", for_="10m",
              severity="warning", summary=f"the latest obskit report is older than {stale} s",
              description="No report run succeeded for longer than the schedule allows: the "
                          "scheduler stopped, or its runs fail (see <reports>/index.html)."),
    ]


def alerting_rules(rules: tuple[AlertRuleConfig, ...], *, stale_after_s: float = 2 * DAY_S,
                   window: str = "5m", for_: str | None = None
                   ) -> dict[str, list[dict[str, Any]]]:
    """The alerting rules, by group name.

    Parameters
    ----------
    rules : tuple of AlertRuleConfig
        The report's rules in force.
    stale_after_s : float
        Age of the latest run (seconds) above which the report is stale.
    window : str
        Range of the service rules' ``rate()`` (a Prometheus duration).
    for_ : str, optional
        ``for:`` of every rule; by default each rule's own (5m, 10m or 15m).

    Returns
    -------
    dict
        ``obskit-report``: one rule per report rule; ``obskit-service``: latency, error rate,
        report unavailable, report stale.

    Examples
    --------
    >>> rule = AlertRuleConfig("drift_share", "drift_share", ">", 0.2)
    >>> alerting_rules((rule,))["obskit-report"][0]["expr"]
    'obskit_drift_share > 0.2'
    """
    groups = {GROUP_REPORT: [_report_rule(r) for r in rules],
              GROUP_SERVICE: _service_rules(rules, stale_after_s=stale_after_s, window=window)}
    if for_ is not None:
        for group in groups.values():
            for rule in group:
                rule["for"] = for_
    return groups


def rule_groups(config: Config, *, stale_runs: float = 2.0, window: str = "5m",
                for_: str | None = None) -> dict[str, Any]:
    """The rule file's document (``groups:``) for a loaded config.

    Parameters
    ----------
    config : Config
        Its ``alerts`` (the defaults when it has none) and its ``schedule``.
    stale_runs : float
        A report is stale after this many schedule periods (:func:`schedule_period_s`).
    window, for_ : str
        As in :func:`alerting_rules`.

    Returns
    -------
    dict
        ``{"groups": [{"name", "rules"}, ...]}``.

    Raises
    ------
    ConfigError
        ``stale_runs`` is not positive; ``window`` or ``for_`` is not a duration.
    """
    if not stale_runs > 0:
        raise ConfigError(f"--stale-runs: expected a positive number, got {stale_runs}")
    check_duration(window, flag="--window")
    if for_ is not None:
        check_duration(for_, flag="--for", positive=False)
    by_group = alerting_rules(config.alerts, stale_after_s=stale_runs * schedule_period_s(config),
                              window=window, for_=for_)
    return {"groups": [{"name": name, "rules": rules} for name, rules in by_group.items()]}


def write_rules(out: str | Path, document: dict[str, Any]) -> Path:
    """Write ``document`` as YAML to ``out`` (its folder made if needed).

    Raises
    ------
    InputError
        ``out`` is a folder or cannot be written.
    """
    target = Path(out)
    if target.is_dir():
        raise InputError(f"{out}: is a folder; give a file name (flag --out)", path=str(out))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("# generated by obskit alert-rules\n"
                          + yaml.safe_dump(document, sort_keys=False, width=100))
    except OSError as exc:
        raise InputError(f"{target}: cannot write the rules: {exc.strerror}",
                         path=str(target)) from exc
    return target


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``alert-rules`` subcommand to ``subparsers`` (dispatch with :func:`run`)."""
    p = subparsers.add_parser(
        "alert-rules", help="write Prometheus alerting rules from the report's alert rules",
        description="Write a Prometheus rule file (load it with rule_files:) holding the "
                    "report's alert rules and the service's own.")
    p.add_argument("--out", required=True, metavar="FILE", help="rule file to write")
    p.add_argument("--config", metavar="FILE", help="report config (its alerts and schedule)")
    p.add_argument("--stale-runs", type=float, default=2.0, metavar="N",
                   help="a report older than N schedule periods is stale (default 2)")
    p.add_argument("--window", default="5m", metavar="DURATION",
                   help="range of the service rules' rate() (default 5m)")
    p.add_argument("--for", dest="for_", metavar="DURATION",
                   help="for: of every rule (default: each rule's own, 5m to 15m)")
    return p


def run(args: argparse.Namespace) -> int:
    """Write the rule file; prints its path and the number of rules."""
    config = load_config(args.config) if args.config else load_config(
        overrides={"sources": {"current": "."}})
    document = rule_groups(config, stale_runs=args.stale_runs, window=args.window,
                           for_=args.for_)
    count = sum(len(g["rules"]) for g in document["groups"])
    print(f"alert rules: {write_rules(args.out, document)} ({count} rules)")
    return 0
