"""A whole analysis on small hand-made logs: windows with gaps and too few rows."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

import obskit
from obskit.config import load_config

RNG = np.random.default_rng(3)



def _frames_config(tmp_path, ref: pd.DataFrame, cur: pd.DataFrame, **overrides):
    """Write ``ref`` and ``cur`` as Parquet under ``tmp_path``: the config that analyses
    them, with ``overrides``."""
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    return load_config(overrides={"sources": {"reference": str(tmp_path / "ref.parquet"),
                                              "current": str(tmp_path / "cur.parquet")},
                                  **overrides})

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
    return _frames_config(tmp_path, ref, cur, min_window_rows=50)


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
    config = _frames_config(tmp_path, ref, cur)
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
    return _frames_config(tmp_path, ref, cur)


def test_rules_without_their_column_are_not_applicable_not_insufficient(no_health_columns):
    from obskit import render
    from obskit.results import load

    summary = obskit.analyze(no_health_columns).to_summary()
    assert [w["rows"] for w in summary["windows"]] == [400, 400, 400]
    assert {r["rule"]: r["reason"] for r in summary["alert_rules_not_applicable"]} == {
        "latency_p95": "no latency_ms column", "error_rate": "no status or error column"}
    assert summary["insufficient_data"] == []  # 3 ok windows, every applicable rule judged
    assert [r["name"] for r in summary["alert_rules"]][:4] == [  # in force: still listed
        "drift_share", "latency_p95", "error_rate", "performance_drop"]

    methods = render.methods_html(load(summary))
    assert "Every rule could be judged in every window." in methods
    assert "Rules that do not apply to these logs" in methods
    assert "no latency_ms column" in methods and "no status or error column" in methods
    notes = render.health_notes_html(load(summary))
    assert ("Latency not logged (no latency_ms column): the latency panel and tile and the "
            "latency_p95 rule are off.") in notes
    assert ("Errors not logged (no status or error column): the error-rate panel and tile "
            "and the error_rate rule are off.") in notes
    fig = render.health_figure(load(summary))
    assert [ax.get_title() for ax in fig.axes] == ["Volume"]
    tiles = render.summary_tiles_html(load(summary))
    assert "latency" not in tiles and "Error rate" not in tiles


def test_null_scores_are_counted_per_window_and_left_out_of_score_metrics(tmp_path):
    from sklearn.metrics import brier_score_loss, log_loss

    ref = _logs(pd.date_range("2026-10-01", periods=400, freq="h", tz="UTC"))
    cur = _logs(pd.date_range("2026-11-01", periods=300, freq="9min", tz="UTC"))
    cur["prediction"] = (cur.score >= 0.5).astype(int)
    ref["prediction"] = (ref.score >= 0.5).astype(int)
    cur.loc[cur.index % 20 == 3, "score"] = np.nan  # 5% without a score
    summary = obskit.analyze(_frames_config(tmp_path, ref, cur, min_window_rows=20)
                             ).to_summary()
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


def _signup_logs(start, n, rng, *, years_shift=0):
    """A binary classifier's log with ISO ``signup_date`` strings (uniform over 2019–2023,
    shifted by ``years_shift`` years)."""
    times = pd.date_range(start, periods=n, freq=pd.Timedelta(days=1) / n, tz="UTC")
    days = rng.integers(0, 5 * 365, n) + 365 * years_shift
    signup = (pd.Timestamp("2019-01-01") + pd.to_timedelta(days, unit="D")).strftime(
        "%Y-%m-%d")
    score = rng.random(n)
    return pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "age": rng.normal(40, 10, n).round(), "signup_date": signup,
                         "region": rng.choice(["n", "s", "e"], n), "score": score,
                         "prediction": (score >= 0.5).astype(int),
                         "label": rng.integers(0, 2, n)})


def test_date_feature_judged_on_its_value_not_as_categories(tmp_path):
    """Issue 12 §3: ISO date strings, the same distribution in reference and current, are
    a datetime feature with no drift; shifted by a year they drift."""
    rng = np.random.default_rng(12)
    ref = pd.concat([_signup_logs(f"2026-10-{d:02d}", 215, rng) for d in range(1, 8)])
    cur = pd.concat([_signup_logs("2026-10-10", 400, rng), _signup_logs("2026-10-11", 400, rng),
                     _signup_logs("2026-10-12", 400, rng, years_shift=1)])
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    config = load_config(overrides={"sources": {"reference": str(tmp_path / "ref.csv"),
                                                "current": str(tmp_path / "cur.csv")},
                                    "multivariate": {"enabled": False}})
    summary = obskit.analyze(config).to_summary()
    assert summary["features"]["signup_date"] == "datetime"
    entry = summary["drift_summary"]["signup_date"]
    assert entry["method"] == "wasserstein"  # a numeric method, not Jensen–Shannon
    assert [w["drift"]["signup_date"]["drifted"] for w in summary["windows"]] == [
        False, False, True]
    # the shift is a year on a five-year spread: Wasserstein (normed) ≈ 365 / std(days)
    spread = (pd.to_datetime(ref.signup_date) - pd.Timestamp("1970-01-01")).dt.days.std()
    assert summary["windows"][2]["drift"]["signup_date"]["value"] == pytest.approx(
        365 / spread, rel=0.15)
    # the report draws it as a numeric feature (histogram of days since 1970-01-01)
    from obskit import render
    from obskit.results import load

    assert summary["distributions"]["signup_date"]["kind"] == "numeric"
    assert "signup_date" in render.drift_table_html(load(summary))
    assert render.drift_figure(load(summary)) is not None


def _multiclass_logs(start, n, rng):
    classes = np.array(["a", "b", "c"])
    times = pd.date_range(start, periods=n, freq=pd.Timedelta(days=1) / n, tz="UTC")
    x = rng.normal(0, 1, (n, 2))
    logits = x @ np.array([[1.0, 0.0], [-0.5, 0.9], [-0.5, -0.9]]).T
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = classes[(rng.random((n, 1)) > proba.cumsum(axis=1)).sum(axis=1)]
    frame = pd.DataFrame({"timestamp": times, "x1": x[:, 0], "x2": x[:, 1],
                          "region": rng.choice(["n", "s"], n),
                          "prediction": classes[proba.argmax(axis=1)], "label": y})
    for i, c in enumerate(classes):
        frame[f"y_pred_proba_{c}"] = proba[:, i]
    return frame


def test_class_probability_columns_are_the_score_role_not_features(tmp_path):
    """Issue 12 §3: per-class probability columns are not three drifting features; they
    give the multiclass ROC AUC and log loss and CBPE's estimate."""
    from sklearn import metrics

    rng = np.random.default_rng(4)
    ref = pd.concat([_multiclass_logs(f"2026-10-{d:02d}", 215, rng) for d in range(1, 8)],
                    ignore_index=True)
    cur = pd.concat([_multiclass_logs(f"2026-10-{d:02d}", 400, rng) for d in (10, 11, 12)],
                    ignore_index=True)
    config = _frames_config(tmp_path, ref, cur, multivariate={"enabled": False})
    summary = obskit.analyze(config).to_summary()
    assert summary["task"] == "multiclass"
    assert set(summary["features"]) == {"x1", "x2", "region"}
    assert summary["class_scores"] == {c: f"y_pred_proba_{c}" for c in "abc"}
    assert not any("proba" in str(f.get("feature")) for f in summary["findings"])
    assert summary["estimation"] == {"method": "CBPE (one-vs-rest)", "reason": None}
    proba_cols = [f"y_pred_proba_{c}" for c in "abc"]
    for w, day in zip(summary["windows"], cur.groupby(cur.timestamp.dt.day), strict=True):
        frame = day[1]
        assert w["performance"]["roc_auc"] == pytest.approx(metrics.roc_auc_score(
            frame.label, frame[proba_cols].to_numpy(), multi_class="ovr"), rel=1e-9)
        assert w["performance"]["log_loss"] == pytest.approx(
            metrics.log_loss(frame.label, frame[proba_cols].to_numpy()), rel=1e-9)
        est, band = w["estimated_performance"], w["estimated_performance_ci"]
        assert band["accuracy"][0] <= w["performance"]["accuracy"] <= band["accuracy"][1]
        assert {m for m, v in est.items() if v is not None and m != "n"} == {
            "accuracy", "f1_macro", "roc_auc"}


