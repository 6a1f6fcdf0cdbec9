"""Alert rules over windows: comparisons, drops against the reference, missing data."""

from __future__ import annotations

import math

from obskit.alerts import evaluate_rules, resolve_metric
from obskit.config import AlertRuleConfig


def _window(i, **values):
    return {"index": i, "start": f"2026-11-0{i + 1}T00:00:00Z",
            "end": f"2026-11-0{i + 2}T00:00:00Z", **values}


def test_resolve_metric_paths():
    w = _window(0, health={"latency_p95_ms": 700.0},
                drift={"x": {"value": 0.3, "drifted": True}})
    assert resolve_metric(w, "health.latency_p95_ms") == 700.0
    assert resolve_metric(w, "drift.x") == 0.3
    assert resolve_metric(w, "health.nothing") is None


def test_threshold_rules_fire_only_where_crossed():
    rule = AlertRuleConfig("p95", "health.latency_p95_ms", ">", 500.0, "critical")
    windows = [_window(0, health={"latency_p95_ms": 120.0}),
               _window(1, health={"latency_p95_ms": 900.0})]
    alerts, missing = evaluate_rules(windows, [rule], reference={})
    assert [(a["window"], a["value"], a["threshold"], a["severity"]) for a in alerts] == [
        (1, 900.0, 500.0, "critical")]
    assert missing == []


def test_drop_rule_compares_with_reference_in_the_right_direction():
    rules = [AlertRuleConfig("drop", "performance.*", "drop_pct", 5.0)]
    windows = [_window(0, performance={"roc_auc": 0.80, "rmse": 10.0}),
               _window(1, performance={"roc_auc": 0.70, "rmse": 12.0})]
    alerts, _ = evaluate_rules(windows, rules, reference={"roc_auc": 0.8, "rmse": 10.0})
    fired = {(a["window"], a["metric"]) for a in alerts}
    assert fired == {(1, "performance.roc_auc"), (1, "performance.rmse")}
    auc = next(a for a in alerts if a["metric"] == "performance.roc_auc")
    assert math.isclose(auc["threshold"], 0.76) and auc["reference"] == 0.8


def test_missing_values_are_insufficient_data_never_a_pass():
    rule = AlertRuleConfig("err", "health.error_rate", ">", 0.05)
    windows = [_window(0, health={"error_rate": float("nan")}), _window(1, health={})]
    alerts, missing = evaluate_rules(windows, [rule], reference={})
    assert alerts == []
    assert [m["window"] for m in missing] == [0, 1]


def test_drop_rule_skips_metrics_without_a_direction_and_reads_per_class_recall():
    rules = [AlertRuleConfig("drop", "performance.*", "drop_pct", 5.0)]
    windows = [_window(0, performance={"mean_error": 3.0, "recall[cat]": 0.9}),
               _window(1, performance={"mean_error": -3.0, "recall[cat]": 0.5})]
    alerts, _ = evaluate_rules(windows, rules,
                               reference={"mean_error": 0.1, "recall[cat]": 0.8})
    assert {(a["window"], a["metric"]) for a in alerts} == {(1, "performance.recall[cat]")}


def test_persistence_and_segment_rules():
    rule = AlertRuleConfig("p95", "health.latency_p95_ms", ">", 500.0, persistence=2)
    lat = [900.0, 100.0, 900.0, 900.0, 900.0]
    windows = [_window(i, health={"latency_p95_ms": v}) for i, v in enumerate(lat)]
    alerts, _ = evaluate_rules(windows, [rule], reference={})
    assert [a["window"] for a in alerts] == [3, 4]  # the 2nd breach in a row onwards
    only_v2 = AlertRuleConfig("v2", "health.latency_p95_ms", ">", 500.0,
                              segment={"model_version": "v2"})
    tagged = [{**w, "segment": {"model_version": s}} for w, s in zip(windows, "v1 v2 v2 v1 v2"
                                                                   .split(), strict=True)]
    alerts, _ = evaluate_rules(tagged, [only_v2], reference={})
    assert [a["window"] for a in alerts] == [2, 4]


def test_rules_whose_role_the_log_lacks_are_not_applicable():
    from obskit.alerts import split_applicable
    from obskit.config import DEFAULT_ALERTS

    roles = ["timestamp", "request_id", "score", "prediction", "label"]
    applicable, not_applicable = split_applicable(DEFAULT_ALERTS, roles)
    assert [r.name for r in applicable] == ["drift_share", "performance_drop"]
    assert not_applicable == [
        {"rule": "latency_p95", "metric": "health.latency_p95_ms",
         "missing_roles": ["latency_ms"], "reason": "no latency_ms column"},
        {"rule": "error_rate", "metric": "health.error_rate",
         "missing_roles": ["status", "error"], "reason": "no status or error column"}]
    # an error message column alone is enough for the error rate; no label: no performance
    applicable, not_applicable = split_applicable(
        DEFAULT_ALERTS, ["timestamp", "score", "latency_ms", "error"])
    assert [r.name for r in applicable] == ["drift_share", "latency_p95", "error_rate"]
    assert not_applicable == [{"rule": "performance_drop", "metric": "performance.*",
                               "missing_roles": ["label"], "reason": "no label column"}]
    # every role present: everything applies (a window without values is then
    # insufficient data, judged by evaluate_rules)
    assert split_applicable(DEFAULT_ALERTS, [*roles, "latency_ms", "status"])[1] == []
