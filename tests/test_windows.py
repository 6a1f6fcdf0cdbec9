"""Window specs: parsing, period buckets in UTC (weeks from Monday), row blocks."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

from obskit.io.engine import connect, temp_name
from obskit.windows import PeriodWindow, RowWindow, parse_window

UTC = timezone.utc


@pytest.mark.parametrize("spec,expected", [
    ("1h", PeriodWindow(3600, "1h")),
    ("1d", PeriodWindow(86400, "1d")),
    ("1w", PeriodWindow(7 * 86400, "1w")),
    ("30min", PeriodWindow(1800, "30min")),
    ("15m", PeriodWindow(900, "15m")),
    (" 2d ", PeriodWindow(2 * 86400, "2d")),
    ("5000 rows", RowWindow(5000)),
    ("1 row", RowWindow(1)),
    ("100rows", RowWindow(100)),
])
def test_parse_window(spec, expected):
    assert parse_window(spec) == expected


def test_window_text():
    assert str(parse_window("1d")) == "1d"
    assert str(parse_window("5000 rows")) == "5000 rows"


@pytest.mark.parametrize("spec", ["", "1", "1y", "day", "0d", "0 rows", "-1h", "1.5h",
                                  "rows 5", "1 h 2"])
def test_parse_window_rejects_bad_specs(spec):
    with pytest.raises(ValueError) as err:
        parse_window(spec)
    assert repr(spec) in str(err.value) or repr(spec.strip()) in str(err.value)


def table(times, **extra):
    con = connect()
    df = pd.DataFrame({"timestamp": pd.to_datetime(times, utc=True, format="ISO8601"), **extra})
    return con.create_table(temp_name("wtest"), df, temp=True)


def windows_of(t, spec):
    df = parse_window(spec).assign(t).execute()
    return df


def test_period_days_are_utc_midnight():
    times = ["2024-03-01T00:00:00Z", "2024-03-01T23:59:59.999Z", "2024-03-02T00:00:00Z",
             "2024-03-02T01:30:00+02:00"]  # the last is 2024-03-01 23:30 UTC
    w = parse_window("1d")
    df = w.assign(table(times, n=range(4))).execute().sort_values("n")
    idx = df["window_index"].tolist()
    assert idx[0] == idx[1] == idx[3] and idx[2] == idx[0] + 1
    assert w.bounds(idx[0]) == (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC))


def test_period_hours_and_minutes():
    times = ["2024-03-01T10:00:00Z", "2024-03-01T10:29:59Z", "2024-03-01T10:30:00Z",
             "2024-03-01T11:00:00Z"]
    df = parse_window("30min").assign(table(times, n=range(4))).execute().sort_values("n")
    i = df["window_index"].tolist()
    assert [x - i[0] for x in i] == [0, 0, 1, 2]
    assert parse_window("30min").bounds(i[2]) == (datetime(2024, 3, 1, 10, 30, tzinfo=UTC),
                                                  datetime(2024, 3, 1, 11, 0, tzinfo=UTC))
    df = parse_window("1h").assign(table(times, n=range(4))).execute().sort_values("n")
    j = df["window_index"].tolist()
    assert [x - j[0] for x in j] == [0, 0, 0, 1]
    assert parse_window("1h").bounds(j[0])[0] == datetime(2024, 3, 1, 10, tzinfo=UTC)


def test_period_weeks_start_monday():
    # 2024-03-04 is a Monday
    times = ["2024-03-03T23:59:59Z", "2024-03-04T00:00:00Z", "2024-03-10T23:59:59Z",
             "2024-03-11T00:00:00Z", "1970-01-05T00:00:00Z", "1970-01-04T00:00:00Z"]
    w = parse_window("1w")
    df = w.assign(table(times, n=range(6))).execute().sort_values("n")
    i = df["window_index"].tolist()
    assert i[1] == i[2] == i[0] + 1 and i[3] == i[1] + 1
    assert i[4] == 0 and i[5] == -1
    start, end = w.bounds(i[1])
    assert start == datetime(2024, 3, 4, tzinfo=UTC) and start.weekday() == 0
    assert end == datetime(2024, 3, 11, tzinfo=UTC)
    assert w.bounds(i[0])[0] == datetime(2024, 2, 26, tzinfo=UTC)


def test_period_bounds_contain_their_rows():
    times = pd.date_range("2024-01-01", periods=50, freq="7h13min", tz="UTC")
    for spec in ("1h", "1d", "1w", "30min"):
        w = parse_window(spec)
        df = w.assign(table(times)).execute()
        for ts, idx in zip(df["timestamp"], df["window_index"], strict=True):
            start, end = w.bounds(int(idx))
            assert start <= ts.to_pydatetime() < end


def test_row_window_blocks_in_timestamp_order():
    # rows inserted out of order; blocks follow timestamp order, the last block is shorter
    times = [f"2024-03-01T{h:02d}:00:00Z" for h in (5, 0, 3, 1, 6, 2, 4)]
    t = table(times, h=[5, 0, 3, 1, 6, 2, 4])
    df = RowWindow(3).assign(t).execute().sort_values("h")
    assert df["window_index"].tolist() == [0, 0, 0, 1, 1, 1, 2]
    assert str(df["window_index"].dtype) == "int64"


def test_row_window_ties_broken_by_request_id():
    t = table(["2024-03-01T00:00:00Z"] * 4, request_id=["d", "b", "a", "c"])
    df = parse_window("2 rows").assign(t).execute().sort_values("request_id")
    assert df["window_index"].tolist() == [0, 0, 1, 1]
