"""The alerting pipeline for real, on 127.0.0.1 only.

The example service under uvicorn (fault injection on) and ``obskit exporter`` serving a
real ``obskit report`` run of the demo are scraped every second by Debian's ``prometheus``,
which evaluates the rules ``obskit alert-rules`` wrote (``--window 20s --for 5s``, so the
test takes a minute, not the defaults' quarter of an hour) and sends its alerts to Debian's
``prometheus-alertmanager``, which posts them to a webhook receiver in this process. Normal
traffic leaves the latency alert silent; slow requests (``X-Obskit-Delay-Ms: 800``, over the
500 ms budget) make it reach the receiver, and it resolves once they stop. The report's
findings (the demo drifts) travel the same way. Every wait is bounded; every process runs
in its own session and is killed in teardown.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
from service_support import feature_rows, wait_for  # noqa: E402
from test_service_e2e import free_port, start_service, wait_listening  # noqa: E402

from obskit.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _binary(name: str) -> str | None:
    path = Path("/usr/bin") / name
    return str(path) if path.exists() else shutil.which(name)


PROMETHEUS, ALERTMANAGER = _binary("prometheus"), _binary("prometheus-alertmanager")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    PROMETHEUS is None or ALERTMANAGER is None,
    reason="prometheus and prometheus-alertmanager are not installed (apt-get install "
           "prometheus prometheus-alertmanager; .ci/run installs them)")]
LATENCY_ALERT = "ObskitServiceLatencyP95"
SLOW_MS = 800  # over the default latency_p95 rule's 500 ms


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get(
        "PYTHONPATH", "")]), "DO_NOT_TRACK": "1", "MPLBACKEND": "Agg"}


def _reap(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL to the process group if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


class Receiver(ThreadingHTTPServer):
    """Records the JSON payloads Alertmanager's webhook posts."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Hook)
        self.payloads: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def alerts(self, name: str, status: str = "firing") -> list[dict[str, Any]]:
        """Alerts received so far named ``name`` with ``status``."""
        with self.lock:
            return [a for p in self.payloads for a in p["alerts"]
                    if a["labels"]["alertname"] == name and a["status"] == status]

    def names(self) -> set[str]:
        with self.lock:
            return {a["labels"]["alertname"] for p in self.payloads for a in p["alerts"]}


