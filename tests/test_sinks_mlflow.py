"""The MLflow sink against a real MLflow store (SQLite in tmp_path): real report runs of a
small demo, read back with MlflowClient, compared with each run's summary.json."""

from __future__ import annotations

import json
import math
import os
import socket
import time
from pathlib import Path

import pytest

import obskit
from obskit import runner
from obskit.config import load_config
from obskit.config.sinks import load_sinks
from obskit.demo import generate_demo
from obskit.exceptions import ConfigError
from obskit.results import load, load_record
from obskit.sinks import dispatch

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402

ROWS = 3000
MODEL = "credit-risk"
HTTP_ENV = ("MLFLOW_HTTP_REQUEST_TIMEOUT", "MLFLOW_HTTP_REQUEST_MAX_RETRIES")


def _ms(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _sinks(alerts_json: Path) -> list[dict]:
    return json.loads(alerts_json.read_text())["sinks"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Two report runs of a 3,000-row demo logged to one MLflow store: before the first,
    version 1 of ``credit-risk`` is registered from a logged model (the demo's ``v1``);
    before the second, version 2 from a plain path (the demo's ``v2``)."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root}/mlflow.db"
    files = generate_demo(root / "data", rows=ROWS)
    sink = {"tracking_uri": uri, "experiment": "credit-monitoring",
            "run_name": "{model_name} {run_id} {status}", "registered_model": MODEL,
            "artifact_location": str(root / "artifacts")}
    config = load_config(files.config, overrides={
        "sinks": {"mlflow": sink}, "multivariate": {"enabled": False},
        "anomalies": {"explain_rows": 0}})
    analysis = obskit.analyze(config)
    client = MlflowClient(tracking_uri=uri)
    with pytest.MonkeyPatch.context() as patch:
        # MLflow's SQL registry reads a logged model through the global tracking URI
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        registry = client.create_experiment("registry",
                                            artifact_location=str(root / "registry"))
        logged = client.create_logged_model(registry, name="credit-scorer")
        client.create_registered_model(MODEL)
        client.create_model_version(MODEL, source=f"models:/{logged.model_id}",
                                    model_id=logged.model_id)
        first = runner.run_report(config, analysis=analysis, out=root / "reports",
                                  run_id="r1")
        client.create_model_version(MODEL, source=str(root / "model-v2"))
        second = runner.run_report(config, analysis=analysis, out=root / "reports",
                                   run_id="r2")
    return {"root": root, "uri": uri, "client": client, "config": config,
            "runs": [first, second], "model_id": logged.model_id, "files": files}


def _mlflow_run(store, index: int):
    outcome = store["runs"][index]
    (result,) = [r for r in _sinks(outcome.run_dir / "alerts.json") if r["sink"] == "mlflow"]
    assert result["status"] == "logged", result
    return outcome, result, store["client"].get_run(result["mlflow_run_id"])


def test_each_report_run_is_one_mlflow_run_in_the_experiment(store):
    client = store["client"]
    experiment = client.get_experiment_by_name("credit-monitoring")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    ids = {_mlflow_run(store, i)[1]["mlflow_run_id"] for i in (0, 1)}
    assert {r.info.run_id for r in runs} == ids and len(ids) == 2
    assert all(r.info.status == "FINISHED" for r in runs)


def test_metric_histories_equal_summary_json_per_window(store):
    client = store["client"]
    outcome, result, mlrun = _mlflow_run(store, 0)
    summary = load(outcome.run_dir / "summary.json")
    expected: dict[str, dict[int, float]] = {}
    for step, w in enumerate(summary.windows):
        values = {**{f"performance.{k}": v for k, v in w.performance.items()},
                  **{f"estimated.{k}": v for k, v in w.estimated_performance.items()},
                  "drift.share": w.drift_share, "health.rows": w.rows,
                  "health.error_rate": w.health.error_rate,
                  "health.latency_p95_ms": w.health.latency_p95_ms,
                  "labels.coverage": w.label_coverage}
        for key, value in values.items():
            if value is not None and math.isfinite(value):
                expected.setdefault(key, {})[step] = float(value)
    assert {"performance.roc_auc", "estimated.roc_auc", "drift.share",
            "health.latency_p95_ms", "health.rows"} <= set(expected)
    assert len(summary.windows) == result["steps"] > 10
    for key, by_step in expected.items():
        history = client.get_metric_history(mlrun.info.run_id, key)
        assert {m.step: m.value for m in history} == by_step, key
        ends = {step: _ms(summary.windows[step].end) for step in by_step}
        assert {m.step: m.timestamp for m in history} == ends, key
    # a window without a value (performance before its labels) logs nothing, never 0
    missing = [s for s, w in enumerate(summary.windows) if w.performance.get("roc_auc") is None]
    logged = {m.step for m in client.get_metric_history(mlrun.info.run_id,
                                                         "performance.roc_auc")}
    assert not logged & set(missing)


def test_tags_name_and_artifacts(store):
    client = store["client"]
    outcome, result, mlrun = _mlflow_run(store, 0)
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    tags = mlrun.data.tags
    assert tags["obskit.run_id"] == "r1" == load_record(outcome.run_dir / "summary.json").run_id
    assert tags["obskit.status"] == summary["status"]
    assert tags["obskit.model_name"] == MODEL
    assert tags["obskit.model_version"] == "v1,v2"  # most rows first
    assert tags["obskit.period_start"] == summary["period"]["start"]
    assert tags["obskit.period_end"] == summary["period"]["end"]
    assert mlrun.info.run_name == f"{MODEL} r1 {summary['status']}"
    names = {a.path for a in client.list_artifacts(mlrun.info.run_id, "obskit")}
    assert names == {"obskit/alerts.json", "obskit/findings.json", "obskit/summary.json",
                     "obskit/index.html"}
    local = Path(client.download_artifacts(mlrun.info.run_id, "obskit",
                                           str(store["root"] / "download")))
    assert json.loads((local / "summary.json").read_text()) == summary
    assert (local / "index.html").read_bytes() == (outcome.run_dir / "index.html").read_bytes()
    alerts = json.loads((local / "alerts.json").read_text())
    assert alerts["alerts"] == summary["alerts"] and summary["alerts"]
    findings = json.loads((local / "findings.json").read_text())["findings"]
    assert findings == summary["findings"]


def test_registered_versions_are_linked_both_ways(store):
    client, model_id = store["client"], store["model_id"]
    outcome, result, first = _mlflow_run(store, 0)
    summary = load(outcome.run_dir / "summary.json")
    tags = first.data.tags
    assert tags["obskit.registered_model"] == MODEL
    assert tags["obskit.registered_model_versions"] == "1"
    assert tags["obskit.model_ids"] == model_id
    assert tags["obskit.unregistered_versions"] == "v2"  # named in the logs, not registered
    assert result["unregistered"] == ["v2"]
    assert [m.model_id for m in first.inputs.model_inputs] == [model_id]
    # metrics of the windows v1 alone served are the logged model's metrics too
    only_v1 = {s for s, w in enumerate(summary.windows)
               if [v.version for v in w.model_versions] == ["v1"]}
    assert only_v1 and len(only_v1) < len(summary.windows)
    _, result2, second = _mlflow_run(store, 1)
    model_metrics = client.get_logged_model(model_id).metrics
    for run in (first, second):  # both runs saw v1 alone in those windows
        auc = {m.step: m.value for m in model_metrics
               if m.key == "performance.roc_auc" and m.run_id == run.info.run_id}
        assert auc == {s: summary.windows[s].performance["roc_auc"] for s in only_v1
                       if summary.windows[s].performance.get("roc_auc") is not None}
    assert {m.run_id for m in model_metrics} == {first.info.run_id, second.info.run_id}
    assert second.data.tags["obskit.registered_model_versions"] == "1,2"
    assert "obskit.unregistered_versions" not in second.data.tags
    assert [(v["version"], v["model_version"], v["model_id"])
            for v in result2["model_versions"]] == [("v1", "1", model_id), ("v2", "2", None)]
    for version in ("1", "2"):  # each version points at its latest monitoring run
        mv = client.get_model_version(MODEL, version)
        assert mv.tags["obskit.last_monitoring_run"] == second.info.run_id
        assert mv.tags["obskit.last_monitoring_status"] == second.data.tags["obskit.status"]


def test_windows_know_the_model_versions_that_served_them(store):
    summary = json.loads((store["runs"][0].run_dir / "summary.json").read_text())
    for w in summary["windows"]:
        assert sum(v["rows"] for v in w["model_versions"]) == w["rows"]
        assert [v["rows"] for v in w["model_versions"]] == sorted(
            (v["rows"] for v in w["model_versions"]), reverse=True)
    segment = {s["value"]: s for s in summary["segments"]["model_version"]}["v2"]
    assert all([v["version"] for v in w["model_versions"]] in (["v2"], [])
               for w in segment["windows"])


def test_dry_run_writes_nothing(store, tmp_path):
    outcome = store["runs"][0]
    db = tmp_path / "dry.db"
    results = dispatch({"mlflow": {"tracking_uri": f"sqlite:///{db}"}},
                       run=load(outcome.run_dir / "summary.json"),
                       record=load_record(outcome.run_dir / "summary.json"),
                       events=None, run_dir=outcome.run_dir, dry_run=True)
    (result,) = [r for r in results if r["sink"] == "mlflow"]
    assert result["status"] == "dry_run" and result["metrics"] > 0
    assert result["tags"]["obskit.run_id"] == "r1"
    assert "obskit/summary.json" in result["artifacts"]
    assert not db.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("raw, key", [
    ({"tracking_uri": "sqlite:///m.db", "experimnt": "x"}, "sinks.mlflow.experimnt"),
    ({"tracking_uri": "sqlite:///m.db", "run_name": "{model} run"}, "sinks.mlflow.run_name"),
    ({"tracking_uri": "sqlite:///m.db", "retries": -1}, "sinks.mlflow.retries"),
    ({"tracking_uri": ""}, "sinks.mlflow.tracking_uri"),
    ({"experiment": "x"}, "sinks.mlflow.tracking_uri"),
])
def test_bad_config_names_the_key(raw, key, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(ConfigError) as info:
        load_sinks({"mlflow": raw})
    assert info.value.key == key and f"'{key}" in str(info.value)


def test_tracking_uri_from_the_environment(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///from-env.db")
    config = load_sinks({"mlflow": {"experiment": "x"}}).mlflow
    assert config is not None and config.tracking_uri is None and config.experiment == "x"


def test_unreachable_server_is_recorded_quickly_and_the_report_stays_ok(store, tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    before = {name: os.environ.get(name) for name in HTTP_ENV}
    sink = {"tracking_uri": f"http://alice:s3cret@127.0.0.1:{port}", "retries": 0,
            "timeout_s": 2}
    config = load_config(store["files"].config, overrides={
        "sinks": {"mlflow": sink}, "multivariate": {"enabled": False},
        "anomalies": {"explain_rows": 0}})
    run = store["runs"][0].run
    started = time.monotonic()
    results = dispatch(config.sinks, run=run, record=store["runs"][0].record, events=None,
                       run_dir=store["runs"][0].run_dir)
    assert time.monotonic() - started < 30
    (result,) = results
    assert result["status"] == "failed" and result["error"]
    assert "s3cret" not in json.dumps(result) and result["target"].endswith(f":{port}")
    assert {name: os.environ.get(name) for name in HTTP_ENV} == before  # restored
    outcome = runner.run_report(config, analysis=run, out=tmp_path / "reports", run_id="r1")
    assert outcome.status == run.status  # the report itself is fine
    (recorded,) = _sinks(outcome.run_dir / "alerts.json")
    assert recorded["sink"] == "mlflow" and recorded["status"] == "failed"
    assert "s3cret" not in (outcome.run_dir / "alerts.json").read_text()


def test_aliases_name_versions_and_unknown_values_are_noted(store):
    """A ``model_version`` value that is not a number names an alias of the registered
    model; one that names nothing is listed, and the run is logged all the same."""
    client, outcome = store["client"], store["runs"][0]
    client.set_registered_model_alias(MODEL, "canary", "2")
    doc = json.loads((outcome.run_dir / "summary.json").read_text())
    rename = {"v1": "canary", "v2": "shadow"}
    for w in doc["windows"]:
        for served in w["model_versions"]:
            served["version"] = rename[served["version"]]
    sink = {"tracking_uri": store["uri"], "experiment": "alias-check",
            "registered_model": MODEL}
    (result,) = dispatch({"mlflow": sink}, run=load(doc), record=outcome.record,
                         events=None, run_dir=outcome.run_dir)
    assert result["status"] == "logged", result
    assert [(v["version"], v["model_version"]) for v in result["model_versions"]] == [
        ("canary", "2")]
    assert result["unregistered"] == ["shadow"]
    tags = client.get_run(result["mlflow_run_id"]).data.tags
    assert tags["obskit.model_version"] == "canary,shadow"
    assert tags["obskit.unregistered_versions"] == "shadow"
    assert client.get_model_version(MODEL, "2").tags["obskit.last_monitoring_run"] == \
        result["mlflow_run_id"]


def test_without_mlflow_installed_the_error_names_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlflow" else real(name, *a))
    with pytest.raises(ConfigError, match=r'pip install "obskit\[mlflow\]"') as info:
        load_sinks({"mlflow": {"tracking_uri": "sqlite:///m.db"}})
    assert info.value.key == "sinks.mlflow"
