"""Alert rules over windows: comparisons, drops against the reference, missing data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from obskit.config import AlertRuleConfig
from obskit.findings.alert_rules import evaluate_rules, resolve_metric


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
    from obskit.config import DEFAULT_ALERTS
    from obskit.findings.alert_rules import split_applicable

    roles = ["timestamp", "request_id", "score", "prediction", "label"]
    quality = [r.name for r in DEFAULT_ALERTS if r.metric.startswith("data_quality.")]
    assert len(quality) == 5  # data quality needs features only: applies to every log
    applicable, not_applicable = split_applicable(DEFAULT_ALERTS, roles)
    assert [r.name for r in applicable] == ["drift_share", "performance_drop", *quality]
    assert not_applicable == [
        {"rule": "latency_p95", "metric": "health.latency_p95_ms",
         "missing_roles": ["latency_ms"], "reason": "no latency_ms column"},
        {"rule": "error_rate", "metric": "health.error_rate",
         "missing_roles": ["status", "error"], "reason": "no status or error column"}]
    # an error message column alone is enough for the error rate; no label: no performance
    applicable, not_applicable = split_applicable(
        DEFAULT_ALERTS, ["timestamp", "score", "latency_ms", "error"])
    assert [r.name for r in applicable] == ["drift_share", "latency_p95", "error_rate",
                                            *quality]
    assert not_applicable == [{"rule": "performance_drop", "metric": "performance.*",
                               "missing_roles": ["label"], "reason": "no label column"}]
    # every role present: everything applies (a window without values is then
    # insufficient data, judged by evaluate_rules)
    assert split_applicable(DEFAULT_ALERTS, [*roles, "latency_ms", "status"])[1] == []


# --------------------------------------------------------------------------- significant drops


def _accuracy_window(i, correct, rows=5000):
    from obskit.metrics import wilson_interval

    return _window(i, performance={"accuracy": correct / rows},
                   performance_ci={"accuracy": list(wilson_interval(correct, rows))})


def test_default_performance_rule_is_significance_based():
    from obskit.config import DEFAULT_ALERTS

    rule = next(r for r in DEFAULT_ALERTS if r.name == "performance_drop")
    assert (rule.metric, rule.op, rule.value) == ("performance.*", "significant_drop", 1.0)


def test_a_clear_3_4_percent_drop_fires_and_drop_pct_5_does_not():
    """0.944 → 0.912 on 5,000-row windows: both 95% intervals lie wholly below the
    reference, so the default rule fires; a 5% ``drop_pct`` rule stays silent."""
    from obskit.config import DEFAULT_ALERTS
    from obskit.metrics import wilson_interval

    rule = next(r for r in DEFAULT_ALERTS if r.name == "performance_drop")
    rule = AlertRuleConfig(rule.name, "performance.accuracy", rule.op, rule.value)
    windows = [_accuracy_window(0, 4720), _accuracy_window(1, 4560), _accuracy_window(2, 4560)]
    assert all(w["performance_ci"]["accuracy"][1] < 0.944 for w in windows[1:])
    reference, reference_ci = {"accuracy": 0.944}, {"accuracy": list(wilson_interval(4720, 5000))}
    alerts, missing = evaluate_rules(windows, [rule], reference=reference,
                                     reference_ci=reference_ci)
    assert [a["window"] for a in alerts] == [1, 2] and missing == []
    assert alerts[0]["reference"] == 0.944
    assert alerts[0]["interval"] == windows[1]["performance_ci"]["accuracy"]
    old = AlertRuleConfig("drop", "performance.accuracy", "drop_pct", 5.0)
    assert evaluate_rules(windows, [old], reference=reference)[0] == []


def test_significant_drop_false_alarms_stay_near_the_interval_level():
    """Same-distribution windows (accuracy 0.944, 5,000 rows) against a same-size
    reference, 40 seeds × 5 windows: the difference's 95% interval is wholly on the worse
    side in about 2.5% of windows (one-sided)."""
    from obskit.metrics import wilson_interval

    rule = AlertRuleConfig("performance_drop", "performance.accuracy", "significant_drop", 1.0)
    rng = np.random.default_rng(11)
    fired = judged = 0
    for _ in range(40):
        ref = int(rng.binomial(5000, 0.944))
        windows = [_accuracy_window(i, int(rng.binomial(5000, 0.944))) for i in range(5)]
        alerts, _ = evaluate_rules(windows, [rule], reference={"accuracy": ref / 5000},
                                   reference_ci={"accuracy": list(wilson_interval(ref, 5000))})
        fired += len(alerts)
        judged += len(windows)
    assert fired <= 0.06 * judged  # 5 expected of 200; 12 or more has P < 0.01


def test_significant_drop_direction_min_drop_and_missing_interval():
    rule = AlertRuleConfig("d", "performance.*", "significant_drop", 1.0)
    tight = _window(0, performance={"rmse": 10.5, "roc_auc": 0.798},
                    performance_ci={"rmse": [10.4, 10.6], "roc_auc": [0.797, 0.799]})
    alerts, _ = evaluate_rules([tight], [rule], reference={"rmse": 10.0, "roc_auc": 0.8})
    # rmse rose 5% beyond its interval (lower is better); roc_auc is "significant" but
    # only 0.25% worse, under the 1% minimum
    assert [a["metric"] for a in alerts] == ["performance.rmse"]
    better = _window(0, performance={"rmse": 9.0}, performance_ci={"rmse": [8.9, 9.1]})
    assert evaluate_rules([better], [rule], reference={"rmse": 10.0})[0] == []
    no_ci = _window(0, performance={"rmse": 20.0})
    alerts, missing = evaluate_rules([no_ci], [rule], reference={"rmse": 10.0})
    assert alerts == [] and [m["metric"] for m in missing] == ["performance.rmse"]


def test_a_clear_drop_is_a_finding_of_a_default_run(tmp_path):
    """The whole run: 5,000-row windows at accuracy 0.944 then 0.912 (exactly), a
    reference at 0.944: one performance finding, naming the drop and its interval."""
    import pandas as pd

    import obskit
    from obskit.config import load_config

    rng = np.random.default_rng(4)

    def log(start, rows, correct):
        label = rng.integers(0, 2, rows)
        right = rng.permutation(np.arange(rows) < correct)
        return pd.DataFrame({
            "timestamp": pd.date_range(start, periods=rows, freq="1min", tz="UTC"),
            "x": rng.normal(0, 1, rows), "label": label,
            "prediction": np.where(right, label, 1 - label)})

    log("2026-10-01", 5000, 4720).to_parquet(tmp_path / "ref.parquet")
    pd.concat([log("2026-11-01", 5000, 4720), log("2026-11-05", 5000, 4560)]
              ).to_parquet(tmp_path / "cur.parquet")
    summary = obskit.analyze(load_config(overrides={
        "sources": {"reference": str(tmp_path / "ref.parquet"),
                    "current": str(tmp_path / "cur.parquet")},
        "window": "5000 rows", "segments": []})).to_summary()
    assert summary["reference"]["performance"]["accuracy"] == pytest.approx(0.944)
    drops = [a for a in summary["alerts"] if a["rule"] == "performance_drop"]
    assert [(a["window"], round(a["value"], 3)) for a in drops] == [(1, 0.912)]
    assert drops[0]["interval"][1] < 0.944
    text = next(f["text"] for f in summary["findings"] if f["kind"] == "performance_drop")
    assert "accuracy fell from 0.944 (reference) to 0.912" in text


def test_undefined_primary_metric_falls_back_to_accuracy_where_asked():
    """New-user report (a broken label feed, every label 1): roc_auc is undefined in the
    window, accuracy fell from 0.975 to 0.61. With a fallback (the default performance
    rule's), the window is judged on accuracy; without one it is not judged."""
    rule = AlertRuleConfig("performance_drop", "performance.roc_auc", "significant_drop", 1.0)
    ref = {"roc_auc": 0.99, "accuracy": 0.975}
    ref_ci = {"roc_auc": [0.985, 0.995], "accuracy": [0.967, 0.981]}
    windows = [_window(0, performance={"roc_auc": 0.99, "accuracy": 0.97},
                       performance_ci={"roc_auc": [0.98, 0.995], "accuracy": [0.95, 0.985]}),
               _window(1, performance={"roc_auc": None, "accuracy": 0.61},
                       performance_ci={"roc_auc": [None, None], "accuracy": [0.56, 0.66]})]
    alerts, insufficient = evaluate_rules(windows, [rule], reference=ref, reference_ci=ref_ci)
    assert alerts == [] and [i["window"] for i in insufficient] == [1]
    alerts, insufficient = evaluate_rules(
        windows, [rule], reference=ref, reference_ci=ref_ci,
        fallback={"performance.roc_auc": "performance.accuracy"})
    assert insufficient == []
    assert [(a["window"], a["metric"], a["value"], a["reference"], a["instead_of"])
            for a in alerts] == [(1, "performance.accuracy", 0.61, 0.975,
                                  "performance.roc_auc")]
    # a window where accuracy is undefined too stays not judged
    windows[1]["performance"]["accuracy"] = None
    alerts, insufficient = evaluate_rules(
        windows, [rule], reference=ref, reference_ci=ref_ci,
        fallback={"performance.roc_auc": "performance.accuracy"})
    assert alerts == [] and [i["window"] for i in insufficient] == [1]


def test_typed_windows_are_judged_like_window_dicts():
    """A loaded run's windows (records) resolve paths and fire rules as their dicts do: a
    key the document lacks is absent either way, and the segment comes with ``segment=``."""
    from obskit.results import Window

    dicts = [_window(0, health={"latency_p95_ms": 120.0}, performance={"roc_auc": 0.8},
                     performance_ci={"roc_auc": [0.79, 0.81]},
                     drift={"x": {"value": 0.3, "drifted": True}},
                     data_quality={"x": {"missing_increase": 0.2}, "y": {"missing": 0}}),
             _window(1, health={"latency_p95_ms": 900.0}, performance={"roc_auc": 0.7},
                     performance_ci={"roc_auc": [0.68, 0.72]},
                     data_quality={"x": {"missing_increase": 0.01}})]
    typed = [Window.from_dict(w) for w in dicts]
    for path in ("health.latency_p95_ms", "drift.x", "health.nothing", "performance.roc_auc",
                 "data_quality.y.missing_increase", "data_quality.x.missing_increase"):
        assert resolve_metric(typed[0], path) == resolve_metric(dicts[0], path)
    rules = [AlertRuleConfig("p95", "health.latency_p95_ms", ">", 500.0, "critical"),
             AlertRuleConfig("auc", "performance.*", "significant_drop", 1.0),
             AlertRuleConfig("dq", "data_quality.*.missing_increase", ">", 0.1),
             AlertRuleConfig("seg", "drift.x", ">", 0.1, segment={"region": "eu"})]
    kwargs = {"reference": {"roc_auc": 0.8}, "reference_ci": {"roc_auc": [0.79, 0.81]}}
    assert evaluate_rules(typed, rules, **kwargs) == evaluate_rules(dicts, rules, **kwargs)
    tagged = [{**w, "segment": {"region": "eu"}} for w in dicts]
    assert evaluate_rules(typed, rules, segment={"region": "eu"}, **kwargs) == \
        evaluate_rules(tagged, rules, **kwargs)
    alerts, _ = evaluate_rules(typed, rules, segment={"region": "eu"}, **kwargs)
    assert {a["rule"] for a in alerts} == {"p95", "auc", "dq", "seg"}
