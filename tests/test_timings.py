"""Per-stage timings: each second counted once, for the innermost stage."""

from __future__ import annotations

import logging
import time

import pytest

from obskit.timings import Stopwatch, active, recording, stage


def test_nested_stages_are_exclusive_and_ordered(caplog):
    sw = Stopwatch()
    with caplog.at_level(logging.INFO, logger="obskit.timings"), recording(sw):
        with stage("anomalies"):
            time.sleep(0.05)
            with stage("explanations"):
                time.sleep(0.1)
            time.sleep(0.05)
        with stage("load"):
            time.sleep(0.02)
    out = sw.to_dict()
    assert list(out) == ["load_s", "anomalies_s", "explanations_s", "total_s"]
    assert out["explanations_s"] == pytest.approx(0.1, abs=0.05)
    assert out["anomalies_s"] == pytest.approx(0.1, abs=0.05)  # without the inner 0.1 s
    assert out["total_s"] >= out["load_s"] + out["anomalies_s"] + out["explanations_s"]
    assert "stage anomalies" in caplog.text and "stage explanations" not in caplog.text


def test_absorbing_stage_takes_its_nested_stages():
    sw = Stopwatch()
    with recording(sw):
        with stage("segments", absorb=True):
            with stage("drift"):
                time.sleep(0.03)
        with stage("drift"):
            time.sleep(0.01)
    assert sw.seconds["segments"] >= 0.03
    assert sw.seconds["drift"] < 0.03


def test_no_active_stopwatch_records_nothing():
    assert active() is None
    with stage("load"):
        pass
    sw = Stopwatch()
    with recording(sw):
        assert active() is sw
    assert active() is None and sw.seconds == {}
