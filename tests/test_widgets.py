"""The explorer, driven headlessly: set a control's value, read what the views now say."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from obskit._format import fmt_num, fmt_time
from obskit.findings import deep_dive_command
from obskit.render.rich import analysis_html, summary_html
from obskit.results import load
from obskit.widgets import ExplorerState, explore, log_view
from obskit.widgets.explorer import KERNEL_NOTE, Explorer
from tests.demo_run import demo_run

pytestmark = pytest.mark.e2e  # builds one demo analysis (about a minute)


@pytest.fixture(scope="module")
def run():
    return demo_run()


@pytest.fixture
def explorer(run):
    return explore(run[1])


def _text(html: str) -> str:
    html = re.sub(r"<style>.*?</style>|<img[^>]*>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _drift(analysis, window: int, feature: str) -> float:
    d = analysis.drift
    return float(d[(d.window_index == window) & (d.feature == feature)].value.iloc[0])


def _windows_with_drift(analysis, feature: str) -> list[int]:
    d = analysis.drift
    return sorted(d[d.feature == feature].window_index.astype(int))


def test_feature_view_follows_window_and_feature(run, explorer):
    _, analysis, _ = run
    first, *_, last = _windows_with_drift(analysis, "utilization")
    explorer.feature.value = "utilization"
    for window in (first, last):
        explorer.window.value = window
        text = _text(explorer.feature_view.value)
        start = next(w.start for w in analysis.windows if w.index == window)
        assert f"utilization on {fmt_time(start)} (all rows)" in text
        assert fmt_num(_drift(analysis, window, "utilization")) in text
        assert f"{fmt_time(start)} to" in _text(explorer.window_view.value)
    explorer.feature.value = "income"
    assert "income on" in _text(explorer.feature_view.value)
    assert fmt_num(_drift(analysis, last, "income")) in _text(explorer.feature_view.value)
    # the distribution figure and the series figure are embedded images with alt text
    assert 'alt="income: reference vs window' in explorer.feature_view.value
    assert 'alt="income: drift score per window (all rows)"' in explorer.feature_view.value


def test_window_view_shows_the_windows_numbers(run, explorer):
    _, analysis, _ = run
    latency = max(analysis.windows, key=lambda w: w.health.latency_p95_ms or 0)
    explorer.window.value = latency.index
    text = _text(explorer.window_view.value)
    assert f"{latency.rows:,}" in text
    assert f"{latency.health.latency_p95_ms:,.0f} ms" in text
    assert "latency_p95" in text  # the alert that fired there


def test_segment_switches_every_view_to_the_segment(run, explorer):
    _, analysis, _ = run
    v2 = next(e for e in analysis.segments["model_version"] if e.value == "v2")
    window = next(w for w in v2.windows or () if w.status == "ok")
    explorer.window.value = window.index
    explorer.feature.value = "income"
    explorer.segment.value = ("model_version", "v2")
    assert "model_version=v2" in _text(explorer.window_view.value)
    assert f"Rows {window.rows:,}" in _text(explorer.window_view.value)
    seg_value = window.drift["income"].value
    assert fmt_num(seg_value) in _text(explorer.feature_view.value)
    assert all(str(explorer.state.anomaly(rid).model_version) == "v2"
               for _, rid in explorer.anomaly.options)


def test_picking_an_anomalous_row_shows_why_and_its_explanations(run, explorer):
    _, analysis, _ = run
    summary = explorer.state.run
    explained = {e.request_id for e in summary.explanations.rows}
    rows = [r for r in summary.anomalies if r.request_id in explained]
    target = rows[1]
    explorer.anomaly.value = target.request_id
    view = explorer.anomaly_view.value
    text = _text(view)
    assert f"Request {target.request_id}" in text
    assert "Flagged with severity" in text
    for reason in target.reasons:
        code = reason.split(":")[0]
        if code == "out_of_range":
            assert f"{reason.split(':')[1]} = " in text
    assert f'alt="SHAP waterfall of request {target.request_id}"' in view
    assert f'alt="Latency of request {target.request_id} against its window"' in view
    if target.trace_id:
        assert target.trace_id in text
    # the full logged row came from the engine: every feature with its value
    for feature in summary.features:
        assert f" {feature} " in text


def test_only_window_filters_the_rows(run, explorer):
    _, analysis, _ = run
    busiest = max(analysis.windows, key=lambda w: sum((w.anomaly_counts or {}).values()))
    explorer.window.value = busiest.index
    explorer.only_window.value = True
    ids = [rid for _, rid in explorer.anomaly.options]
    assert ids
    assert all(explorer.state.anomaly(rid).window == busiest.index for rid in ids)
    assert f"window {fmt_time(busiest.start)}" in _text(explorer.anomaly_table.value)


def test_changes_back_never_query_the_engine_again(run, monkeypatch):
    calls = []
    for name in ("histogram_by_window", "category_counts", "numeric_histogram"):
        original = getattr(log_view, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(log_view, name, counted)
    explorer = Explorer(run[1])
    windows = [w.index for w in run[1].windows if w.status == "ok"]

    def browse() -> None:
        for feature in ("income", "employment_type"):
            explorer.feature.value = feature
            for window in windows[:3]:
                explorer.window.value = window
        explorer.segment.value = ("model_version", "v1")
        explorer.segment.value = None

    browse()
    first_pass, renders = len(calls), explorer.renders
    assert first_pass >= 2  # one query per feature (and per segment), not per window
    browse()
    assert len(calls) == first_pass
    assert explorer.renders == renders


def test_a_summary_alone_explores_and_says_what_needs_the_logs(run):
    _, analysis, summary_path = run
    explorer = Explorer.from_summary(summary_path)
    window = analysis.windows[-1].index
    explorer.window.value = window
    explorer.feature.value = "utilization"
    text = _text(explorer.feature_view.value)
    assert fmt_num(_drift(analysis, window, "utilization")) in text
    assert "Only a summary was given" in text
    assert explorer.state.queries == 0


def test_static_snapshot_says_a_kernel_is_needed(explorer):
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert KERNEL_NOTE in _text(bundle["text/html"]).replace("&#x27;", "'") or \
        "needs a running Jupyter kernel" in bundle["text/html"]
    assert "<script" not in bundle["text/html"]


def test_rich_display_of_an_analysis(run):
    _, analysis, _ = run
    html = analysis_html(analysis)
    assert "<script" not in html
    text = _text(html)
    assert analysis.config.title in text
    assert analysis.findings[0].text.split(" ")[0] in text
    assert ".explore()" in text


def test_rich_display_escapes_data():
    evil = '<script>alert(1)</script>"'
    summary = {"title": evil, "status": "alert", "windows": [],
               "findings": [{"severity": "warning", "kind": "feature_drift", "text": evil,
                             "command": deep_dive_command({}, "deep-dive", "--feature", evil)}],
               "drift_summary": {evil: {"method": "psi", "drifted_windows": 1, "windows": 2,
                                        "max_value": 0.5, "threshold": 0.1}},
               "distributions": {evil: {"kind": "categorical", "categories": [evil, "b"],
                                        "reference": [3, 1], "current": [1, 3]}}}
    html = summary_html(load(summary))
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    state = ExplorerState(load(summary))
    assert state.features() == [evil]


def test_deep_dive_command_is_shell_quoted():
    cmd = deep_dive_command({"config_path": "/data/my config.yml", "run_dir": "/r/run 1"},
                            "deep-dive", "--feature", "a; rm -rf ~")
    assert cmd == ("obskit deep-dive --config '/data/my config.yml' --feature 'a; rm -rf ~' "
                   "--summary '/r/run 1/summary.json'")


def test_findings_carry_deep_dive_commands(run):
    _, analysis, _ = run
    drift = [f for f in analysis.findings if f.kind == "feature_drift"]
    assert drift[0].command == ("obskit deep-dive --config CONFIG.yml --feature "
                                f"{drift[0].feature}")
    drivers = [f for f in analysis.findings if f.kind == "anomaly_drivers"]
    assert drivers and "obskit investigate" in (drivers[0].command or "")
    assert f"--request-id {drivers[0].request_id}" in (drivers[0].command or "")


def test_import_obskit_does_not_import_ipywidgets():
    code = "import sys, obskit; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_summary_json_roundtrip_keeps_the_same_answers(run):
    _, analysis, summary_path = run
    a = ExplorerState.from_analysis(analysis)
    b = ExplorerState.from_summary(json.loads(summary_path.read_text()))
    assert a.features() == b.features()
    feature = a.top_drifted_feature()
    assert [s["value"] for s in a.drift_series(feature)] == \
        [s["value"] for s in b.drift_series(feature)]
