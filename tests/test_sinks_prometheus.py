"""Prometheus metrics of the latest window: exposition text, labels, the textfile."""

from __future__ import annotations

import math
import os

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from obskit.results import load
from obskit.sinks import dispatch
from obskit.sinks.prometheus import (
    MAX_LABEL_CHARS,
    build_registry,
    redact_url,
    sanitize_label,
    write_textfile,
)


def sample_summary() -> dict:
    """A summary with two windows; the second (latest) one carries the figures."""
    old = {"index": 0, "start": "2026-11-08T00:00:00Z", "end": "2026-11-09T00:00:00Z",
           "status": "ok", "drift": {"income": {"value": 9.0}}, "drift_share": 1.0,
           "performance": {"accuracy": 0.1}, "health": {"error_rate": 0.9}}
    latest = {
        "index": 1, "start": "2026-11-09T00:00:00Z", "end": "2026-11-10T00:00:00Z",
        "status": "ok", "rows": 1000,
        "drift": {"income": {"method": "wasserstein", "value": 0.31, "drifted": True},
                  "age": {"method": "psi", "value": 0.02, "drifted": False},
                  'zip "code"\n\x00': {"value": 0.05},
                  "broken": {"value": float("nan")},
                  "unknown": {"value": None}},
        "drift_share": 0.25,
        "performance": {"accuracy": 0.91, "roc_auc": 0.88, "recall[1]": 0.7, "f1": None},
        "health": {"latency_p50_ms": 40.0, "latency_p95_ms": 612.5, "latency_p99_ms": 900.0,
                   "errors": 3, "error_rate": 0.003},
    }
    return {
        "title": "credit", "run_id": "r1", "status": "alert",
        "generated_at": "2026-11-10T06:00:00Z",
        "rows": {"read": 1010, "current": 1000, "quarantined": 10},
        "windows": [old, latest],
        "insufficient_data": [
            {"rule": "auc", "metric": "performance.roc_auc", "window": 1, "segment": None},
            {"rule": "f1", "metric": "performance.f1", "window": 1, "segment": None},
            {"rule": "f1", "metric": "performance.f1", "window": 0, "segment": None},
            {"rule": "f1", "metric": "performance.f1", "window": 1,
             "segment": {"model_version": "v2"}},
        ],
    }


ACTIVE = [{"rule": "latency_p95", "metric": "health.latency_p95_ms", "severity": "critical",
           "segment": None},
          {"rule": "drift\tshare", "metric": "drift_share", "severity": "warning",
           "segment": {"model_version": "v2"}}]
RESOLVED = [{"rule": "error_rate", "metric": "health.error_rate", "severity": "critical",
             "segment": None}]


