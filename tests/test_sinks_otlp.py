"""OTLP metrics (``sinks.otlp`` and ``obskit exporter --otlp-endpoint``) against a small
OTLP/HTTP receiver on 127.0.0.1 that decodes each body as an ``ExportMetricsServiceRequest``.

The reference is prometheus_client's own families of the same run (what ``/metrics``, the
textfile and the Pushgateway get): every name, label set and value must arrive unchanged.
"""

from __future__ import annotations

import gzip
import json
import os
import select
import signal
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from demo_run import demo_run
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from prometheus_client.parser import text_string_to_metric_families
from test_sinks_prometheus import sample_summary
from test_sinks_servers import free_port, poll, spawn  # noqa: F401 - spawn is a fixture

from obskit.config.sinks import OTLP_ENDPOINT_ENVS
from obskit.exceptions import ConfigError
from obskit.results import load
from obskit.sinks import dispatch, load_sinks
from obskit.sinks.exporter import main as exporter_main
from obskit.sinks.prometheus import build_registry

SECRET = "s3cret-Ap1-key"
ROOT = Path(__file__).resolve().parents[1]


class Receiver:
    """An OTLP/HTTP metrics receiver: records each request's path, headers and body."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportMetricsServiceRequest()
                request.ParseFromString(body)
                receiver.requests.append({
                    "path": self.path, "body": request,
                    "headers": {k.lower(): v for k, v in self.headers.items()}})
                reply = (ExportMetricsServiceResponse().SerializeToString()
                         if receiver.status == 200 else b"internal error")
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def clean_env(monkeypatch):
    for name in (*OTLP_ENDPOINT_ENVS, "OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_HEADERS",
                 "OTEL_EXPORTER_OTLP_METRICS_HEADERS", "OTEL_EXPORTER_OTLP_COMPRESSION",
                 "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def otlp_points(request: ExportMetricsServiceRequest) -> dict[tuple, float]:
    """``{(name, sorted attributes): value}`` of a request; every metric must be a gauge."""
    out = {}
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                assert metric.WhichOneof("data") == "gauge", metric.name
                for point in metric.gauge.data_points:
                    assert all(kv.value.WhichOneof("value") == "string_value"
                               for kv in point.attributes)
                    key = (metric.name, tuple(sorted((kv.key, kv.value.string_value)
                                                     for kv in point.attributes)))
                    assert key not in out, key
                    out[key] = getattr(point, point.WhichOneof("value"))
    return out


def prom_points(families) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in families for s in family.samples}


def resource(request: ExportMetricsServiceRequest) -> dict[str, str]:
    (rm,) = request.resource_metrics
    return {kv.key: kv.value.string_value for kv in rm.resource.attributes}


@pytest.fixture(scope="module")
def demo():
    """The demo run, its latest window's alerts (firing) and the previous window's alerts
    that stopped (resolved), as the runner would announce them."""
    _, _, path = demo_run()
    summary = json.loads(path.read_text())
    latest, previous = summary["windows"][-1]["index"], summary["windows"][-2]["index"]
    firing = [a for a in summary["alerts"] if a["window"] == latest]
    still = {(a["rule"], json.dumps(a["segment"])) for a in firing}
    resolved = [a for a in summary["alerts"] if a["window"] == previous
                and (a["rule"], json.dumps(a["segment"])) not in still]
    return load(path), {"firing": firing, "resolved": resolved, "ongoing": []}


def test_a_run_pushed_equals_the_prometheus_registry(receiver, clean_env, demo):
    run, events = demo
    clean_env.setenv("OBSKIT_TEST_DD_KEY", SECRET)
    results = dispatch({"otlp": {"endpoint": receiver.url, "service_name": "credit-model",
                                 "headers_env": {"DD-API-KEY": "OBSKIT_TEST_DD_KEY"}}},
                       run=run, events=events, run_dir=None)
    expected = prom_points(build_registry(run, active=events["firing"],
                                          resolved=events["resolved"]).collect())
    assert results == [{"sink": "otlp", "target": f"{receiver.url}/v1/metrics",
                        "metrics": len({k[0] for k in expected}),
                        "data_points": len(expected), "status": "pushed"}]
    (got,) = receiver.requests  # one push, one request
    assert got["path"] == "/v1/metrics"
    assert got["headers"]["dd-api-key"] == SECRET
    assert got["headers"]["content-type"] == "application/x-protobuf"
    assert otlp_points(got["body"]) == expected
    assert resource(got["body"])["service.name"] == "credit-model"
    # the values are the run's: the latest window of summary.json
    window = run.windows[-1]
    points = otlp_points(got["body"])
    for feature, drift in window.drift.items():
        assert points[("obskit_drift_score", (("feature", feature),))] == drift.value
    assert points[("obskit_performance", (("metric", "roc_auc"),))] == \
        window.performance["roc_auc"]
    assert points[("obskit_rows", (("kind", "current"),))] == run.rows.current
    alerts = {dict(k[1])["rule"]: v for k, v in points.items() if k[0] == "obskit_alert_active"
              and dict(k[1])["segment"] == ""}
    assert alerts and set(alerts.values()) <= {0.0, 1.0}
    assert {a["rule"] for a in events["firing"] if not a["segment"]} == \
        {rule for rule, v in alerts.items() if v == 1.0}
    assert SECRET not in json.dumps(results)


@pytest.mark.parametrize(("config", "env", "path"), [
    ({"endpoint": "{url}/"}, {}, "/v1/metrics"),
    ({"endpoint": "{url}/v1/metrics"}, {}, "/v1/metrics"),
    ({}, {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}"}, "/v1/metrics"),
    ({}, {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "{url}/custom/metrics",
          "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}, "/custom/metrics"),
])
def test_endpoint_forms_and_gzip(receiver, clean_env, config, env, path):
    for name, value in env.items():
        clean_env.setenv(name, value.format(url=receiver.url))
    clean_env.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    clean_env.setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=from-otel-env")
    config = {k: v.format(url=receiver.url) for k, v in config.items()}
    run = load(sample_summary())
    (result,) = dispatch({"otlp": config}, run=run, events=None, run_dir=None)
    assert result["status"] == "pushed", result
    (got,) = receiver.requests
    assert got["path"] == path
    assert got["headers"]["content-encoding"] == "gzip"
    assert got["headers"]["api-key"] == "from-otel-env"  # the SDK's own variable applies
    assert resource(got["body"])["service.name"] == "obskit"
    assert otlp_points(got["body"]) == prom_points(build_registry(run).collect())


def test_failures_are_recorded_without_secrets(receiver, clean_env, caplog):
    clean_env.setenv("OBSKIT_TEST_NR_KEY", SECRET)
    sinks = {"otlp": {"endpoint": receiver.url, "timeout_s": 2,
                      "headers_env": {"api-key": "OBSKIT_TEST_NR_KEY"}}}
    run = load(sample_summary())
    receiver.status = 500
    (failed,) = dispatch(sinks, run=run, events=None, run_dir=None)
    assert failed["status"] == "failed" and failed["error"] == "push failed: HTTP 500"
    assert len(receiver.requests) == 1 and receiver.requests[0]["headers"]["api-key"] == SECRET
    port = free_port()  # nothing listens there; a token in the query must stay hidden
    closed = {"otlp": {**sinks["otlp"], "endpoint": f"http://u:{SECRET}@127.0.0.1:{port}"
                       f"/otlp?token={SECRET}", "timeout_s": 1.5}}  # one retry, logged
    (refused,) = dispatch(closed, run=run, events=None, run_dir=None)
    assert refused["status"] == "failed" and "no response" in refused["error"]
    assert refused["target"] == f"http://127.0.0.1:{port}/otlp/v1/metrics"
    assert "sink otlp" in caplog.text  # obskit's own warning, with the redacted target
    clean_env.delenv("OBSKIT_TEST_NR_KEY")
    (missing,) = dispatch(sinks, run=run, events=None, run_dir=None)
    assert missing["status"] == "failed" and "OBSKIT_TEST_NR_KEY" in missing["error"]
    assert len(receiver.requests) == 1  # nothing sent without the key
    assert SECRET not in json.dumps([failed, refused, missing]) + caplog.text


def test_dry_run_sends_nothing(receiver, clean_env):
    run = load(sample_summary())
    (result,) = dispatch({"otlp": {"endpoint": receiver.url,
                                   "headers_env": {"DD-API-KEY": "OBSKIT_TEST_UNSET"}}},
                         run=run, events=None, run_dir=None, dry_run=True)
    assert result["status"] == "dry_run"
    assert result["data_points"] == len(prom_points(build_registry(run).collect()))
    assert receiver.requests == []


def test_without_the_sdk_the_push_fails_naming_the_extra(receiver, clean_env):
    clean_env.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.metric_exporter",
                      None)  # what an environment without obskit[otlp] raises on import
    (result,) = dispatch({"otlp": {"endpoint": receiver.url}}, run=load(sample_summary()),
                         events=None, run_dir=None)
    assert result["status"] == "failed"
    assert 'pip install "obskit[otlp]"' in result["error"]
    assert receiver.requests == []


@pytest.mark.parametrize(("raw", "key", "text"), [
    ({}, "sinks.otlp.endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ({"endpoint": "127.0.0.1:4318"}, "sinks.otlp.endpoint", "http://"),
    ({"endpoint": f"otlp.example?key={SECRET}"}, "sinks.otlp.endpoint", "https://"),
    ({"endpoint": "http://h:4318", "headers": {"api-key": SECRET}}, "sinks.otlp.headers",
     "headers_env"),
    ({"endpoint": "http://h:4318", "headers_env": ["DD_API_KEY"]}, "sinks.otlp.headers_env",
     "mapping"),
    ({"endpoint": "http://h:4318", "headers_env": {"DD API KEY": "K"}},
     "sinks.otlp.headers_env", "header names"),
    ({"endpoint": "http://h:4318", "headers_env": {"api-key": "not a name"}},
     "sinks.otlp.headers_env.api-key", "variable name"),
    ({"endpoint": "http://h:4318", "timeout_s": 0}, "sinks.otlp.timeout_s", "positive"),
    ({"endpoint": "http://h:4318", "service_name": ""}, "sinks.otlp.service_name", "name"),
    ({"endpoint": "http://h:4318", "interval": "1m"}, "sinks.otlp.interval", "headers_env"),
])
def test_config_errors_name_the_key(clean_env, raw, key, text):
    with pytest.raises(ConfigError) as info:
        load_sinks({"otlp": raw})
    assert info.value.key == key
    assert text in str(info.value)
    assert SECRET not in str(info.value)


def test_config_endpoint_from_the_environment(clean_env):
    clean_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    config = load_sinks({"otlp": {"headers_env": {"DD-API-KEY": "DD_API_KEY"}}}).otlp
    assert (config.endpoint, config.headers_env, config.timeout_s, config.service_name) == \
        (None, (("DD-API-KEY", "DD_API_KEY"),), 10.0, None)


def _write_run(reports: Path, name: str, summary: dict, firing: list[dict]) -> None:
    (reports / name).mkdir(parents=True)
    (reports / name / "summary.json").write_text(json.dumps(summary, default=str))
    latest = reports / "latest"
    tmp = reports / "latest.tmp"
    tmp.symlink_to(name, target_is_directory=True)
    os.replace(tmp, latest)
    (reports / "alert_state.json").write_text(json.dumps({"version": 1, "firing": firing}))


def test_exporter_pushes_on_an_interval_and_picks_up_a_new_run(spawn, receiver, clean_env,  # noqa: F811
                                                               tmp_path, demo):
    _, _, path = demo_run()
    reports = tmp_path / "reports"
    _write_run(reports, "run1", json.loads(path.read_text()), demo[1]["firing"])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]), "OTEL_SERVICE_NAME": "exporter-test"}
    proc = spawn("exporter", [sys.executable, "-m", "obskit.sinks.exporter", "--reports",
                              str(reports), "--port", "0", "--otlp-endpoint", receiver.url,
                              "--otlp-interval", "200ms"], stdout=subprocess.PIPE, env=env)
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    assert ready, "exporter did not start within 60 s"
    line = proc.stdout.readline().decode()
    port = int(line.rsplit(":", 1)[1].split("/")[0])

    def scrape() -> dict[tuple, float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return prom_points(text_string_to_metric_families(r.read().decode()))

    poll(lambda: len(receiver.requests) >= 2, timeout_s=60)
    first = receiver.requests[1]
    assert otlp_points(first["body"]) == scrape()
    assert resource(first["body"])["service.name"] == "exporter-test"
    assert ("obskit_report_available", ()) in otlp_points(first["body"])

    new = sample_summary()
    _write_run(reports, "run2", new, [])
    seen = len(receiver.requests)
    income = ("obskit_drift_score", (("feature", "income"),))
    poll(lambda: any(otlp_points(r["body"]).get(income) == 0.31
                     for r in receiver.requests[seen:]), timeout_s=60)
    latest = next(r for r in receiver.requests[seen:] if otlp_points(r["body"]).get(income) == 0.31)
    assert otlp_points(latest["body"]) == scrape()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


@pytest.mark.parametrize(("flag", "value"), [("--otlp-interval", "soon"),
                                             ("--otlp-interval", "0s"),
                                             ("--otlp-endpoint", "127.0.0.1:4318")])
def test_exporter_flags_are_checked(tmp_path, capsys, flag, value):
    with pytest.raises(SystemExit) as info:
        exporter_main(["--reports", str(tmp_path), flag, value])
    assert info.value.code == 2
    assert flag in capsys.readouterr().err


def test_exporter_interval_without_an_endpoint_exits_2(spawn, tmp_path):  # noqa: F811
    env = {k: v for k, v in os.environ.items() if k not in OTLP_ENDPOINT_ENVS}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    proc = spawn("exporter", [sys.executable, "-m", "obskit.sinks.exporter", "--reports",
                              str(tmp_path / "reports"), "--port", "0",
                              "--otlp-interval", "2s"], env=env)
    assert proc.wait(timeout=60) == 2  # before: it served on, pushing nothing
    err = (tmp_path / "exporter.log").read_text()
    assert "--otlp-interval without --otlp-endpoint" in err
    assert all(name in err for name in OTLP_ENDPOINT_ENVS)


def _start(spawn, name, reports, *flags, **env_vars):  # noqa: F811
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]), **env_vars}
    for var in OTLP_ENDPOINT_ENVS:
        if var not in env_vars:
            env.pop(var, None)
    proc = spawn(name, [sys.executable, "-m", "obskit.sinks.exporter", "--reports",
                        str(reports), "--port", "0", *flags], stdout=subprocess.PIPE, env=env,
                 bufsize=0)  # unbuffered: select() sees each line
    lines = []
    for _ in range(2):
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "exporter did not start within 60 s"
        lines.append(proc.stdout.readline().decode())
    return proc, lines


def test_exporter_says_where_it_pushes_or_that_it_does_not(spawn, receiver, tmp_path,  # noqa: F811
                                                           demo):
    _, _, path = demo_run()
    reports = tmp_path / "reports"
    _write_run(reports, "run1", json.loads(path.read_text()), demo[1]["firing"])
    proc, lines = _start(spawn, "exporter-env", reports, "--otlp-interval", "200ms",
                         OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url)
    assert lines[1].strip() == (f"obskit exporter: pushing OTLP metrics to {receiver.url}"
                                f"/v1/metrics (from $OTEL_EXPORTER_OTLP_ENDPOINT) every 0.2s")
    poll(lambda: len(receiver.requests) >= 1, timeout_s=60)
    assert receiver.requests[0]["path"] == "/v1/metrics"
    assert ("obskit_report_available", ()) in otlp_points(receiver.requests[0]["body"])
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0

    seen = len(receiver.requests)
    proc, lines = _start(spawn, "exporter-none", reports,
                         OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url)
    assert lines[1].strip() == (
        "obskit exporter: not pushing OTLP metrics (no --otlp-endpoint); "
        "$OTEL_EXPORTER_OTLP_ENDPOINT is set: add --otlp-interval to push there")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert len(receiver.requests) == seen
