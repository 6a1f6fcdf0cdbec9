"""Findings per segment: discovery, minimum size, reference basis, concentrated drift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import obskit
from obskit.config import load_config
from obskit.exceptions import ConfigError

RNG = np.random.default_rng(4)


def _frame(times, versions, *, broken=None):
    n = len(times)
    x = RNG.normal(10, 2, n)
    if broken is not None:
        x = np.where(np.asarray(versions) == broken, x * 100, x)
    return pd.DataFrame({"timestamp": times, "model_version": versions, "x": x,
                         "region": RNG.choice(["n", "s"], n), "latency_ms": 20.0})


@pytest.fixture()
def config(tmp_path):
    ref_t = pd.date_range("2026-10-01", periods=8000, freq="5min", tz="UTC")
    cur_t = pd.date_range("2026-11-01", periods=12960, freq="20s", tz="UTC")
    versions = np.where(RNG.random(12960) < 0.3, "v2", "v1")
    versions[:5] = "v3"  # a tiny segment
    _frame(ref_t, ["v1"] * 8000).to_parquet(tmp_path / "ref.parquet")
    _frame(cur_t, versions, broken="v2").to_parquet(tmp_path / "cur.parquet")
    return load_config(overrides={
        "sources": {"reference": str(tmp_path / "ref.parquet"),
                    "current": str(tmp_path / "cur.parquet")},
        "min_segment_rows": 100, "window": "1d"})


def test_segments_are_analysed_with_their_reference(config):
    summary = obskit.analyze(config).to_summary()
    entries = {e["value"]: e for e in summary["segments"]["model_version"]}
    assert entries["v3"]["status"] == "insufficient_data" and "windows" not in entries["v3"]
    assert entries["v1"]["reference_basis"] == "same segment"
    assert entries["v2"]["reference_basis"] == "whole reference"
    v2 = entries["v2"]["drift_summary"]["x"]
    assert v2["drifted_windows"] == v2["windows"] >= 2
    assert entries["v1"]["drift_summary"]["x"]["drifted_windows"] == 0
    text = next(f["text"] for f in summary["findings"] if f.get("feature") == "x")
    assert "concentrated in model_version=v2" in text


def test_configured_segment_column_must_exist(config):
    bad = load_config(overrides={"sources": {"reference": config.reference,
                                             "current": config.current},
                                 "segments": ["tenant"]})
    with pytest.raises(ConfigError, match="'tenant'"):
        obskit.analyze(bad)


def test_segment_only_alert_becomes_a_finding(config, tmp_path):
    cur = pd.read_parquet(config.current)
    v2 = np.flatnonzero(cur.model_version == "v2")
    cur.loc[v2[::8], "latency_ms"] = 900.0  # 1 in 8 v2 requests slow: ~4% of all rows
    cur.to_parquet(tmp_path / "slow.parquet")
    slow = load_config(overrides={"sources": {"reference": config.reference,
                                              "current": str(tmp_path / "slow.parquet")},
                                  "min_segment_rows": 100, "window": "1d"})
    summary = obskit.analyze(slow).to_summary()
    texts = [f["text"] for f in summary["findings"]]
    assert any(t.startswith("In segment model_version=v2: p95 latency") for t in texts)


# --- segmenting by a role's column; no internal columns in messages (issue 12) -------------

def _mapped(tmp_path):
    n_ref, n_cur = 600, 900
    ref = pd.DataFrame({"timestamp": pd.date_range("2026-10-01", periods=n_ref, freq="h",
                                                   tz="UTC"),
                        "x": RNG.normal(10, 2, n_ref), "region": RNG.choice(["n", "s"], n_ref)})
    cur = pd.DataFrame({"timestamp": pd.date_range("2026-11-01", periods=n_cur, freq="5min",
                                                   tz="UTC"),
                        "x": RNG.normal(10, 2, n_cur),
                        "region": np.where(np.arange(n_cur) % 3 == 0, "n", "s")})
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    return {"sources": {"reference": str(tmp_path / "ref.parquet"),
                        "current": str(tmp_path / "cur.parquet")},
            "columns": {"model_version": "region"}, "min_segment_rows": 100,
            "multivariate": {"enabled": False}, "estimation": False}, cur


def test_segmenting_by_a_column_mapped_to_a_role_works_by_either_name(tmp_path):
    base, cur = _mapped(tmp_path)
    summary = obskit.analyze(load_config(overrides={
        **base, "segments": ["region", "model_version"]})).to_summary()
    expected = cur.region.value_counts().to_dict()
    for column in ("region", "model_version"):
        got = {e["value"]: e["rows"] for e in summary["segments"][column]}
        assert got == expected
        same = {e["value"]: e["reference_basis"] for e in summary["segments"][column]}
        assert same == {"n": "same segment", "s": "same segment"}
    assert "region" not in summary["features"]  # still a role, not a feature


def test_unknown_segment_column_lists_only_the_log_columns(tmp_path):
    base, _ = _mapped(tmp_path)
    with pytest.raises(ConfigError) as err:
        obskit.analyze(load_config(overrides={**base, "segments": ["tenant"]}))
    msg = str(err.value)
    assert "'tenant'" in msg and "x" in msg and "model_version" in msg
    for internal in ("_file", "_line", "window_index"):
        assert internal not in msg


def test_monitor_column_errors_list_only_the_log_columns():
    from obskit.exceptions import InputError
    from obskit.io.engine import connect, temp_name
    from obskit.monitors import PCAReconstructionMonitor

    frame = pd.DataFrame({"x": [1.0, 2.0], "_file": ["a", "a"], "_line": [1, 2],
                          "window_index": [0, 0]})
    table = connect().create_table(temp_name("seg"), frame, temp=True)
    with pytest.raises(InputError) as err:
        PCAReconstructionMonitor({"zz": "numeric"}).fit(table)
    msg = str(err.value)
    assert "'zz'" in msg and "'x'" in msg
    assert "_file" not in msg and "_line" not in msg and "window_index" not in msg


def test_segment_label_and_key_read_the_same_everywhere():
    from obskit.profiles.segments import Segment, segment_key, segment_label

    assert segment_label("model_version", "v2") == "model_version=v2"
    assert Segment("model_version", "v2", rows=10, enough=True).label == "model_version=v2"
    assert segment_key({"region": "eu", "model_version": "v2"}) == "model_version=v2,region=eu"
    assert segment_key({}) == segment_key(None) == ""


def test_sinks_and_alert_state_name_a_segment_by_its_key():
    from obskit.runner.alert_state import alert_key
    from obskit.sinks.prometheus import _segment
    from obskit.sinks.webhook import event_line

    seg = {"region": "eu", "model_version": "v2"}
    assert _segment(seg) == "model_version=v2,region=eu"
    assert "model_version=v2,region=eu" in event_line(
        {"rule": "r", "metric": "m", "value": 1.0, "segment": seg, "severity": "warning"})
    assert "model_version=v2,region=eu" in alert_key({"rule": "r", "segment": seg})
