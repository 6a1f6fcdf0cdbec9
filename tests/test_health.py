"""Health per window: exact latency quantiles (numpy's linear default) and error rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from obskit.profiles import error_flag, health_by_window
from obskit.profiles.quantiles import quantiles_by_window, window_batches
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


def _latency_frame() -> pd.DataFrame:
    sizes = {0: 1, 1: 2, 2: 37, 3: 500, 5: 1201, 6: 4}  # no window 4; window 6 all null
    w = np.repeat(list(sizes), list(sizes.values()))
    lat = np.round(RNG.lognormal(3.7, 0.6, w.size), 1)  # rounded: ties
    frame = pd.DataFrame({"latency_ms": lat, "window_index": w,
                          "status": np.where(RNG.random(w.size) < 0.1, "500", "200")})
    frame.loc[frame.index % 17 == 3, "latency_ms"] = np.nan
    frame.loc[frame.window_index == 6, "latency_ms"] = np.nan
    return frame


@pytest.mark.parametrize("most", [10, 600, 10_000])  # ranked windows; groups; one query
def test_quantiles_in_bounded_groups_equal_numpy(most):
    frame = _latency_frame()
    table = engine_table(frame.sample(frac=1, random_state=1))  # rows in no order
    rows = frame.groupby("window_index").size().to_dict()
    got = quantiles_by_window(table, "latency_ms", (0.0, 0.5, 0.95, 0.99, 1.0),
                              ["p0", "p50", "p95", "p99", "p100"], rows, most=most)
    assert got.window_index.tolist() == [0, 1, 2, 3, 5]  # window 6 has no latency
    for r in got.itertuples():
        values = frame.latency_ms[frame.window_index == r.window_index].dropna().to_numpy()
        for name, q in (("p0", 0), ("p50", 50), ("p95", 95), ("p99", 99), ("p100", 100)):
            assert getattr(r, name) == pytest.approx(np.percentile(values, q), rel=1e-12)


def test_health_in_bounded_memory_equals_one_query():
    frame = _latency_frame()
    table = engine_table(frame)
    rows = frame.groupby("window_index").size().to_dict()
    whole = health_by_window(table, window_rows=rows)
    for kwargs in ({"holistic_rows": 10}, {"holistic_rows": 600},
                   {"holistic_rows": 10, "window_rows": rows}, {}):
        got = health_by_window(table, **kwargs)
        pd.testing.assert_frame_equal(got, whole, check_dtype=False, rtol=1e-12)
    assert list(whole.columns) == ["window_index", "latency_p50_ms", "latency_p95_ms",
                                   "latency_p99_ms", "errors"]
    assert np.isnan(whole.set_index("window_index").latency_p50_ms[6])


def test_window_batches_hold_at_most_the_bound_unless_one_window_is_larger():
    assert window_batches({0: 3, 1: 3, 2: 5, 3: 0, 4: 20, 5: 1}, 6) == [[0, 1], [2], [4], [5]]
    assert window_batches({}, 6) == []
