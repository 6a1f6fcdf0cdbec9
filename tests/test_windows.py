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


@pytest.mark.parametrize("spec", ["", "1", "1q", "day", "0mo", "0d", "0 rows", "-1h", "1.5h",
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


# --- calendar months and years, windows anchored to the data, partial windows (issue 12) ---

from obskit.windows import anchor_window, partial_windows  # noqa: E402


@pytest.mark.parametrize("spec,months", [("1mo", 1), ("3mo", 3), (" 1 mo ", 1), ("1y", 12),
                                         ("2y", 24)])
def test_parse_calendar_windows(spec, months):
    w = parse_window(spec)
    assert isinstance(w, PeriodWindow) and w.months == months and str(w) == spec.strip()
    assert parse_window("1m") == PeriodWindow(60, "1m")  # m stays minutes


def test_calendar_months_follow_the_calendar():
    times = ["2024-01-15T08:00:00Z", "2024-01-31T23:59:59Z", "2024-02-01T00:00:00Z",
             "2024-02-29T12:00:00Z", "2024-03-01T00:00:00Z", "2024-12-31T23:00:00Z"]
    t = table(times, n=range(6))
    w = anchor_window(parse_window("1mo"), t)
    idx = w.assign(t).execute().sort_values("n")["window_index"].tolist()
    assert idx == [0, 0, 1, 1, 2, 11]
    assert w.bounds(0) == (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC))
    assert w.bounds(1) == (datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))
    assert w.bounds(11) == (datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
    q = anchor_window(parse_window("3mo"), t)
    assert q.assign(t).execute().sort_values("n")["window_index"].tolist() == [0, 0, 0, 0, 0, 3]
    assert q.bounds(3) == (datetime(2024, 10, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))


def test_calendar_years():
    times = ["2014-01-01T00:00:00Z", "2014-12-31T23:59:59Z", "2015-06-01T00:00:00Z",
             "2018-01-01T00:00:00Z"]
    t = table(times, n=range(4))
    w = anchor_window(parse_window("1y"), t)
    assert w.assign(t).execute().sort_values("n")["window_index"].tolist() == [0, 0, 1, 4]
    assert w.bounds(4) == (datetime(2018, 1, 1, tzinfo=UTC), datetime(2019, 1, 1, tzinfo=UTC))


def test_day_multiples_start_at_the_first_day_of_data_with_index_0():
    # epoch-aligned 30d windows would start on 2024-02-23 (day 19776 = 659 × 30 + 6)
    times = ["2024-03-05T10:00:00Z", "2024-04-03T23:59:59Z", "2024-04-04T00:00:00Z",
             "2024-05-20T00:00:00Z"]
    t = table(times, n=range(4))
    w = anchor_window(parse_window("30d"), t)
    assert w.assign(t).execute().sort_values("n")["window_index"].tolist() == [0, 0, 1, 2]
    assert w.bounds(0) == (datetime(2024, 3, 5, tzinfo=UTC), datetime(2024, 4, 4, tzinfo=UTC))
    w7 = anchor_window(parse_window("7d"), t)
    assert w7.bounds(0)[0] == datetime(2024, 3, 5, tzinfo=UTC)  # a Tuesday: days, not weeks


def test_weeks_stay_monday_aligned_and_hours_on_the_hour_with_index_0():
    t = table(["2024-03-06T15:00:00Z", "2024-03-11T00:00:00Z"], n=range(2))  # Wed, Mon
    w = anchor_window(parse_window("1w"), t)
    assert w.assign(t).execute().sort_values("n")["window_index"].tolist() == [0, 1]
    assert w.bounds(0)[0] == datetime(2024, 3, 4, tzinfo=UTC)
    h = anchor_window(parse_window("6h"), t)
    assert h.bounds(0)[0] == datetime(2024, 3, 6, 12, tzinfo=UTC)
    assert h.assign(t).execute().sort_values("n")["window_index"].tolist() == [0, 18]


def test_anchor_at_the_period_start_when_the_run_has_one():
    t = table(["2024-03-06T15:00:00Z"])
    w = anchor_window(parse_window("30d"), t, start="2024-03-01T00:00:00+00:00")
    assert w.bounds(0)[0] == datetime(2024, 3, 1, tzinfo=UTC)
    assert w.assign(t).execute()["window_index"].tolist() == [0]


def _span(i, start, days, first_h, last_h, rows):
    s = datetime(2024, 3, 1, tzinfo=UTC) + pd.Timedelta(days=start).to_pytimedelta()
    return (i, s, s + pd.Timedelta(days=days).to_pytimedelta(),
            s + pd.Timedelta(hours=first_h).to_pytimedelta(),
            s + pd.Timedelta(hours=last_h).to_pytimedelta(), rows)


def test_partial_last_30d_window_with_five_days_of_data():
    w = parse_window("30d")
    spans = [_span(0, 0, 30, 0.1, 30 * 24 - 0.2, 12000), _span(1, 30, 30, 0.1, 5 * 24, 2000)]
    assert partial_windows(w, spans) == {1}


def test_full_daily_windows_are_not_partial_even_when_traffic_stops_at_night():
    w = parse_window("1d")
    spans = [_span(i, i, 1, 7.0 + i % 2 * 0.3, 19.0 - i % 3 * 0.2, 400) for i in range(5)]
    assert partial_windows(w, spans) == set()
    assert partial_windows(w, spans[:-1] + [_span(4, 4, 1, 7.0, 11.0, 150)]) == {4}
    assert partial_windows(w, [_span(0, 0, 1, 15.0, 19.0, 150)] + spans[1:]) == {0}


def test_a_month_in_progress_or_a_window_outside_the_period_is_partial():
    w = parse_window("1mo")
    spans = [_span(0, 0, 31, 0.0, 31 * 24 - 1, 900), _span(1, 31, 30, 0.0, 30 * 24 - 2, 870)]
    assert partial_windows(w, spans) == set()
    in_progress = spans[:1] + [_span(1, 31, 30, 0.0, 20 * 24, 600)]  # April to the 21st
    assert partial_windows(w, in_progress) == {1}
    end = datetime(2024, 4, 20, tzinfo=UTC)  # the run's period stops inside April
    assert partial_windows(w, spans, covered=(None, end)) == {1}
    start = datetime(2024, 3, 2, tzinfo=UTC)
    assert partial_windows(w, spans, covered=(start, None)) == {0}


def test_the_short_last_row_block_is_partial():
    spans = [(i, None, None, None, None, n) for i, n in enumerate([500, 500, 120])]
    assert partial_windows(RowWindow(500), spans) == {2}
