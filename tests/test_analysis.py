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
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    return obskit.analyze(load_config(overrides={
        "sources": {"reference": str(tmp_path / "ref.parquet"),
                    "current": str(tmp_path / "cur.parquet")},
        "segments": []})).to_summary(), ref


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