def test_class_probabilities_without_prediction_measure_performance(tmp_path):
    """New-user report: class probabilities and labels, no ``prediction``. The most
    probable class is the prediction (a note says so), and accuracy, f1, recall[class],
    roc_auc and log_loss are realized and equal scikit-learn's."""
    from sklearn import metrics

    rng = np.random.default_rng(6)
    ref = pd.concat([_multiclass_logs(f"2026-10-{d:02d}", 215, rng) for d in range(1, 8)],
                    ignore_index=True).drop(columns="prediction")
    cur = pd.concat([_multiclass_logs(f"2026-10-{d:02d}", 400, rng) for d in (10, 11, 12)],
                    ignore_index=True).drop(columns="prediction")
    config = _frames_config(tmp_path, ref, cur, multivariate={"enabled": False})
    summary = obskit.analyze(config).to_summary()
    assert summary["task"] == "multiclass"
    assert any("most probable" in n for n in summary["notes"])
    assert not any(f["kind"] == "performance_not_measured" for f in summary["findings"])
    cols = [f"y_pred_proba_{c}" for c in "abc"]
    assert summary["reference"]["performance"]["accuracy"] == pytest.approx(
        metrics.accuracy_score(ref.label, np.array(list("abc"))[ref[cols].to_numpy()
                                                                .argmax(axis=1)]), 1e-12)
    for w, (_, day) in zip(summary["windows"], cur.groupby(cur.timestamp.dt.day), strict=True):
        proba = day[cols].to_numpy()
        yhat = np.array(list("abc"))[proba.argmax(axis=1)]
        perf = w["performance"]
        assert perf["accuracy"] == pytest.approx(metrics.accuracy_score(day.label, yhat), 1e-12)
        assert perf["f1_macro"] == pytest.approx(
            metrics.f1_score(day.label, yhat, average="macro"), 1e-12)
        for c, r in zip("abc", metrics.recall_score(day.label, yhat, average=None,
                                                     labels=list("abc")), strict=True):
            assert perf[f"recall[{c}]"] == pytest.approx(r, 1e-12)
        assert perf["roc_auc"] == pytest.approx(
            metrics.roc_auc_score(day.label, proba, multi_class="ovr"), rel=1e-9)
        assert perf["log_loss"] == pytest.approx(metrics.log_loss(day.label, proba), rel=1e-9)


