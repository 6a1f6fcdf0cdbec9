"""Alert state: announce an alert once when it starts, again when it resolves."""

from __future__ import annotations

import json

from obskit.results import Alert, InsufficientData, load
from obskit.runner.alert_state import AlertState, alert_key, latest_values


def _alert(rule="latency_p95", metric="health.latency_p95_ms", value=900.0, segment=None,
           end="2026-11-02T00:00:00Z"):
    return Alert.from_dict({"rule": rule, "metric": metric, "value": value,
                            "threshold": 500.0, "severity": "critical", "segment": segment,
                            "window_end": end})


def _insufficient(**item):
    return InsufficientData.from_dict(item)


def test_fire_then_silence_then_resolve_across_three_runs(tmp_path):
    state = AlertState.load(tmp_path)
    first = state.update([_alert()], "run-1")
    state.save()
    assert [a["rule"] for a in first.firing] == ["latency_p95"]
    assert first.resolved == [] and first.ongoing == []

    state = AlertState.load(tmp_path)  # from the file, as the next run would
    second = state.update([_alert(value=950.0)], "run-2")
    state.save()
    assert second.firing == [] and second.resolved == []
    assert [a["since_run"] for a in second.ongoing] == ["run-1"]
    assert second.ongoing[0]["value"] == 950.0

    state = AlertState.load(tmp_path)
    third = state.update([], "run-3", last_values={alert_key(_alert()): 120.0},
                         at="2026-11-04T06:00:00Z")
    state.save()
    assert third.firing == [] and third.ongoing == []
    (resolved,) = third.resolved
    assert resolved["since_run"] == "run-1"
    assert resolved["resolution"] == {"resolved_at": "2026-11-04T06:00:00Z",
                                      "run_id": "run-3", "last_value": 120.0}
    assert json.loads((tmp_path / "alert_state.json").read_text())["firing"] == []
    assert third.to_announce == third.resolved


def test_missing_data_keeps_a_firing_alert(tmp_path):
    state = AlertState(tmp_path)
    state.update([_alert()], "run-1")
    events = state.update([], "run-2", insufficient=[
        _insufficient(rule="latency_p95", metric="health.latency_p95_ms", segment=None)])
    assert events.resolved == [] and events.firing == []
    assert events.ongoing[0]["insufficient_data"] is True
    # a window without enough rows (rule None) holds every key too
    events = state.update([], "run-3", insufficient=[_insufficient(rule=None, metric=None,
                                                                   segment=None)])
    assert events.resolved == [] and len(events.ongoing) == 1
    assert len(state.update([], "run-4").resolved) == 1


def test_keys_are_rule_metric_and_segment(tmp_path):
    state = AlertState(tmp_path)
    v1, v2 = {"model_version": "v1"}, {"model_version": "v2"}
    state.update([_alert(segment=v1)], "r1")
    events = state.update([_alert(segment=v1), _alert(segment=v2),
                           _alert(rule="error_rate", metric="health.error_rate")], "r2")
    assert sorted((a["rule"], str(a["segment"])) for a in events.firing) == [
        ("error_rate", "None"), ("latency_p95", "{'model_version': 'v2'}")]
    assert len(events.ongoing) == 1
    # several windows of one key: one event, carrying the latest window
    events = state.update([_alert(value=1.0, end="2026-11-01T00:00:00Z"),
                           _alert(value=2.0, end="2026-11-03T00:00:00Z")], "r3")
    assert [a["value"] for a in events.firing] == [2.0]


def test_unreadable_state_starts_empty_and_latest_values_reads_the_last_window(tmp_path):
    (tmp_path / "alert_state.json").write_text("{not json")
    assert AlertState.load(tmp_path).firing == {}
    summary = {"windows": [{"status": "ok", "health": {"latency_p95_ms": 900.0}},
                           {"status": "ok", "health": {"latency_p95_ms": 110.0}},
                           {"status": "empty", "health": {}}],
               "segments": {"model_version": [{"value": "v2", "windows": [
                   {"status": "ok", "health": {"latency_p95_ms": 42.0}}]}]}}
    values = latest_values(load(summary))
    assert values[alert_key(_alert())] == 110.0
    assert values[alert_key(_alert(segment={"model_version": "v2"}))] == 42.0
