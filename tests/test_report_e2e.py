"""End to end: the demo through `obskit report` (papermill + nbconvert), checked against the
injected incidents, plus the runner's guarantees (atomic publish, exit codes, safe HTML)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from obskit import runner
from obskit.config import load_config
from obskit.demo import generate_demo
from obskit.exceptions import NotebookError
from obskit.runner import execute

pytestmark = pytest.mark.e2e

ROWS = 20_000


def obskit_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "obskit", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    files = generate_demo(root / "data", rows=ROWS)
    proc = obskit_cli("report", "--config", str(files.config), "--out", "reports", cwd=root)
    assert proc.returncode == 0, proc.stderr
    run_dir = (root / "reports" / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    incidents = {i["id"]: i for i in json.loads(files.incidents.read_text())}
    return root, run_dir, summary, incidents, proc


def _day(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _windows_by_start(summary):
    return {w["start"]: w for w in summary["windows"]}


def test_cli_prints_report_path_and_writes_the_run_folder(demo_run):
    root, run_dir, summary, _, proc = demo_run
    assert f"report: {run_dir / 'index.html'}" in proc.stdout.replace(
        str(root / "reports" / run_dir.name), str(run_dir))
    for name in ("index.html", "summary.json", "alerts.json", "monitoring_report.ipynb"):
        assert (run_dir / name).is_file(), name
    assert (root / "reports" / "index.html").is_file()  # history page
    assert not list((root / "reports").glob(".tmp-*"))
    assert summary["schema_version"] == "1.0"
    assert summary["status"] == "alert"
    # per-stage seconds, in summary.json and on stdout
    stages = {"load_s", "profile_s", "drift_s", "performance_s", "segments_s", "anomalies_s",
              "explanations_s", "render_s", "total_s"}
    assert stages <= set(summary["timings"]) and all(
        v >= 0 for v in summary["timings"].values())
    assert "timings: load " in proc.stdout and " render " in proc.stdout
    # no library notice about SQL dialects the run never uses (sqlglot's Snowflake note)
    assert "may produce different results" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert summary["reference_cache"]["enabled"] and summary["reference_cache"]["misses"] > 0


def test_every_row_is_accounted_for(demo_run):
    _, _, summary, _, _ = demo_run
    rows = summary["rows"]
    assert rows["current"] + rows["quarantined"] == rows["read"] == ROWS
    assert sum(w["rows"] for w in summary["windows"]) == rows["current"]
    assert summary["labels"]["matched"] > 0


def test_gradual_drift_is_flagged_in_the_right_windows(demo_run):
    _, _, summary, incidents, _ = demo_run
    inc = incidents["gradual_drift"]
    feature, start = inc["feature"], _day(inc["start"])
    for w in summary["windows"]:
        days_in = (_day(w["start"]) - start).days
        verdict = w["drift"][feature]["drifted"]
        if days_in < 0:
            assert verdict is False, (w["start"], w["drift"][feature])
        elif days_in >= 1:  # a gradual drift is past the threshold a day after it starts
            assert verdict is True, (w["start"], w["drift"][feature])
    assert summary["drift_summary"][feature]["drifted_windows"] >= 9


def test_broken_upstream_feature_is_flagged_from_its_start(demo_run):
    _, _, summary, incidents, _ = demo_run
    inc = incidents["broken_upstream"]
    start = _day(inc["start"])
    for w in summary["windows"]:
        assert w["drift"][inc["feature"]]["drifted"] is (_day(w["start"]) >= start), w["start"]


def test_data_quality_flags_the_broken_upstream_feature_only(demo_run):
    """income in cents from v2's start is outside the reference's range; nothing else in
    the demo is a data quality fault, so no other data quality rule fires."""
    _, run_dir, summary, incidents, _ = demo_run
    inc = incidents["broken_upstream"]
    fired = [a for a in summary["alerts"] if a["metric"].startswith("data_quality.")]
    assert {a["metric"] for a in fired} == {f"data_quality.{inc['feature']}.out_of_range_increase"}
    start = _day(inc["start"])
    assert {a["window_start"] for a in fired if a["segment"] is None} == {
        w["start"] for w in summary["windows"] if _day(w["start"]) >= start}
    assert any(f["kind"] == "data_quality" and f["feature"] == inc["feature"]
               for f in summary["findings"])
    assert "Data quality per feature" in (run_dir / "index.html").read_text()


def test_latency_spike_fires_in_its_window_only(demo_run):
    _, _, summary, incidents, _ = demo_run
    inc = incidents["latency_spike"]
    fired = {a["window_start"] for a in summary["alerts"] if a["metric"] ==
             "health.latency_p95_ms"}
    spike_day = _day(inc["start"]).date()
    assert {_day(s).date() for s in fired} == {spike_day}
    by_start = _windows_by_start(summary)
    spike = [w for s, w in by_start.items() if _day(s).date() == spike_day][0]
    assert spike["health"]["latency_p95_ms"] > 500


def test_error_burst_fires_in_its_window_only(demo_run):
    _, _, summary, incidents, _ = demo_run
    fired = {_day(a["window_start"]).date() for a in summary["alerts"]
             if a["metric"] == "health.error_rate"}
    assert fired == {_day(incidents["error_burst"]["start"]).date()}


def test_concept_drift_shows_as_a_performance_drop(demo_run):
    _, _, summary, incidents, _ = demo_run
    start = _day(incidents["concept_drift"]["start"])
    drops = {_day(a["window_start"]) for a in summary["alerts"] if a["rule"] ==
             "performance_drop"}
    after = [w for w in summary["windows"] if _day(w["start"]) >= start]
    assert all(_day(w["start"]) in drops for w in after)
    assert all(w["label_coverage"] < 1 for w in after[1:])


def test_html_is_self_contained_and_scriptless(demo_run):
    _, run_dir, _, _, _ = demo_run
    html = (run_dir / "index.html").read_text()
    assert "Content-Security-Policy" in html and "script-src 'none'" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", html, re.I)
    assert "data:image/png;base64," in html
    assert "def show(" not in html  # code cells are hidden
    assert len(html) < 3_000_000


def test_failed_notebook_keeps_last_good_report(demo_run, tmp_path, monkeypatch):
    root, run_dir, _, _, _ = demo_run
    broken = tmp_path / "broken.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("summary_path = None", metadata={"tags":
                                                                           ["parameters"]}),
                nbformat.v4.new_code_cell("raise RuntimeError('boom in cell')")]
    nbformat.write(nb, broken)
    monkeypatch.setattr(execute, "notebook_path", lambda name=runner.NOTEBOOK: broken)
    good_html = (run_dir / "index.html").read_bytes()
    config = load_config(root / "data" / "config.yml")
    with pytest.raises(NotebookError, match="boom in cell") as err:
        runner.run_report(config, out=root / "reports")
    failed = Path(err.value.notebook).parent
    assert failed.name.endswith("-failed")
    assert json.loads((failed / "summary.json").read_text())["status"] == "failed"
    assert "boom in cell" in (failed / runner.NOTEBOOK).read_text()
    assert (root / "reports" / "latest").resolve() == run_dir
    assert (run_dir / "index.html").read_bytes() == good_html


def test_fail_on_alert_exits_1(demo_run):
    root, _, _, _, _ = demo_run
    proc = obskit_cli("report", "--config", str(root / "data" / "config.yml"), "--out",
                      "reports-fail", "--fail-on-alert", "--window", "5000 rows", cwd=root)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads((root / "reports-fail" / "latest" / "summary.json").read_text())
    assert summary["window"] == "5000 rows"
    assert [w["rows"] for w in summary["windows"]][:-1] == [5000] * (len(summary["windows"])
                                                                      - 1)


def test_bad_input_exits_2_naming_the_problem(tmp_path):
    proc = obskit_cli("report", "--current", "nowhere/logs.jsonl", "--out", "r", cwd=tmp_path)
    assert proc.returncode == 2
    assert "nowhere/logs.jsonl" in proc.stderr
    pd.DataFrame({"ts": ["2026-11-01T00:00:00Z"], "x": [1.0]}).to_csv(tmp_path / "l.csv",
                                                                       index=False)
    proc = obskit_cli("report", "--current", "l.csv", "--out", "r", cwd=tmp_path)
    assert proc.returncode == 2
    assert "'timestamp'" in proc.stderr and "ts, x" in proc.stderr
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


class _ActiveContent(HTMLParser):
    """Collects what a browser would run: script bodies, and on* handler attributes."""

    def __init__(self):
        super().__init__()
        self.scripts, self.handlers, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        self.handlers += [(tag, k, v) for k, v in attrs if k.lower().startswith("on")]

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def test_strings_from_data_are_escaped_in_the_report(tmp_path):
    planted_feature = """<script>alert("feature's")</script>"""
    planted_value = """<script>alert("category's")</script>"""
    n = 400
    times = pd.date_range("2026-11-01", periods=n, freq="15min", tz="UTC")
    ref = pd.DataFrame({
        "timestamp": times - pd.Timedelta(days=10),
        "request_id": [f"r{i}" for i in range(n)],
        "score": [(i % 10) / 10 for i in range(n)],
        "label": [i % 2 for i in range(n)],
        planted_feature: [float(i % 7) for i in range(n)],
        "region": ["north", "south"] * (n // 2),
    })
    cur = ref.copy()
    cur["timestamp"] = times
    cur["region"] = [planted_value, "north"] * (n // 2)
    cur["error"] = [None] * (n - 1) + ['<img src=x onerror="alert(1)">']
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_json(tmp_path / "cur.jsonl", orient="records", lines=True, date_format="iso")
    proc = obskit_cli("report", "--reference", "ref.csv", "--current", "cur.jsonl",
                      "--out", "out", "--title", "<b>planted title</b>", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "latest" / "index.html").read_text()
    escaped = r"&lt;script&gt;alert\((&quot;|\"){}(&#x27;|&#39;|')s(&quot;|\")\)&lt;/script&gt;"
    assert re.search(escaped.format("feature"), html)
    assert re.search(escaped.format("category"), html)  # a category only the window has
    assert "&lt;b&gt;planted title&lt;/b&gt;" in html and "<b>planted title</b>" not in html
    active = _ActiveContent()
    active.feed(html)
    assert not [s for s in active.scripts if "alert" in s]
    assert not active.handlers
    assert "<script>alert" not in html and "<img src=x" not in html
    summary = json.loads((tmp_path / "out" / "latest" / "summary.json").read_text())
    assert "need a model" in summary["explanations"]["status"]  # anomalies without a model


def test_notebook_runs_on_its_own_from_a_config_path(demo_run, tmp_path):
    """The notebook is usable without the runner: papermill with `config_path` only."""
    import papermill as pm

    root = demo_run[0]
    out = tmp_path / "executed.ipynb"
    pm.execute_notebook(str(runner.notebook_path()), str(out), kernel_name="python3",
                        parameters={"config_path": str(root / "data" / "config.yml")},
                        progress_bar=False, cwd=str(tmp_path))
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = json.dumps(outputs)
    assert "utilization" in text and "data:image/png;base64," in text


def _segment(summary, column, value):
    return next(e for e in summary["segments"][column] if e["value"] == value)


def test_estimated_performance_follows_the_covariate_drift(demo_run):
    """Without labels, CBPE sees the utilization drift lower v1's accuracy."""
    _, _, summary, incidents, _ = demo_run
    windows = _segment(summary, "model_version", "v1")["windows"]
    concept = _day(incidents["concept_drift"]["start"])
    before = [w for w in windows if _day(w["start"]) < concept]
    est = [w["estimated_performance"]["accuracy"] for w in before]
    assert sum(est[:4]) / 4 - sum(est[-3:]) / 3 > 0.05  # it falls as utilization drifts
    inside = [w for w in before if w["estimated_performance_ci"]["accuracy"][0]
              <= w["performance"]["accuracy"] <= w["estimated_performance_ci"]["accuracy"][1]]
    assert len(inside) >= len(before) - 1  # and agrees with the realized value