def test_estimation_that_cannot_run_says_why(gappy, tmp_path):
    """Without a labelled reference the summary and the report say why nothing is
    estimated instead of describing CBPE."""
    from obskit import render
    from obskit.results import load

    ref = pd.read_parquet(gappy.reference).drop(columns="label")
    ref.to_parquet(tmp_path / "ref_nolabel.parquet")
    config = load_config(overrides={"sources": {"reference": str(tmp_path / "ref_nolabel.parquet"),
                                                "current": gappy.current},
                                    "multivariate": {"enabled": False}})
    summary = obskit.analyze(config).to_summary()
    reason = "the reference logs have no labels to calibrate it on"
    assert summary["estimation"] == {"method": None, "reason": reason}
    assert f"Performance was not estimated without labels: {reason}." in summary["notes"]
    assert all(not w["estimated_performance"] for w in summary["windows"])
    text = render.estimation_html(load(summary))
    assert reason in text and "CBPE" not in text
    assert "CBPE" in render.estimation_html(load(obskit.analyze(gappy).to_summary()))


# --------------------------------------------------------------------------- id-like columns


def _merchant_log(start, rows, *, ids, p, freq, rng, dominant=None):
    times = pd.date_range(start, periods=rows, freq=freq, tz="UTC")
    merchant = rng.choice(ids, rows, p=p).astype(object)
    if dominant is not None:  # a new merchant takes 30% of the day
        merchant[rng.random(rows) < 0.3] = dominant
    return pd.DataFrame({
        "timestamp": times, "request_id": [f"{start}-{i}" for i in range(rows)],
        "session": [f"s-{start}-{i}" for i in range(rows)],  # one value per row
        "merchant_id": merchant, "region": rng.choice(["north", "south"], rows),
        "x": rng.normal(0, 1, rows), "score": rng.random(rows),
        "label": rng.integers(0, 2, rows), "latency_ms": 20.0, "status": 200})


