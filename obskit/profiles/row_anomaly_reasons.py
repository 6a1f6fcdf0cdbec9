"""Engine expressions for row anomalies: why a row looks wrong, and how badly.

Each reason is a boolean Ibis expression over one row with a severity expression (0 when
the reason does not hold); their sum ranks rows in the engine. Only reference limits,
per-window counts and bounded row selections come back to Python.

Severity of each reason at its usual rate (the row's severity is the sum over its reasons,
each multiplied in its window by :func:`obskit.monitors.window_anomalies.reason_rarity`'s
factor, from 1 at the reference's rate of that reason up to 4 at 1000 times it):

=========================  ===============================================================
``failed``                 3
``confident_mistake``      2.5
``out_of_range:<f>``       2 + min(log10(1 + distance outside [min, max] / (max − min)), 3)
                           (a constant reference feature: distance / max(|max|, 1))
``unseen_category:<f>``    2
``latency_outlier``        1 + min(2 · log10(latency / limit), 3)
``score_outlier``          1.5
``input_outlier``          1 + the isolation forest's anomaly score (0..1), added in Python
=========================  ===============================================================

Why these weights: a failure or a confidently wrong answer is a fact about the prediction;
a value outside everything the reference had (``out_of_range``, ``unseen_category``)
never happens on reference-like data, so it outranks the reasons that fire on about 1 %
of normal rows by construction (latency above the p99, scores beyond the 0.1 % / 99.9 %
quantiles, the forest's contamination). A latency just over the limit weighs 1, twice the
limit ≈ 1.6, ten times 3 (as much as a failure); distances grow by decades, so a unit
change (× 1000) ranks far above a value just outside the range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from obskit.io.engine import engine_name, fetch_frame, stable_hash
from obskit.profiles._common import W, is_infinite
from obskit.profiles.health import error_flag

__all__ = [
    "TOP_CATEGORIES",
    "RowRules",
    "Reason",
    "row_reasons",
    "reason_counts",
    "select_rows",
    "reference_limits",
    "known_categories",
    "singleton_counts",
    "row_hash",
]

#: categories kept per feature from the reference (most frequent first)
TOP_CATEGORIES = 1000
#: severity of the fixed-weight reasons
FAILED, CONFIDENT_MISTAKE, UNSEEN, SCORE_OUTLIER = 3.0, 2.5, 2.0, 1.5
#: base severities of the graded reasons, and the cap of their log10 terms
OUT_OF_RANGE, LATENCY, LOG_CAP = 2.0, 1.0, 3.0
_NULL = "<null>"


@dataclass(frozen=True)
class RowRules:
    """What the reference says a normal row looks like; None or absent: not checked."""

    latency_limit: float | None = None
    score_range: tuple[float, float] | None = None
    #: numeric feature → (reference min, reference max)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    #: categorical / boolean feature → every value the reference has
    categories: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: confident-mistake cut-off on max(score, 1 − score)
    confident: float | None = None
    positive_label: str = "1"


@dataclass(frozen=True)
class Reason:
    """One reason code with its per-row flag and severity (0 where the flag is False)."""

    code: str
    flag: ir.BooleanValue
    severity: ir.FloatingValue


def _finite(value: ir.Value) -> ir.FloatingValue:
    v = value.cast("float64")
    return ibis.ifelse(v.isnan() | is_infinite(v), ibis.null("float64"), v)


def _log_term(ratio: ir.FloatingValue, *, scale: float = 1.0) -> ir.FloatingValue:
    """min(scale · log10(ratio), LOG_CAP), ratio floored at 1 (the engine never sees
    log10 of 0 or less)."""
    return ibis.least(scale * ibis.greatest(ratio, 1.0).log10(), LOG_CAP)


def _reason(code: str, flag: ir.BooleanValue, severity: float | ir.FloatingValue) -> Reason:
    flag = flag.fill_null(False)
    return Reason(code, flag, ibis.ifelse(flag, severity, 0.0).cast("float64"))


def row_reasons(table: ir.Table, rules: RowRules) -> list[Reason]:
    """The engine-computable reasons that the rules and a table's columns allow.

    Parameters
    ----------
    table : ibis Table
        A typed log.
    rules : RowRules
        The fitted rules (limits, categories, ranges).

    Returns
    -------
    list of Reason
        Each reason with its code, flag expression and severity.
    """
    cols = table.columns
    out = []
    if "status" in cols or "error" in cols:
        out.append(_reason("failed", error_flag(table), FAILED))
    if rules.latency_limit is not None and "latency_ms" in cols:
        lat, limit = _finite(table.latency_ms), float(rules.latency_limit)
        out.append(_reason("latency_outlier", lat > limit,
                           LATENCY + _log_term(lat / max(limit, 1e-9), scale=2.0)))
    for f, (lo, hi) in rules.ranges.items():
        x = _finite(table[f])
        span = hi - lo if hi > lo else max(abs(hi), 1.0)
        distance = ibis.ifelse(x < lo, lo - x, x - hi)
        out.append(_reason(f"out_of_range:{f}", (x < lo) | (x > hi),
                           OUT_OF_RANGE + _log_term(1.0 + distance / span)))
    for f, known in rules.categories.items():
        v = table[f].cast("string")
        out.append(_reason(f"unseen_category:{f}", v.notnull() & ~v.isin(list(known)), UNSEEN))
    if rules.score_range is not None and "score" in cols:
        s = _finite(table.score)
        lo, hi = rules.score_range
        out.append(_reason("score_outlier", (s < lo) | (s > hi), SCORE_OUTLIER))
    if rules.confident is not None and "score" in cols and "label" in cols:
        s = _finite(table.score)
        label = table.label.cast("string")
        if "prediction" in cols:
            wrong = table.prediction.cast("string") != label
        else:
            wrong = (s >= 0.5) != (label == rules.positive_label)
        confident = ibis.greatest(s, 1.0 - s) >= rules.confident
        out.append(_reason("confident_mistake", label.notnull() & wrong & confident,
                           CONFIDENT_MISTAKE))
    return out


def reason_counts(table: ir.Table, reasons: Sequence[Reason]) -> pd.DataFrame:
    """Rows flagged per (window, reason) over whole windows.

    Parameters
    ----------
    table : ibis Table
        A typed log with ``window_index``.
    reasons : sequence of Reason
        From :func:`row_reasons`.

    Returns
    -------
    DataFrame
        Columns ``window_index, reason, rows, rows_checked`` (the window's rows); reasons
        with no rows are left out.
    """
    if not reasons:
        return pd.DataFrame({W: [], "reason": [], "rows": [], "rows_checked": []})
    aggs = {f"_a{i}": r.flag.cast("int64").sum() for i, r in enumerate(reasons)}
    wide = table.group_by(W).aggregate(_n=table.count(), **aggs).order_by(W).execute()
    long = wide.melt(id_vars=[W, "_n"], var_name="_a", value_name="rows")
    long["reason"] = long["_a"].map({f"_a{i}": r.code for i, r in enumerate(reasons)})
    long = long[long.rows > 0].rename(columns={"_n": "rows_checked"})
    order = {r.code: i for i, r in enumerate(reasons)}
    long = long.assign(_o=long.reason.map(order)).sort_values([W, "_o"])
    return long[[W, "reason", "rows", "rows_checked"]].astype(
        {W: "int64", "rows": "int64", "rows_checked": "int64"}).reset_index(drop=True)


def row_hash(table: ir.Table, features: Sequence[str], seed: str) -> ir.StringValue:
    """A deterministic pseudo-random key per row.

    Parameters
    ----------
    table : ibis Table
        A typed log.
    features : sequence of str
        The features hashed when the table has no ``request_id``.
    seed : str
        The salt.

    Returns
    -------
    ibis string expression
        A hash of ``request_id`` (else of the features and ``timestamp``) and ``seed``
        (:func:`~obskit.io.engine.stable_hash`).
    """
    keys = ["request_id"] if "request_id" in table.columns else [
        *features, *(["timestamp"] if "timestamp" in table.columns else [])]
    text = ibis.literal(seed)
    for k in keys:
        text = text.concat("|", table[k].cast("string").fill_null(_NULL))
    return stable_hash(text)


def select_rows(table: ir.Table, reasons: Sequence[Reason], columns: Sequence[str], *,
                top: int, sample: int, key: ir.StringValue) -> pd.DataFrame:
    """Per window, in one query: the most severe rows and a deterministic sample.

    On DuckDB, two narrow rankings find each window's cut-offs (the ``sample``-th smallest
    ``key``; the ``top``-th row of severity > 0 in severity-descending, ``key`` order) and
    one pass keeps the rows at or before either: only the key and the severity are
    sorted, never the rows with their ~80 columns (that sort was a 1M-row report's peak
    memory, and this query its slowest: 4.8 → 3.9 s). Rows whose key equals a cut-off key
    are all kept (keys are 52-bit hashes of ``request_id``: equal only for a reused id,
    or for identical rows without one). On Spark, where each ranking and join is another
    shuffle (the cut-offs were 3 s slower on the 50,000-row demo), the rows are ranked
    in place, two window functions over the table.

    Parameters
    ----------
    table : ibis Table
        A typed log with ``window_index``.
    reasons : sequence of Reason
        From :func:`row_reasons`.
    columns : sequence of str
        The columns returned.
    top : int
        The rows of highest engine severity (> 0) kept per window.
    sample : int
        The rows of smallest ``key`` kept per window.
    key : ibis string expression
        The sample key (:func:`row_hash`).

    Returns
    -------
    DataFrame
        Columns ``window_index``, ``columns``, ``_severity`` (engine severity), ``_key``,
        ``_sampled`` (the row is in the sample), ``_a0…`` (each reason's flag) and ``_s0…``
        (each reason's severity, 0 where it does not hold), in window and key order.
    """
    flags = {f"_a{i}": r.flag for i, r in enumerate(reasons)}
    flags.update({f"_s{i}": r.severity for i, r in enumerate(reasons)})
    t = table.mutate(_key=key, **flags)
    # the sum of the severity columns, not of their expressions again: each expression is
    # written once in the query (Spark's planner slows badly on repeated large expressions)
    t = t.mutate(_severity=sum((t[f"_s{i}"] for i in range(len(reasons))),
                               ibis.literal(0.0)))
    if engine_name(ibis.get_backend(table)) == "spark":
        t = _ranked_in_place(t, top=top, sample=sample)
    else:
        severity = sum((r.severity for r in reasons), ibis.literal(0.0))
        t = _before_cut_offs(t, table.select(W, _key=key, _severity=severity),
                             top=top, sample=sample)
    out = fetch_frame(t.select(W, *columns, "_severity", "_key", "_sampled", *flags))
    return out.sort_values([W, "_key"], kind="stable").reset_index(drop=True)


def _before_cut_offs(t: ir.Table, narrow: ir.Table, *, top: int, sample: int) -> ir.Table:
    """The rows of ``t`` (with ``_key`` and ``_severity``) at or before their window's cut-offs,
    found by ranking ``narrow`` (window, key and severity of the same rows), with
    ``_sampled``."""
    ranked = narrow.mutate(_r=ibis.row_number().over(group_by=W, order_by=narrow._key))
    sample_cut = ranked.filter(ranked._r == sample - 1).select(_w_s=ranked[W],
                                                              _key_s=ranked._key)
    severe = narrow.filter(narrow._severity > 0)
    severe = severe.mutate(_r=ibis.row_number().over(
        group_by=W, order_by=[ibis.desc(severe._severity), severe._key]))
    top_cut = severe.filter(severe._r == top - 1).select(
        _w_t=severe[W], _severity_t=severe._severity, _key_t=severe._key)
    t = t.left_join(sample_cut, t[W] == sample_cut._w_s).left_join(
        top_cut, t[W] == top_cut._w_t)  # a window without a cut-off has fewer rows: all kept
    sampled = (t._key_s.isnull() | (t._key <= t._key_s)) if sample > 0 else ibis.literal(False)
    severest = ((t._severity > 0) & (t._severity_t.isnull() | (t._severity > t._severity_t)
                                     | ((t._severity == t._severity_t) & (t._key <= t._key_t)))
                if top > 0 else ibis.literal(False))
    t = t.mutate(_sampled=sampled, _severest=severest)
    return t.filter(t._sampled | t._severest)


def _ranked_in_place(t: ir.Table, *, top: int, sample: int) -> ir.Table:
    """The rows of ``t`` (with ``_key`` and ``_severity``) ranked within their window by key
    and by severity, those within ``sample`` or ``top``, with ``_sampled``."""
    t = t.mutate(_srank=ibis.row_number().over(group_by=W, order_by=t._key))
    # the severity rank over the rows left once the unsampled severity-0 rows are gone:
    # those rank after every row of severity > 0, so the ranks of the rows it keeps are
    # the ranks over the whole window (one window sort over the whole table, not two)
    t = t.filter((t._severity > 0) | (t._srank < sample))
    t = t.mutate(
        _rank=ibis.row_number().over(group_by=W, order_by=[ibis.desc(t._severity), t._key]))
    t = t.filter(((t._severity > 0) & (t._rank < top)) | (t._srank < sample))
    return t.mutate(_sampled=t._srank < sample)


def reference_limits(reference: ir.Table, *, numeric: Sequence[str],
                     latency_quantile: float | None,
                     score_quantiles: tuple[float, float] | None) -> dict[str, Any]:
    """The reference limits of the row rules, in one query.

    Parameters
    ----------
    reference : ibis Table
        The typed reference log.
    numeric : sequence of str
        Numeric features whose range is needed.
    latency_quantile : float or None
        The latency quantile (None: no latency limit).
    score_quantiles : (float, float) or None
        The low and high score quantiles (None: no score limits).

    Returns
    -------
    dict
        ``latency`` (the quantile of finite latencies, ms), ``score`` ((low, high)
        quantiles of finite scores) and ``ranges`` (numeric feature → (min, max) of its
        finite values); a limit the reference has no data for is None / left out.
    """
    cols = reference.columns
    aggs: dict[str, ir.Value] = {}
    if latency_quantile is not None and "latency_ms" in cols:
        aggs["lat"] = _finite(reference.latency_ms).quantile(latency_quantile)
    if score_quantiles is not None and "score" in cols:
        s = _finite(reference.score)
        aggs["s_lo"], aggs["s_hi"] = s.quantile(score_quantiles[0]), s.quantile(
            score_quantiles[1])
    for i, f in enumerate(numeric):
        x = _finite(reference[f])
        aggs[f"min{i}"], aggs[f"max{i}"] = x.min(), x.max()
    row = reference.aggregate(**aggs).execute().iloc[0] if aggs else {}

    def num(name: str) -> float | None:
        v = row.get(name) if aggs else None
        return None if v is None or pd.isna(v) else float(v)

    lo, hi = num("s_lo"), num("s_hi")
    ranges = {}
    for i, f in enumerate(numeric):
        a, b = num(f"min{i}"), num(f"max{i}")
        if a is not None and b is not None:
            ranges[f] = (a, b)
    return {"latency": num("lat"), "score": (lo, hi) if lo is not None and hi is not None
            else None, "ranges": ranges}


def singleton_counts(reference: ir.Table, features: Sequence[str]) -> dict[str, int]:
    """Per feature, how many of its values occur exactly once in the reference.

    This count over the reference rows is the Good–Turing estimate of how often a new row
    has a value the reference never had (Good, 1953).

    Parameters
    ----------
    reference : ibis Table
        The typed reference log.
    features : sequence of str
        Categorical features.

    Returns
    -------
    dict of str to int
        Feature → its values seen once.
    """
    out = {}
    for f in features:
        t = reference.filter(reference[f].notnull())
        cat = t[f].cast("string").name("category")
        counts = t.group_by(cat).aggregate(n=t.count())
        out[f] = int(counts.filter(counts.n == 1).count().execute() or 0)
    return out


def known_categories(reference: ir.Table, feature: str, *, limit: int = TOP_CATEGORIES
                     ) -> tuple[list[str], bool]:
    """The most frequent reference values of a feature.

    Parameters
    ----------
    reference : ibis Table
        The typed reference log.
    feature : str
        A categorical feature.
    limit : int, default TOP_CATEGORIES
        The most values kept.

    Returns
    -------
    values : list of str
        The ``limit`` most frequent values, as text.
    complete : bool
        Whether those are all of its values.
    """
    t = reference.filter(reference[feature].notnull())
    cat = t[feature].cast("string").name("category")
    counts = t.group_by(cat).aggregate(n=t.count())
    top = counts.order_by([ibis.desc("n"), "category"]).limit(limit + 1).execute()
    return top.category.head(limit).tolist(), len(top) <= limit
