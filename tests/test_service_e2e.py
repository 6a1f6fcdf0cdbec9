"""The example service for real: uvicorn on 127.0.0.1, HTTP traffic, Prometheus, reports.

One service per module: it gets normal, invalid, slow and failing requests; its
``/metrics`` are parsed, Debian's ``prometheus`` scrapes it, then it is stopped with
SIGTERM and its prediction logs, its OTLP JSON spans and ``obskit report`` over the logs
are checked. Every wait is bounded and every process is killed in teardown.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
from service_support import (  # noqa: E402
    check_histograms,
    feature_rows,
    log_rows,
    samples,
    value,
    wait_for,
    write_golden,
)

from obskit.demo import generate_demo  # noqa: E402

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
PROMETHEUS = next((p for p in ("/usr/bin/prometheus", shutil.which("prometheus")) if p
                   and Path(p).exists()), None)
NORMAL, SLOW, FAILED, DELAY_MS = 300, 4, 6, 1500
INVALID = [[1], {"features": [1]}, {"features": {}}, {"rows": {}},
           {"features": {"age": "old"}}]
REQUESTS = "obskit_prediction_requests_total"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, *, sig: int = signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            return proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Start the service, send the traffic; yields what was sent and where it went."""
    tmp = tmp_path_factory.mktemp("served")
    demo = generate_demo(tmp / "demo", rows=5000)
    golden = demo.root / "golden.jsonl"
    if not golden.exists():  # `obskit demo` writes it once the probe branch is in
        write_golden(demo.reference, golden)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get(
           "PYTHONPATH", "")]), "OBSKIT_MODEL": str(demo.model), "OBSKIT_MODEL_NAME": "credit",
           "OBSKIT_LOG_DIR": str(tmp / "logs"), "OBSKIT_TRACES": str(tmp / "traces.jsonl"),
           "OBSKIT_FAULT_INJECTION": "1"}
    env.pop("OBSKIT_GOLDEN", None)
    env.pop("OBSKIT_MODEL_VERSION", None)
    log = open(tmp / "service.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.service.app:app", "--host", "127.0.0.1",
         "--port", str(port)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            def is_ready():
                assert proc.poll() is None, (tmp / "service.log").read_text()
                try:
                    return client.get("/readyz").status_code == 200
                except httpx.TransportError:  # not listening yet
                    return False
            wait_for(is_ready, timeout_s=90, every_s=0.2, what="/readyz 200")
            sent = send_traffic(client, feature_rows(demo.reference, NORMAL))
            yield {"base": base, "proc": proc, "tmp": tmp, "demo": demo, "sent": sent,
                   "metrics": client.get("/metrics").text, "stop": lambda: stop(proc)}
    finally:
        stop(proc, sig=signal.SIGKILL if proc.poll() is None else signal.SIGTERM)
        log.close()


def send_traffic(client, rows: list[dict]) -> dict:
    jobs = [(f"ok-{k}", {}, features) for k, features in enumerate(rows)]
    jobs += [(f"slow-{k}", {"X-Obskit-Delay-Ms": str(DELAY_MS)}, rows[k])
             for k in range(SLOW)]
    jobs += [(f"fail-{k}", {"X-Obskit-Fail": f"drill {k}"}, rows[k]) for k in range(FAILED)]
    random.Random(0).shuffle(jobs)  # slow and failed requests among the others

    def post(job):
        request_id, headers, features = job
        r = client.post("/predict", json={"features": features},
                        headers={"X-Request-ID": request_id, **headers})
        return request_id, r.status_code, r.json()

    with ThreadPoolExecutor(8) as pool:
        answers = {rid: (status, body) for rid, status, body in pool.map(post, jobs)}
    invalid = [client.post("/predict", json=body).status_code for body in INVALID]
    assert invalid == [422] * len(INVALID)
    return {"answers": answers, "invalid": len(INVALID)}


def test_metrics_count_the_requests_sent(served):
    answers = served["sent"]["answers"]
    assert [s for s, _ in answers.values()].count(200) == NORMAL + SLOW
    assert [s for s, _ in answers.values()].count(500) == FAILED
    found = samples(served["metrics"])
    assert value(found, REQUESTS, outcome="success", model_name="credit") == NORMAL + SLOW
    assert value(found, REQUESTS, outcome="error") == FAILED
    assert value(found, REQUESTS, outcome="invalid_input") == len(INVALID)
    assert value(found, "obskit_prediction_errors_total", error_type="InjectedFault") == FAILED
    assert value(found, "obskit_prediction_duration_seconds_count") == NORMAL + SLOW + FAILED
    slow_bucket = value(found, "obskit_prediction_duration_seconds_bucket", le="1.0")
    assert slow_bucket == NORMAL + FAILED  # the slow ones sleep 1.5 s
    assert check_histograms(served["metrics"]) == 2
    labels = {v for (_, ls) in found for _, v in ls}
    assert not labels & set(answers)


@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus is not installed "
                    "(apt-get install prometheus; .ci/run installs it)")
