"""The typed result model: summary.json round trips exactly, older documents load,
unknown keys survive, the key set of the demo report holds, and to_df() reads the run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest

import obskit
from obskit import results, runner
from obskit.config import load_config
from obskit.results import (
    Alert,
    EstimationStatus,
    FeatureDrift,
    Run,
    RunRecord,
    Window,
    Windows,
    document,
    dump,
    load,
    load_record,
)
from tests.helpers import credit_log

#: the key paths of the summary.json of ``obskit demo --rows 20000`` + ``obskit report``
#: before the result model (regenerate: ``sorted(key_paths(json.load(f)))``, one a line;
#: keys are only ever added, so a new key needs no change here)
KEYS = Path(__file__).parent / "data" / "summary_keys.txt"

#: paths whose children are keyed by data (after a segment's ``segments.*[].`` prefix)
DATA_KEYED = {
    "features", "class_scores", "reference.performance", "reference.performance_ci",
    "windows[].performance", "windows[].performance_ci", "windows[].estimated_performance",
    "windows[].estimated_performance_ci", "windows[].drift", "windows[].data_quality",
    "windows[].anomaly_counts", "drift_summary", "data_quality", "distributions", "segments",
    "reference_performance", "explanations.rows[].shap", "explanations.rows[].values",
    "explanations.attribution_drift", "explanations.attribution_drift.*.shares",
    "explanations.importance", "cohort_attribution", "quarantine.by_reason", "methods.drift",
    "drift_not_judged", "alerts[].segment", "findings[].segment", "alert_rules[].segment",
    "insufficient_data[].segment",
}
SEGMENT = "segments.*[]."


def _data_keyed(path: str) -> bool:
    return path.removeprefix(SEGMENT) in DATA_KEYED


def key_paths(node: Any, path: str = "") -> set[str]:
    """Every key path of ``node`` (a parsed ``summary.json``), data keys as ``*``."""
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            name = "*" if _data_keyed(path) else str(key)
            child = f"{path}.{name}" if path else name
            out.add(child)
            out |= key_paths(value, child)
    elif isinstance(node, list):
        for item in node:
            out |= key_paths(item, f"{path}[]")
    return out


def _text(doc: dict) -> str:
    """The document as the runner writes it."""
    return json.dumps(doc, indent=2, allow_nan=False, default=str) + "\n"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small analysis (3 days, a segment column, no model): its Analysis."""
    root = tmp_path_factory.mktemp("small")
    ref = credit_log("2026-10-01", 5, 300, seed=1)
    cur = credit_log("2026-11-01", 3, 300, seed=2)
    cur.loc[cur.index[:40], "income"] = None  # some missing values
    ref.to_parquet(root / "ref.parquet")
    cur.to_parquet(root / "cur.parquet")
    config = load_config(overrides={"sources": {"reference": str(root / "ref.parquet"),
                                                "current": str(root / "cur.parquet")},
                                    "segments": ["region"], "min_segment_rows": 100})
    return obskit.analyze(config)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The summary.json the runner writes for the session's demo analysis (the notebook
    step faked: the document is the same)."""
    from tests.demo_run import demo_run

    files, analysis, _ = demo_run()

    def fake_execute(notebook, output, parameters, *, timeout_s=1800.0, kernel=None):
        nbformat.write(nbformat.v4.new_notebook(), output)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner.execute, "execute_notebook", fake_execute)
        outcome = runner.run_report(analysis.config, analysis=analysis,
                                    out=tmp_path_factory.mktemp("reports"),
                                    config_path=files.config)
    return analysis, outcome.run_dir / "summary.json"


# --- the model of analyze() ---------------------------------------------------------

def test_analysis_builds_its_run_once_and_to_summary_is_its_document(small):
    run = small.run
    assert isinstance(run, Run) and small.run is run
    summary = small.to_summary()
    assert _text(summary) == _text(run.to_dict())
    assert summary["schema_version"] == "1.0" == run.schema_version
    summary["status"] = "failed"  # the runner changes its copy ...
    summary["findings"].clear()
    assert small.to_summary()["status"] == run.status != "failed"  # ... not the run's
    assert len(small.to_summary()["findings"]) == len(run.findings) > 0
    assert small.drift_summary is small.drift_summary


def test_run_fields_are_typed(small):
    run = small.run
    assert isinstance(run.windows, Windows) and isinstance(run.windows[0], Window)
    window = run.windows[0]
    assert isinstance(window.drift["age"], FeatureDrift)
    assert window.drift["age"].method == run.drift_summary["age"].method
    assert run.rows.current == sum(w.rows for w in run.windows)
    assert isinstance(run.segments["region"], tuple)
    assert all(isinstance(a, Alert) for a in run.alerts)
    with pytest.raises(AttributeError):
        run.status = "x"  # frozen


# --- summary.json at the edge -----------------------------------------------------------

def test_small_summary_round_trips_exactly(small, tmp_path):
    doc = json.loads(_text(small.to_summary()))
    assert _text(load(doc).to_dict()) == _text(doc)
    path = tmp_path / "summary.json"
    path.write_text(_text(doc))
    assert dump(load(path), tmp_path / "again.json").read_text() == path.read_text()


def test_summary_missing_newer_keys_loads_with_defaults(small):
    doc = json.loads(_text(small.to_summary()))
    old = copy.deepcopy(doc)
    for key in ("estimation", "drift_not_judged", "alert_rules_not_applicable", "methods"):
        del old[key]
    for w in old["windows"]:
        del w["partial"], w["drift_share"]
        for entry in w["drift"].values():
            entry.pop("values_used", None)
    for entry in old["drift_summary"].values():
        del entry["worst_value"]
    run = load(old)
    assert run.estimation == EstimationStatus()
    assert run.drift_not_judged == {} and run.alert_rules_not_applicable == ()
    assert run.windows[0].partial is False and run.windows[0].drift_share is None
    assert all(d.worst_value is None for d in run.drift_summary.values())
    assert _text(run.to_dict()) == _text(old)  # written back as it was read
    assert load({}).to_dict() == {} and load({}).windows == ()


def test_unknown_keys_survive_in_their_place(small):
    doc = json.loads(_text(small.to_summary()))
    doc = {"future_top": {"a": [1, 2]}, **doc, "future_last": None}
    doc["windows"][0] = {"index": doc["windows"][0]["index"], "future_w": 3,
                         **doc["windows"][0]}
    first = next(iter(doc["windows"][0]["drift"].values()))
    first["future_drift"] = "x"
    doc["alerts"] = [*doc["alerts"], {"rule": "r", "future_alert": True}]
    run = load(doc)
    assert run.extra == {"future_top": {"a": [1, 2]}, "future_last": None}
    assert run.windows[0].extra == {"future_w": 3}
    assert run.alerts[-1].extra == {"future_alert": True}
    assert _text(run.to_dict()) == _text(doc)


def test_record_keys_live_beside_the_run():
    doc = {"schema_version": "1.0", "status": "failed", "model": "m.skops",
           "config_path": "/c.yml", "run_dir": "/r/1", "run_id": "1", "error": "boom"}
    run, record = load(doc), load_record(doc)
    assert "run_id" not in run.to_dict() and run.extra == {}
    assert record == RunRecord(model="m.skops", config_path="/c.yml", run_dir="/r/1",
                               run_id="1", error="boom")
    assert document(run, record) == doc
    assert load_record({"status": "ok"}) is None
    assert RunRecord(run_id="2").write_into({}) == {"model": None, "config_path": None,
                                                   "run_dir": None, "run_id": "2"}


def test_a_run_built_in_code_writes_every_key():
    doc = Run().to_dict()
    assert list(doc)[:3] == ["schema_version", "obskit_version", "generated_at"]
    assert doc["windows"] == [] and doc["period"]["start"] is None
    assert Window(index=1).to_dict()["health"] == {
        "latency_p50_ms": None, "latency_p95_ms": None, "latency_p99_ms": None,
        "errors": None, "error_rate": None, "probes": None, "traces": None,
        "llm": None}


# --- to_df() ----------------------------------------------------------------------

def test_windows_to_df_is_windows_by_metrics(small):
    run = small.run
    df = run.windows.to_df()
    assert len(df) == len(run.windows)
    assert list(df["index"]) == [w.index for w in run.windows]
    for (_, row), w in zip(df.iterrows(), run.windows, strict=True):
        for metric, value in w.performance.items():
            assert _same(row[metric], value)
            lower, upper = w.performance_ci.get(metric, (None, None))
            assert _same(row[f"{metric}_lower"], lower)
            assert _same(row[f"{metric}_upper"], upper)
        for metric, value in w.estimated_performance.items():
            assert _same(row[f"estimated_{metric}"], value)
            lower, upper = w.estimated_performance_ci.get(metric, (None, None))
            assert _same(row[f"estimated_{metric}_lower"], lower)
    assert "roc_auc_lower" in df and "estimated_roc_auc" in df


def test_drift_and_quality_tables_are_long(small):
    run = small.run
    drift = run.windows.drift.to_df()
    assert len(drift) == sum(len(w.drift) for w in run.windows)
    for row in drift.itertuples():
        d = next(w for w in run.windows if w.index == row.window).drift[row.feature]
        assert (row.method, _same(row.value, d.value), row.drifted, row.threshold) == (
            d.method, True, d.drifted, d.threshold)
        assert _same(row.p_value, d.p_value) and row.values_used == d.values_used
    quality = run.windows.quality.to_df()
    assert len(quality) == sum(len(w.data_quality) for w in run.windows)
    income = quality[quality.feature == "income"]
    assert list(income["missing"]) == [w.data_quality["income"].missing
                                       for w in run.windows]
    assert income["missing"].sum() == 40


def test_anomalies_and_alerts_to_df(small):
    run = small.run
    anomalies = run.anomalies.to_df()
    assert len(anomalies) == len(run.anomalies)
    assert list(anomalies["request_id"]) == [a.request_id for a in run.anomalies]
    assert list(anomalies["reasons"]) == [a.reasons for a in run.anomalies]
    alerts = results.Alerts((Alert(rule="r", metric="drift_share", window=2, value=0.5,
                                   threshold=0.1, segment={"region": "north"}),))
    df = alerts.to_df()
    assert df.loc[0, "rule"] == "r" and df.loc[0, "value"] == 0.5
    assert df.loc[0, "segment"] == {"region": "north"}
    assert len(run.alerts.to_df()) == len(run.alerts)


def test_repr_html_escapes_data():
    window = Window(index=0, start="2026-11-01T00:00:00Z", rows=10,
                    drift={"<b>x</b>": FeatureDrift(method="psi", value=0.3)})
    windows = Windows((window,))
    html = windows.drift._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "<table" in windows._repr_html_()
    assert "<table" in windows.quality._repr_html_()


def _same(a, b) -> bool:
    """Equal, a None field showing as NaN in a frame."""
    return (b is None and (a is None or pd.isna(a))) or a == b


# --- the demo report (shares the session's demo analysis) --------------------------------

@pytest.mark.e2e
def test_report_summary_round_trips_exactly(report, tmp_path):
    _, path = report
    text = path.read_text()
    run, record = load(path), load_record(path)
    assert record is not None and record.run_id == path.parent.name
    assert _text(document(run, record)) == text
    assert dump(run, tmp_path / "summary.json", record).read_text() == text
    assert run.explanations is not None and run.explanations.attribution_drift
    assert all(isinstance(k, int) for k in run.explanations.attribution_drift)


@pytest.mark.e2e
def test_report_summary_has_every_stored_key(report):
    _, path = report
    stored = set(KEYS.read_text().split())
    missing = stored - key_paths(json.loads(path.read_text()))
    assert not missing, f"summary.json lost keys: {sorted(missing)}"


def test_a_document_that_does_not_say_its_status_is_never_ok():
    """A truncated or hand-made summary: its status is unknown, not "ok"."""
    assert results.load({}).status is None
    assert results.load({"status": "alert"}).status == "alert"


def test_a_newer_major_schema_is_refused_and_wrong_inputs_say_what_to_do(small, tmp_path):
    doc = small.to_dict()
    with pytest.raises(ValueError, match="schema_version 2.0"):
        results.load({**doc, "schema_version": "2.0"})
    assert results.load({**doc, "schema_version": "1.7"}).status == small.status
    with pytest.raises(TypeError, match="summary.json path"):
        results.load([1, 2])
    with pytest.raises(TypeError, match=r"obskit\.results\.load"):
        results.document(doc)
    from obskit.render import findings_html

    with pytest.raises(TypeError, match=r"obskit\.results\.load"):
        findings_html(doc)
    with pytest.raises(TypeError, match="load_config"):
        obskit.analyze({"sources": {"current": "x.jsonl"}})


def test_a_loaded_run_shows_itself_briefly(small):
    run = results.load(small.to_dict())
    text = repr(run)
    assert len(text) < 300 and f"windows={len(run.windows)}" in text
    assert repr(small).startswith("Analysis(") and len(repr(small)) < 300
    html = run._repr_html_()
    assert f"{len(run.alerts)} alerts" in html and "<table" in html


def test_to_dict_is_the_document_json_reads_back(small):
    """Integer keys (window indices) are written as text, as the file has them."""
    doc = small.to_dict()
    assert doc == json.loads(json.dumps(doc))
    assert results.load(doc).to_dict() == doc
