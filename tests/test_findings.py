"""Findings in words: the headline numbers they quote."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import obskit
from obskit.config import load_config
from obskit.findings import build_findings
from obskit.results import Finding, load

RNG = np.random.default_rng(12)


def _log(start: str, rows: int, *, freq: str, utilization_shift: float = 0.0) -> pd.DataFrame:
    times = pd.date_range(start, periods=rows, freq=freq, tz="UTC")
    age = RNG.normal(40, 10, rows)
    score = RNG.random(rows)
    return pd.DataFrame({
        "timestamp": times, "request_id": [f"{start}-{i}" for i in range(rows)],
        "age": age, "utilization": RNG.beta(2, 5, rows) + utilization_shift,
        "region": RNG.choice(["north", "south", "east"], rows),
        "score": score, "prediction": (score > 0.5).astype(int),
        "label": (RNG.random(rows) < score).astype(int),
        "latency_ms": RNG.lognormal(3, 0.3, rows), "status": 200})


@pytest.fixture(scope="module")
def pvalue_run(tmp_path_factory):
    """A week of reference, two healthy days and one day with ``utilization`` shifted,
    judged by the Kolmogorov–Smirnov test."""
    tmp = tmp_path_factory.mktemp("pvalue")
    ref = _log("2026-10-01", 1500, freq="6min")
    cur = pd.concat([_log("2026-11-01", 400, freq="3min"), _log("2026-11-02", 400, freq="3min"),
                     _log("2026-11-03", 400, freq="3min", utilization_shift=0.3)])
    ref.to_parquet(tmp / "ref.parquet")
    cur.to_parquet(tmp / "cur.parquet")
    config = load_config(overrides={"sources": {"reference": str(tmp / "ref.parquet"),
                                                "current": str(tmp / "cur.parquet")},
                                    "drift": {"numeric": {"method": "ks"}}})
    return ref, cur, obskit.analyze(config).to_summary()


def test_pvalue_headline_is_the_smallest_pvalue(pvalue_run):
    ref, cur, summary = pvalue_run
    d = summary["drift_summary"]["utilization"]
    days = [g.utilization.to_numpy() for _, g in cur.groupby(cur.timestamp.dt.date)]
    pvalues = [stats.ks_2samp(ref.utilization, day).pvalue for day in days]
    assert d["worst_value"] == pytest.approx(min(pvalues), abs=1e-12)
    assert d["max_value"] == pytest.approx(max(pvalues), rel=1e-6)  # kept: the largest value
    assert d["worst_value"] < 1e-10 < d["max_value"]
    finding = next(f for f in summary["findings"] if f.get("feature") == "utilization")
    assert f"down to {min(pvalues):.3g} vs threshold" in finding["text"]
    assert f"{max(pvalues):.3g}" not in finding["text"]


def test_distance_headline_is_the_largest_value():
    summary = {"windows": [{"index": 0, "status": "ok", "rows": 100}],
               "rows": {"quarantined": 0, "read": 100}, "alerts": [],
               "drift_summary": {"x": {"method": "wasserstein", "threshold": 0.1,
                                       "windows": 3, "drifted_windows": 1,
                                       "first_drifted": "2026-11-03T00:00:00Z",
                                       "max_value": 0.42, "worst_value": 0.42,
                                       "last_value": 0.42}}}
    text = next(f.text for f in build_findings(load(summary)) if f.kind == "feature_drift")
    assert "Wasserstein (normed) up to 0.42 vs threshold 0.1" in text


def test_drift_findings_rank_pvalues_by_their_worst_value():
    """A p-value method's most severe feature has the SMALLEST worst p-value."""
    common = {"method": "ks", "threshold": 0.05, "windows": 3, "drifted_windows": 1,
              "first_drifted": "2026-11-03T00:00:00Z", "max_value": 0.9}
    summary = {"windows": [], "rows": {"quarantined": 0, "read": 0}, "alerts": [],
               "drift_summary": {"mild": {**common, "worst_value": 0.01, "max_value": 0.95},
                                 "hard": {**common, "worst_value": 1e-9, "max_value": 0.5}}}
    order = [f.feature for f in build_findings(load(summary)) if f.kind == "feature_drift"]
    assert order == ["hard", "mild"]


def _gap_window(day: int, labels: np.ndarray, predicted: np.ndarray,
                band: tuple[float, float], estimate: float) -> dict:
    """A binary window whose realized accuracy (scikit-learn's) carries its 95% Wilson
    interval (scipy's), beside a CBPE estimate and its band."""
    from sklearn.metrics import accuracy_score

    correct = int((labels == predicted).sum())
    ci = stats.binomtest(correct, len(labels)).proportion_ci(0.95, method="wilson")
    return {"index": day, "start": f"2026-11-0{day + 1}T00:00:00Z", "rows": len(labels),
            "status": "ok",
            "performance": {"accuracy": accuracy_score(labels, predicted)},
            "performance_ci": {"accuracy": [ci.low, ci.high]},
            "estimated_performance": {"accuracy": estimate},
            "estimated_performance_ci": {"accuracy": list(band)}}


def _gap_summary(windows: list[dict]) -> dict:
    return {"task": "binary", "windows": windows, "rows": {"quarantined": 0, "read": 0},
            "alerts": []}


def test_one_window_clearly_below_the_estimate_band_is_a_finding():
    """New-user report (breast cancer, last day): realized accuracy 0.385 against a CBPE
    estimate of 1.0 with band [0.983, 1.0], in one window only. Its own 95% interval lies
    wholly below the band, so it is an ``estimate_gap`` finding."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    good = [_gap_window(d, y, y, (0.983, 1.0), 1.0) for d in range(2)]
    wrong = rng.random(200) < 0.615
    last = _gap_window(2, y, np.where(wrong, 1 - y, y), (0.983, 1.0), 1.0)
    assert last["performance_ci"]["accuracy"][1] < 0.983
    gaps = [f for f in build_findings(load(_gap_summary([*good, last])))
            if f.kind == "estimate_gap"]
    assert len(gaps) == 1
    assert "in 1 window " in gaps[0].text
    assert f"{last['performance']['accuracy']:.3g} realized vs 1 estimated" in gaps[0].text


def test_one_window_slightly_below_the_estimate_band_stays_silent():
    """Noise: one window's realized accuracy below the band, its interval overlapping the
    band, is no finding; two such windows still are (the rule of persistent gaps)."""
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    wrong = np.zeros(200, dtype=bool)
    wrong[:6] = True  # accuracy 0.97, interval about [0.936, 0.986]
    slight = [_gap_window(d, y, np.where(wrong, 1 - y, y), (0.975, 1.0), 0.99)
              for d in range(2)]
    assert slight[0]["performance"]["accuracy"] < 0.975 < slight[0]["performance_ci"][
        "accuracy"][1]
    good = [_gap_window(d, y, y, (0.975, 1.0), 0.99) for d in range(2)]
    one = build_findings(load(_gap_summary([*good, {**slight[0], "index": 2,
                                                    "start": "2026-11-03T00:00:00Z"}])))
    assert not [f for f in one if f.kind == "estimate_gap"]
    two = build_findings(load(_gap_summary(slight)))
    assert [f.kind for f in two].count("estimate_gap") == 1


def test_counts_of_one_read_in_the_singular():
    from obskit.findings.data import data_findings
    from obskit.findings.quality import data_quality_findings

    window = {"index": 0, "start": "2026-11-01T00:00:00Z", "status": "ok", "rows": 100,
              "label_coverage": 0.5, "labelled_rows": 50}
    summary = {"rows": {"quarantined": 0, "read": 100}, "windows": [window], "alerts": [],
               "roles": ["timestamp", "score", "label"], "task": "binary",
               "data_quality": {"income": {"wrong_type": {"count": 1},
                                           "non_finite": {"count": 1}}}}
    run = load(summary)
    texts = [f.text for f in data_findings(run) + data_quality_findings(run)]
    assert any(t.startswith("1 window is partly labelled") for t in texts)
    assert any("income: 1 value of the wrong type (rows quarantined)" in t for t in texts)
    assert any("income: 1 non-finite value (NaN, ±inf)" in t for t in texts)
    assert not any(" 1 windows" in t or " 1 values" in t for t in texts)


def test_findings_of_a_loaded_run_are_those_the_analysis_wrote(pvalue_run):
    """Re-explaining a run from its summary.json gives the same findings: same keys in the
    same order, same texts, same order of findings."""
    import json

    _, _, summary = pvalue_run
    findings = build_findings(load(json.loads(json.dumps(summary))))
    assert all(isinstance(f, Finding) for f in findings)
    assert json.dumps([f.to_dict() for f in findings]) == json.dumps(summary["findings"])


def test_attach_commands_returns_new_findings_and_changes_none():
    from obskit.findings import attach_commands
    from obskit.results import RunRecord

    summary = {"windows": [{"index": 0, "status": "ok", "rows": 100}],
               "rows": {"quarantined": 0, "read": 100}, "alerts": [],
               "drift_summary": {"x": {"method": "wasserstein", "threshold": 0.1,
                                       "windows": 3, "drifted_windows": 1,
                                       "first_drifted": "2026-11-03T00:00:00Z",
                                       "max_value": 0.42, "worst_value": 0.42}}}
    before = build_findings(load(summary))
    drift = next(f for f in before if f.kind == "feature_drift")
    assert drift.command == "obskit deep-dive --config CONFIG.yml --feature x"
    record = RunRecord(config_path="/d/my config.yml", run_dir="/r/1")
    after = attach_commands(before, record)
    assert drift.command == "obskit deep-dive --config CONFIG.yml --feature x"  # unchanged
    moved = next(f for f in after if f.kind == "feature_drift")
    assert moved is not drift and moved.text == drift.text
    assert moved.command == ("obskit deep-dive --config '/d/my config.yml' --feature x "
                             "--summary /r/1/summary.json")
    assert list(moved.to_dict())[-1] == "command"
    ok = next(f for f in after if f.kind == "ok")
    assert ok.command is None and "command" not in ok.to_dict()
    with pytest.raises(AttributeError):
        moved.text = "changed"  # frozen


def test_docstring_examples():
    import doctest

    from obskit.findings import commands, drift, wording

    for module in (commands, drift, wording):
        assert doctest.testmod(module).failed == 0


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """12 current rows in one day (fewer than min_window_rows, 50) and a reference."""
    tmp = tmp_path_factory.mktemp("tiny")
    _log("2026-10-01", 600, freq="10min").to_parquet(tmp / "ref.parquet")
    _log("2026-11-01", 12, freq="1h").to_parquet(tmp / "cur.parquet")
    return {"reference": str(tmp / "ref.parquet"), "current": str(tmp / "cur.parquet")}


@pytest.mark.parametrize("window", ["500 rows", "1d"])
def test_a_run_that_judged_no_window_is_not_an_all_clear(tiny, window):
    run = obskit.analyze(load_config(overrides={"sources": tiny, "window": window}))
    assert [w.status for w in run.windows] == ["insufficient_data"]
    assert run.status == "ok" and not run.alerts  # the status contract: no rule fired
    kinds = [f.kind for f in run.findings]
    assert "ok" not in kinds  # never "No alert rule fired" over nothing
    first = run.findings[0]
    assert (first.kind, first.severity, first.section) == ("nothing_judged", "warning",
                                                           "health")
    assert first.text.startswith("No window had enough rows to be judged (12 rows in 1 "
                                 "window; min_window_rows 50): no alert rule was evaluated")
    assert "--min-window-rows" in first.next_step
    again = build_findings(load(run.to_dict()))  # from summary.json alone
    assert [f.to_dict() for f in again] == [f.to_dict() for f in run.findings]


def test_the_ok_finding_counts_the_windows_it_did_not_judge(tiny):
    low = obskit.analyze(load_config(overrides={"sources": tiny, "window": "6 rows",
                                                "min_window_rows": 6}))
    assert [w.status for w in low.windows] == ["ok", "ok"]
    ok = next(f for f in low.findings if f.kind == "ok")
    assert ok.text == "No alert rule fired in any window."
    summary = low.to_dict()
    summary["windows"][1]["status"] = "insufficient_data"
    mixed = next(f for f in build_findings(load(summary)) if f.kind == "ok")
    assert mixed.text == ("No alert rule fired in the 1 judged window; 1 window was empty "
                          "or had too few rows to be judged.")


def test_the_cli_status_line_says_when_nothing_was_judged(tiny, tmp_path, monkeypatch,
                                                         capsys):
    import nbformat

    from obskit.cli import main
    from obskit.runner import execute

    def fake_execute(notebook, output, parameters, *, timeout_s=1800.0, kernel=None):
        nbformat.write(nbformat.v4.new_notebook(), output)  # the notebook step is not tested

    monkeypatch.setattr(execute, "execute_notebook", fake_execute)
    args = ["report", "--reference", tiny["reference"], "--current", tiny["current"],
            "--out", str(tmp_path / "out")]
    assert main([*args, "--window", "500 rows"]) == 0
    assert "status: ok (0 alerts; no window had enough rows to be judged)\n" in \
        capsys.readouterr().out
    assert main([*args, "--window", "6 rows", "--min-window-rows", "6"]) == 0
    assert "status: ok (0 alerts)\n" in capsys.readouterr().out
