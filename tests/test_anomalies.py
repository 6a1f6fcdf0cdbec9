"""Anomalies: config section, window-level robust z-scores, row-level reasons and ranking."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from obskit.config import AnomalyConfig
from obskit.exceptions import ConfigError, InputError, NotFittedError
from obskit.monitors.row_anomalies import RowAnomalyMonitor
from obskit.monitors.window_anomalies import (
    robust_baseline,
    robust_z,
    window_anomalies,
)
from tests.helpers import engine_table

FEATURES = {"x1": "numeric", "x2": "numeric", "color": "categorical", "flag": "boolean"}
COLORS = ["red", "green", "blue"]


# --------------------------------------------------------------------------- config


def test_config_defaults_and_values():
    assert AnomalyConfig.from_config(None) == AnomalyConfig()
    cfg = AnomalyConfig.from_config({"top_n": 5, "score_quantiles": [0.01, 0.99],
                                     "latency_slo_ms": 250})
    assert (cfg.top_n, cfg.score_quantiles, cfg.latency_slo_ms) == (5, (0.01, 0.99), 250)
    assert AnomalyConfig().isolation_sample_rows == 10_000


def test_config_unknown_key_lists_known_keys():
    with pytest.raises(ConfigError, match="anomalies.topn") as info:
        AnomalyConfig.from_config({"topn": 5})
    assert info.value.key == "anomalies.topn"
    assert "top_n, latency_slo_ms, score_quantiles" in str(info.value)


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("top_n", 0, "an integer >= 1"),
    ("top_n", True, "an integer >= 1"),
    ("latency_slo_ms", -5, "milliseconds > 0"),
    ("score_quantiles", [0.9, 0.1], "0 <= low < high <= 1"),
    ("score_quantiles", 0.5, "0 <= low < high <= 1"),
    ("confident_mistake_score", 0.3, "between 0.5 and 1"),
    ("isolation_sample_rows", 10, "an integer >= 100"),
    ("isolation_contamination", 0.7, "(0, 0.5]"),
    ("mad_threshold", "high", "a number > 0"),
])
def test_config_bad_value_names_key(key, value, expected):
    with pytest.raises(ConfigError) as info:
        AnomalyConfig.from_config({key: value})
    assert info.value.key == f"anomalies.{key}"
    assert f"'anomalies.{key}'" in str(info.value) and expected in str(info.value)


def test_config_not_a_mapping():
    with pytest.raises(ConfigError, match="expected a mapping") as info:
        AnomalyConfig.from_config([1, 2])  # type: ignore[arg-type]
    assert info.value.key == "anomalies"


# --------------------------------------------------------------------------- robust z


def test_robust_z_matches_formula_and_fallbacks():
    x = np.array([10.0, 12.0, 11.0, 13.0, 9.0, 40.0])
    med = np.median(x)
    mad = np.median(np.abs(x - med))
    np.testing.assert_allclose(robust_z(x), 0.6745 * (x - med) / mad, rtol=1e-4)
    # MAD = 0: mean absolute deviation around the median
    y = np.array([5.0] * 9 + [50.0])
    assert robust_baseline(y) == (5.0, pytest.approx(1.253314 * 4.5))
    assert robust_z(y)[-1] == pytest.approx(45 / (1.253314 * 4.5))
    assert np.isnan(robust_z([3.0] * 6)).all()


# --------------------------------------------------------------------------- window level


def _daily(n: int = 20, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-11-01", tz="UTC")
    return [{
        "index": i, "start": (start + pd.Timedelta(days=i)).isoformat().replace("+00:00", "Z"),
        "rows": int(10_000 + rng.integers(-300, 300)), "status": "ok",
        "mean_score": 0.4 + rng.uniform(-0.01, 0.01), "drift_share": 0.0,
        "health": {"latency_p95_ms": 120 + rng.uniform(-10, 10),
                   "error_rate": 0.01 + rng.uniform(-0.001, 0.001)},
        "performance": {"roc_auc": None, "accuracy": 0.9 + rng.uniform(-0.01, 0.01)},
    } for i in range(n)]


def test_window_spike_and_dip_are_flagged_with_sign_and_sentence():
    windows = _daily()
    assert window_anomalies(windows) == []
    windows[8]["health"]["latency_p95_ms"] = 1042.0
    windows[15]["performance"]["accuracy"] = 0.6
    found = window_anomalies(windows)
    assert [(a["window"], a["series"]) for a in found] == [(8, "latency_p95_ms"),
                                                           (15, "accuracy")]
    spike, dip = found
    assert spike["robust_z"] > 2 * 3.5 and spike["severity"] == "critical"
    assert spike["value"] == 1042.0 and 110 < spike["baseline"] < 130
    assert spike["window_start"] == "2026-11-09T00:00:00Z"
    assert spike["text"].startswith("p95 latency 1,042 ms on 2026-11-09 is ")
    assert f"{spike['robust_z']:.1f} robust SDs above its usual 1" in spike["text"]
    assert spike["text"].endswith(" ms")
    assert dip["robust_z"] < 0 and "accuracy 0.6 on 2026-11-16" in dip["text"]
    assert "below its usual 0.9" in dip["text"]


def test_window_moves_the_good_way_are_info_not_incidents():
    """Lower latency or error rate, higher accuracy: news (info), never a warning or a
    critical finding; volume and mean score are judged both ways."""
    windows = _daily()
    windows[4]["health"]["latency_p95_ms"] = 20.0
    windows[6]["health"]["error_rate"] = 0.0
    windows[9]["performance"]["accuracy"] = 0.99
    windows[12]["rows"] = 3_000
    found = {(a["window"], a["series"]): a["severity"] for a in window_anomalies(windows)}
    assert found == {(4, "latency_p95_ms"): "info", (6, "error_rate"): "info",
                     (9, "accuracy"): "info", (12, "volume"): "critical"}


def test_window_threshold_and_warning_severity():
    windows = _daily()
    med = np.median([w["health"]["latency_p95_ms"] for w in windows])
    _, sd = robust_baseline([w["health"]["latency_p95_ms"] for w in windows])
    windows[3]["health"]["latency_p95_ms"] = med + 5 * sd   # z ≈ 5: a warning at 3.5
    found = window_anomalies(windows, threshold=3.5)
    assert [(a["window"], a["severity"]) for a in found] == [(3, "warning")]
    assert window_anomalies(windows, threshold=6.0) == []


def test_flat_series_and_non_ok_windows_give_nothing():
    windows = [{"index": i, "start": f"2026-11-{i + 1:02d}T00:00:00Z", "rows": 500,
                "status": "ok", "mean_score": 0.3, "drift_share": None,
                "health": {"latency_p95_ms": 100.0, "error_rate": 0.0}, "performance": {}}
               for i in range(10)]
    assert window_anomalies(windows) == []
    windows[4].update(status="insufficient_data", rows=3, mean_score=0.99)
    assert window_anomalies(windows) == []


def _hourly(days: int = 7, seed: int = 1) -> list[dict]:
    """Busy 08:00-17:59 (≈1000 rows an hour), quiet at night (≈100)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-11-01", tz="UTC")
    out = []
    for i in range(days * 24):
        ts = start + pd.Timedelta(hours=i)
        base = 1000 if 8 <= ts.hour < 18 else 100
        out.append({"index": i, "start": ts.isoformat().replace("+00:00", "Z"),
                    "rows": int(base * (1 + rng.uniform(-0.03, 0.03))), "status": "ok",
                    "health": {}, "performance": {}})
    return out