class _Hook(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.payloads.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory):
    """The demo and a real ``obskit report`` run of it (weekly windows)."""
    from obskit.demo import generate_demo

    tmp = tmp_path_factory.mktemp("pipeline-report")
    demo = generate_demo(tmp / "demo", rows=3000)
    report = subprocess.run(
        [sys.executable, "-m", "obskit", "report", "--config", str(demo.config), "--window",
         "7d", "--out", str(tmp / "reports")], env=_env(), cwd=tmp, capture_output=True,
        text=True, timeout=600)
    assert report.returncode == 0, report.stdout + report.stderr
    return demo, tmp / "reports"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, demo_reports):
    """Service, exporter, receiver, Alertmanager and Prometheus, wired on loopback."""
    demo, reports = demo_reports
    tmp = tmp_path_factory.mktemp("pipeline")
    procs: list[subprocess.Popen] = []
    logs: list[Any] = []

    def spawn(name: str, argv: list[str], **kwargs: Any) -> subprocess.Popen:
        log = open(tmp / f"{name}.log", "wb")
        logs.append(log)
        kwargs.setdefault("stdout", log)
        proc = subprocess.Popen(argv, stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True, **kwargs)
        procs.append(proc)
        return proc

    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        service, base = start_service(
            tmp, OBSKIT_MODEL=str(demo.model), OBSKIT_MODEL_NAME="credit",
            OBSKIT_LOG_DIR=str(tmp / "logs"), OBSKIT_FAULT_INJECTION="1")
        procs.append(service)
        exporter = spawn("exporter", [sys.executable, "-m", "obskit", "exporter", "--reports",
                                      str(reports), "--port", "0"], env=_env(),
                         stdout=subprocess.PIPE)
        ready, _, _ = select.select([exporter.stdout], [], [], 60)
        assert ready, "exporter did not start within 60 s"
        line = exporter.stdout.readline().decode()
        assert line.startswith("obskit exporter: serving http://127.0.0.1:"), line
        exporter_at = urllib.parse.urlparse(line.split("serving ", 1)[1].strip()).netloc

        rules_file = tmp / "obskit_rules.yml"
        assert main(["alert-rules", "--out", str(rules_file), "--window", "20s",
                     "--for", "5s"]) == 0
        rules = {r["alert"]: r for g in yaml.safe_load(rules_file.read_text())["groups"]
                 for r in g["rules"]}

        am_port, prom_port = free_port(), free_port()
        am_config = tmp / "alertmanager.yml"
        am_config.write_text(yaml.safe_dump({
            "route": {"receiver": "hook", "group_by": ["alertname"], "group_wait": "1s",
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "hook", "webhook_configs": [{
                "url": f"http://127.0.0.1:{receiver.server_address[1]}/",
                "send_resolved": True}]}]}))
        spawn("alertmanager", [ALERTMANAGER, f"--config.file={am_config}",
                               f"--storage.path={tmp / 'alertmanager'}",
                               f"--web.listen-address=127.0.0.1:{am_port}",
                               "--cluster.listen-address="])
        prom_config = tmp / "prometheus.yml"
        prom_config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules_file)],
            "alerting": {"alertmanagers": [
                {"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
            "scrape_configs": [
                {"job_name": "credit-service", "static_configs": [
                    {"targets": [urllib.parse.urlparse(base).netloc]}]},
                {"job_name": "obskit", "static_configs": [{"targets": [exporter_at]}]}]}))
        spawn("prometheus", [PROMETHEUS, f"--config.file={prom_config}",
                             f"--storage.tsdb.path={tmp / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{prom_port}"])

        wait_for(lambda: wait_listening(service, base, tmp) == 200, timeout_s=90,
                 what="service /readyz 200")
        for port, what in ((am_port, "alertmanager"), (prom_port, "prometheus")):
            wait_for(lambda p=port: httpx.get(f"http://127.0.0.1:{p}/-/ready",
                                              timeout=5).status_code == 200,
                     timeout_s=60, every_s=0.3, what=f"{what} /-/ready")
        with httpx.Client(base_url=base, timeout=30) as client:
            yield {"client": client, "rows": feature_rows(demo.reference, 50),
                   "prometheus": f"http://127.0.0.1:{prom_port}", "receiver": receiver,
                   "rules": rules, "reports": reports, "tmp": tmp}
    finally:
        for proc in procs:
            _reap(proc)
        for proc in procs:
            if proc.stdout is not None:
                proc.stdout.close()
        for log in logs:
            log.close()
        receiver.shutdown()
        receiver.server_close()


def _query(prometheus: str, expr: str) -> list[dict[str, Any]] | None:
    try:
        body = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=5)
    except httpx.TransportError:
        return None
    return body.json()["data"]["result"]


def _rule_state(prometheus: str, name: str) -> dict[str, Any]:
    groups = httpx.get(f"{prometheus}/api/v1/rules", params={"type": "alert"},
                       timeout=5).json()["data"]["groups"]
    return next(r for g in groups for r in g["rules"] if r["name"] == name)


class Traffic(threading.Thread):
    """Normal requests every 50 ms; while ``slow`` is set, each followed by a slow one."""

    def __init__(self, client: Any, rows: list[dict[str, Any]]) -> None:
        super().__init__(daemon=True)
        self.client, self.rows = client, rows
        self.slow, self.done = threading.Event(), threading.Event()
        self.statuses: list[int] = []

    def run(self) -> None:
        k = 0
        while not self.done.is_set():
            features = self.rows[k % len(self.rows)]
            self.statuses.append(self.client.post(
                "/predict", json={"features": features}).status_code)
            if self.slow.is_set():
                self.statuses.append(self.client.post(
                    "/predict", json={"features": features},
                    headers={"X-Obskit-Delay-Ms": str(SLOW_MS)}).status_code)
            k += 1
            time.sleep(0.05)


