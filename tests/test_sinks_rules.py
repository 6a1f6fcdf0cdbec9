"""``obskit alert-rules``: the generated Prometheus rules pass ``promtool check rules``, the
shipped ``promtool test rules`` unit tests (tests/data/promtool/) show each alert firing
and resolving, and the thresholds follow the report's config."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from obskit.cli import main
from obskit.config import load_config
from obskit.sinks.rules import DAY_S, rule_groups, schedule_period_s

PROMTOOL = next((p for p in ("/usr/bin/promtool", shutil.which("promtool")) if p
                 and Path(p).exists()), None)
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus)")
UNIT_TESTS = Path(__file__).parent / "data" / "promtool" / "obskit_rules_test.yml"


def generate(tmp_path: Path, *args: str) -> dict[str, dict]:
    """Run ``obskit alert-rules --out tmp/obskit_rules.yml ARGS``; the rules by alert name."""
    out = tmp_path / "obskit_rules.yml"
    assert main(["alert-rules", "--out", str(out), *args]) == 0
    document = yaml.safe_load(out.read_text())
    return {r["alert"]: r for g in document["groups"] for r in g["rules"]}


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text("sources: {current: logs/}\n" + text)
    return path


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@needs_promtool
def test_promtool_checks_the_default_rules(tmp_path):
    generate(tmp_path)
    result = promtool("check", "rules", "obskit_rules.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 13 rules found" in result.stdout


@needs_promtool
def test_promtool_unit_tests_fire_and_resolve_every_alert(tmp_path):
    rules = generate(tmp_path)
    tested = {t["alertname"] for group in yaml.safe_load(UNIT_TESTS.read_text())["tests"]
              for t in group["alert_rule_test"]}
    assert tested == set(rules)  # every generated alert has its unit test
    shutil.copy(UNIT_TESTS, tmp_path)
    result = promtool("test", "rules", UNIT_TESTS.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@needs_promtool
def test_promtool_unit_tests_catch_a_wrong_threshold(tmp_path):
    generate(tmp_path, "--config", str(write_config(tmp_path, """
alerts:
  - {name: drift_share, metric: drift_share, op: ">", value: 0.5}
""")))
    shutil.copy(UNIT_TESTS, tmp_path)
    result = promtool("test", "rules", UNIT_TESTS.name, cwd=tmp_path)
    assert result.returncode == 1
    assert "alertname: ObskitDriftShare, time: 25m" in result.stdout + result.stderr


def test_default_rules_follow_the_report_defaults(tmp_path):
    rules = generate(tmp_path)
    assert rules["ObskitDriftShare"]["expr"] == "obskit_drift_share > 0.1"
    assert rules["ObskitDriftShare"]["labels"] == {"severity": "warning",
                                                   "obskit_rule": "drift_share"}
    assert rules["ObskitLatencyP95"]["expr"] == 'obskit_latency_ms{quantile="0.95"} > 500'
    assert rules["ObskitErrorRate"]["expr"] == "obskit_error_rate > 0.05"
    # judged by the report only (relative to the reference): relayed
    assert (rules["ObskitPerformanceDrop"]["expr"]
            == 'obskit_alert_active{rule="performance_drop"} == 1')
    assert rules["ObskitServiceLatencyP95"]["expr"].endswith(" > 0.5")
    assert "obskit_prediction_duration_seconds_bucket[5m]" in (
        rules["ObskitServiceLatencyP95"]["expr"])
    assert rules["ObskitServiceLatencyP95"]["labels"]["severity"] == "critical"
    assert rules["ObskitReportStale"]["expr"] == (
        f"time() - obskit_last_run_timestamp_seconds > {2 * DAY_S:g}")
    for rule in rules.values():
        assert rule["for"].endswith("m") and set(rule["annotations"]) == {"summary",
                                                                          "description"}


def test_config_thresholds_change_the_rules(tmp_path):
    config = write_config(tmp_path, """
alerts:
  - {name: drift_share, metric: drift_share, op: ">", value: 0.2, severity: critical}
  - {name: latency_p95, metric: health.latency_p95_ms, op: ">", value: 250}
  - {name: f1_low, metric: performance.f1, op: "<", value: 0.7}
  - {name: eu_drift, metric: drift_share, op: ">", value: 0.3, segment: {region: eu}}
