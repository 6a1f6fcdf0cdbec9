"""Engine aggregates for data quality: per window and feature, the values that are missing,
not finite, outside the reference's range, unseen in the reference, or of the wrong type.

Each function runs one query; only the counts come back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis.expr.types as ir
import pandas as pd

from obskit.profiles._common import W, is_infinite
from obskit.schema import is_numeric_type, wrong_type_reason

__all__ = ["COUNTS", "reference_quality", "quality_by_window", "wrong_type_by_window",
           "wrong_type_reasons"]

#: the counts of :func:`quality_by_window`, per (window, feature)
COUNTS = ("rows", "missing", "non_finite", "out_of_range", "unseen")


def _finite(col: ir.Value) -> ir.BooleanValue:
    c = col.cast("float64")
    return c.notnull() & ~c.isnan() & ~is_infinite(c)


def _bad_value_counts(table: ir.Table, features: Mapping[str, str]) -> dict[str, ir.Value]:
    """Aggregates of ``table``: ``rows``, and for the i-th feature ``m{i}`` (nulls) and, for
    numeric and datetime features, ``x{i}`` (NaN, ±inf)."""
    aggs: dict[str, ir.Value] = {"rows": table.count()}
    for i, f in enumerate(features):
        col = table[f]
        aggs[f"m{i}"] = col.isnull().cast("int64").sum()
        if is_numeric_type(features[f]):
            aggs[f"x{i}"] = (col.cast("float64").notnull() & ~_finite(col)).cast("int64").sum()
    return aggs


def reference_quality(reference: ir.Table, features: Mapping[str, str]) -> dict[str, dict]:
    """Rows, missing and non-finite values and finite range of each reference feature.

    Parameters
    ----------
    reference : ibis Table
        The typed reference log.
    features : mapping of str to str
        Feature name → type.

    Returns
    -------
    dict of str to dict
        Per feature: ``rows``, ``missing`` (null), ``non_finite`` (NaN, +inf, -inf; numeric
        features) and ``min`` / ``max`` of the finite values (numeric features).

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"x": [1.0, None, float("inf"), 3.0]}))
    >>> reference_quality(t, {"x": "numeric"})["x"]
    {'rows': 4, 'missing': 1, 'non_finite': 1, 'min': 1.0, 'max': 3.0}
    """
    names = list(features)
    aggs = _bad_value_counts(reference, features)
    for i, f in enumerate(names):
        if is_numeric_type(features[f]):
            c, ok = reference[f].cast("float64"), _finite(reference[f])
            aggs[f"lo{i}"] = c.min(where=ok)
            aggs[f"hi{i}"] = c.max(where=ok)
    row = reference.aggregate(**aggs).execute().iloc[0]
    out = {}
    for i, f in enumerate(names):
        entry: dict[str, int | float | None] = {"rows": int(row["rows"]),
                                                "missing": int(row[f"m{i}"] or 0)}
        if is_numeric_type(features[f]):
            entry["non_finite"] = int(row[f"x{i}"] or 0)
            entry["min"] = None if pd.isna(row[f"lo{i}"]) else float(row[f"lo{i}"])
            entry["max"] = None if pd.isna(row[f"hi{i}"]) else float(row[f"hi{i}"])
        out[f] = entry
    return out


def quality_by_window(table: ir.Table, features: Mapping[str, str], *,
                      ranges: Mapping[str, tuple[float, float]] | None = None,
                      categories: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Data-quality counts per (window, feature), from one query.

    Parameters
    ----------
    table : ibis Table
        A typed log with ``window_index``.
    features : mapping of str to str
        Feature name → type.
    ranges : mapping of str to (float, float), optional
        Numeric feature → its reference range ``(min, max)``.
    categories : mapping of str to sequence of str, optional
        Feature → its known categories (as text).

    Returns
    -------
    DataFrame
        Columns ``window_index, feature`` and :data:`COUNTS`: ``missing`` counts nulls;
        ``non_finite`` NaN and ±inf (numeric features, else 0); ``out_of_range`` finite values
        below ``ranges[f][0]`` or above ``ranges[f][1]`` (numeric features with a range, else
        null); ``unseen`` non-null values whose text is not in ``categories[f]`` (other
        features with categories, else null).
    """
    ranges, categories = ranges or {}, categories or {}
    names = list(features)
    aggs = _bad_value_counts(table, features)
    for i, f in enumerate(names):
        col = table[f]
        if is_numeric_type(features[f]):
            c, ok = col.cast("float64"), _finite(col)
            if f in ranges:
                lo, hi = ranges[f]
                aggs[f"o{i}"] = (ok & ((c < lo) | (c > hi))).cast("int64").sum()
        elif f in categories:
            seen = col.cast("string").isin([str(v) for v in categories[f]])
            aggs[f"u{i}"] = (col.notnull() & ~seen).cast("int64").sum()
    frame = table.group_by(W).aggregate(**aggs).order_by(W).execute()
    parts = []
    for i, f in enumerate(names):
        part = pd.DataFrame({W: frame[W].astype("int64"), "feature": f,
                             "rows": frame["rows"].astype("int64"),
                             "missing": frame[f"m{i}"].fillna(0).astype("int64")})
        part["non_finite"] = (frame[f"x{i}"].fillna(0).astype("int64") if f"x{i}" in frame
                              else 0)
        part["out_of_range"] = (frame[f"o{i}"].fillna(0).astype("int64") if f"o{i}" in frame
                                else None)
        part["unseen"] = (frame[f"u{i}"].fillna(0).astype("int64") if f"u{i}" in frame
                          else None)
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[W, "feature", *COUNTS])
    return pd.concat(parts, ignore_index=True)[[W, "feature", *COUNTS]]


def wrong_type_reasons(features: Mapping[str, str]) -> dict[str, str]:
    """The quarantine reasons of values of the wrong type, in the loader's wording.

    Parameters
    ----------
    features : mapping of str to str
        Feature name → type.

    Returns
    -------
    dict of str to str
        Reason (:func:`obskit.schema.wrong_type_reason`) → its feature, for the typed
        features (categorical ones take any value).
    """
    reasons = {f: wrong_type_reason(f, kind) for f, kind in features.items()}
    return {reason: f for f, reason in reasons.items() if reason}


def wrong_type_by_window(quarantine: ir.Table, features: Mapping[str, str], *,
                         by_window: bool = True) -> pd.DataFrame:
    """Quarantined rows with a value of the wrong type, per feature (and window).

    Parameters
    ----------
    quarantine : ibis Table
        A quarantine table (with ``window_index`` when ``by_window``).
    features : mapping of str to str
        Feature name → type.
    by_window : bool, default True
        Count per window, or over the whole table.

    Returns
    -------
    DataFrame
        Columns ``[window_index,] feature, wrong_type``.
    """
    reasons = wrong_type_reasons(features)
    keys = [W] if by_window else []
    if not reasons:
        return pd.DataFrame(columns=[*keys, "feature", "wrong_type"])
    q = quarantine.filter(quarantine.reason.isin(list(reasons)))
    counts = q.group_by([*keys, "reason"]).aggregate(wrong_type=q.count()).execute()
    counts["feature"] = counts.reason.map(reasons)
    counts["wrong_type"] = counts.wrong_type.astype("int64")
    return counts[[*keys, "feature", "wrong_type"]]
