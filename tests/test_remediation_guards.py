"""Remediation config validation, the guards over windows and time, and the audit log."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from obskit.config import config_from_dict
from obskit.exceptions import ConfigError
from obskit.remediation import RemediationState, append_audit, decision_line, read_audit
from obskit.remediation.guards import judged_windows, verdict
from obskit.results import load

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)
ALERTS = [{"name": "drift_share_high", "metric": "drift_share", "op": ">", "value": 0.2}]


def cfg(remediation, tmp_path, **extra):
    return config_from_dict({"sources": {"current": "/logs"}, "alerts": ALERTS,
                             "remediation": remediation, **extra}, base_dir=tmp_path)


def rule(**kw):
    return {"alert": "drift_share_high", "action": "rollback", **kw}


REGISTRY = {"alias_file": "models.json"}
EMPTY_ALIAS_FILE = {"format": "obskit-aliases/1", "model_name": "credit", "versions": {},
                    "aliases": {}, "history": []}


@pytest.fixture(autouse=True)
def alias_file(tmp_path):
    """``models.json`` beside the config: an alias file with no versions yet."""
    path = tmp_path / "models.json"
    path.write_text(json.dumps(EMPTY_ALIAS_FILE))
    return path


def test_a_missing_alias_file_is_a_config_error_naming_key_and_path(tmp_path):
    with pytest.raises(ConfigError) as err:
        cfg({"registry": {"alias_file": "nosuch.json"}, "rules": [rule()]}, tmp_path)
    assert err.value.key == "remediation.registry.alias_file"
    assert "remediation.registry.alias_file" in str(err.value)
    assert str(tmp_path / "nosuch.json") in str(err.value)


TRAIN = "def make_candidate(context):\n    return None\n"


def test_retrain_entry_point_is_resolved_at_load_beside_the_config(tmp_path, monkeypatch):
    config_dir, elsewhere = tmp_path / "conf", tmp_path / "elsewhere"
    config_dir.mkdir()
    elsewhere.mkdir()
    (config_dir / "models.json").write_text(json.dumps(EMPTY_ALIAS_FILE))
    (config_dir / "fixremed_train_a.py").write_text(TRAIN)
    monkeypatch.chdir(elsewhere)  # the installed command, run from another folder
    retrain = rule(action="retrain", entry_point="fixremed_train_a:make_candidate")
    rc = cfg({"registry": REGISTRY, "rules": [retrain]}, config_dir).remediation
    assert rc.rules[0].entry_point_folders == (str(config_dir), str(elsewhere))
    # a module in the working directory is found too (as python -m finds it)
    (elsewhere / "fixremed_train_b.py").write_text(TRAIN)
    cfg({"registry": REGISTRY, "rules": [
        rule(action="retrain", entry_point="fixremed_train_b:make_candidate")]}, config_dir)


@pytest.mark.parametrize("entry, words", [
    ("fixremed_nosuch_module:make_candidate", "no module 'fixremed_nosuch_module'"),
    ("fixremed_train_c:nosuch", "has no function 'nosuch'"),
])
def test_a_missing_entry_point_module_or_function_is_a_config_error(tmp_path, entry, words):
    (tmp_path / "fixremed_train_c.py").write_text(TRAIN)
    with pytest.raises(ConfigError) as err:
        cfg({"registry": REGISTRY, "rules": [rule(), rule(action="retrain", entry_point=entry)]},
            tmp_path)
    assert err.value.key == "remediation.rules[1].entry_point"
    assert "remediation.rules[1].entry_point" in str(err.value) and words in str(err.value)
    if "module" in words:  # the message says where it looked
        assert str(tmp_path) in str(err.value)


def test_defaults_are_guarded_and_paths_resolved(tmp_path):
    rc = cfg({"registry": REGISTRY, "rules": [rule()]}, tmp_path).remediation
    assert rc.dry_run is True and rc.alias == "champion" and rc.max_actions_per_day is None
    assert rc.alias_file == str(tmp_path / "models.json") and rc.audit_log is None
    (r,) = rc.rules
    assert (r.consecutive_windows, r.cooldown, r.max_per_day) == (3, timedelta(days=1), 1)
    assert r.key == "drift_share_high/rollback"
    assert cfg(None, tmp_path).remediation is None


@pytest.mark.parametrize("section, key, words", [
    ({"registry": REGISTRY, "rules": [rule(action="restart")]}, "remediation.rules[0].action",
     "rollback, retrain, webhook"),
    ({"registry": REGISTRY, "rules": [rule(alert="drift_high")]}, "remediation.rules[0].alert",
     "drift_share_high"),
    ({"registry": REGISTRY, "rules": [rule(), rule(cooldown="soon")]},
     "remediation.rules[1].cooldown", "soon"),
    ({"registry": REGISTRY, "rules": [rule(consecutive_windows=0)]},
     "remediation.rules[0].consecutive_windows", "integer >= 1"),
    ({"registry": REGISTRY, "rules": [rule(action="retrain")]},
     "remediation.rules[0].entry_point", "module:function"),
    ({"registry": REGISTRY, "rules": [rule(action="retrain", entry_point="m:f",
                                           gate={"metric": "auc"})]},
     "remediation.rules[0].gate.metric", "scikit-learn scorer"),
    ({"registry": REGISTRY, "rules": [rule(gate={"metric": "roc_auc"})]},
     "remediation.rules[0].gate", "only a retrain rule"),
    ({"rules": [rule()]}, "remediation.registry", "alias_file"),
    ({"registry": {"tracking_uri": "sqlite:///m.db"}, "rules": [rule()]},
     "remediation.registry.model_name", "registered model name"),
    ({"registry": REGISTRY, "rules": [rule(action="webhook")]}, "remediation.rules[0].action",
     "sinks.webhook"),
    ({"registry": REGISTRY, "rules": [rule(), rule()]}, "remediation.rules[1]",
     "one rule per alert and action"),
    ({"registry": REGISTRY, "rules": [rule(when="now")]}, "remediation.rules[0].when",
     "consecutive_windows"),
    ({"registry": REGISTRY, "rules": []}, "remediation.rules", "non-empty list"),
    ({"registry": REGISTRY, "dry_run": "no", "rules": [rule()]}, "remediation.dry_run",
     "true or false"),
])
def test_mistakes_name_their_key(tmp_path, section, key, words):
    with pytest.raises(ConfigError) as err:
        cfg(section, tmp_path)
    assert err.value.key == key and key in str(err.value) and words in str(err.value)


def test_default_alert_names_are_valid_without_an_alerts_section(tmp_path):
    config = config_from_dict({"sources": {"current": "/logs"}, "remediation": {
        "registry": REGISTRY, "rules": [rule(alert="performance_drop")]}}, base_dir=tmp_path)
    assert config.remediation.rules[0].alert == "performance_drop"


def _run(windows, alerts=(), insufficient=()):
    return load({"windows": [{"index": i, "start": s, "end": None, "status": st}
                             for i, (s, st) in enumerate(windows)],
                 "alerts": [{"rule": "drift_share_high", "metric": "drift_share",
                             "window_start": s} for s in alerts],
                 "insufficient_data": [{"rule": r, "window_start": s} for r, s in insufficient]})


def test_judged_windows_skip_what_could_not_be_judged():
    run = _run([("d1", "ok"), ("d2", "insufficient_data"), ("d3", "ok"), ("d4", "ok")],
               alerts=["d3"], insufficient=[("drift_share_high", "d4")])
    assert judged_windows(run, "drift_share_high") == {"d1": False, "d3": True}


def _state(tmp_path, judged):
    state = RemediationState(tmp_path)
    state.record_windows("drift_share_high", judged)
    return state


def test_streak_counts_each_window_once_and_not_after_an_action(tmp_path):
    rc = cfg({"registry": REGISTRY, "rules": [rule(consecutive_windows=2)]},
             tmp_path).remediation
    (r,) = rc.rules
    state = _state(tmp_path, {"d1": False, "d2": True})
    state.record_windows("drift_share_high", {"d2": True})  # the same window, a later run
    v = verdict(r, rc, state, now=NOW, dry_run=False)
    assert (v.go, v.reason, v.latest) == (False, "1 of 2 consecutive breaching windows", "d2")
    state.record_windows("drift_share_high", {"d3": True})
    v = verdict(r, rc, state, now=NOW, dry_run=False)
    assert v.go and v.reason == "2 of 2 consecutive breaching windows"
    state.record_action(r.key, NOW, v.latest, dry_run=False)
    state.record_windows("drift_share_high", {"d4": True})
    later = NOW + timedelta(days=2)
    assert verdict(r, rc, state, now=later, dry_run=False).reason == \
        "1 of 2 consecutive breaching windows"
    state.record_windows("drift_share_high", {"d5": False})
    assert verdict(r, rc, state, now=later, dry_run=False).breaching == 0


def test_cooldown_holds_then_expires_and_dry_runs_keep_their_own_record(tmp_path):
    rc = cfg({"registry": REGISTRY, "rules": [rule(consecutive_windows=1, cooldown="6h",
                                                    max_per_day=5)]}, tmp_path).remediation
    (r,) = rc.rules
    state = _state(tmp_path, {"d1": True})
    state.record_action(r.key, NOW, "d1", dry_run=False)
    state.record_windows("drift_share_high", {"d2": True})
    held = verdict(r, rc, state, now=NOW + timedelta(hours=5), dry_run=False)
    assert not held.go
    assert held.reason.endswith("cooldown 6h until 2026-11-10T15:00:00Z")
    assert verdict(r, rc, state, now=NOW + timedelta(hours=6), dry_run=False).go
    # a live action does not hold a dry run back, nor the other way round
    assert verdict(r, rc, state, now=NOW + timedelta(hours=1), dry_run=True).go
    state.save()
    again = RemediationState.load(tmp_path)
    assert again.last_action(r.key, dry_run=False) == {"time": "2026-11-10T09:00:00Z",
                                                       "window": "d1"}
    assert again.last_action(r.key, dry_run=True) is None


def test_daily_caps_per_rule_and_over_all_rules(tmp_path):
    (tmp_path / "fixremed_train_caps.py").write_text(TRAIN)
    rc = cfg({"registry": REGISTRY, "max_actions_per_day": 1,
              "rules": [rule(consecutive_windows=1, cooldown="1min", max_per_day=2),
                        rule(action="retrain", entry_point="fixremed_train_caps:make_candidate",
                             consecutive_windows=1,
                             cooldown="1min")]}, tmp_path).remediation
    rollback, retrain = rc.rules
    state = _state(tmp_path, {"d1": True})
    state.record_action(rollback.key, NOW, "d1", dry_run=False)
    state.record_windows("drift_share_high", {"d2": True})
    v = verdict(retrain, rc, state, now=NOW + timedelta(hours=1), dry_run=False)
    assert not v.go and v.reason.endswith("daily cap 1 of all rules reached")
    rc2 = cfg({"registry": REGISTRY, "rules": [rule(consecutive_windows=1, cooldown="1min",
                                                     max_per_day=1)]}, tmp_path).remediation
    v = verdict(rc2.rules[0], rc2, state, now=NOW + timedelta(hours=1), dry_run=False)
    assert not v.go and v.reason.endswith("daily cap 1 of this rule reached")
    # the next UTC day the cap starts again
    assert verdict(rc2.rules[0], rc2, state, now=NOW + timedelta(days=1), dry_run=False).go


def test_audit_log_appends_strict_json_lines(tmp_path):
    path = tmp_path / "audit" / "remediation.jsonl"
    append_audit(path, {"decision": "skipped", "scores": {"champion": float("nan")}})
    first = path.read_bytes()
    append_audit(path, {"decision": "acted", "to_version": "1"})
    assert path.read_bytes().startswith(first)  # earlier lines are never rewritten
    assert read_audit(path) == [{"decision": "skipped", "scores": {"champion": None}},
                                {"decision": "acted", "to_version": "1"}]
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_decision_lines():
    assert decision_line({"action": "rollback", "decision": "acted", "alias": "champion",
                          "from_version": "3", "to_version": "2"}) == \
        "remediation: rollback champion 3 -> 2"
    assert decision_line({"rule": "a/retrain", "decision": "failed", "action": "retrain",
                          "error": "ValueError: boom"}) == \
        "remediation: a/retrain failed: ValueError: boom"