""")
    rules = generate(tmp_path, "--config", str(config))
    assert rules["ObskitDriftShare"]["expr"] == "obskit_drift_share > 0.2"
    assert rules["ObskitDriftShare"]["labels"]["severity"] == "critical"
    assert rules["ObskitF1Low"]["expr"] == 'obskit_performance{metric="f1"} < 0.7'
    # a segment's value is not exported: the report's verdict is relayed
    assert rules["ObskitEuDrift"]["expr"] == 'obskit_alert_active{rule="eu_drift"} == 1'
    assert rules["ObskitServiceLatencyP95"]["expr"].endswith(" > 0.25")
    assert rules["ObskitLatencyP95"]["expr"] == 'obskit_latency_ms{quantile="0.95"} > 250'
    # no error_rate rule configured: the service rule keeps the default threshold
    assert rules["ObskitServiceErrorRate"]["expr"].endswith(" > 0.05")
    assert "ObskitMissingValues" not in rules


def test_stale_threshold_follows_the_schedule(tmp_path):
    config = write_config(tmp_path, """
schedule:
  jobs:
    - {name: hourly, cron: "0 * * * *"}
    - {name: weekdays, cron: "0 6 * * 1-5"}
""")
    # the longest gap: Friday 06:00 to Monday 06:00
    assert schedule_period_s(load_config(config)) == 3 * DAY_S
    rules = generate(tmp_path, "--config", str(config), "--stale-runs", "1.5")
    assert rules["ObskitReportStale"]["expr"].endswith(f"> {4.5 * DAY_S:g}")
    assert rule_groups(load_config(config))["groups"][1]["rules"][-1]["expr"].endswith(
        f"> {6 * DAY_S:g}")


def test_bad_input_exits_2_naming_the_problem(tmp_path, capsys):
    bad = write_config(tmp_path, "alerts: {drift: 1}\n")
    assert main(["alert-rules", "--out", str(tmp_path / "r.yml"), "--config", str(bad)]) == 2
    assert "alerts" in capsys.readouterr().err
    assert main(["alert-rules", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["alert-rules", "--out", str(tmp_path / "r.yml"), "--stale-runs", "0"]) == 2
    assert "--stale-runs" in capsys.readouterr().err


def test_window_and_for_flags_tune_every_rule(tmp_path):
    rules = generate(tmp_path, "--window", "30s", "--for", "1m30s")
    latency, errors = rules["ObskitServiceLatencyP95"], rules["ObskitServiceErrorRate"]
    assert "obskit_prediction_duration_seconds_bucket[30s]" in latency["expr"]
    assert errors["expr"].count("[30s]") == 2 and "[5m]" not in errors["expr"]
    assert "over 30s" in latency["annotations"]["description"]
    assert {r["for"] for r in rules.values()} == {"1m30s"}
    defaults = generate(tmp_path)
    assert {defaults[a]["for"] for a in ("ObskitServiceLatencyP95", "ObskitReportUnavailable",
                                         "ObskitDriftShare")} == {"10m", "15m", "5m"}
    assert generate(tmp_path, "--for", "0s")["ObskitDriftShare"]["for"] == "0s"
    if PROMTOOL is not None:
        generate(tmp_path, "--window", "1m", "--for", "10s")
        result = promtool("check", "rules", "obskit_rules.yml", cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("flag, value, message", [
    ("--window", "5 minutes", "--window: expected a Prometheus duration"),
    ("--window", "0s", "--window: expected a duration above zero"),
    ("--for", "10", "--for: expected a Prometheus duration"),
    ("--for", "m5", "--for: expected a Prometheus duration"),
])
def test_bad_durations_exit_2_naming_the_flag(tmp_path, capsys, flag, value, message):
    assert main(["alert-rules", "--out", str(tmp_path / "r.yml"), flag, value]) == 2
    err = capsys.readouterr().err
    assert message in err and repr(value) in err and "Traceback" not in err
    assert not (tmp_path / "r.yml").exists()
