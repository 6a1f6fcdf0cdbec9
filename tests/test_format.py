"""obskit._format: the one rule for finite numbers and for how numbers read."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from obskit._format import (
    finite,
    fmt_int,
    fmt_metric,
    fmt_ms,
    fmt_num,
    fmt_pct,
    fmt_time,
    parse_time,
)


@pytest.mark.parametrize("value, expected", [
    (2, 2.0), (0.5, 0.5), (np.float32(1.5), 1.5), (np.int64(3), 3.0), (Decimal("2.5"), 2.5),
    (None, None), (math.nan, None), (math.inf, None), (-math.inf, None), (np.nan, None),
    (True, None), (False, None), ("1", None), ([1], None), ({"a": 1}, None),
])
def test_finite_keeps_real_finite_numbers_only(value, expected):
    got = finite(value)
    assert got == expected
    assert got is None or type(got) is float


def test_number_formats_read_na_for_anything_not_a_finite_number():
    for fmt in (fmt_num, fmt_int, fmt_pct, fmt_ms):
        assert fmt(None) == fmt(math.nan) == fmt("x") == fmt(True) == "n/a"
    assert fmt_metric("performance.roc_auc", None) == "n/a"


def test_fmt_num_three_significant_digits_then_thousands():
    assert fmt_num(0.76529) == "0.765"
    assert fmt_num(58.367) == "58.4"
    assert fmt_num(0) == "0"
    assert fmt_num(999.4) == "999"
    assert fmt_num(1234.5) == "1,234"
    assert fmt_num(-12345) == "-12,345"


def test_counts_rates_and_durations():
    assert fmt_int(12345.0) == "12,345"
    assert fmt_ms(412.6) == "413 ms"
    assert fmt_pct(0.1056) == "10.6%"
    assert fmt_pct(0.005) == "0.50%"
    assert fmt_pct(0) == "0.0%"


@pytest.mark.parametrize("metric, value, expected", [
    ("health.latency_p95_ms", 412.6, "413 ms"),
    ("health.error_rate", 0.05, "5.0%"),
    ("drift_share", 0.25, "25.0%"),
    ("health.label_coverage", 0.5, "50.0%"),
    ("data_quality.income.missing_increase", 0.1, "10.0%"),
    ("performance.roc_auc", 0.76529, "0.765"),
    (None, 2.0, "2"),
])
def test_fmt_metric_reads_each_metric_in_its_unit(metric, value, expected):
    assert fmt_metric(metric, value) == expected


def test_times_are_utc_and_drop_midnight():
    assert fmt_time("2026-11-09T13:00:00Z") == "2026-11-09 13:00"
    assert fmt_time("2026-11-09T00:00:00") == "2026-11-09"
    assert fmt_time("2026-11-09T14:30:00+01:00") == "2026-11-09 13:30"
    assert fmt_time("not a time") == "not a time"
    assert fmt_time(None) == "n/a"
    assert parse_time(5) is None
    assert parse_time("2026-11-09T13:00:00Z").tzinfo is None