def test_concept_drift_shows_as_realized_below_estimate_from_its_start(demo_run):
    _, _, summary, incidents, _ = demo_run
    gap = next(f for f in summary["findings"] if f["kind"] == "estimate_gap"
               and f.get("segment") == "model_version=v1")
    assert f"from {incidents['concept_drift']['start'][:10]}" in gap["text"]


def test_report_has_the_statistics_sections(demo_run):
    _, run_dir, summary, _, _ = demo_run
    html = (run_dir / "index.html").read_text()
    for text in ("Segments", "Multivariate drift", "estimated (no labels)"[:9]):
        assert text in html
    w = summary["windows"][0]
    assert set(w["multivariate_drift"]) == {"domain_classifier", "pca_reconstruction"}
    assert w["performance_ci"]["roc_auc"][0] < w["performance"]["roc_auc"] < \
        w["performance_ci"]["roc_auc"][1]


def test_anomalous_predictions_are_flagged_and_explained(demo_run):
    _, run_dir, summary, incidents, _ = demo_run
    by_start = {w["start"][:10]: w for w in summary["windows"]}
    spike = by_start[incidents["latency_spike"]["start"][:10]]["anomaly_counts"]
    burst = by_start[incidents["error_burst"]["start"][:10]]["anomaly_counts"]
    quiet = by_start[summary["windows"][0]["start"][:10]]["anomaly_counts"]
    assert spike["latency_outlier"] > 5 * quiet.get("latency_outlier", 0)
    assert burst["failed"] > 10 * quiet.get("failed", 1)
    broken = incidents["broken_upstream"]
    flagged = [r for r in summary["anomalies"]
               if f"out_of_range:{broken['feature']}" in r["reasons"]]
    in_segment = [r for r in flagged if r["model_version"] ==
                  broken["segment"]["model_version"]]
    assert len(in_segment) >= 0.9 * len(flagged) > 0  # a few v1 rows sit in the tail
    assert all(r["window_start"] >= broken["start"][:10] for r in in_segment)
    explanations = summary["explanations"]
    assert explanations["status"] == "ok" and explanations["rows_explained"] > 0
    assert next(iter(summary["cohort_attribution"])) == broken["feature"]
    assert any(f["kind"] == "anomaly_drivers" and f["feature"] == broken["feature"]
               for f in summary["findings"])
    html = (run_dir / "index.html").read_text()
    assert "What drives the anomalies" in html and "LIME" in html


