"""``obskit dashboard``: the Grafana JSON against a JSON Schema of the dashboard model
(tests/data/grafana-dashboard.schema.json), its grid, its datasource input, and every
metric its PromQL reads (and the alert rules' too) found in real scrapes: the example
service under uvicorn on loopback after a few requests, and ``obskit exporter`` serving a
real report run. Every process is killed in teardown and every wait is bounded."""

from __future__ import annotations

import copy
import json
import os
import re
import select
import signal
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import jsonschema
import pytest
from prometheus_client.parser import text_string_to_metric_families

from obskit.cli import main
from obskit.config.model import DEFAULT_ALERTS
from obskit.sinks.dashboard import PANEL_TYPES, dashboard
from obskit.sinks.rules import alerting_rules

SCHEMA = Path(__file__).parent / "data" / "grafana-dashboard.schema.json"
REPO = Path(__file__).resolve().parents[1]
#: PromQL keywords and aggregation modifiers (not metric names)
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
            "or", "unless", "offset", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads: identifiers not called as functions, with
    strings, label matchers, ranges and grouping label lists taken out.

    >>> sorted(metric_names('sum by (le) (rate(a_bucket{x="b{c}"}[5m])) / b > bool 1'))
    ['a_bucket', 'b']
    """
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w$.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", text):
        if not match.group(2) and match.group(1) not in KEYWORDS:
            names.add(match.group(1))
    return names


def dashboard_names(board: dict) -> set[str]:
    names = {n for p in board["panels"] for t in p["targets"] for n in metric_names(t["expr"])}
    for variable in board["templating"]["list"]:
        found = re.match(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)", variable["definition"])
        assert found, variable
        names.add(found.group(1))
    return names


def test_metric_names_parses_promql():
    assert metric_names("histogram_quantile(0.95, sum by (job, le) (rate("
                        'obskit_prediction_duration_seconds_bucket{model_version=~"$v"}'
                        "[$__rate_interval])))") == {"obskit_prediction_duration_seconds_bucket"}
    assert metric_names("sum(x == 1) or vector(0)") == {"x"}
    assert metric_names("time() - max(last_ts)") == {"last_ts"}


def test_dashboard_matches_the_schema():
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    board = json.loads(json.dumps(dashboard()))  # what the file holds
    jsonschema.validate(board, schema, cls=jsonschema.Draft202012Validator)
    assert board["schemaVersion"] >= 39


@pytest.mark.parametrize("break_it, field", [
    (lambda b: b["panels"][0].update(type="graph"), "type"),  # a removed panel type
    (lambda b: b["panels"][1]["gridPos"].update(w=25), "w"),
    (lambda b: b.update(schemaVersion=27), "schemaVersion"),
    (lambda b: b["panels"][2]["targets"][0].pop("datasource"), "datasource"),
    (lambda b: b["panels"][3].update(datasoruce={}), "datasoruce"),
])
def test_the_schema_rejects_a_broken_dashboard(break_it, field):
    board = copy.deepcopy(dashboard())
    break_it(board)
    with pytest.raises(jsonschema.ValidationError, match=field):
        jsonschema.validate(board, json.loads(SCHEMA.read_text()),
                            cls=jsonschema.Draft202012Validator)


def test_panels_have_unique_ids_and_sit_on_the_grid_without_overlap():
    panels = dashboard()["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    assert {p["type"] for p in panels} <= set(PANEL_TYPES)
    assert {"timeseries", "stat", "gauge", "heatmap", "table"} == {p["type"] for p in panels}
    boxes = [p["gridPos"] for p in panels]
    assert all(g["x"] + g["w"] <= 24 for g in boxes)
    for a, b in combinations(boxes, 2):
        apart = (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
                 or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"])
        assert apart, (a, b)


def test_every_query_uses_the_datasource_input():
    board = dashboard()
    assert [(i["name"], i["type"], i["pluginId"]) for i in board["__inputs"]] == [
        ("DS_PROMETHEUS", "datasource", "prometheus")]
    ref = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    for panel in board["panels"]:
        assert panel["datasource"] == ref, panel["title"]
        assert all(t["datasource"] == ref for t in panel["targets"]), panel["title"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["model_version"]["definition"].startswith(
        "label_values(obskit_prediction_requests_total")
    assert all(v["datasource"] == ref for v in variables.values())
    # the service's panels filter on the variable
    latency = next(p for p in board["panels"] if p["title"].startswith("Latency"))
    assert [t["expr"].count('model_version=~"$model_version"') for t in latency["targets"]] \
        == [1, 1, 1]
    assert [t["expr"][:23] for t in latency["targets"]] == ["histogram_quantile(0.5,",
                                                           "histogram_quantile(0.95",
                                                           "histogram_quantile(0.99"]


def test_cli_writes_the_dashboard_and_rejects_a_file_as_folder(tmp_path, capsys):
    assert main(["dashboard", "--out", str(tmp_path / "grafana"), "--title", "Credit"]) == 0
    written = json.loads((tmp_path / "grafana" / "obskit-dashboard.json").read_text())
    assert written["title"] == "Credit"
    assert written["panels"] == dashboard()["panels"]
    (tmp_path / "file").write_text("")
    assert main(["dashboard", "--out", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err


# --- real scrapes --------------------------------------------------------------------------

def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get(
        "PYTHONPATH", "")]), "DO_NOT_TRACK": "1", "MPLBACKEND": "Agg"}


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _names(text: str) -> set[str]:
    """Names of the samples in a scrape (``_bucket``, ``_total`` as exposed)."""
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from obskit.demo import generate_demo

    return generate_demo(tmp_path_factory.mktemp("demo") / "demo", rows=3000)


@pytest.fixture(scope="module")
def service_scrape(tmp_path_factory, demo):
    """/metrics of the example service after ok, failed and invalid requests."""
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("uvicorn")
    from service_support import feature_rows, wait_for
    from test_service_e2e import free_port

    tmp = tmp_path_factory.mktemp("service")
    port = free_port()
    env = {**_env(), "OBSKIT_MODEL": str(demo.model), "OBSKIT_MODEL_NAME": "credit",
           "OBSKIT_LOG_DIR": str(tmp / "logs"), "OBSKIT_FAULT_INJECTION": "1"}
    for name in ("OBSKIT_GOLDEN", "OBSKIT_MODEL_VERSION", "OBSKIT_TRACES"):
        env.pop(name, None)
    with open(tmp / "service.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "examples.service.app:app", "--host",
             "127.0.0.1", "--port", str(port)], cwd=REPO, env=env, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def ready():
            assert proc.poll() is None, (tmp / "service.log").read_text()
            try:
                return httpx.get(f"{base}/readyz", timeout=5).status_code == 200
            except httpx.TransportError:
                return False
        wait_for(ready, timeout_s=90, every_s=0.2, what=f"{base}/readyz")
        with httpx.Client(base_url=base, timeout=30) as client:
            for features in feature_rows(demo.reference, 10):
                assert client.post("/predict", json={"features": features}).status_code == 200
            failed = client.post("/predict", json={"features": features},
                                 headers={"X-Obskit-Fail": "drill"})
            assert failed.status_code >= 500
            assert client.post("/predict", json={"features": {}}).status_code == 422
            yield client.get("/metrics").text
    finally:
        _kill(proc)


@pytest.fixture(scope="module")
def exporter_scrape(tmp_path_factory, demo):
    """/metrics of ``obskit exporter`` over a real ``obskit report`` run of the demo (weekly
    windows: the demo's last day has no labels yet, its last week has)."""
    import httpx

    tmp = tmp_path_factory.mktemp("reports")
    reports = tmp / "reports"
    report = subprocess.run(
        [sys.executable, "-m", "obskit", "report", "--config", str(demo.config), "--window", "7d",
         "--out", str(reports)], env=_env(), cwd=tmp, capture_output=True, text=True, timeout=600)
    assert report.returncode == 0, report.stdout + report.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "obskit", "exporter", "--reports", str(reports), "--port", "0"],
        env=_env(), cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "exporter did not start within 60 s"
        line = proc.stdout.readline().decode()
        assert line.startswith("obskit exporter: serving http://127.0.0.1:"), line
        yield httpx.get(line.split("serving ", 1)[1].strip(), timeout=10).text
    finally:
        _kill(proc)
        proc.stdout.close()


@pytest.mark.e2e
def test_every_dashboard_metric_is_in_a_real_scrape(service_scrape, exporter_scrape):
    service, exporter = _names(service_scrape), _names(exporter_scrape)
    assert "obskit_prediction_duration_seconds_bucket" in service
    assert "obskit_prediction_errors_total" in service  # the failed request counted
    assert {"obskit_drift_share", "obskit_alert_active"} <= exporter  # the demo drifts
    used = dashboard_names(dashboard())
    assert {"obskit_prediction_score_bucket", "obskit_prediction_log_rows_dropped_total",
            "obskit_performance", "obskit_last_run_timestamp_seconds"} <= used
    assert used - service - exporter == set()


@pytest.mark.e2e
def test_every_alert_rule_metric_is_in_a_real_scrape(service_scrape, exporter_scrape):
    rules = [r for group in alerting_rules(DEFAULT_ALERTS).values() for r in group]
    used = {n for r in rules for n in metric_names(r["expr"])}
    assert "obskit_prediction_duration_seconds_bucket" in used
    assert used - _names(service_scrape) - _names(exporter_scrape) == set()
