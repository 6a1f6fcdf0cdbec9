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
)

from examples.service.traffic import main as traffic  # noqa: E402
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


def start_service(tmp: Path, **env: str) -> tuple[subprocess.Popen, str]:
    """``python -m uvicorn examples.service.app:app`` on a free loopback port, as the README
    starts it, with ``OBSKIT_*`` settings; returns the process and its base URL."""
    port = free_port()
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get(
            "PYTHONPATH", "")]), **env}
    for name in ("OBSKIT_GOLDEN", "OBSKIT_MODEL_VERSION"):
        if name not in env:
            full.pop(name, None)
    with open(tmp / "service.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "examples.service.app:app", "--host",
             "127.0.0.1", "--port", str(port)], cwd=REPO, env=full, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def wait_listening(proc: subprocess.Popen, base: str, tmp: Path) -> int:
    """The first /readyz status once the service answers (bounded)."""
    def status():
        assert proc.poll() is None, (tmp / "service.log").read_text()
        try:
            return httpx.get(f"{base}/readyz", timeout=5).status_code
        except httpx.TransportError:  # not listening yet
            return None
    return wait_for(status, timeout_s=90, every_s=0.2, what=f"{base}/readyz")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("demo") / "demo", rows=5000)


@pytest.fixture(scope="module")
def served(tmp_path_factory, demo):
    """Start the service, send the traffic; yields what was sent and where it went."""
    tmp = tmp_path_factory.mktemp("served")
    proc, base = start_service(
        tmp, OBSKIT_MODEL=str(demo.model), OBSKIT_MODEL_NAME="credit",
        OBSKIT_LOG_DIR=str(tmp / "logs"), OBSKIT_TRACES=str(tmp / "traces.jsonl"),
        OBSKIT_FAULT_INJECTION="1")
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_for(lambda: wait_listening(proc, base, tmp) == 200, timeout_s=90,
                     what="/readyz 200")
            sent = send_traffic(client, feature_rows(demo.reference, NORMAL))
            yield {"base": base, "proc": proc, "tmp": tmp, "demo": demo, "sent": sent,
                   "metrics": client.get("/metrics").text, "stop": lambda: stop(proc)}
    finally:
        stop(proc, sig=signal.SIGKILL if proc.poll() is None else signal.SIGTERM)


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


def probe(base: str, golden: Path, results: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "obskit", "probe", base, "--golden", str(golden),
         "--results", str(results)], cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)})


def test_probe_passes_against_the_service_and_writes_no_log_rows(served):
    """The golden requests `obskit demo` wrote get the expected answers from the served
    model; they are synthetic, so the prediction log gets none of them (checked after
    SIGTERM in the next test: the log rows are exactly the traffic sent)."""
    before = samples(httpx.get(f"{served['base']}/metrics", timeout=10).text)
    run = probe(served["base"], served["demo"].golden, served["tmp"] / "probes.jsonl")
    assert run.returncode == 0, run.stdout + run.stderr
    golden = len(served["demo"].golden.read_text().splitlines())
    results = [json.loads(x) for x in (served["tmp"] / "probes.jsonl").read_text().splitlines()]
    assert len(results) == golden and all(r["passed"] and r["status"] == 200 for r in results)
    after = samples(httpx.get(f"{served['base']}/metrics", timeout=10).text)
    assert value(after, REQUESTS, outcome="success") - value(before, REQUESTS,
                                                              outcome="success") == golden


