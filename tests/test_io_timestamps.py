"""Timestamps: ISO (aware / naive), epoch seconds and milliseconds, native Parquet → UTC."""

from __future__ import annotations

import pandas as pd
import pytest

from obskit.config import load_config
from obskit.exceptions import InputError
from obskit.io import load_logs

NAIVE_NOTE = "Timestamps without a time zone were taken as UTC."


def load(current, **overrides):
    cfg = load_config(overrides={"sources": {"current": current}, "task": "binary",
                                 **overrides})
    return load_logs(cfg)


def stamps(logs):
    df = logs.current.table.execute().sort_values("_line")
    return [t.isoformat() for t in df["timestamp"]]


def utc(*texts):
    return [pd.Timestamp(t).tz_convert("UTC").isoformat() for t in texts]


def test_iso_z_and_offset_converted_to_utc(write):
    p = write("a.jsonl", [{"timestamp": "2024-03-01T10:00:00Z"},
                          {"timestamp": "2024-03-01T10:00:00+02:00"},
                          {"timestamp": "2024-03-01T01:30:00.250-05:30"},
                          {"timestamp": "2024-03-01 10:00:00+0200"}])
    logs = load(p)
    assert stamps(logs) == utc("2024-03-01T10:00:00+00:00", "2024-03-01T08:00:00+00:00",
                               "2024-03-01T07:00:00.250+00:00", "2024-03-01T08:00:00+00:00")
    assert logs.current.timestamp.kind == "iso"
    assert logs.current.timestamp.naive is False
    assert NAIVE_NOTE not in logs.notes
    dtype = logs.current.table.schema()["timestamp"]
    assert dtype.is_timestamp() and dtype.timezone == "UTC"


def test_naive_iso_taken_as_utc_with_note(write):
    p = write("a.csv", "timestamp\n2024-03-01T10:00:00\n2024-03-01 23:59:59.5\n2024-03-02\n")
    logs = load(p)
    assert stamps(logs) == utc("2024-03-01T10:00:00Z", "2024-03-01T23:59:59.5Z",
                               "2024-03-02T00:00:00Z")
    assert logs.current.timestamp.naive is True
    assert NAIVE_NOTE in logs.notes


def test_naive_reference_also_noted(write):
    ref = write("ref.jsonl", [{"timestamp": "2024-03-01T10:00:00"}])
    cur = write("cur.jsonl", [{"timestamp": "2024-03-01T10:00:00Z"}])
    cfg = load_config(overrides={"sources": {"current": cur, "reference": ref},
                                 "task": "binary"})
    logs = load_logs(cfg)
    assert logs.reference.timestamp.naive and not logs.current.timestamp.naive
    assert NAIVE_NOTE in logs.notes


def test_epoch_seconds_and_milliseconds_json_ints(write):
    p = write("a.jsonl", [{"timestamp": 1709287200}, {"timestamp": 1709287200123},
                          {"timestamp": 1709287200.5}])
    logs = load(p)
    assert stamps(logs) == utc("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.123Z",
                               "2024-03-01T10:00:00.5Z")
    assert logs.current.timestamp.kind == "epoch"
    assert logs.current.timestamp.naive is False
    assert logs.notes == []


def test_epoch_strings_in_csv(write):
    p = write("a.csv", "timestamp,x\n1709287200,1\n1709287200123,2\n 1709287201 ,3\n")
    logs = load(p)
    assert stamps(logs) == utc("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.123Z",
                               "2024-03-01T10:00:01Z")
    assert logs.current.timestamp.kind == "epoch"


def test_epoch_in_parquet_ints(write):
    p = write("a.parquet", pd.DataFrame({"timestamp": [1709287200, 1709287200123]}))
    assert stamps(load(p)) == utc("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.123Z")


def test_native_parquet_tz_aware(write):
    ts = pd.to_datetime(["2024-03-01 12:00:00", "2024-03-01 13:00:00"]).tz_localize(
        "Europe/Berlin")
    logs = load(write("a.parquet", pd.DataFrame({"timestamp": ts, "x": [1, 2]})))
    assert stamps(logs) == utc("2024-03-01T11:00:00Z", "2024-03-01T12:00:00Z")
    assert logs.current.timestamp.kind == "native"
    assert logs.current.timestamp.naive is False
    assert NAIVE_NOTE not in logs.notes


def test_native_parquet_naive(write):
    ts = pd.to_datetime(["2024-03-01 12:00:00", "2024-03-01 13:00:00"])
    logs = load(write("a.parquet", pd.DataFrame({"timestamp": ts, "x": [1, 2]})))
    assert stamps(logs) == utc("2024-03-01T12:00:00Z", "2024-03-01T13:00:00Z")
    assert logs.current.timestamp == type(logs.current.timestamp)("native", True)
    assert NAIVE_NOTE in logs.notes


