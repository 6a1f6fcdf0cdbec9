"""The anomalies' per-window part is kept in the window cache: a warm run, or a run over a
log grown by one day, scans only the new windows and reports the same anomalies and
explanations as a run without the cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import obskit
from obskit.analysis import anomaly_cache
from obskit.config import load_config
from obskit.monitors.row_anomalies import RowAnomalyMonitor

DAYS = 5


def _day(start: str, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    score = rng.random(rows)
    return pd.DataFrame({
        "timestamp": pd.date_range(start, periods=rows, freq="3min", tz="UTC"),
        "request_id": [f"{start}-{i}" for i in range(rows)],
        "age": rng.normal(40, 10, rows), "income": rng.lognormal(10, 0.5, rows),
        "region": rng.choice(["north", "south", "east"], rows), "score": score,
        "prediction": (score > 0.5).astype(int), "label": (rng.random(rows) < score).astype(int),
        "latency_ms": rng.lognormal(3, 0.4, rows),
        "status": np.where(rng.random(rows) < 0.02, "500", "200")})


@pytest.fixture()
def write(tmp_path):
    """Write the reference, a model and ``days`` daily files; returns the config maker."""
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(3)
    ref = _day("2026-10-01", 1500, rng)
    ref.to_parquet(tmp_path / "ref.parquet")
    model = Pipeline([("pre", ColumnTransformer([
        ("num", StandardScaler(), ["age", "income"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"])])),
        ("clf", LogisticRegression(max_iter=500))])
    model.fit(ref[["age", "income", "region"]], ref.label)
    sio.dump(model, tmp_path / "model.skops")
    (tmp_path / "current").mkdir()

    def days(n: int) -> None:
        for d in range(n):
            path = tmp_path / "current" / f"day{d}.parquet"
            if not path.exists():
                _day(f"2026-11-{d + 1:02d}", 300, np.random.default_rng(d)).to_parquet(path)

    days(DAYS)

    def config(**extra):
        return load_config(overrides={
            "sources": {"reference": str(tmp_path / "ref.parquet"),
                        "current": str(tmp_path / "current")},
            "model": {"path": str(tmp_path / "model.skops")},
            "features": {"types": {"age": "numeric", "income": "numeric",
                                   "region": "categorical"}},
            "window": "1d", "segments": [], "multivariate": {"enabled": False},
            "out": str(tmp_path / "reports"), **extra})

    return config, days


@pytest.fixture()
def scans(monkeypatch):
    """The windows each :meth:`RowAnomalyMonitor.scan` saw, per call."""
    seen: list[list[int]] = []
    scan = RowAnomalyMonitor.scan

    def counted(self, current, **kw):
        rows, counts = scan(self, current, **kw)
        seen.append(sorted(set(current.window_index.execute())))
        return rows, counts

    monkeypatch.setattr(RowAnomalyMonitor, "scan", counted)
    return seen


def _anomalies(config, **extra) -> dict:
    s = obskit.analyze(config(**extra)).to_summary()
    return {"anomalies": s["anomalies"], "explanations": s["explanations"],
            "counts": [w.get("anomaly_counts") for w in s["windows"]],
            "cache": s["window_cache"]}


def _same(a: dict, b: dict) -> None:
    for key in ("anomalies", "explanations", "counts"):
        assert a[key] == b[key], key


def test_a_warm_run_scans_no_window_and_reports_the_same(write, scans):
    config, _ = write
    cold = _anomalies(config)
    assert cold["explanations"]["status"] == "ok" and cold["anomalies"]
    warm = _anomalies(config)
    assert len(scans) == 1  # the warm run restored every window
    assert warm["cache"]["hits"] == DAYS  # the anomalies' entries are not counted
    _same(cold, warm)
    _same(cold, _anomalies(config, window_cache=False))


def test_a_grown_log_scans_only_the_new_window(write, scans):
    config, days = write
    _anomalies(config)
    days(DAYS + 1)
    grown = _anomalies(config)
    assert scans[-1] == [DAYS]  # only the new day
    _same(grown, _anomalies(config, window_cache=False))


def test_windows_whose_stored_rows_fall_short_are_read_again(write, monkeypatch):
    """Each window stores only its first rows in hash order; when the run's first rows
    need more of one window than it stored, that window is read again."""
    config, _ = write
    cold = _anomalies(config)
    short = []
    original = anomaly_cache.AnomalyWindows._short

    def spy(self, rows, need):
        for e in self.entries.values():  # as if each window had stored 3 rows only
            e[anomaly_cache._SAMPLES] = e[anomaly_cache._SAMPLES].head(3)
            e[anomaly_cache._SAMPLED] = 3
        out = original(self, rows, need)
        short.append(out)
        return out

    monkeypatch.setattr(anomaly_cache.AnomalyWindows, "_short", spy)
    warm = _anomalies(config)
    assert short and short[0]  # some windows were read again
    _same(cold, warm)