def test_report_sends_alerts_to_sinks_and_runs_actions(demo_run, tmp_path):
    root = demo_run[0]
    marker = tmp_path / "rolled_back"
    config = load_config(root / "data" / "config.yml", overrides={
        "sinks": {"prometheus": {"textfile": str(tmp_path / "obskit.prom")}},
        "alerts": [{"name": "p95", "metric": "health.latency_p95_ms", "op": ">",
                    "value": 500, "severity": "critical",
                    "action": [sys.executable, "-c",
                               f"open({str(marker)!r}, 'w').write('x')"]}],
        "multivariate": {"enabled": False}, "anomalies": {"explain_rows": 0},
    })
    outcome = runner.run_report(config, out=tmp_path / "reports")
    record = json.loads((outcome.run_dir / "alerts.json").read_text())
    kinds = {r["sink"]: r["status"] for r in record["sinks"]}
    assert kinds == {"prometheus.textfile": "written", "action": "ok"}
    assert marker.read_text() == "x"  # the rollback hook ran once
    assert "obskit_drift_share" in (tmp_path / "obskit.prom").read_text()
    again = runner.run_report(config, out=tmp_path / "reports")  # still firing: silent
    record = json.loads((again.run_dir / "alerts.json").read_text())
    assert [r["sink"] for r in record["sinks"]] == ["prometheus.textfile"]
    assert record["events"]["ongoing"] and not record["events"]["firing"]
