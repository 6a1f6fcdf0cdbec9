"""The rows a run analyses (the period filter and the window cut, in one place) and the
row-level reads the explorer asks of the profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from obskit.config import load_config
from obskit.io import load_logs
from obskit.profiles.period import analysed_rows, analysed_table, in_period
from obskit.profiles.rows import first_row, numeric_quantiles, segment_rows


def _frame(times) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame({"timestamp": times, "request_id": [f"r{i}" for i in range(n)],
                         "x": np.arange(n, dtype=float), "c": ["a", "b"] * (n // 2),
                         "score": np.linspace(0, 1, n), "label": [0, 1] * (n // 2)})


def test_in_period_keeps_start_and_drops_end():
    import ibis

    times = pd.date_range("2026-11-01", periods=6, freq="12h", tz="UTC")
    table = ibis.memtable(_frame(times))
    kept = in_period(table, "2026-11-02", "2026-11-03").execute()
    assert sorted(kept.request_id) == ["r2", "r3"]
    assert in_period(table, None, "") is table
    assert len(in_period(table, "2026-11-02", None).execute()) == 4


def test_analysed_rows_cuts_the_period_into_windows_from_its_start(tmp_path):
    times = pd.date_range("2026-11-01", periods=96, freq="h", tz="UTC")
    _frame(times).to_parquet(tmp_path / "cur.parquet")
    _frame(times - pd.Timedelta(days=30)).to_parquet(tmp_path / "ref.parquet")
    config = load_config(overrides={
        "sources": {"reference": str(tmp_path / "ref.parquet"),
                    "current": str(tmp_path / "cur.parquet")},
        "window": "1d", "period": {"start": "2026-11-02", "end": "2026-11-04"}})
    table, spec = analysed_rows(config, load_logs(config))
    rows = table.execute()
    assert len(rows) == 48
    assert sorted(rows.window_index.unique()) == [0, 1]  # window 0 starts at period.start
    assert rows.timestamp.min() == pd.Timestamp("2026-11-02", tz="UTC")


def test_row_reads():
    import ibis

    times = pd.date_range("2026-11-01", periods=4, freq="h", tz="UTC")
    table = ibis.memtable(_frame(times))
    assert sorted(segment_rows(table, "c", "a").execute().request_id) == ["r0", "r2"]
    row = first_row(table, "request_id", "r3")
    assert row is not None and row["x"] == 3.0 and row["c"] == "b"
    assert first_row(table, "request_id", "nope") is None
    quantiles = numeric_quantiles(table, ["x"], (0.0, 0.5, 1.0))
    assert quantiles == {"x": {0.0: 0.0, 0.5: 1.5, 1.0: 3.0}}
    assert numeric_quantiles(table, [], (0.5,)) == {}


def _analysed(config):
    from obskit.io.engine import materialize

    logs = load_logs(config)
    fast = analysed_table(config, logs)
    rows, spec = analysed_rows(config, logs)  # the reference: the rows materialised apart
    slow = materialize(rows)
    key = ["_file", "_line"]
    got, want = (t.execute().sort_values(key).reset_index(drop=True) for t in (fast.table,
                                                                                slow))
    pd.testing.assert_frame_equal(got, want)
    assert list(fast.table.columns) == list(slow.columns)
    assert fast.spec == spec
    assert fast.outside == logs.current.rows_used - len(want)
    return logs, fast, got


def _write(tmp_path, cur: pd.DataFrame) -> dict:
    cur.to_csv(tmp_path / "cur.csv", index=False)
    _frame(pd.date_range("2026-10-01", periods=8, freq="h", tz="UTC")).to_parquet(
        tmp_path / "ref.parquet")
    return {"reference": str(tmp_path / "ref.parquet"), "current": str(tmp_path / "cur.csv")}


def test_analysed_table_takes_the_windows_of_the_load_pass_without_a_copy(tmp_path):
    times = pd.date_range("2026-11-01 05:00", periods=72, freq="h", tz="UTC")
    config = load_config(overrides={"sources": _write(tmp_path, _frame(times)),
                                    "window": "1d"})
    logs, fast, rows = _analysed(config)
    assert fast.table is logs.current.windowed.table  # the loaded rows themselves
    assert fast.outside == 0 and sorted(rows.window_index.unique()) == [0, 1, 2, 3]


def test_analysed_table_equals_the_materialised_rows_with_quarantine_and_period(tmp_path):
    times = pd.date_range("2026-11-01 05:00", periods=72, freq="h", tz="UTC")
    cur = _frame(times).astype({"x": object})
    cur.loc[[3, 40], "x"] = "seven"  # quarantined: not a number
    config = load_config(overrides={"sources": _write(tmp_path, cur), "window": "1d",
                                    "period": {"end": "2026-11-03"}})
    logs, fast, rows = _analysed(config)
    assert logs.current.rows_quarantined == 2 and fast.outside == 70 - 41
    assert sorted(rows.window_index.unique()) == [0, 1]


def test_analysed_table_anchors_at_the_first_row_used_not_the_first_row_read(tmp_path):
    # the earliest row, a day before the others, is quarantined: window 0 is the day of
    # the first row used (the anchor of the load pass is checked, not trusted)
    times = pd.date_range("2026-11-02", periods=48, freq="h", tz="UTC")
    cur = _frame(times.insert(0, pd.Timestamp("2026-11-01 03:00", tz="UTC"))[:48])
    cur = cur.astype({"x": object})
    cur.loc[0, "x"] = "seven"
    config = load_config(overrides={"sources": _write(tmp_path, cur), "window": "1d"})
    logs, fast, rows = _analysed(config)
    assert logs.current.windowed.spec != fast.spec  # the load pass guessed the day before
    assert rows.window_index.min() == 0


def test_analysed_table_keeps_the_windows_through_the_label_join(tmp_path):
    times = pd.date_range("2026-11-01", periods=48, freq="h", tz="UTC")
    paths = _write(tmp_path, _frame(times).drop(columns="label"))
    pd.DataFrame({"request_id": ["r1", "r30"], "label": [1, 0]}).to_csv(
        tmp_path / "labels.csv", index=False)
    config = load_config(overrides={"sources": {**paths, "labels": str(tmp_path / "labels.csv")},
                                    "window": "1d"})
    logs, fast, rows = _analysed(config)
    assert fast.table is logs.current.windowed.table
    assert rows.label.notna().sum() == 2 and list(rows.columns)[-1] == "window_index"


def test_analysed_table_of_period_windows_is_never_a_copy(tmp_path, monkeypatch):
    """A period filter, or an anchor other than the load pass's, keeps the analysed rows a
    view of the loaded table (equal to the rows materialised apart, checked above)."""
    from obskit.profiles import period

    times = pd.date_range("2026-11-02", periods=48, freq="h", tz="UTC")
    cur = _frame(times.insert(0, pd.Timestamp("2026-11-01 03:00", tz="UTC"))[:48])
    cur = cur.astype({"x": object})
    cur.loc[0, "x"] = "seven"  # the anchor moves to the first row used
    for extra in ({}, {"period": {"end": "2026-11-03"}}):
        config = load_config(overrides={"sources": _write(tmp_path, cur), "window": "1d",
                                        **extra})
        logs = load_logs(config)
        monkeypatch.setattr(period, "materialize", lambda t: pytest.fail("copied"))
        got = analysed_table(config, logs)
        monkeypatch.undo()
        assert got.table.window_index.min().execute() == 0
        assert got.outside == (23 if extra else 0)
