"""Per-window results are cached on disk: a run over a log grown by one day computes only
the new window, and reports exactly what a run without the cache reports."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import obskit
from obskit.config import load_config
from obskit.results import load
from obskit.runner import RunOutcome, report
from obskit.runner import backfill as bf

DAYS = 6
SEGMENTS = 2  # model versions v1, v2


def _day(day: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2026-11-01", periods=240, freq="6min", tz="UTC") \
        + pd.Timedelta(days=day)
    n = len(times)
    return pd.DataFrame({
        "timestamp": times, "request_id": [f"d{day}-{i}" for i in range(n)],
        "model_version": np.where(np.arange(n) % 2 == 0, "v1", "v2"),
        "x": rng.normal(0.1 * day, 1, n), "c": rng.choice(["a", "b", "c"], n),
        "score": rng.random(n), "label": rng.integers(0, 2, n),
        "latency_ms": rng.lognormal(3, 0.3, n), "status": 200})


@pytest.fixture()
def logs(tmp_path):
    """Write ``days`` daily current files (and one reference); returns the writer."""
    (tmp_path / "current").mkdir()
    ref = pd.concat([_day(d - 30, 100 + d) for d in range(4)], ignore_index=True)
    ref.to_parquet(tmp_path / "ref.parquet")

    def write(day: int, frame: pd.DataFrame | None = None) -> None:
        (frame if frame is not None else _day(day, day)).to_parquet(
            tmp_path / "current" / f"day{day:02d}.parquet")

    for d in range(DAYS):
        write(d)
    return write


def _settings(tmp_path) -> dict:
    return {"sources": {"reference": str(tmp_path / "ref.parquet"),
                        "current": str(tmp_path / "current")},
            "window": "1d", "segments": ["model_version"], "min_segment_rows": 100,
            "out": str(tmp_path / "reports"), "min_window_rows": 50}


@pytest.fixture()
def config(tmp_path):
    def make(**extra):
        return load_config(overrides={**_settings(tmp_path), **extra})

    return make


def _comparable(summary: dict) -> dict:
    return {k: v for k, v in summary.items()
            if k not in ("generated_at", "timings", "reference_cache", "window_cache")}


def _run(config, **extra) -> dict:
    return obskit.analyze(config(**extra)).to_summary()


def _quick(config, **extra) -> dict:
    """:func:`_run` without the multivariate drift (its model fits take the time)."""
    return _run(config, multivariate={"enabled": False}, **extra)


def test_a_warm_run_restores_every_window_and_reports_the_same(logs, config, tmp_path):
    cold, warm = _run(config), _run(config)
    windows = DAYS * (1 + SEGMENTS)
    assert cold["window_cache"] == {"enabled": True, "hits": 0, "misses": windows}
    assert warm["window_cache"] == {"enabled": True, "hits": windows, "misses": 0}
    assert _comparable(cold) == _comparable(warm)
    assert any((tmp_path / "reports" / ".cache" / "windows").iterdir())


def test_a_log_grown_by_one_day_computes_only_the_new_window(logs, config):
    _run(config)
    logs(DAYS)  # one more day
    grown = _run(config)
    assert grown["window_cache"]["misses"] == 1 + SEGMENTS  # the whole log, each segment
    assert grown["window_cache"]["hits"] == DAYS * (1 + SEGMENTS)
    assert len(grown["windows"]) == DAYS + 1
    assert _comparable(grown) == _comparable(_run(config, window_cache=False))


def test_a_changed_row_recomputes_its_window_only(logs, config):
    _quick(config)
    day = _day(2, 2)
    day.loc[0, "label"] = 1 - day.loc[0, "label"]  # row 0 is in segment v1
    logs(2, day)
    changed = _quick(config)
    assert changed["window_cache"]["misses"] == 2  # day 2 of the whole log and of v1
    assert _comparable(changed) == _comparable(_quick(config, window_cache=False))


def test_a_settings_change_recomputes_every_window(logs, config):
    _quick(config)
    other = _quick(config, min_window_rows=40)
    assert other["window_cache"]["hits"] == 0
    assert other["window_cache"]["misses"] == DAYS * (1 + SEGMENTS)


def test_a_moving_range_reuses_windows_by_their_bounds(logs, config):
    _quick(config)
    later = {"period": {"start": "2026-11-02", "end": "2026-11-05"}}
    moved = _quick(config, **later)  # window 0 is now 2026-11-02
    assert moved["window_cache"] == {"enabled": True, "hits": 3 * (1 + SEGMENTS),
                                     "misses": 0}
    assert _comparable(moved) == _comparable(_quick(config, window_cache=False, **later))


def test_cache_off_computes_everything(logs, config, tmp_path):
    _quick(config)
    off = _quick(config, window_cache=False)
    assert off["window_cache"] == {"enabled": False, "hits": 0, "misses": 0}
    moved = _quick(config, window_cache=str(tmp_path / "elsewhere"))
    assert moved["window_cache"]["misses"] == DAYS * (1 + SEGMENTS)
    assert any((tmp_path / "elsewhere").iterdir())


def test_cli_flags_map_onto_the_config_key(tmp_path, monkeypatch):
    from obskit.cli import build_parser
    from obskit.config.flags import overrides_from_flags

    monkeypatch.chdir(tmp_path)
    parse = build_parser().parse_args
    assert "window_cache" not in overrides_from_flags(parse(["report", "--config", "c"]))
    off = overrides_from_flags(parse(["report", "--config", "c", "--no-window-cache"]))
    assert off["window_cache"] is False
    moved = overrides_from_flags(parse(["report", "--config", "c", "--window-cache", "d"]))
    assert moved["window_cache"] == str(tmp_path / "d")


def test_a_backfill_reuses_the_windows_of_the_daily_runs(logs, config, tmp_path,
                                                         monkeypatch):
    _quick(config)  # the daily run: every window stored
    seen: list[dict] = []

    def run_report(cfg, *, out=None, analysis=None, run_id=None, remediation_dry_run=None):
        seen.append(obskit.analyze(cfg).to_summary()["window_cache"])
        run_dir = Path(out) / str(run_id)
        run_dir.mkdir(parents=True)
        summary = {"status": "ok", "alerts": []}
        (run_dir / "summary.json").write_text(json.dumps(summary))
        return RunOutcome(run_dir, "ok", load(summary))

    monkeypatch.setattr(report, "run_report", run_report)
    start = datetime(2026, 11, 2, tzinfo=timezone.utc)
    bf.backfill(None, start=start, end=start + timedelta(days=2), every=timedelta(days=1),
                overrides={**_settings(tmp_path), "multivariate": {"enabled": False}},
                progress=False)
    assert seen == [{"enabled": True, "hits": 1 + SEGMENTS, "misses": 0}] * 2


def test_row_windows_reuse_the_full_blocks(logs, config):
    _quick(config, window="500 rows")
    logs(DAYS)  # 240 more rows: the last block changes, new blocks follow
    grown = _quick(config, window="500 rows")
    assert grown["window_cache"]["hits"] > 0
    assert _comparable(grown) == _comparable(_quick(config, window="500 rows",
                                                    window_cache=False))