def test_mapped_timestamp_column(write):
    p = write("a.jsonl", [{"event_time": "2024-03-01T10:00:00+01:00"}])
    logs = load(p, columns={"timestamp": "event_time"})
    assert stamps(logs) == utc("2024-03-01T09:00:00Z")


def test_mixed_naive_and_aware_is_an_error(write):
    p = write("a.jsonl", [{"ts": "2024-03-01T10:00:00Z"}, {"ts": "2024-03-01T11:00:00"}])
    with pytest.raises(InputError) as err:
        load(p, columns={"timestamp": "ts"})
    msg = str(err.value)
    assert p in msg and "'ts'" in msg
    assert "'2024-03-01T10:00:00Z'" in msg and "'2024-03-01T11:00:00'" in msg
    assert err.value.column == "ts"


def test_date_only_values_are_naive(write):
    # a date such as 2024-03-01 ends in "-01": it is not an offset
    p = write("a.jsonl", [{"timestamp": "2024-03-01"}, {"timestamp": "2024-03-02"}])
    logs = load(p)
    assert logs.current.timestamp.naive is True
    q = write("b.jsonl", [{"timestamp": "2024-03-01T10:00:00Z"}, {"timestamp": "2024-03-02"}])
    with pytest.raises(InputError, match="mixes"):
        load(q)


def test_nothing_parses_is_an_error(write):
    p = write("a.csv", "when,x\nyesterday,1\nsoon,2\n")
    with pytest.raises(InputError) as err:
        load(p, columns={"timestamp": "when"})
    msg = str(err.value)
    assert p in msg and "'when'" in msg
    assert "'yesterday'" in msg or "'soon'" in msg
    assert err.value.column == "when"


def test_single_bad_value_quarantined(write):
    p = write("a.jsonl", [{"timestamp": "2024-03-01T10:00:00Z"}, {"timestamp": "not a time"},
                          {"timestamp": 1709287200}])
    cur = load(p).current
    assert (cur.rows_read, cur.rows_used, cur.rows_quarantined) == (3, 2, 1)
    e = cur.quarantine_summary()["examples"][0]
    assert (e["line"], e["reason"], e["detail"]) == (2, "timestamp is not a timestamp",
                                                      "not a time")


def test_epoch_and_iso_may_mix(write):
    p = write("a.jsonl", [{"timestamp": "2024-03-01T10:00:00Z"}, {"timestamp": 1709290800}])
    assert stamps(load(p)) == utc("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z")


# --- years and implausible epoch values (issue 12) ----------------------------------------

YEARS = [2014, 2015, 2014, 2016, 2018]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "parquet-float"])
def test_a_column_of_years_is_read_as_1_january_of_each_year(write, fmt):
    if fmt == "jsonl":
        p = write("a.jsonl", [{"year": y, "x": i} for i, y in enumerate(YEARS)])
    elif fmt == "csv":
        p = write("a.csv", "year,x\n" + "".join(f"{y},{i}\n" for i, y in enumerate(YEARS)))
    else:
        years = pd.Series(YEARS, dtype="float64" if fmt == "parquet-float" else "int64")
        p = write("a.parquet", pd.DataFrame({"year": years, "x": range(5)}))
    logs = load(p, columns={"timestamp": "year"})
    assert stamps(logs) == utc(*(f"{y}-01-01T00:00:00Z" for y in YEARS))
    assert logs.current.timestamp.kind == "year"
    assert any("'year'" in n and "holds years (2014 to 2018)" in n and "1 January" in n
               for n in logs.notes)


@pytest.mark.parametrize("values, found", [
    ([1, 2, 3, 500], "from 1 to 500"),                        # small counts, not times
    ([1709287200000000, 1709287300000000],                    # microseconds
     "from 1709287200000000 to 1709287300000000"),
    ([2014, 2015, 1999.5], "from 1999.5 to 2015"),            # not whole years
    ([-5, 12000000000], "from -5 to 12000000000"),            # neither side is plausible
])
def test_implausible_epoch_values_are_an_error_with_the_range(write, values, found):
    p = write("a.jsonl", [{"t": v, "x": 1} for v in values])
    with pytest.raises(InputError) as err:
        load(p, columns={"timestamp": "t"})
    msg = str(err.value)
    assert p in msg and "'t'" in msg and found in msg
    assert "epoch seconds" in msg and "milliseconds" in msg and "years" in msg
    assert err.value.column == "t"


def test_one_implausible_epoch_value_among_good_ones_is_quarantined(write):
    p = write("a.csv", "timestamp,x\n1709287200,1\n0,2\n1709287260,3\n")
    cur = load(p).current
    assert (cur.rows_read, cur.rows_used, cur.rows_quarantined) == (3, 2, 1)
    e = cur.quarantine_summary()["examples"][0]
    assert (e["line"], e["detail"]) == (3, "0")
    assert stamps(load(p)) == utc("2024-03-01T10:00:00Z", "2024-03-01T10:01:00Z")
