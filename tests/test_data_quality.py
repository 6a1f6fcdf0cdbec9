"""Data quality per window, feature and segment (issue 12, section 1): counted in the engine,
compared with the reference, alerted on, and never a silent drop from the drift statistics.

The inputs are the issue's: a binary classifier's log, a reference week of ~1,500 rows and
three current days of 400 rows, one-day windows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import obskit
from obskit.config import AlertRuleConfig, load_config
from obskit.findings.alert_rules import evaluate_rules
from obskit.monitors import DataQualityMonitor
from obskit.profiles import W
from tests.helpers import credit_log, engine_table

DAY = 400


def _reference() -> pd.DataFrame:
    return credit_log("2026-03-01", 7, 215, seed=1)  # a week of 1,505 rows


def _run(tmp_path, current: pd.DataFrame, *, fmt: str = "parquet", **overrides):
    reference = _reference()
    current.attrs.clear()
    ref_path, cur_path = tmp_path / "ref.parquet", tmp_path / f"cur.{fmt}"
    reference.to_parquet(ref_path)
    if fmt == "csv":
        current.to_csv(cur_path, index=False)
    else:
        current.to_parquet(cur_path)
    config = load_config(overrides={"sources": {"reference": str(ref_path),
                                                "current": str(cur_path)}, **overrides})
    return obskit.analyze(config).to_summary()


def _current(seed: int = 2) -> pd.DataFrame:
    return credit_log("2026-03-10", 3, DAY, seed=seed)


def _day_rows(frame: pd.DataFrame, day: int) -> np.ndarray:
    start = pd.Timestamp("2026-03-10", tz="UTC") + pd.Timedelta(days=day)
    return ((frame.timestamp >= start) & (frame.timestamp < start + pd.Timedelta(days=1))
            ).to_numpy()


def _alerts(summary, metric):
    return [a for a in summary["alerts"] if a["metric"] == metric]


def test_income_null_for_a_day_is_a_finding_naming_income_and_that_window(tmp_path):
    cur = _current()
    day = _day_rows(cur, 1)
    cur.loc[day, "income"] = np.nan
    summary = _run(tmp_path, cur)
    w = summary["windows"][1]
    assert w["start"] == "2026-03-11T00:00:00Z" and w["rows"] == DAY
    quality = w["data_quality"]["income"]
    assert quality["missing"] == DAY and quality["missing_share"] == 1.0
    assert quality["values"] == 0
    assert quality["missing_increase"] == pytest.approx(1.0)  # the reference has none
    # the other days are untouched
    assert [x["data_quality"]["income"]["missing"] for x in summary["windows"]] == [0, DAY, 0]
    # drift is not judged, and says why, instead of reading as "no drift"
    drift = w["drift"]["income"]
    assert drift["drifted"] is None and drift["values_used"] == 0
    assert "400 missing of 400 rows" in drift["reason"]
    fired = _alerts(summary, "data_quality.income.missing_increase")
    assert [a["window"] for a in fired] == [w["index"]]
    finding = next(f for f in summary["findings"] if f["kind"] == "data_quality"
                   and f.get("feature") == "income")
    assert "income" in finding["text"] and "2026-03-11" in finding["text"]
    assert "missing" in finding["text"] and finding["severity"] == "warning"
    assert summary["data_quality"]["income"]["missing"]["count"] == DAY
    assert summary["data_quality"]["income"]["missing"]["worst_window"] == w["start"]


def test_25_infinite_incomes_are_counted_flagged_and_left_out_visibly(tmp_path):
    cur = _current()
    rows = np.flatnonzero(_day_rows(cur, 2))
    rng = np.random.default_rng(5)
    broken = rng.choice(rows, 25, replace=False)
    cur.loc[broken[:13], "income"] = np.inf
    cur.loc[broken[13:], "income"] = -np.inf
    summary = _run(tmp_path, cur)
    counts = [w["data_quality"]["income"]["non_finite"] for w in summary["windows"]]
    assert counts == [0, 0, 25]
    w = summary["windows"][2]
    quality = w["data_quality"]["income"]
    assert quality["non_finite_share"] == pytest.approx(25 / DAY)
    assert quality["values"] == DAY - 25
    # drift was judged on the 375 finite values and says so
    assert w["drift"]["income"]["values_used"] == DAY - 25
    assert w["drift"]["income"]["drifted"] is not None
    fired = _alerts(summary, "data_quality.income.non_finite_increase")
    assert [a["window"] for a in fired] == [w["index"]]
    assert any(f["kind"] == "data_quality" and f.get("feature") == "income"
               and "non-finite" in f["text"] and "2026-03-12" in f["text"]
               for f in summary["findings"])
    # the whole-period histogram holds the finite values and counts the rest
    dist = summary["distributions"]["income"]
    assert sum(dist["current"]) == 3 * DAY - 25 == dist["current_values"]
    assert dist["current_left_out"] == {"missing": 0, "non_finite": 25}
    assert summary["data_quality"]["income"]["non_finite"]["count"] == 25


def test_a_healthy_log_raises_no_data_quality_alert(tmp_path):
    summary = _run(tmp_path, _current())
    assert not [a for a in summary["alerts"] if a["metric"].startswith("data_quality.")]
    assert not [f for f in summary["findings"] if f["kind"] == "data_quality"]
    # every measure is present where it applies, and only there
    quality = summary["windows"][0]["data_quality"]
    assert {"non_finite", "out_of_range"} <= set(quality["income"])
    assert "unseen" not in quality["income"]
    assert "unseen" in quality["region"] and "non_finite" not in quality["region"]


def test_unseen_region_and_out_of_range_utilization_are_flagged(tmp_path):
    cur = _current()
    day = np.flatnonzero(_day_rows(cur, 0))
    cur.loc[day[:60], "region"] = "atlantis"
    cur.loc[day[100:160], "utilization"] = 2.0  # a share can't exceed 1
    summary = _run(tmp_path, cur)
    quality = summary["windows"][0]["data_quality"]
    assert quality["region"]["unseen"] == 60
    assert quality["region"]["unseen_share"] == pytest.approx(60 / DAY)
    ref = _reference().utilization
    util = cur.utilization[_day_rows(cur, 0)]
    outside = int(((util < ref.min()) | (util > ref.max())).sum())
    assert outside >= 60 and quality["utilization"]["out_of_range"] == outside
    assert {a["metric"] for a in summary["alerts"] if a["window"] ==
            summary["windows"][0]["index"] and a["metric"].startswith("data_quality.")} == {
        "data_quality.region.unseen_increase", "data_quality.utilization.out_of_range_increase"}


def test_values_of_the_wrong_type_are_counted_per_window_and_feature(tmp_path):
    cur = _current().astype({"age": object})
    day = np.flatnonzero(_day_rows(cur, 1))
    cur.loc[day[:12], "age"] = "unknown"
    summary = _run(tmp_path, cur, fmt="csv")
    assert summary["quarantine"]["by_reason"] == {"feature age is not a number": 12}
    assert [w["data_quality"]["age"]["wrong_type"] for w in summary["windows"]] == [0, 12, 0]
    w = summary["windows"][1]
    assert w["data_quality"]["age"]["wrong_type_share"] == pytest.approx(12 / DAY)
    assert [a["window"] for a in _alerts(summary, "data_quality.age.wrong_type_increase")] \
        == [w["index"]]
    assert summary["data_quality"]["age"]["wrong_type"]["count"] == 12


def test_data_quality_runs_per_segment(tmp_path):
    cur = _current()
    cur["model_version"] = np.where(np.arange(len(cur)) % 2, "v1", "v2")
    v2_day = _day_rows(cur, 1) & (cur.model_version == "v2").to_numpy()
    cur.loc[v2_day, "income"] = np.nan
    summary = _run(tmp_path, cur, min_segment_rows=100)
    entries = {e["value"]: e for e in summary["segments"]["model_version"]}
    v2 = entries["v2"]["windows"][1]["data_quality"]["income"]
    v1 = entries["v1"]["windows"][1]["data_quality"]["income"]
    assert v2["missing_share"] == 1.0 and v1["missing"] == 0
    assert entries["v2"]["data_quality"]["income"]["missing"]["count"] == int(v2_day.sum())
    segment_alerts = [a for a in summary["alerts"] if a["segment"] == {"model_version": "v2"}
                      and a["metric"] == "data_quality.income.missing_increase"]
    assert [a["window"] for a in segment_alerts] == [summary["windows"][1]["index"]]


def test_monitor_counts_match_pandas_and_compare_with_the_reference():
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 500),
                        "c": rng.choice(["a", "b", "c"], 500).astype(object)})
    ref.loc[:49, "x"] = np.nan  # 10% missing in the reference
    ref.loc[50:54, "x"] = np.inf
    ref.loc[0, "c"] = "once"  # a singleton: Good–Turing expects 1/500 unseen
    cur = pd.DataFrame({W: np.repeat([0, 1], 300), "x": rng.normal(0.5, 1.5, 600),
                        "c": rng.choice(["a", "b", "z", None], 600).astype(object)})
    cur.loc[rng.choice(600, 40, replace=False), "x"] = np.nan
    cur.loc[rng.choice(600, 7, replace=False), "x"] = -np.inf
    frame = DataQualityMonitor({"x": "numeric", "c": "categorical"}).fit(
        engine_table(ref)).calculate(engine_table(cur))
    finite_ref = ref.x[np.isfinite(ref.x)]
    for w, grp in cur.groupby(W):
        x = frame[(frame[W] == w) & (frame.feature == "x")].iloc[0]
        finite = grp.x[np.isfinite(grp.x)]
        assert x["missing"] == grp.x.isna().sum()
        assert x["non_finite"] == np.isinf(grp.x).sum()
        assert x["values"] == len(finite)
        outside = ((finite < finite_ref.min()) | (finite > finite_ref.max())).sum()
        assert x["out_of_range"] == outside
        assert x["out_of_range_share"] == pytest.approx(outside / len(finite))
        assert x["reference_out_of_range_share"] == pytest.approx(2 / (len(finite_ref) + 1))
        assert x["missing_increase"] == pytest.approx(grp.x.isna().mean() - 0.10)
        assert x["reference_non_finite_share"] == pytest.approx(5 / 500)
        c = frame[(frame[W] == w) & (frame.feature == "c")].iloc[0]
        present = grp.c.dropna()
        assert c["unseen"] == (~present.isin(set(ref.c))).sum()
        assert c["reference_unseen_share"] == pytest.approx(1 / 500)
        assert c["non_finite"] is None or pd.isna(c["non_finite"])


def test_a_wildcard_inside_a_rule_path_watches_every_feature_that_has_the_key():
    rule = AlertRuleConfig("m", "data_quality.*.unseen_increase", ">", 0.05)
    window = {"index": 0, "start": "s", "end": "e", "data_quality": {
        "region": {"unseen_increase": 0.2}, "income": {"missing_increase": 0.9},
        "city": {"unseen_increase": None}}}
    alerts, insufficient = evaluate_rules([window], [rule], reference={})
    assert [a["metric"] for a in alerts] == ["data_quality.region.unseen_increase"]
    assert [i["metric"] for i in insufficient] == ["data_quality.city.unseen_increase"]


def test_a_feature_absent_from_the_current_logs_is_one_finding_and_alerts(tmp_path):
    summary = _run(tmp_path, _current().drop(columns="utilization"))
    assert summary["missing_features"] == ["utilization"]
    assert [w["data_quality"]["utilization"]["missing_share"] for w in summary["windows"]] \
        == [1.0, 1.0, 1.0]
    assert len(_alerts(summary, "data_quality.utilization.missing_increase")) == 3
    about = [f["kind"] for f in summary["findings"] if f.get("feature") == "utilization"]
    assert about == ["missing_feature"]


def test_wrong_type_values_are_counted_in_their_segment(tmp_path):
    cur = _current().astype({"age": object})
    cur["model_version"] = np.where(np.arange(len(cur)) % 2, "v1", "v2")
    bad = np.flatnonzero(_day_rows(cur, 1) & (cur.model_version == "v2").to_numpy())[:30]
    cur.loc[bad, "age"] = "n/a years"
    summary = _run(tmp_path, cur, fmt="csv", min_segment_rows=100)
    entries = {e["value"]: e for e in summary["segments"]["model_version"]}
    assert [w["data_quality"]["age"]["wrong_type"] for w in entries["v2"]["windows"]] \
        == [0, 30, 0]
    assert [w["data_quality"]["age"]["wrong_type"] for w in entries["v1"]["windows"]] \
        == [0, 0, 0]
    assert summary["windows"][1]["data_quality"]["age"]["wrong_type"] == 30


def test_without_a_reference_counts_are_kept_and_nothing_is_compared(tmp_path):
    cur = _current()
    cur.loc[_day_rows(cur, 0), "income"] = np.nan
    path = tmp_path / "cur.parquet"
    cur.to_parquet(path)
    summary = obskit.analyze(load_config(overrides={"sources": {"current": str(path)}})
                             ).to_summary()
    quality = summary["windows"][0]["data_quality"]["income"]
    assert quality["missing"] == DAY and quality["missing_share"] == 1.0
    assert "missing_increase" not in quality
    assert not [i for i in summary["insufficient_data"]
                if str(i.get("metric")).startswith("data_quality.")]


def test_a_fault_in_one_segment_only_is_a_finding_with_its_shares():
    from obskit.findings import build_findings
    from obskit.results import load

    def window(i, quality):
        return {"index": i, "start": f"2026-03-1{i}T00:00:00Z", "status": "ok",
                "data_quality": {"income": quality}}
    clean = {"missing": 0, "missing_share": 0.0, "reference_missing_share": 0.02,
             "missing_increase": -0.02}
    broken = {"missing": 150, "missing_share": 0.75, "reference_missing_share": 0.02,
              "missing_increase": 0.73}
    summary = {
        "windows": [window(0, clean), window(1, clean)], "rows": {"quarantined": 0},
        "segments": {"model_version": [{"value": "v2",
                                        "windows": [window(0, clean), window(1, broken)]}]},
        "alerts": [{"rule": "missing_values", "metric": "data_quality.income.missing_increase",
                    "window": 1, "window_start": "2026-03-11T00:00:00Z", "op": ">",
                    "value": 0.73, "threshold": 0.1, "severity": "warning",
                    "segment": {"model_version": "v2"}}]}
    [finding] = [f for f in build_findings(load(summary)) if f.kind == "data_quality"]
    assert finding.text == (
        "In segment model_version=v2: income: 75.0% of values missing on 2026-03-11 "
        "(vs 2.0% expected from the reference; 1 of 2 windows: 2026-03-11).")


def test_a_date_feature_is_judged_on_its_values_not_as_categories(tmp_path):
    """A datetime feature (ISO date strings) has numeric measures: new dates are not unseen
    categories, and a text that is no date is a value of the wrong type."""
    rng = np.random.default_rng(5)

    def with_dates(frame: pd.DataFrame) -> pd.DataFrame:
        days = rng.integers(0, 3 * 365, len(frame))
        frame["signup_date"] = (pd.Timestamp("2022-01-01") + pd.to_timedelta(days, unit="D")
                                ).strftime("%Y-%m-%d")
        return frame

    reference, cur = with_dates(_reference()), with_dates(_current())
    cur.loc[np.flatnonzero(_day_rows(cur, 2))[:10], "signup_date"] = "not a date"
    ref_path, cur_path = tmp_path / "ref.csv", tmp_path / "cur.csv"
    reference.to_csv(ref_path, index=False)
    cur.to_csv(cur_path, index=False)
    summary = obskit.analyze(load_config(overrides={"sources": {
        "reference": str(ref_path), "current": str(cur_path)}})).to_summary()
    assert summary["features"]["signup_date"] == "datetime"
    entries = [w["data_quality"]["signup_date"] for w in summary["windows"]]
    assert all("unseen" not in e and "non_finite" in e for e in entries)
    assert [e["wrong_type"] for e in entries] == [0, 0, 10]
    assert [a["window"] for a in _alerts(summary, "data_quality.signup_date.wrong_type_increase")
            ] == [2]
    assert not _alerts(summary, "data_quality.signup_date.out_of_range_increase")


def test_reference_fits_come_from_the_cache_with_each_segments_own_quarantine(
        tmp_path, monkeypatch):
    """The reference's data quality (its wrong-type share included) is fitted once per
    reference and quarantine, then restored: a second run fits nothing and reports the
    same, and each segment keeps the share of its own reference rows."""
    from obskit.monitors.data_quality import DataQualityMonitor

    ref = _reference().astype({"age": object})
    ref["model_version"] = np.where(np.arange(len(ref)) % 2, "v1", "v2")
    bad_v1 = np.flatnonzero(ref.model_version == "v1")[:10]
    bad_v2 = np.flatnonzero(ref.model_version == "v2")[:40]
    ref.loc[np.r_[bad_v1, bad_v2], "age"] = "unknown"
    cur = _current()
    cur["model_version"] = np.where(np.arange(len(cur)) % 2, "v1", "v2")
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    fits: list[int] = []
    original = DataQualityMonitor.fit

    def counting(self, reference, **options):
        fits.append(1)
        return original(self, reference, **options)

    monkeypatch.setattr(DataQualityMonitor, "fit", counting)

    def run(**extra):
        config = load_config(overrides={
            "sources": {"reference": str(tmp_path / "ref.csv"),
                        "current": str(tmp_path / "cur.csv")},
            "out": str(tmp_path / "reports"), "min_segment_rows": 100, **extra})
        return obskit.analyze(config).to_summary()

    def shares(summary):
        whole = summary["windows"][0]["data_quality"]["age"]["reference_wrong_type_share"]
        return whole, {e["value"]: e["windows"][0]["data_quality"]["age"][
            "reference_wrong_type_share"] for e in summary["segments"]["model_version"]}

    first = run()
    assert len(fits) == 3  # the whole log, v1 and v2
    second = run()
    assert len(fits) == 3 and second["reference_cache"]["misses"] == 0
    fresh = run(reference_cache=False, window_cache=False)
    n = len(ref)  # v1 on odd rows, v2 on even ones; the share is of all rows read
    segment_shares = {"v1": pytest.approx(10 / (n // 2)), "v2": pytest.approx(40 / (n - n // 2))}
    for summary in (first, second, fresh):
        whole, per_segment = shares(summary)
        assert whole == pytest.approx(50 / n)
        assert per_segment == segment_shares
