"""Rule actions: argv without a shell, the alert in the environment, timeouts recorded."""

from __future__ import annotations

import json
import sys

from obskit.results import load
from obskit.runner.alert_state import AlertEvents
from obskit.sinks import dispatch
from obskit.sinks.actions import MAX_OUTPUT_CHARS, run_action, run_actions

ALERT = {"rule": "p95", "metric": "health.latency_p95_ms", "window": 3,
         "window_start": "2026-11-09T00:00:00Z", "window_end": "2026-11-10T00:00:00Z",
         "op": ">", "value": 812.5, "threshold": 500.0, "severity": "critical",
         "segment": {"model_version": "v2"}, "action": None}

DUMP_ENV = ("import json, os; print(json.dumps({k: v for k, v in os.environ.items() "
            "if k.startswith('OBSKIT_')}))")


def test_action_gets_the_alert_in_its_environment(tmp_path):
    alert = {**ALERT, "action": [sys.executable, "-c", DUMP_ENV]}
    result = run_action(alert, timeout_s=30, run_dir=tmp_path)
    assert result["status"] == "ok" and result["exit_code"] == 0
    assert result["duration_s"] >= 0
    env = json.loads(result["stdout"])
    assert env == {"OBSKIT_RULE": "p95", "OBSKIT_METRIC": "health.latency_p95_ms",
                   "OBSKIT_VALUE": "812.5", "OBSKIT_THRESHOLD": "500.0",
                   "OBSKIT_WINDOW_START": "2026-11-09T00:00:00Z",
                   "OBSKIT_WINDOW_END": "2026-11-10T00:00:00Z",
                   "OBSKIT_SEGMENT": "model_version=v2", "OBSKIT_SEVERITY": "critical",
                   "OBSKIT_RUN_DIR": str(tmp_path)}


def test_no_shell_is_involved(tmp_path):
    marker = tmp_path / "pwned"
    alert = {**ALERT, "action": [sys.executable, "-c", "import sys; print(sys.argv[1])",
                                 f"x; touch {marker}"]}
    result = run_action(alert, timeout_s=30)
    assert result["stdout"].strip() == f"x; touch {marker}"
    assert not marker.exists()


def test_failure_and_truncated_output():
    code = f"import sys; sys.stderr.write('e' * {MAX_OUTPUT_CHARS * 2}); sys.exit(3)"
    result = run_action({**ALERT, "action": [sys.executable, "-c", code]}, timeout_s=30)
    assert result["status"] == "failed" and result["exit_code"] == 3
    assert result["stderr"].startswith("e" * MAX_OUTPUT_CHARS)
    assert "truncated" in result["stderr"] and len(result["stderr"]) < MAX_OUTPUT_CHARS + 100


def test_timeout_is_recorded_not_raised():
    code = "import sys, time; print('started', flush=True); time.sleep(30)"
    result = run_action({**ALERT, "action": [sys.executable, "-c", code]}, timeout_s=0.5)
    assert result["status"] == "timeout" and result["exit_code"] is None
    assert 0.4 < result["duration_s"] < 10
    assert "action_timeout_s" in result["error"]


def test_missing_program_is_recorded():
    result = run_action({**ALERT, "action": ["/nonexistent/obskit-rollback"]}, timeout_s=5)
    assert result["status"] == "error" and "/nonexistent/obskit-rollback" in result["error"]


def test_dry_run_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    alert = {**ALERT, "action": [sys.executable, "-c", f"open({str(marker)!r}, 'w')"]}
    [result] = run_actions([alert], dry_run=True)
    assert result["status"] == "dry_run" and result["argv"] == alert["action"]
    assert result["env"]["OBSKIT_RULE"] == "p95"
    assert not marker.exists()


def test_timeout_comes_from_the_rule_in_the_summary():
    summary = {"alert_rules": [{"name": "p95", "action_timeout_s": 7.5}]}
    alerts = [{**ALERT, "action": ["true"]}, {**ALERT, "rule": "other", "action": ["true"]},
              {**ALERT, "rule": "silent"}]
    results = run_actions(alerts, run=load(summary), dry_run=True)
    assert [r["timeout_s"] for r in results] == [7.5, 60.0]


def test_dispatch_runs_actions_of_new_alerts_only(tmp_path):
    firing = {**ALERT, "action": [sys.executable, "-c", "print('rollback')"]}
    ongoing = {**ALERT, "rule": "old", "action": [sys.executable, "-c", "print('again')"]}
    events = AlertEvents(firing=[firing], ongoing=[ongoing])
    results = dispatch(None, run=load({}), events=events, run_dir=tmp_path)
    assert [(r["sink"], r["rule"], r["stdout"].strip()) for r in results] == \
        [("action", "p95", "rollback")]
    json.dumps(results)