def _merchant_run(tmp_path, seed, dominant=None):
    rng = np.random.default_rng(seed)
    ids = np.array([f"m{i:03d}" for i in range(400)])
    p = 1 / np.arange(1, 401) ** 0.8
    p /= p.sum()
    ref = _merchant_log("2026-10-01", 1500, ids=ids, p=p, freq="6min", rng=rng)
    cur = pd.concat([_merchant_log(f"2026-11-0{d}", 400, ids=ids, p=p, freq="3min", rng=rng,
                                   dominant=dominant if d == 3 else None) for d in (1, 2, 3)])
    return obskit.analyze(_frames_config(tmp_path, ref, cur, segments=[])).to_summary(), ref


@pytest.mark.parametrize("seed", [1, 2])
def test_id_like_column_of_the_same_distribution_never_drifts(tmp_path, seed):
    summary, ref = _merchant_run(tmp_path, seed)
    verdicts = [w["drift"]["merchant_id"]["drifted"] for w in summary["windows"]]
    assert verdicts == [False, False, False]
    method = summary["methods"]["drift"]["merchant_id"]
    assert method["method"] == "chisquare_homogeneity"
    assert f"{ref.merchant_id.nunique()} distinct values in 1,500 reference rows" \
        in method["note"]
    assert method["note"] in summary["notes"]
    assert summary["methods"]["drift"]["region"]["method"] == "jensenshannon"  # untouched
    # one value per row: an identifier, named as not judged rather than judged on noise
    assert "session" in summary["drift_not_judged"]
    assert "identifier" in summary["drift_not_judged"]["session"]
    assert all(w["drift"]["session"]["drifted"] is None for w in summary["windows"])
    assert "session" not in summary["drift_summary"]
    assert not [f for f in summary["findings"]
                if f.get("feature") in ("merchant_id", "session")]


def test_id_like_column_with_a_new_dominant_id_drifts(tmp_path):
    summary, _ = _merchant_run(tmp_path, 3, dominant="m999")
    verdicts = [w["drift"]["merchant_id"]["drifted"] for w in summary["windows"]]
    assert verdicts == [False, False, True]
    assert any(f.get("feature") == "merchant_id" for f in summary["findings"])


