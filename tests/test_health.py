"""Health per window: exact latency quantiles (numpy's linear default) and error rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from obskit.profiles import error_flag, health_by_window
from tests.helpers import engine_table

RNG = np.random.default_rng(2)


def test_latency_quantiles_equal_numpy():
    lat = RNG.lognormal(3.7, 0.6, 4001)
    w = np.repeat([0, 1], [2000, 2001])
    got = health_by_window(engine_table(pd.DataFrame({"latency_ms": lat, "window_index": w})))
    got = got.set_index("window_index")
    for win in (0, 1):
        for q in (50, 95, 99):
            assert got[f"latency_p{q}_ms"][win] == pytest.approx(
                np.percentile(lat[w == win], q), rel=1e-12)


def test_error_rate_counts_status_and_messages():
    frame = pd.DataFrame({
        "status": ["200", "500", "503", "error", "FAILED", "200", "404", None],
        "error": [None, None, None, None, None, "timeout", None, None],
        "window_index": [0] * 8,
    })
    t = engine_table(frame)
    flags = t.mutate(f=error_flag(t)).execute().f.tolist()
    assert flags == [False, True, True, True, True, True, False, False]
    assert health_by_window(t).errors.iloc[0] == 5


def test_windows_without_latencies_get_nan_and_columns_keep_their_order():
    # window 1 has only null latencies: its quantiles are NaN, not 0 or a neighbour's
    frame = pd.DataFrame({"latency_ms": [10.0, 20.0, 30.0, None, None],
                          "status": ["200", "500", "200", "200", "503"],
                          "window_index": [0, 0, 0, 1, 1]})
    got = health_by_window(engine_table(frame))
    assert list(got.columns) == ["window_index", "latency_p50_ms", "latency_p95_ms",
                                 "latency_p99_ms", "errors"]
    assert got.latency_p50_ms.tolist()[0] == 20.0
    assert got.latency_p95_ms.tolist()[0] == pytest.approx(np.percentile([10, 20, 30], 95))
    assert np.isnan(got.latency_p99_ms.tolist()[1])
    assert got.errors.tolist() == [1, 1]