def test_probe_fails_against_a_wrong_model_and_names_the_request(demo, tmp_path):
    """A model that answers wrongly (fitted on flipped labels): /readyz stays 503 on the
    golden check, and `obskit probe` exits non-zero naming the requests that differ."""
    import pandas as pd

    from obskit.demo.model import dump_model, fit_model

    reference = pd.read_parquet(demo.reference)
    wrong = tmp_path / "wrong.skops"
    dump_model(fit_model(reference, 1 - reference["label"].to_numpy()), wrong)
    proc, base = start_service(tmp_path, OBSKIT_MODEL=str(wrong),
                               OBSKIT_GOLDEN=str(demo.golden),
                               OBSKIT_LOG_DIR=str(tmp_path / "logs"))
    try:
        wait_for(lambda: httpx.get(f"{base}/readyz", timeout=5).json()["checks"]["model"]
                 == "ok" if wait_listening(proc, base, tmp_path) else False,
                 timeout_s=90, what="model loaded")
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 503
        assert ready.json()["checks"]["golden"].startswith("failed:")
        run = probe(base, demo.golden, tmp_path / "probes.jsonl")
        # README's traffic generator: it answers, wrongly but with 200s
        assert traffic([base, "--reference", str(demo.reference), "--requests", "30"]) == 0
    finally:
        stop(proc)
    assert len(log_rows(tmp_path / "logs")) == 30
    assert "the golden check failed" in (tmp_path / "service.log").read_text()
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert re.search(r"request \d+: prediction \d, expected \d", run.stdout + run.stderr)


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
    def synthetic(span):
        return {"key": "obskit.synthetic", "value": {"boolValue": True}} in span["attributes"]

    predicts = [s for s in spans if s["name"] == "predict" and not synthetic(s)]
    assert len(predicts) == NORMAL + SLOW + FAILED
    probes = [s for s in spans if s["name"] == "predict" and synthetic(s)]
    assert len(probes) == len(served["demo"].golden.read_text().splitlines())
    for span in predicts:
        assert by_span[span["parentSpanId"]]["name"] == "POST /predict"
        assert by_span[span["parentSpanId"]]["kind"] == 2  # SPAN_KIND_SERVER
    ok = [s for s in predicts if not s.get("status", {}).get("code")]
    attrs = {a["key"]: a["value"] for a in ok[0]["attributes"]}
    assert attrs["obskit.model.name"] == {"stringValue": "credit"}
    assert isinstance(attrs["obskit.prediction"]["intValue"], str)  # int64 as a string
    assert isinstance(attrs["obskit.score"]["doubleValue"], float)

    # a latency objective of 1 s, as a team serving this model would set: the slow
    # requests (1.5 s) are outliers, the others (well under 1 s) are not
    out, config = tmp / "reports", tmp / "service.yml"
    config.write_text(json.dumps({
        "sources": {"reference": str(served["demo"].reference), "current": str(tmp / "logs"),
                    "probes": str(tmp / "probes.jsonl"), "traces": str(tmp / "traces.jsonl")},
        "window": f"{(NORMAL + SLOW + FAILED) // 2} rows",
        "anomalies": {"latency_slo_ms": 1000}}))
    run = subprocess.run(
        [sys.executable, "-m", "obskit", "report", "--config", str(config), "--out", str(out)],
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
    probes = [w["health"]["probes"] for w in summary["windows"]]
    golden = len(served["demo"].golden.read_text().splitlines())
    # the probes ran after the traffic: after the last row's window (accounted as outside)
    inside = sum(p["sent"] for p in probes if p)
    assert summary["probes"]["read"] == summary["probes"]["used"] == golden
    assert inside + summary["probes"]["outside_windows"] == golden
    assert all(p["pass_rate"] == 1.0 for p in probes if p and p["sent"])
    reasons = {r["request_id"]: r["reasons"] for r in summary["anomalies"]}
    for k in range(FAILED):
        assert "failed" in reasons[f"fail-{k}"]
    for k in range(SLOW):
        assert "latency_outlier" in reasons[f"slow-{k}"]
    # the spans join the log rows on trace_id: every request is traced, with its stages
    traces = summary["traces"]
    assert traces["read"] == traces["used"] == len(spans) and traces["duplicates"] == 0
    assert traces["matched"] == NORMAL + SLOW + FAILED
    assert traces["unmatched"] == len({s["traceId"] for s in spans}) - traces["matched"]
    for w in summary["windows"]:
        t = w["health"]["traces"]
        assert t["traced_share"] == 1.0 and t["requests"] == w["rows"]
        assert {"predict", "preprocess", "inference", "postprocess"} <= set(t["stages"])
        assert t["stages"]["predict"]["spans"] == w["rows"]
    assert sum(w["health"]["traces"]["error_spans"] for w in summary["windows"]) >= FAILED
    # the slow requests are the slowest traced ones, and their anomalies link to their
    # traces: the time went into the inference stage (where the delay was injected)
    slowest = summary["slowest_requests"]
    assert {r["request_id"] for r in slowest[:SLOW]} == {f"slow-{k}" for k in range(SLOW)}
    by_request = {r["request_id"]: r for r in summary["anomalies"]}
    for k in range(SLOW):
        anomaly = by_request[f"slow-{k}"]
        assert anomaly["trace"]["trace_id"] == anomaly["trace_id"]
        assert anomaly["trace"]["stages"]["inference"] >= DELAY_MS * 0.95
        assert anomaly["trace"]["slowest_stage"] == "inference"  # not "predict" around it
    for k in range(FAILED):
        assert by_request[f"fail-{k}"]["trace"]["error_spans"] >= 1