def test_hourly_seasonality_is_not_an_anomaly_but_a_break_is():
    windows = _hourly()
    assert window_anomalies(windows) == []
    # the same data judged against the whole series would flag every busy hour
    assert len(window_anomalies(windows, seasonal=False)) >= 60
    broken = 5 * 24 + 10                        # 2026-11-06 10:00: the busy hour is quiet
    windows[broken]["rows"] = 100
    found = window_anomalies(windows)
    assert [(a["window"], a["series"]) for a in found] == [(broken, "volume")]
    assert found[0]["robust_z"] < -2 * 3.5
    assert found[0]["text"].startswith("volume 100 rows on 2026-11-06 10:00 UTC is ")
    assert "below its usual 1,0" in found[0]["text"] and found[0]["text"].endswith("at 10:00")


def test_hourly_needs_three_days_for_seasonal_baseline():
    windows = _hourly(days=2)
    # two days: no seasonal baseline, so the daily cycle is judged on the whole series
    assert len(window_anomalies(windows)) == len(window_anomalies(windows, seasonal=False))


# --------------------------------------------------------------------------- row level


def _frame(n: int, seed: int, *, windows: int = 0, clean: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.beta(2, 2, n)
    x1 = rng.normal(50, 10, n)
    latency = rng.gamma(4, 25, n)
    if clean:   # inside everything a 3000-row reference of the same law has
        score, x1, latency = np.clip(score, 0.1, 0.9), np.clip(x1, 30, 70), np.clip(latency,
                                                                                  5, 100)
    prediction = np.where(score >= 0.5, "1", "0")
    label = prediction.astype(object)
    status = np.array(["ok"] * n, dtype=object)
    error = pd.Series([None] * n, dtype="string")
    if not clean:
        flip = rng.random(n) < 0.1
        label[flip] = np.where(prediction[flip] == "1", "0", "1")
        label[rng.random(n) < 0.2] = None
        failed = rng.random(n) < 0.02
        status[failed] = rng.choice(["error", "503", "ok"], failed.sum())
        error[failed & (status == "ok")] = "timeout"
        x1[rng.random(n) < 0.03] = np.nan
    frame = pd.DataFrame({
        "request_id": [f"r{seed}-{i}" for i in range(n)],
        "timestamp": pd.date_range("2026-11-01", periods=n, freq="min", tz="UTC"),
        "x1": x1, "x2": rng.random(n) * (1 if clean else 1.001),
        "color": rng.choice(COLORS, n, p=[0.5, 0.3, 0.2]).astype(object),
        "flag": rng.random(n) < 0.3,
        "score": score, "prediction": prediction, "label": pd.Series(label, dtype="string"),
        "latency_ms": latency, "status": status, "error": error,
    })
    if not clean:
        frame.loc[rng.random(n) < 0.02, "color"] = None
        frame.loc[rng.random(n) < 0.01, "color"] = f"new{seed}"   # unseen elsewhere
    if windows:
        frame["window_index"] = np.arange(n) * windows // n
    return frame


@pytest.fixture(scope="module")
def reference():
    return engine_table(_frame(3000, 1))


PLANTED = {
    "failed": {"status": "error", "error": "timeout"},
    "failed_http": {"status": "503"},
    "latency": {"latency_ms": 50_000.0},
    "unit_change": {"x1": 50.0 * 1000},
    "unseen": {"color": "purple"},
    "mistake": {"score": 0.95, "prediction": "1", "label": "0"},
    "extreme_score": {"score": 0.9999, "prediction": "1", "label": "1"},
}


@pytest.fixture(scope="module")
def planted():
    """Three clean windows of 400 rows; the planted rows are in window 0, central apart from
    what was planted."""
    frame = _frame(1200, 2, windows=3, clean=True)
    for i, (name, values) in enumerate(PLANTED.items()):
        frame.loc[i, ["x1", "x2", "color", "flag", "score", "prediction", "label"]] = \
            [50.0, 0.5, "red", False, 0.3, "0", "0"]
        frame.loc[i, "request_id"] = name
        for col, value in values.items():
            frame.loc[i, col] = value
    return frame


def test_planted_anomalies_flagged_and_ranked(reference, planted):
    monitor = RowAnomalyMonitor(FEATURES, AnomalyConfig(routine_rows=20)).fit(reference)
    out = monitor.calculate(engine_table(planted))
    assert list(out.columns) == [
        "window_index", "request_id", "timestamp", "score",
        "prediction", "label", "latency_ms", "status", "error", "reasons", "severity",
        "routine", "x1", "x2", "color", "flag"]
    w0 = out[out.window_index == 0].set_index("request_id")
    expected = {"failed": "failed", "failed_http": "failed", "latency": "latency_outlier",
                "unit_change": "out_of_range:x1", "unseen": "unseen_category:color",
                "mistake": "confident_mistake", "extreme_score": "score_outlier"}
    for rid, reason in expected.items():
        assert reason in w0.loc[rid, "reasons"], (rid, w0.loc[rid, "reasons"])
    assert w0.loc["latency", "reasons"] == ["latency_outlier"]
    assert w0.loc["mistake", "reasons"] == ["confident_mistake"]
    # severities: documented formulas; at their usual (reference) rate the weight alone
    assert w0.loc["latency", "severity"] == pytest.approx(
        1 + min(2 * math.log10(50_000 / monitor.latency_limit_), 3))
    assert w0.loc["failed", "severity"] == pytest.approx(3.0)
    assert w0.loc["mistake", "severity"] == pytest.approx(2.5)
    # a reason the reference never shows, once in 400 rows: weight × (1 + log10(lift))
    n_ref = len(_frame(3000, 1))
    factor = 1 + math.log10((1 / 400) / (0.5 / (n_ref + 1)))
    lo, hi = monitor.ranges_["x1"]
    unit = 2 + min(math.log10(1 + (50_000 - hi) / (hi - lo)), 3)
    assert w0.loc["unit_change", "severity"] >= unit * factor - 1e-9
    assert w0.loc["unseen", "severity"] == pytest.approx(2.0 * factor)
    # ranked: what the reference never shows first (unit change, the new category), then
    # the routine outliers by weight: latency spike, the two failures, the mistake
    order = list(w0.index[:6])
    assert order[:2] == ["unit_change", "unseen"]
    assert not w0.loc["unit_change", "routine"] and not w0.loc["unseen", "routine"]
    assert order[2] == "latency" and set(order[3:5]) == {"failed", "failed_http"}
    assert order[5] == "mistake" and w0.loc[order[2:], "routine"].all()
    assert w0.severity[w0.routine].is_monotonic_decreasing
    # the clean windows have nothing but (at most) the forest's own outliers
    rest = out[out.window_index > 0]
    assert all(r == ["input_outlier"] for r in rest.reasons)
    assert (rest.severity < 2).all()


def test_top_n_bound_and_engine_prefilter_keep_the_most_severe(reference):
    frame = _frame(1500, 3, windows=3)
    table = engine_table(frame)
    full = RowAnomalyMonitor(FEATURES, AnomalyConfig(top_n=100_000)).fit(reference)
    few = RowAnomalyMonitor(FEATURES, AnomalyConfig(top_n=3)).fit(reference)
    all_rows, top = full.calculate(table), few.calculate(table)
    assert top.groupby("window_index").size().tolist() == [3, 3, 3]
    for w, grp in all_rows.groupby("window_index"):
        best = grp.sort_values("severity", ascending=False, kind="stable").head(3)
        got = top[top.window_index == w]
        np.testing.assert_allclose(got.severity.to_numpy(), best.severity.to_numpy())


def _pandas_counts(frame: pd.DataFrame, m: RowAnomalyMonitor) -> pd.DataFrame:
    status = frame.status.str.lower().str.strip()
    code = pd.to_numeric(status, errors="coerce")
    flags = {"failed": status.isin(["error", "failed", "failure"]) | (code >= 500)
             | frame.error.notna(),
             "latency_outlier": frame.latency_ms > m.latency_limit_}
    for f, (lo, hi) in m.ranges_.items():
        flags[f"out_of_range:{f}"] = (frame[f] < lo) | (frame[f] > hi)
    flags["unseen_category:color"] = frame.color.notna() & ~frame.color.isin(
        m.categories_["color"])
    lo, hi = m.score_range_
    flags["score_outlier"] = (frame.score < lo) | (frame.score > hi)
    confident = np.maximum(frame.score, 1 - frame.score) >= 0.9
    flags["confident_mistake"] = (frame.label.notna() & (frame.label != frame.prediction)
                                  & confident).fillna(False)
    rows = []
    for reason, flag in flags.items():
        for w, n in flag.astype(bool).groupby(frame.window_index).sum().items():
            if n:
                rows.append((int(w), reason, int(n)))
    return pd.DataFrame(rows, columns=["window_index", "reason", "rows"]).sort_values(
        ["window_index", "reason"]).reset_index(drop=True)


def test_counts_per_reason_equal_pandas_counts_on_the_full_frame(reference):
    frame = _frame(3000, 4, windows=3)
    table = engine_table(frame)
    monitor = RowAnomalyMonitor(FEATURES, AnomalyConfig(top_n=100_000, routine_rows=100_000)
                                ).fit(reference)
    counts = monitor.counts_by_window(table)
    assert list(counts.columns) == ["window_index", "reason", "rows", "rows_checked"]
    engine = counts[counts.reason != "input_outlier"].drop(columns="rows_checked")
    expected = _pandas_counts(frame, monitor)
    assert set(expected.reason) >= {"failed", "latency_outlier", "unseen_category:color",
                                    "score_outlier", "confident_mistake"}
    pd.testing.assert_frame_equal(
        engine.sort_values(["window_index", "reason"]).reset_index(drop=True), expected)
    assert (counts.rows_checked == 1000).all()
    # every flagged row comes back when top_n is large: same counts, forest included
    rows = monitor.calculate(table).explode("reasons")
    from_rows = rows.groupby(["window_index", "reasons"]).size().to_dict()
    assert from_rows == {(w, r): n for w, r, n in zip(counts.window_index, counts.reason,
                                                      counts.rows, strict=True)}
    assert (counts.reason == "input_outlier").any()


def test_mistake_without_prediction_column_uses_score_and_positive_label(reference):
    frame = pd.DataFrame({"window_index": [0, 0, 0], "request_id": ["a", "b", "c"],
                          "x1": 50.0, "x2": 0.5, "color": "red", "flag": False,
                          "score": [0.95, 0.95, 0.05],
                          "label": pd.Series(["0", "1", "1"], dtype="string")})
    monitor = RowAnomalyMonitor(FEATURES, AnomalyConfig()).fit(reference)
    out = monitor.calculate(engine_table(frame)).set_index("request_id")
    assert set(out.index) == {"a", "c"}
    assert all("confident_mistake" in r for r in out.reasons)


def test_monitor_errors(reference):
    monitor = RowAnomalyMonitor(FEATURES, AnomalyConfig())
    with pytest.raises(NotFittedError, match="fit"):
        monitor.calculate(reference)
    with pytest.raises(InputError, match="'x9'") as info:
        RowAnomalyMonitor({"x9": "numeric"}, AnomalyConfig()).fit(reference)
    assert info.value.column == "x9"
    with pytest.raises(ConfigError, match="features.x1") as cinfo:
        RowAnomalyMonitor({"x1": "number"}, AnomalyConfig())
    assert cinfo.value.key == "features.x1"


def test_high_cardinality_feature_is_not_checked_for_unseen_values():
    n = 1500
    ref = pd.DataFrame({"ids": [f"id{i}" for i in range(n)], "a": np.linspace(0, 1, n)})
    cur = pd.DataFrame({"window_index": 0, "ids": ["brand-new", "id3"], "a": [0.5, 0.5]})
    monitor = RowAnomalyMonitor({"ids": "categorical", "a": "numeric"}, AnomalyConfig())
    monitor.fit(engine_table(ref))
    assert len(monitor.categories_["ids"]) == 1000 and not monitor.complete_categories_["ids"]
    counts = monitor.counts_by_window(engine_table(cur))
    assert not counts.reason.str.startswith("unseen_category").any()


def test_current_samples_in_one_query_equal_separate_samples():
    from obskit.analysis.anomalies import _sample
    from obskit.analysis.anomaly_cache import AnomalyWindows, hashed

    rng = np.random.default_rng(5)
    n = 3000
    t = engine_table(pd.DataFrame({
        "request_id": [f"r{i}" for i in range(n)], "window_index": rng.integers(0, 4, n),
        "x": rng.normal(size=n), "c": rng.choice(list("abc"), n)}))
    first = hashed(t).order_by("_h").limit(30).request_id.execute()
    flagged = set(first[::2])  # every other one of the first rows in hash order
    normal, by_window = AnomalyWindows(None, None, t).samples(["x", "c"], normal=40,
                                                              per_window=20, skip=flagged)
    pd.testing.assert_frame_equal(
        normal, _sample(t.filter(~t.request_id.isin(list(flagged))), 40, ["x", "c"]))
    assert sorted(by_window) == [0, 1, 2, 3]
    for w, sample in by_window.items():
        pd.testing.assert_frame_equal(sample, _sample(t.filter(t.window_index == w), 20,
                                                      ["x", "c"]))


def test_the_volume_of_a_partial_window_is_not_judged_nor_in_the_baseline():
    windows = _daily()
    windows[-1]["rows"] = 2_100  # the log stops at 05:00 on the last day
    assert [(a["window"], a["series"]) for a in window_anomalies(windows)] == [
        (19, "volume")]  # a short full day is a volume anomaly
    windows[-1]["partial"] = True
    assert window_anomalies(windows) == []
    windows[0].update(rows=500, partial=True)  # and a first window starting late
    windows[10]["rows"] = 2_000  # a real drop is still found against the full windows
    found = window_anomalies(windows)
    assert [(a["window"], a["series"]) for a in found] == [(10, "volume")]
    full = [w["rows"] for w in windows if not w.get("partial") and w["index"] != 10]
    assert found[0]["baseline"] == np.median(full + [2_000])


# --------------------------------------------------------------------------- rarity


def _credit_log(start, rows, rng, *, cents=False):
    score = rng.random(rows)
    income = rng.lognormal(10, 0.5, rows) * (100 if cents else 1)
    status = np.where(rng.random(rows) < 0.02, "500", "200")
    return pd.DataFrame({
        "timestamp": pd.date_range(start, periods=rows, freq="3min", tz="UTC"),
        "request_id": [f"{start}-{i}" for i in range(rows)],
        "age": rng.normal(40, 10, rows), "income": income,
        "region": rng.choice(["north", "south", "east"], rows), "score": score,
        "prediction": (score > 0.5).astype(int), "label": (rng.random(rows) < score).astype(int),
        "latency_ms": rng.lognormal(3, 0.4, rows), "status": status})


def test_broken_day_leads_the_anomaly_list_and_healthy_days_add_few_rows(tmp_path):
    """Four healthy days, then a day whose income is logged in cents: the list's top is
    that day, and each healthy day adds at most ``routine_rows`` routine outliers (slow,
    failed, confidently wrong at their usual rate)."""
    import obskit
    from obskit.config import load_config

    rng = np.random.default_rng(21)
    _credit_log("2026-10-01", 1500, rng).to_parquet(tmp_path / "ref.parquet")
    days = [_credit_log(f"2026-11-0{d}", 400, rng, cents=d == 5) for d in range(1, 6)]
    pd.concat(days).to_parquet(tmp_path / "cur.parquet")
    summary = obskit.analyze(load_config(overrides={
        "sources": {"reference": str(tmp_path / "ref.parquet"),
                    "current": str(tmp_path / "cur.parquet")},
        "segments": []})).to_summary()
    rows = summary["anomalies"]
    broken = summary["windows"][4]["index"]
    assert [r["window"] for r in rows[:20]] == [broken] * 20
    assert all("out_of_range:income" in r["reasons"] and not r["routine"] for r in rows[:20])
    per_window = pd.Series([r["window"] for r in rows]).value_counts()
    healthy = [w["index"] for w in summary["windows"][:4]]
    assert all(per_window.get(w, 0) <= AnomalyConfig().routine_rows for w in healthy)
    # the healthy days did have outliers, at their usual rate
    assert all(summary["windows"][i]["anomaly_counts"].get("latency_outlier") for i in range(4))


def test_new_ids_of_an_id_like_column_are_routine_unless_one_floods_a_window():
    """400 merchant ids (Zipf), 1,500 reference rows: ids the reference missed turn up in
    every window at about the Good–Turing rate (ids seen once / rows), so they are
    routine; a new id on 30% of a window's rows is not."""
    rng = np.random.default_rng(31)
    p = 1 / np.arange(1, 401) ** 0.8
    p /= p.sum()
    ids = np.array([f"m{i:03d}" for i in range(400)], dtype=object)

    def frame(rows, window=0, flood=False):
        merchant = rng.choice(ids, rows, p=p)
        if flood:
            merchant[rng.random(rows) < 0.3] = "m999"
        return pd.DataFrame({"request_id": [f"w{window}-{i}" for i in range(rows)],
                             "merchant": merchant, "window_index": window})

    ref = frame(1500).drop(columns="window_index")
    monitor = RowAnomalyMonitor({"merchant": "categorical"},
                                AnomalyConfig(isolation_contamination=0.01)).fit(
        engine_table(ref))
    once = int((ref.merchant.value_counts() == 1).sum())
    assert monitor.reference_rates_["unseen_category:merchant"] == (once, 1500)
    current = pd.concat([frame(400, 0), frame(400, 1), frame(400, 2, flood=True)])
    counts = monitor.counts_by_window(engine_table(current))
    unseen = counts[counts.reason == "unseen_category:merchant"].set_index("window_index")
    assert unseen.rows.loc[0] > 0 and unseen.rows.loc[1] > 0  # new ids on healthy days
    out = monitor.calculate(engine_table(current), counts=counts)
    healthy = out[out.window_index < 2]
    assert healthy.routine.all() and (healthy.groupby("window_index").size() <= 3).all()
    flooded = out[(out.window_index == 2) & ~out.routine]
    assert len(flooded) == AnomalyConfig().top_n  # 30% of 400 rows: the whole list
    assert (flooded.reasons.map(lambda r: "unseen_category:merchant" in r)).all()
