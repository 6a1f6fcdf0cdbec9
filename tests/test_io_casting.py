"""Typing raw columns: the engine's canonical label text equals its Python mirror
(:func:`normalise_label`) for every source type, and the cheap blank test equals stripping."""

from __future__ import annotations

import math

import ibis
import pyarrow as pa
import pytest

from obskit.io.casting import as_label_text, as_text, is_blank, normalise_label, strip_text
from obskit.io.engine import connect

TEXT = ["1", " 1 ", "1.0", "1.5", "", "   ", "\t", "\n x \n", "true", " TRUE ", "False",
        "yes", "abc", " a b ", None, "1e3", "-0", "\u00a0", "\u00a0x", "12345678901234567",
        "9e15", " \t\r\n", "é", "\x01a", "\x1f", "!", "x ",
        # numbers no int64 holds: text labels like any other, never an engine error
        "nan", "NaN", "inf", "-Infinity", "1e20", "-1e300"]


ASCII_SPACE = " \t\n\r\f"  # the engine strips these; Python's strip() more


def _is_nan(value) -> bool:
    try:
        return math.isnan(float(value))
    except ValueError:
        return False


def _run(values, dtype, **exprs):
    t = ibis.memtable(pa.table({"v": pa.array(values, dtype)}))
    return connect().execute(t.select(v=t.v, **{k: f(t.v) for k, f in exprs.items()}))


@pytest.mark.parametrize("values, dtype", [
    (TEXT, pa.string()),
    ([0, 1, -1, 10**15, -10**15 + 1, 10**16, 2**62, None], pa.int64()),
    ([0, 1, -1, None], pa.int8()),
    ([0.0, 1.0, -1.0, 1.5, 1e14, -2.5, 0.1, 123456.0, None, float("inf"), 1e20,
      float("nan")], pa.float64()),
    ([True, False, None], pa.bool_()),
])
def test_label_text_is_the_canonical_text_of_normalise_label(values, dtype):
    got = _run(values, dtype, label=as_label_text, text=as_text)
    for v, label, text in zip(values, got.label, got.text, strict=True):
        if dtype == pa.bool_():
            assert label == ("1" if v else "0")  # a missing boolean reads as false
            continue
        blank = v is None or (isinstance(v, str) and not v.strip(ASCII_SPACE))
        assert (text is None) == blank, repr(v)
        if not blank and _is_nan(v):  # NaN is no class: a missing label, kept as text
            assert label is None, repr(v)
            continue
        assert (label is None) == blank, repr(v)
        if blank:
            continue
        assert text == (v if isinstance(v, str) else text), repr(v)
        unicode_space = isinstance(v, str) and v.strip() != v.strip(ASCII_SPACE)
        if not unicode_space and (dtype != pa.float64() or float(v).is_integer()):
            assert label == normalise_label(v), repr(v)


def test_is_blank_is_stripping_to_nothing():
    got = _run(TEXT, pa.string(), blank=is_blank, stripped=lambda c: strip_text(c) == "")
    for v, blank, stripped in zip(TEXT, got.blank, got.stripped, strict=True):
        assert bool(blank) == (bool(stripped) if v is not None else False), repr(v)