def samples(text: str) -> dict[tuple, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_exposition_parses_and_holds_the_latest_window():
    text = generate_latest(build_registry(load(sample_summary()), active=ACTIVE,
                                          resolved=RESOLVED)).decode()
    got = samples(text)
    assert got[("obskit_drift_score", (("feature", "income"),))] == 0.31
    assert got[("obskit_drift_score", (("feature", "age"),))] == 0.02
    assert got[("obskit_drift_score", (("feature", 'zip "code"'),))] == 0.05
    assert got[("obskit_drift_share", ())] == 0.25
    assert got[("obskit_performance", (("metric", "accuracy"),))] == 0.91
    assert got[("obskit_performance", (("metric", "recall[1]"),))] == 0.7
    assert got[("obskit_latency_ms", (("quantile", "0.5"),))] == 40.0
    assert got[("obskit_latency_ms", (("quantile", "0.95"),))] == 612.5
    assert got[("obskit_latency_ms", (("quantile", "0.99"),))] == 900.0
    assert got[("obskit_error_rate", ())] == 0.003
    assert got[("obskit_insufficient_data", ())] == 2
    assert got[("obskit_rows", (("kind", "current"),))] == 1000
    assert got[("obskit_rows", (("kind", "quarantined"),))] == 10
    assert got[("obskit_last_run_timestamp_seconds", ())] == 1794290400.0
    active = {dict(k[1])["rule"]: v for k, v in got.items() if k[0] == "obskit_alert_active"}
    assert active == {"latency_p95": 1, "driftshare": 1, "error_rate": 0}
    seg = next(dict(k[1]) for k in got if k[0] == "obskit_alert_active"
               and dict(k[1])["rule"] == "driftshare")
    assert seg == {"rule": "driftshare", "metric": "drift_share",
                   "segment": "model_version=v2", "severity": "warning"}


def test_no_nan_no_missing_no_timestamps():
    text = generate_latest(build_registry(load(sample_summary()))).decode()
    values = samples(text)
    assert all(math.isfinite(v) for v in values.values())
    features = {dict(k[1]).get("feature") for k in values if k[0] == "obskit_drift_score"}
    assert features == {"income", "age", 'zip "code"'}  # NaN and None skipped
    assert ("obskit_performance", (("metric", "f1"),)) not in values
    assert "NaN" not in text
    for family in text_string_to_metric_families(text):
        assert all(s.timestamp is None for s in family.samples)


def test_empty_summary_exports_only_help():
    text = generate_latest(build_registry(load({"windows": []}))).decode()
    assert samples(text) == {}
    assert "# TYPE obskit_drift_share gauge" in text


def test_sanitize_label():
    assert sanitize_label("income") == "income"
    assert sanitize_label("a\nb\tc\x00d\x7f\u2028") == "abcd"
    assert sanitize_label("revenu € ünïcode") == "revenu € ünïcode"
    assert sanitize_label(None) == ""
    assert sanitize_label(3) == "3"
    assert len(sanitize_label("é" * 1000)) == MAX_LABEL_CHARS


def test_label_collisions_keep_one_sample():
    summary = {"windows": [{"index": 0, "drift": {"a\nb": {"value": 1.0},
                                                  "ab": {"value": 2.0},
                                                  "x" * 200 + "1": {"value": 3.0},
                                                  "x" * 200 + "2": {"value": 4.0},
                                                  "\n": {"value": 5.0}}}]}
    text = generate_latest(build_registry(load(summary))).decode()
    got = samples(text)
    assert len([k for k in got if k[0] == "obskit_drift_score"]) == 2


def test_textfile_is_written_atomically(tmp_path):
    path = tmp_path / "collector" / "obskit.prom"
    result = write_textfile(path, build_registry(load(sample_summary())))
    assert result["status"] == "written" and result["samples"] > 10
    assert os.listdir(path.parent) == ["obskit.prom"]  # no temp file left
    first = path.stat().st_ino
    write_textfile(path, build_registry(load({"windows": []})))
    assert os.listdir(path.parent) == ["obskit.prom"]
    assert path.stat().st_ino != first  # replaced by rename, not rewritten in place
    assert samples(path.read_text()) == {}


def test_textfile_failure_is_recorded(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    [result] = dispatch({"prometheus": {"textfile": str(blocker / "x.prom")}},
                        run=load(sample_summary()), events={}, run_dir=None)
    assert result["status"] == "failed" and "cannot write" in result["error"]


def test_dispatch_textfile_uses_the_events(tmp_path):
    events = {"firing": ACTIVE[:1], "ongoing": ACTIVE[1:], "resolved": RESOLVED}
    [result] = dispatch({"prometheus": {"textfile": "m/obskit.prom"}},
                        run=load(sample_summary()), events=events, run_dir=None,
                        base_dir=tmp_path)
    assert result["target"] == str(tmp_path / "m" / "obskit.prom")
    got = samples((tmp_path / "m" / "obskit.prom").read_text())
    assert sorted(v for k, v in got.items() if k[0] == "obskit_alert_active") == [0, 1, 1]
    [dry] = dispatch({"prometheus": {"textfile": "n/obskit.prom"}},
                     run=load(sample_summary()), events=events, run_dir=None,
                     base_dir=tmp_path, dry_run=True)
    assert dry["status"] == "dry_run" and not (tmp_path / "n").exists()


def test_push_failure_is_recorded_without_credentials():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    [result] = dispatch({"prometheus": {"pushgateway": f"http://u:pw@127.0.0.1:{port}"}},
                        run=load(sample_summary()), events={}, run_dir=None)
    assert result["status"] == "failed" and result["target"] == f"http://127.0.0.1:{port}"
    assert "pw" not in str(result)


@pytest.mark.parametrize(("url", "shown"), [
    ("http://127.0.0.1:9091", "http://127.0.0.1:9091"),
    ("push.example:9091", "http://push.example:9091"),
    ("https://a:b@push.example/p?token=x#f", "https://push.example/p"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown
