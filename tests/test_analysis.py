"""A whole analysis on small hand-made logs: windows with gaps and too few rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import obskit
from obskit.config import load_config

RNG = np.random.default_rng(3)


def _logs(times, *, shift=0.0):
    n = len(times)
    return pd.DataFrame({
        "timestamp": times, "request_id": [f"id{i}-{shift}" for i in range(n)],
        "x": RNG.normal(shift, 1, n), "c": RNG.choice(["a", "b"], n),
        "score": RNG.random(n), "label": RNG.integers(0, 2, n),
        "latency_ms": RNG.lognormal(3, 0.3, n), "status": 200,
    })


@pytest.fixture()
def gappy(tmp_path):
    ref = _logs(pd.date_range("2026-10-01", periods=600, freq="h", tz="UTC"))
    day1 = pd.date_range("2026-11-01", periods=200, freq="7min", tz="UTC")
    day3 = pd.date_range("2026-11-03", periods=10, freq="h", tz="UTC")  # too few rows
    cur = pd.concat([_logs(day1), _logs(day3, shift=3.0)])
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    return load_config(overrides={"sources": {"reference": str(tmp_path / "ref.parquet"),
                                              "current": str(tmp_path / "cur.parquet")},
                                  "min_window_rows": 50})


def test_empty_and_tiny_windows_are_reported_not_judged(gappy):
    summary = obskit.analyze(gappy).to_summary()
    statuses = [(w["start"][:10], w["status"], w["rows"]) for w in summary["windows"]]
    assert statuses == [("2026-11-01", "ok", 200), ("2026-11-02", "empty", 0),
                        ("2026-11-03", "insufficient_data", 10)]
    tiny = summary["windows"][2]
    assert tiny["drift_share"] is None and tiny["drift"]["x"]["drifted"] is None
    assert all(v is None for v in tiny["performance"].values())
    assert tiny["health"] == {}
    assert {i["window"] for i in summary["insufficient_data"] if i["reason"]} == {
        summary["windows"][1]["index"], tiny["index"]}
    assert not [a for a in summary["alerts"] if a["window"] == tiny["index"]]


def test_row_windows_carry_bounds_and_counts(gappy):
    config = load_config(overrides={"sources": {"reference": gappy.reference,
                                                "current": gappy.current},
                                    "window": "80 rows"})
    windows = obskit.analyze(config).to_summary()["windows"]
    assert [w["rows"] for w in windows] == [80, 80, 50]
    assert windows[0]["start"] < windows[0]["end"] <= windows[1]["start"]
    assert windows[-1]["end"].startswith("2026-11-03T09")


def test_edge_columns_are_findings_not_crashes(tmp_path):
    """A feature missing from the current logs, an all-NaN one and a constant one."""
    times = pd.date_range("2026-10-01", periods=3000, freq="10min", tz="UTC")
    ref = _logs(times)
    ref["gone"] = RNG.normal(0, 1, len(ref))
    ref["empty"] = RNG.normal(0, 1, len(ref))
    ref["flat"] = 1.0
    cur = _logs(times + pd.Timedelta(days=30))
    cur["empty"] = np.nan
    cur["flat"] = 1.0 + RNG.normal(0, 1e-9, len(cur))  # noise far below the 0.001 floor
    cur["x"] = np.where(np.arange(len(cur)) % 50 == 0, np.inf, cur["x"])
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    config = load_config(overrides={"sources": {"reference": str(tmp_path / "ref.parquet"),
                                                "current": str(tmp_path / "cur.parquet")}})
    summary = obskit.analyze(config).to_summary()
    assert summary["missing_features"] == ["gone"]
    assert any(f["kind"] == "missing_feature" and f["feature"] == "gone"
               for f in summary["findings"])
    for w in summary["windows"]:
        assert w["drift"]["empty"]["drifted"] is None  # not judged, not a crash
        assert w["drift"]["flat"]["drifted"] is False  # no blow-up from a tiny std
        assert w["drift"]["x"]["value"] is not None  # infinities left out


def test_period_limits_the_analysis_and_counts_the_rest(gappy):
    config = load_config(overrides={"sources": {"reference": gappy.reference,
                                                "current": gappy.current},
                                    "period": {"start": "2026-11-03", "end": "2026-11-04"}})
    summary = obskit.analyze(config).to_summary()
    rows = summary["rows"]
    assert rows["current"] == 10 and rows["outside_period"] == 200
    assert rows["current"] + rows["outside_period"] + rows["quarantined"] == rows["read"]
    assert [w["start"][:10] for w in summary["windows"]] == ["2026-11-03"]


@pytest.fixture()
def no_health_columns(tmp_path):
    """The issue's binary classifier log without latency_ms and status: a reference week
    of 1,500 rows and three current days of 400 rows."""
    rng = np.random.default_rng(12)

    def log(times):
        n = len(times)
        score = rng.random(n)
        return pd.DataFrame({
            "timestamp": times, "request_id": [f"r{t.value}" for t in times],
            "age": rng.normal(40, 10, n), "income": rng.lognormal(10, 0.5, n),
            "utilization": rng.beta(2, 5, n), "region": rng.choice(["n", "s", "e"], n),
            "score": score, "prediction": (score > 0.5).astype(int),
            "label": (rng.random(n) < score).astype(int)})

    ref = log(pd.date_range("2026-10-25", periods=1500, freq="403s", tz="UTC"))
    cur = log(pd.date_range("2026-11-01", periods=1200, freq="216s", tz="UTC"))
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    return load_config(overrides={"sources": {"reference": str(tmp_path / "ref.parquet"),
                                              "current": str(tmp_path / "cur.parquet")}})


def test_rules_without_their_column_are_not_applicable_not_insufficient(no_health_columns):
    from obskit import render

    summary = obskit.analyze(no_health_columns).to_summary()
    assert [w["rows"] for w in summary["windows"]] == [400, 400, 400]
    assert {r["rule"]: r["reason"] for r in summary["alert_rules_not_applicable"]} == {
        "latency_p95": "no latency_ms column", "error_rate": "no status or error column"}
    assert summary["insufficient_data"] == []  # 3 ok windows, every applicable rule judged
    assert [r["name"] for r in summary["alert_rules"]] == [  # in force: still listed
        "drift_share", "latency_p95", "error_rate", "performance_drop"]

    methods = render.methods_html(summary)
    assert "Every rule could be judged in every window." in methods
    assert "Rules that do not apply to these logs" in methods
    assert "no latency_ms column" in methods and "no status or error column" in methods
    notes = render.health_notes_html(summary)
    assert ("Latency not logged (no latency_ms column): the latency panel and tile and the "
            "latency_p95 rule are off.") in notes
    assert ("Errors not logged (no status or error column): the error-rate panel and tile "
            "and the error_rate rule are off.") in notes
    fig = render.health_figure(summary)
    assert [ax.get_title() for ax in fig.axes] == ["Volume"]
    tiles = render.summary_tiles_html(summary)
    assert "latency" not in tiles and "Error rate" not in tiles


def test_null_scores_are_counted_per_window_and_left_out_of_score_metrics(tmp_path):
    from sklearn.metrics import brier_score_loss, log_loss

    ref = _logs(pd.date_range("2026-10-01", periods=400, freq="h", tz="UTC"))
    cur = _logs(pd.date_range("2026-11-01", periods=300, freq="9min", tz="UTC"))
    cur["prediction"] = (cur.score >= 0.5).astype(int)
    ref["prediction"] = (ref.score >= 0.5).astype(int)
    cur.loc[cur.index % 20 == 3, "score"] = np.nan  # 5% without a score
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    summary = obskit.analyze(load_config(overrides={"sources": {
        "reference": str(tmp_path / "ref.parquet"), "current": str(tmp_path / "cur.parquet")},
        "min_window_rows": 20})).to_summary()
    cur["day"] = cur.timestamp.dt.strftime("%Y-%m-%d")
    for w in summary["windows"]:
        day = cur[cur.day == w["start"][:10]]
        assert w["null_scores"] == int(day.score.isna().sum())
        scored = day[day.score.notna()]
        assert w["performance"]["log_loss"] == pytest.approx(
            log_loss(scored.label, scored.score, labels=[0, 1]), rel=1e-9)
        assert w["performance"]["brier"] == pytest.approx(
            brier_score_loss(scored.label, scored.score), rel=1e-9)
        # accuracy still counts every row with a prediction
        assert w["performance"]["accuracy"] == pytest.approx(
            (day.prediction == day.label).mean(), rel=1e-9)
    assert sum(w["null_scores"] for w in summary["windows"]) == 15
    kinds = {f["kind"]: f for f in summary["findings"]}
    assert "null_scores" in kinds and "15 of 300 rows (5.00%)" in kinds["null_scores"]["text"]
    assert any("15 of 300 current rows" in n for n in summary["notes"])


def test_labels_without_prediction_or_score_run_without_performance_and_say_why(tmp_path):
    ref = _logs(pd.date_range("2026-10-01", periods=300, freq="h", tz="UTC"))
    cur = _logs(pd.date_range("2026-11-01", periods=200, freq="12min", tz="UTC"))
    for name, df in (("ref", ref), ("cur", cur)):
        df.drop(columns=["score"]).to_csv(tmp_path / f"{name}.csv", index=False)
    summary = obskit.analyze(load_config(overrides={"sources": {
        "reference": str(tmp_path / "ref.csv"), "current": str(tmp_path / "cur.csv")},
        "min_window_rows": 20})).to_summary()
    assert summary["task"] == "binary" and "label" in summary["roles"]
    assert summary["reference"]["performance"] == {}
    assert all(w["performance"] == {} for w in summary["windows"])
    assert any(n.startswith("Performance is not measured") and "--column prediction=NAME"
               in n for n in summary["notes"])
    assert "performance_not_measured" in {f["kind"] for f in summary["findings"]}
    assert not [a for a in summary["alerts"] if a["metric"].startswith("performance.")]


FAST = {"multivariate": {"enabled": False}, "estimation": False, "min_window_rows": 20}


def test_a_year_column_gives_one_window_per_year(tmp_path):
    ref, cur = _logs([0] * 300), _logs([0] * 400)
    ref["year"] = 2013
    cur["year"] = np.repeat([2014, 2015, 2016, 2018], 100)
    for name, df in (("ref", ref), ("cur", cur)):
        df.drop(columns=["timestamp"]).to_csv(tmp_path / f"{name}.csv", index=False)
    summary = obskit.analyze(load_config(overrides={**FAST, "sources": {
        "reference": str(tmp_path / "ref.csv"), "current": str(tmp_path / "cur.csv")},
        "columns": {"timestamp": "year"}, "window": "1y"})).to_summary()
    got = [(w["index"], w["start"], w["end"], w["rows"], w["status"])
           for w in summary["windows"]]
    assert got == [(0, "2014-01-01T00:00:00Z", "2015-01-01T00:00:00Z", 100, "ok"),
                   (1, "2015-01-01T00:00:00Z", "2016-01-01T00:00:00Z", 100, "ok"),
                   (2, "2016-01-01T00:00:00Z", "2017-01-01T00:00:00Z", 100, "ok"),
                   (3, "2017-01-01T00:00:00Z", "2018-01-01T00:00:00Z", 0, "empty"),
                   (4, "2018-01-01T00:00:00Z", "2019-01-01T00:00:00Z", 100, "ok")]
    assert any("holds years (2014 to 2018)" in n for n in summary["notes"])


def test_30d_windows_start_at_the_first_day_with_index_0_and_the_short_last_is_partial(
        tmp_path):
    ref = _logs(pd.date_range("2026-06-01", periods=400, freq="h", tz="UTC"))
    # 35 days from 2026-07-10 09:00, every 2 hours: a full 30-day window, then 5 days
    cur = _logs(pd.date_range("2026-07-10T09:00", periods=35 * 12, freq="2h", tz="UTC"))
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    sources = {"reference": str(tmp_path / "ref.parquet"),
               "current": str(tmp_path / "cur.parquet")}
    summary = obskit.analyze(load_config(overrides={**FAST, "sources": sources,
                                                    "window": "30d"})).to_summary()
    got = [(w["index"], w["start"], w["rows"], w["partial"]) for w in summary["windows"]]
    # the first row is at 09:00: 4 of 12 rows of the first day are missing, 1.5% of 30 days
    assert got == [(0, "2026-07-10T00:00:00Z", 30 * 12 - 4, False),
                   (1, "2026-08-09T00:00:00Z", 5 * 12 + 4, True)]
    months = obskit.analyze(load_config(overrides={**FAST, "sources": sources,
                                                   "window": "1mo"})).to_summary()
    got = [(w["index"], w["start"], w["end"], w["partial"]) for w in months["windows"]]
    # July from the 10th (starts late), August to the 14th (stops early)
    assert got == [(0, "2026-07-01T00:00:00Z", "2026-08-01T00:00:00Z", True),
                   (1, "2026-08-01T00:00:00Z", "2026-09-01T00:00:00Z", True)]
    assert [w["rows"] for w in months["windows"]] == [22 * 12 - 4, 13 * 12 + 4]


def test_a_period_without_current_rows_stops_instead_of_ending_ok(gappy):
    from obskit.exceptions import InputError

    config = load_config(overrides={"sources": {"reference": gappy.reference,
                                                "current": gappy.current},
                                    "period": {"start": "2026-12-01", "end": "2026-12-02"}})
    with pytest.raises(InputError) as err:
        obskit.analyze(config)
    msg = str(err.value)
    assert "period.start" in msg and "2026-12-01" in msg and "sources.current" in msg
    assert "210 rows run from 2026-11-01T00:00:00Z to 2026-11-03T09:00:00Z" in msg