def test_slow_requests_fire_the_latency_alert_at_the_webhook(pipeline):
    prometheus, receiver = pipeline["prometheus"], pipeline["receiver"]
    rule = pipeline["rules"][LATENCY_ALERT]
    assert rule["expr"].endswith(" > 0.5") and "[20s]" in rule["expr"]
    p95 = rule["expr"].rsplit(" > ", 1)[0]
    traffic = Traffic(pipeline["client"], pipeline["rows"])
    traffic.start()
    try:
        # normal traffic: Prometheus computes a p95 under the budget and the rule is quiet
        found = wait_for(lambda: _query(prometheus, p95), timeout_s=60, every_s=0.5,
                         what="p95 of the service in Prometheus")
        assert len(found) == 1 and found[0]["metric"]["job"] == "credit-service"
        assert float(found[0]["value"][1]) < 0.5
        time.sleep(6)  # longer than for: 5s
        state = _rule_state(prometheus, LATENCY_ALERT)
        assert (state["health"], state["state"]) == ("ok", "inactive"), state
        assert receiver.alerts(LATENCY_ALERT) == []

        traffic.slow.set()
        started = time.monotonic()
        alert = wait_for(lambda: receiver.alerts(LATENCY_ALERT), timeout_s=120,
                         every_s=0.5, what=f"{LATENCY_ALERT} at the webhook")[0]
        fired_after = time.monotonic() - started
        assert alert["labels"]["severity"] == rule["labels"]["severity"] == "critical"
        assert alert["labels"]["model_name"] == "credit"
        assert alert["labels"]["job"] == "credit-service"
        assert alert["annotations"]["summary"] == "p95 prediction latency above 500 ms"
        assert float(_query(prometheus, p95)[0]["value"][1]) > 0.5

        # slow requests stop: the p95 falls back once they leave the 20 s window
        traffic.slow.clear()
        resolved = wait_for(lambda: receiver.alerts(LATENCY_ALERT, "resolved"),
                            timeout_s=120, every_s=0.5, what=f"{LATENCY_ALERT} resolved")[0]
        assert resolved["labels"] == alert["labels"]
    finally:
        traffic.done.set()
        traffic.join(timeout=30)
    assert set(traffic.statuses) == {200}
    print(f"{LATENCY_ALERT} reached the webhook {fired_after:.1f} s after the slow requests "
          "began")


def test_report_findings_reach_the_webhook(pipeline):
    """Every alert the report run has firing is relayed by the exporter, judged by
    Prometheus with the generated rule and delivered: the demo's drift among them."""
    receiver, rules = pipeline["receiver"], pipeline["rules"]
    firing = json.loads((pipeline["reports"] / "alert_state.json").read_text())["firing"]
    severity = {f["rule"]: f["severity"] for f in firing}
    by_rule = {r["labels"]["obskit_rule"]: name for name, r in rules.items()
               if "obskit_rule" in r["labels"]}
    expected = {by_rule[r] for r in severity}
    assert "ObskitDriftShare" in expected  # the demo drifts
    wait_for(lambda: expected <= receiver.names(), timeout_s=120, every_s=0.5,
             what=f"{sorted(expected)} at the webhook")
    for rule_name, alert_name in by_rule.items():
        got = receiver.alerts(alert_name)
        if rule_name not in severity:
            assert got == [], alert_name  # not firing in the report: silent here too
            continue
        assert {a["labels"]["severity"] for a in got} == {severity[rule_name]}
        assert {a["labels"]["job"] for a in got} == {"obskit"}
    drift = receiver.alerts("ObskitDriftShare")[0]
    assert drift["labels"]["obskit_rule"] == "drift_share"
    assert drift["annotations"]["summary"] == (
        "obskit report: drift_share > 0.1 in the latest window")
