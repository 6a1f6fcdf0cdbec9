"""The Prometheus sinks against the real servers, on 127.0.0.1 only.

``obskit exporter`` scraped by Debian's ``prometheus``; the textfile read by
``prometheus-node-exporter``; a push received by ``prometheus-pushgateway``. A test is
skipped only when its binary is not installed (``.ci/run`` installs them). Every process
is killed in teardown and every wait is bounded.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_sinks_prometheus import sample_summary

from obskit.results import load
from obskit.sinks import dispatch
from obskit.sinks.exporter import make_server


def _binary(name: str) -> str | None:
    path = Path("/usr/bin") / name
    return str(path) if path.exists() else shutil.which(name)


PROMETHEUS = _binary("prometheus")
NODE_EXPORTER = _binary("prometheus-node-exporter")
PUSHGATEWAY = _binary("prometheus-pushgateway")


def _missing(name: str) -> str:
    return (f"{name} is not installed (apt-get install {name}; .ci/run installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def poll(fetch, *, timeout_s: float = 30.0, every_s: float = 0.2):
    """Call ``fetch()`` until it returns a truthy value (errors count as not yet)."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = fetch()
        except (OSError, ValueError, KeyError, IndexError) as exc:
            last_error = exc
        else:
            if value:
                return value
        time.sleep(every_s)
    raise AssertionError(f"gave up after {timeout_s} s (last error: {last_error!r})")


def samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
def spawn(tmp_path):
    """``spawn(name, argv)`` → Popen (output in ``tmp_path/<name>.log``), killed after."""
    procs: list[tuple[subprocess.Popen, object]] = []

    def _spawn(name: str, argv: list[str], **kwargs) -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "wb")
        kwargs.setdefault("stdout", log)
        proc = subprocess.Popen(argv, stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True, **kwargs)
        procs.append((proc, log))
        return proc

    yield _spawn
    for proc, log in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
        log.close()


def write_reports(root: Path, summary: dict, firing: list[dict]) -> Path:
    run = root / summary["run_id"]
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps(summary))
    latest = root / "latest"
    if latest.is_symlink():
        latest.unlink()
    latest.symlink_to(run.name, target_is_directory=True)
    (root / "alert_state.json").write_text(json.dumps({"version": 1, "last_run": "r1",
                                                       "firing": firing}))
    return root


FIRING = [{"rule": "latency_p95", "metric": "health.latency_p95_ms", "severity": "critical",
           "segment": None, "since": "2026-11-10T06:00:00Z"}]


def start_exporter(spawn, reports: Path) -> tuple[subprocess.Popen, int]:
    """``obskit exporter`` on a free port (``--port 0``; the port is read from stdout)."""
    proc = spawn("exporter", [sys.executable, "-m", "obskit.sinks.exporter",
                              "--reports", str(reports), "--port", "0"],
                 stdout=subprocess.PIPE)
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    assert ready, "exporter did not start within 30 s"
    line = proc.stdout.readline().decode()
    assert line.startswith("obskit exporter: serving http://127.0.0.1:"), line
    return proc, int(line.rsplit(":", 1)[1].split("/")[0])


def test_exporter_serves_fresh_results_and_stops_on_sigterm(spawn, tmp_path):
    reports = write_reports(tmp_path / "reports", sample_summary(), FIRING)
    proc, port = start_exporter(spawn, reports)
    base = f"http://127.0.0.1:{port}"
    assert get(f"{base}/healthz") == (200, "ok\n")
    got = samples(get(f"{base}/metrics")[1])
    assert got[("obskit_drift_share", ())] == 0.25
    assert got[("obskit_report_available", ())] == 1
    assert got[("obskit_alert_active", (("metric", "health.latency_p95_ms"),
                                        ("rule", "latency_p95"), ("segment", ""),
                                        ("severity", "critical")))] == 1
    newer = sample_summary()
    newer["run_id"] = "r2"
    newer["windows"][-1]["drift_share"] = 0.5
    write_reports(reports, newer, [])  # a new run: read on the next scrape
    got = samples(get(f"{base}/metrics")[1])
    assert got[("obskit_drift_share", ())] == 0.5
    assert not any(k[0] == "obskit_alert_active" for k in got)
    with pytest.raises(urllib.error.HTTPError):
        get(f"{base}/nope")
    proc.terminate()
    assert proc.wait(timeout=10) == 0


