"""Rows fetched into numpy for exact statistics are streamed into their arrays and grouped
by window without a second copy of every column: the bounded fetch (``FETCH_VALUES``)
bounds the process's memory only if what is done with the values holds a small multiple of
them. Grouping is measured with ``tracemalloc``, which counts numpy's own buffers (not
Arrow's or the engine's: the fetch's resident memory is measured in ``benchmarks/``)."""

from __future__ import annotations

import tracemalloc

import ibis
import numpy as np
import pandas as pd
import pytest

from obskit.profiles import W, fetch_by_window, group_by_window, window_groups
from obskit.profiles._common import fetch_columns

N = 400_000
COLUMN_BYTES = N * 8


def _columns(rng: np.random.Generator, sorted_windows: bool) -> dict[str, np.ndarray]:
    w = rng.integers(0, 7, N)
    if sorted_windows:
        w.sort()
    return {W: w, "a": rng.normal(size=N), "b": rng.normal(size=N), "c": rng.normal(size=N)}


def _reference_groups(cols: dict[str, np.ndarray]) -> dict[int, dict[str, np.ndarray]]:
    frame = pd.DataFrame(cols)
    return {int(w): {k: g[k].to_numpy() for k in ("a", "b", "c")}
            for w, g in frame.groupby(W, sort=True)}


@pytest.mark.parametrize("sorted_windows", [False, True])
def test_group_by_window_gives_each_windows_rows_in_their_order(sorted_windows):
    cols = _columns(np.random.default_rng(1), sorted_windows)
    expected = _reference_groups(cols)
    windows, bounds = group_by_window(cols)
    assert W not in cols
    assert windows.tolist() == sorted(expected)
    for w, lo, hi in zip(windows, bounds[:-1], bounds[1:], strict=True):
        for k in ("a", "b", "c"):  # a stable grouping: the rows keep their fetched order
            np.testing.assert_array_equal(cols[k][lo:hi], expected[int(w)][k])


def test_window_groups_of_rows_already_in_window_order_is_a_view():
    w = np.repeat(np.array([2, 5, 9]), [3, 1, 4])
    order, windows, bounds = window_groups(w)
    assert order == slice(None)
    assert windows.tolist() == [2, 5, 9] and bounds.tolist() == [0, 3, 4, 8]
    order, windows, bounds = window_groups(np.array([5, 2, 5, 2]))
    assert order.tolist() == [1, 3, 0, 2] and windows.tolist() == [2, 5]
    assert bounds.tolist() == [0, 2, 4]
    order, windows, bounds = window_groups(np.zeros(0, dtype=np.int64))
    assert windows.size == 0 and bounds.tolist() == [0]


def _peak_while(make, fn) -> int:
    """Bytes held at the peak of ``fn(make())`` beyond what ``make()`` built (tracemalloc
    tracks the inputs too, so that freeing them counts)."""
    tracemalloc.start()
    try:
        inputs = make()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn(inputs)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("sorted_windows", [False, True])
def test_grouping_holds_at_most_the_order_and_one_column_more(sorted_windows):
    peak = _peak_while(lambda: _columns(np.random.default_rng(2), sorted_windows),
                       group_by_window)
    if sorted_windows:  # nothing copied: a time-ordered log
        assert peak < COLUMN_BYTES // 2, peak
    else:  # the order (int64) and one reordered column: never a copy of all three columns
        assert peak < 2 * COLUMN_BYTES + COLUMN_BYTES // 2, peak


def test_fetch_by_window_equals_a_pandas_grouping_of_the_same_rows():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(_columns(rng, sorted_windows=False))
    frame.loc[::97, "b"] = np.nan
    table = ibis.memtable(frame)
    got = fetch_by_window(table, {k: table[k] for k in ("a", "b", "c")})
    assert got is not None
    expected = _reference_groups({k: frame[k].to_numpy() for k in frame.columns})
    assert [w for w, _ in got] == sorted(expected)
    for w, cols in got:
        for k in ("a", "b", "c"):
            np.testing.assert_array_equal(cols[k], expected[w][k])
    assert fetch_by_window(table, {k: table[k] for k in ("a", "b", "c")},
                           fetch_values=4 * N - 1) is None


def test_fetch_columns_streamed_equals_the_rows():
    frame = pd.DataFrame(_columns(np.random.default_rng(4), sorted_windows=False))
    table = ibis.memtable(frame)
    got = fetch_columns(table, {k: table[k] for k in ("a", "b", "c")})
    for k in ("a", "b", "c"):
        np.testing.assert_array_equal(got[k], frame[k].to_numpy())


@pytest.mark.parametrize("rows", [None, N, N - 5, N + 5])
def test_fetch_columns_fills_counted_rows_in_place_and_joins_the_rest(rows, monkeypatch):
    monkeypatch.setattr("obskit.profiles._common.FETCH_BATCH_ROWS", 100_000)
    frame = pd.DataFrame(_columns(np.random.default_rng(5), sorted_windows=False))
    frame.loc[::13, "a"] = np.nan
    table = ibis.memtable(frame)
    exprs = {"a": table.a, "b": table.b.cast("float64"), W: table[W].cast("int64")}
    # a wrong count (the rows changed since they were counted) still gives every row
    got = fetch_columns(table, exprs, rows=rows)
    for k in ("a", "b", W):
        np.testing.assert_array_equal(got[k], frame[k].to_numpy())
    assert got[W].dtype == np.int64 and got["a"].dtype == np.float64