def test_single_class_labels_judged_on_accuracy_by_the_default_rule(tmp_path):
    """New-user report: a broken label feed (every label 1 on the last day) leaves roc_auc
    undefined; the default performance rule judges that window on accuracy instead, and
    its drop (scikit-learn's accuracy) is an alert, not "ok"."""
    from sklearn import metrics

    def log(start, n, *, broken=False):
        times = pd.date_range(start, periods=n, freq=pd.Timedelta(days=1) / n, tz="UTC")
        score = RNG.random(n)
        label = (RNG.random(n) < (score > 0.5) * 0.95 + 0.025).astype(int)
        return pd.DataFrame({"timestamp": times, "x": RNG.normal(0, 1, n), "score": score,
                             "prediction": (score > 0.5).astype(int),
                             "label": np.ones(n, dtype=int) if broken else label})

    ref = pd.concat([log(f"2026-10-{d:02d}", 215) for d in range(1, 8)], ignore_index=True)
    cur = pd.concat([log("2026-11-01", 400), log("2026-11-02", 400, broken=True)],
                    ignore_index=True)
    config = _frames_config(tmp_path, ref, cur, multivariate={"enabled": False})
    summary = obskit.analyze(config).to_summary()
    last = cur[cur.timestamp.dt.day == 2]
    assert summary["windows"][-1]["performance"]["roc_auc"] is None
    alerts = [a for a in summary["alerts"] if a["rule"] == "performance_drop"
              and a["window"] == 1]
    assert [(a["metric"], a.get("instead_of")) for a in alerts] == [
        ("performance.accuracy", "performance.roc_auc")]
    assert not any(i["window"] == 1 and i["rule"] == "performance_drop"
                   for i in summary["insufficient_data"])
    assert alerts[0]["value"] == pytest.approx(
        metrics.accuracy_score(last.label, last.prediction), 1e-12)
    assert alerts[0]["reference"] == pytest.approx(
        metrics.accuracy_score(ref.label, ref.prediction), 1e-12)
    assert summary["status"] != "ok"
    text = next(f["text"] for f in summary["findings"] if f["kind"] == "performance_drop"
                and 1 in f["windows"])
    assert "roc_auc is undefined in 1 of these windows, with one class labelled" in text


def test_reference_without_labels_makes_the_drop_rule_not_judged_never_silent(
        no_health_columns, tmp_path):
    ref = pd.read_parquet(tmp_path / "ref.parquet")
    ref["label"] = pd.array([None] * len(ref), dtype="Int64")
    ref.to_parquet(tmp_path / "ref.parquet")
    summary = obskit.analyze(no_health_columns).to_summary()
    assert all(w["performance"]["accuracy"] is not None for w in summary["windows"])
    entry = {r["rule"]: r for r in summary["alert_rules_not_applicable"]}["performance_drop"]
    assert "reference" in entry["reason"] and "label" in entry["reason"]
    assert any("reference" in n and "performance_drop" in n for n in summary["notes"])
    finding = [f for f in summary["findings"] if f["kind"] == "performance_not_judged"]
    assert finding and "performance_drop" in finding[0]["text"]
    assert finding[0]["severity"] == "warning"


def test_run_without_reference_says_drift_and_quality_need_one(no_health_columns, tmp_path):
    from obskit import render
    from obskit.results import load

    config = load_config(overrides={"sources": {"current": str(tmp_path / "cur.parquet")}})
    summary = obskit.analyze(config).to_summary()
    entries = [e for w in summary["windows"] for e in w["drift"].values()]
    assert entries and all(e["method"] is None and e["drifted"] is None for e in entries)
    assert all("reference" in e["reason"] for e in entries)
    note = [n for n in summary["notes"] if "drift" in n and "data-quality" in n]
    assert len(note) == 1 and "--reference" in note[0]
    assert html.escape(note[0]) in render.header_html(load(summary))


def test_the_run_is_built_once_per_analyze(gappy, monkeypatch):
    """Findings judged once, the overall drift summary computed once, the typed Run
    built once; to_summary() gives its document without rebuilding it."""
    import obskit.analysis.run as run_module
    import obskit.analysis.table as table_module

    calls = {"findings": 0, "drift_summary": 0, "run": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(run_module, "build_findings",
                        counted("findings", run_module.build_findings))
    monkeypatch.setattr(table_module, "drift_summary",
                        counted("drift_summary", table_module.drift_summary))
    monkeypatch.setattr(run_module, "assemble_run",
                        counted("run", run_module.assemble_run))
    result = obskit.analyze(gappy)
    segments = sum(s.status == "ok" for v in result.run.segments.values() for s in v)
    summaries = [result.to_summary() for _ in range(3)]
    result._repr_html_()
    assert calls == {"findings": 1, "drift_summary": 1 + segments, "run": 1}
    assert summaries[0] == summaries[2] and summaries[0] is not summaries[1]
    assert summaries[0]["drift_summary"] == {f: s.to_dict()
                                             for f, s in result.drift_summary.items()}