def test_exporter_without_reports_says_unavailable(tmp_path):
    server = make_server(tmp_path / "missing", "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        text = get(f"http://127.0.0.1:{server.server_address[1]}/metrics")[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert samples(text) == {("obskit_report_available", ()): 0}


@pytest.mark.skipif(PROMETHEUS is None, reason=_missing("prometheus"))
def test_prometheus_scrapes_the_exporter(spawn, tmp_path):
    reports = write_reports(tmp_path / "reports", sample_summary(), FIRING)
    _, exporter_port = start_exporter(spawn, reports)
    prom_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: obskit\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{exporter_port}']}}]\n")
    spawn("prometheus", [PROMETHEUS, f"--config.file={config}",
                         f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                         f"--web.listen-address=127.0.0.1:{prom_port}"])
    query = urllib.parse.urlencode({"query": "obskit_drift_share"})

    def drift_share():
        status, body = get(f"http://127.0.0.1:{prom_port}/api/v1/query?{query}")
        result = json.loads(body)["data"]["result"]
        return result[0] if result else None

    found = poll(drift_share, timeout_s=30)
    assert float(found["value"][1]) == 0.25
    assert found["metric"]["job"] == "obskit"
    query = urllib.parse.urlencode({"query": 'obskit_drift_score{feature="income"}'})
    result = json.loads(get(f"http://127.0.0.1:{prom_port}/api/v1/query?{query}")[1])
    assert float(result["data"]["result"][0]["value"][1]) == 0.31


@pytest.mark.skipif(NODE_EXPORTER is None, reason=_missing("prometheus-node-exporter"))
def test_node_exporter_reads_the_textfile(spawn, tmp_path):
    directory = tmp_path / "textfile"
    [result] = dispatch({"prometheus": {"textfile": str(directory / "obskit.prom")}},
                        run=load(sample_summary()), events={"firing": FIRING}, run_dir=None)
    assert result["status"] == "written"
    port = free_port()
    spawn("node-exporter", [NODE_EXPORTER, "--collector.disable-defaults",
                            "--collector.textfile",
                            f"--collector.textfile.directory={directory}",
                            f"--web.listen-address=127.0.0.1:{port}"])

    def metrics():
        text = get(f"http://127.0.0.1:{port}/metrics")[1]
        return text if "obskit_drift_share" in text else None

    got = samples(poll(metrics, timeout_s=30))
    assert got[("obskit_drift_share", ())] == 0.25
    assert got[("obskit_drift_score", (("feature", "income"),))] == 0.31
    assert got[("obskit_rows", (("kind", "quarantined"),))] == 10
    assert got[("node_textfile_scrape_error", ())] == 0


@pytest.mark.skipif(PUSHGATEWAY is None, reason=_missing("prometheus-pushgateway"))
def test_pushgateway_receives_a_push(spawn, tmp_path):
    port = free_port()
    spawn("pushgateway", [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}",
                          f"--persistence.file={tmp_path / 'pushgateway.data'}"])
    poll(lambda: get(f"http://127.0.0.1:{port}/-/ready")[0] == 200, timeout_s=30)
    [result] = dispatch({"prometheus": {"pushgateway": f"http://127.0.0.1:{port}",
                                        "job": "obskit-test"}},
                        run=load(sample_summary()), events={"firing": FIRING}, run_dir=None)
    assert result["status"] == "pushed", result
    got = samples(get(f"http://127.0.0.1:{port}/metrics")[1])
    assert got[("obskit_drift_share", (("instance", ""), ("job", "obskit-test")))] == 0.25
    assert got[("obskit_alert_active", (("instance", ""), ("job", "obskit-test"),
                                        ("metric", "health.latency_p95_ms"),
                                        ("rule", "latency_p95"), ("segment", ""),
                                        ("severity", "critical")))] == 1
