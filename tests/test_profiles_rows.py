"""The rows a run analyses (the period filter and the window cut, in one place) and the
row-level reads the explorer asks of the profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd

from obskit.config import load_config
from obskit.io import load_logs
from obskit.profiles.period import analysed_rows, in_period
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