def test_prometheus_scrapes_the_service(served, tmp_path):
    port, target = free_port(), urllib.parse.urlparse(served["base"]).netloc
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                      "scrape_configs:\n  - job_name: model\n"
                      f"    static_configs: [{{targets: ['{target}']}}]\n")
    log = open(tmp_path / "prometheus.log", "wb")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={config}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        query = urllib.parse.urlencode({"query": f"sum by (outcome) ({REQUESTS})"})

        def by_outcome():
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/api/v1/query?{query}",
                                 timeout=5).json()
            except httpx.TransportError:  # not listening yet
                return None
            return {r["metric"]["outcome"]: float(r["value"][1])
                    for r in body["data"]["result"]}

        found = wait_for(by_outcome, timeout_s=60, every_s=0.5, what="prometheus query")
        assert found == {"success": NORMAL + SLOW, "error": FAILED,
                         "invalid_input": len(INVALID)}
    finally:
        stop(proc)
        log.close()


HEX32, HEX16 = re.compile(r"^[0-9a-f]{32}$"), re.compile(r"^[0-9a-f]{16}$")


def test_logs_spans_and_report_after_sigterm(served):
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert served["stop"]() in (0, -signal.SIGTERM)
    tmp, answers = served["tmp"], served["sent"]["answers"]
    assert "Application shutdown complete" in (tmp / "service.log").read_text()
    rows = log_rows(tmp / "logs")
    assert sorted(r["request_id"] for r in rows) == sorted(answers)
    by_id = {r["request_id"]: r for r in rows}
    for rid, (status, body) in answers.items():
        assert by_id[rid]["status"] == status and by_id[rid]["trace_id"] == body["trace_id"]
    assert all("drill" in by_id[f"fail-{k}"]["error"] for k in range(FAILED))

    spans = []
    for line in (tmp / "traces.jsonl").read_text().splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                spans += scope["spans"]
    assert spans and all(HEX32.match(s["traceId"]) and HEX16.match(s["spanId"])
                         for s in spans)
    assert all(isinstance(s["kind"], int) and isinstance(s["startTimeUnixNano"], str)
               and s["startTimeUnixNano"].isdigit() for s in spans)
    errors = [s for s in spans if s["name"] == "predict" and s.get("status", {}).get("code")]
    assert len(errors) == FAILED and all(s["status"]["code"] == 2 for s in errors)
    assert {r["trace_id"] for r in rows} <= {s["traceId"] for s in spans}
    by_span = {s["spanId"]: s for s in spans}
    predicts = [s for s in spans if s["name"] == "predict"]
    assert len(predicts) == NORMAL + SLOW + FAILED
    for span in predicts:
        assert by_span[span["parentSpanId"]]["name"] == "POST /predict"
        assert by_span[span["parentSpanId"]]["kind"] == 2  # SPAN_KIND_SERVER
    ok = [s for s in predicts if not s.get("status", {}).get("code")]
    attrs = {a["key"]: a["value"] for a in ok[0]["attributes"]}
    assert attrs["obskit.model.name"] == {"stringValue": "credit"}
    assert isinstance(attrs["obskit.prediction"]["intValue"], str)  # int64 as a string
    assert isinstance(attrs["obskit.score"]["doubleValue"], float)

    out = tmp / "reports"
    run = subprocess.run(
        [sys.executable, "-m", "obskit", "report", "--reference", str(served["demo"].reference),
         "--current", str(tmp / "logs"), "--window",
         f"{(NORMAL + SLOW + FAILED) // 2} rows", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads((out / "latest" / "summary.json").read_text())
    failed = sum(w["anomaly_counts"].get("failed", 0) for w in summary["windows"])
    assert failed == FAILED
    assert [w["rows"] for w in summary["windows"]] == [(NORMAL + SLOW + FAILED) // 2] * 2
    assert sum(w["health"]["errors"] for w in summary["windows"]) == FAILED
    assert sum(w["health"]["error_rate"] * w["rows"] for w in summary["windows"]) == \
        pytest.approx(FAILED)
    reasons = {r["request_id"]: r["reasons"] for r in summary["anomalies"]}
    for k in range(FAILED):
        assert "failed" in reasons[f"fail-{k}"]
    for k in range(SLOW):
        assert "latency_outlier" in reasons[f"slow-{k}"]
