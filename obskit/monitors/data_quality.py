"""Data quality of each window against the reference: missing, non-finite, out-of-range,
unseen and wrong-type values per feature.

Each count becomes a share of the window and is compared with the share expected from the
reference (``<measure>_increase`` = window share − reference share, what the default alert
rules watch):

- ``missing``: null values, of the window's rows; expected: the reference's missing share.
- ``non_finite``: NaN, +inf and -inf in a numeric feature, of its rows; expected: the
  reference's share. These values are left out of every drift statistic.
- ``out_of_range``: finite values outside the reference's [min, max], of the window's
  finite values; expected: ``2 / (n + 1)`` for ``n`` finite reference values (the chance
  that one more draw from the same continuous distribution falls below the reference's
  minimum or above its maximum).
- ``unseen``: categories absent from the reference, of the window's non-null values;
  expected: the Good–Turing estimate of the unseen mass, the reference's share of values
  seen exactly once (an id-like column expects most values to be new).
- ``wrong_type``: rows the loader quarantined because this feature's value could not be
  read as its type, of the rows read in the window (used + those); expected: the same
  share of the reference.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.monitors._base import check_fitted, with_window
from obskit.profiles import W
from obskit.profiles.data_quality import (
    quality_by_window,
    reference_quality,
    wrong_type_by_window,
)
from obskit.profiles.drift import category_counts_of
from obskit.schema import is_numeric_type

__all__ = ["DataQualityMonitor", "MEASURES", "MAX_CATEGORIES", "data_quality_summary",
           "judged_on_quarantine", "windowed_quarantine"]

#: the measures, in report order; each has a count, ``<m>_share`` and ``<m>_increase``
MEASURES = ("missing", "non_finite", "out_of_range", "unseen", "wrong_type")
#: a categorical feature with more distinct reference values than this is not checked for
#: unseen values (its categories would not fit one query)
MAX_CATEGORIES = 10_000


def _share(count: Any, total: Any) -> float | None:
    if count is None or total is None or pd.isna(count) or pd.isna(total) or not total:
        return None
    return float(count) / float(total)


def _wrong_type_frame(quarantine: ir.Table | None, features: Mapping[str, str],
                      by_window: bool) -> pd.DataFrame | None:
    if quarantine is None:
        return None
    if by_window and W not in quarantine.columns:
        return None
    if by_window:
        quarantine = quarantine.filter(quarantine[W].notnull())
    return wrong_type_by_window(quarantine, features, by_window=by_window)


class DataQualityMonitor:
    """Per-window data quality of each feature against the reference.

    Parameters
    ----------
    features : mapping
        Feature name → ``numeric`` / ``categorical`` / ``boolean``.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> ref = ibis.memtable(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}))
    >>> cur = ibis.memtable(pd.DataFrame({"window_index": [0, 0, 0, 0],
    ...                                   "x": [None, float("inf"), 9.0, 2.0]}))
    >>> frame = DataQualityMonitor({"x": "numeric"}).fit(ref).calculate(cur)
    >>> frame[["missing", "non_finite", "out_of_range"]].iloc[0].tolist()
    [1, 1, 1]
    """

    def __init__(self, features: Mapping[str, str]) -> None:
        self.features = dict(features)

    def fit(self, reference: ir.Table | None, *, quarantine: ir.Table | None = None
            ) -> DataQualityMonitor:
        """Learn the reference shares, ranges and categories, once.

        Parameters
        ----------
        reference : ibis Table or None
            The typed reference log; None gives counts and shares only, with nothing to compare
            with.
        quarantine : ibis Table, optional
            The reference's quarantine table (its wrong-type values).

        Returns
        -------
        DataQualityMonitor
            ``self``, fitted.
        """
        self.reference_: dict[str, dict[str, Any]] = {}
        self.ranges_: dict[str, tuple[float, float]] = {}
        self.categories_: dict[str, list[str]] = {}
        if reference is None or not self.features:
            return self
        stats = reference_quality(reference, self.features)
        others = [f for f, kind in self.features.items() if not is_numeric_type(kind)]
        counts = category_counts_of(reference, others, by_window=False)
        wrong = _wrong_type_frame(quarantine, self.features, by_window=False)
        wrong_counts = (wrong.set_index("feature").wrong_type.to_dict()
                        if wrong is not None and len(wrong) else {})
        for f, kind in self.features.items():
            s = stats[f]
            rows = s["rows"]
            expected: dict[str, float | None] = {"missing": _share(s["missing"], rows)}
            if is_numeric_type(kind):
                finite = rows - s["missing"] - s["non_finite"]
                expected["non_finite"] = _share(s["non_finite"], rows)
                if s["min"] is not None:
                    self.ranges_[f] = (s["min"], s["max"])
                    expected["out_of_range"] = 2.0 / (finite + 1)
            else:
                n = counts[f].n.to_numpy(dtype=np.int64)
                if 0 < n.size <= MAX_CATEGORIES:
                    self.categories_[f] = counts[f].category.astype(str).tolist()
                    expected["unseen"] = float(np.count_nonzero(n == 1)) / float(n.sum())
            if quarantine is not None and f in _wrong_type_features(self.features):
                bad = int(wrong_counts.get(f, 0))
                expected["wrong_type"] = _share(bad, rows + bad)
            self.reference_[f] = {"rows": rows, "expected": expected, "counts": s}
        return self

    def calculate(self, current: ir.Table, *, quarantine: ir.Table | None = None
                  ) -> pd.DataFrame:
        """Count each data-quality measure per window and feature.

        Parameters
        ----------
        current : ibis Table
            The typed current log, with ``window_index`` (without it, one window 0).
        quarantine : ibis Table, optional
            The current quarantine table with ``window_index`` (rows without a window are left
            out); without it, ``wrong_type`` is None.

        Returns
        -------
        DataFrame
            One row per (window, feature): ``rows``, ``values`` (the values a drift statistic
            can use: finite numbers, non-null categories), each measure of :data:`MEASURES` as a
            count, ``<m>_share``, ``reference_<m>_share`` and ``<m>_increase`` (shares in [0, 1];
            None where the measure does not apply or has nothing to compare with).

        Raises
        ------
        NotFittedError
            When :meth:`fit` has not been called.
        """
        check_fitted(self, "reference_")
        current = with_window(current)
        counts = quality_by_window(current, self.features, ranges=self.ranges_,
                                   categories=self.categories_)
        wrong = _wrong_type_frame(quarantine, self.features, by_window=True)
        wrong_at: dict[tuple[int, str], int] = {}
        if wrong is not None:
            wrong_at = {(int(r[W]), r["feature"]): int(r["wrong_type"])
                        for r in wrong.to_dict("records")}
        checked = _wrong_type_features(self.features)
        seen = {(int(w), f) for w, f in zip(counts[W], counts.feature, strict=True)}
        only_quarantined: list[dict[Hashable, Any]] = [
            {W: w, "feature": f, "rows": 0, "missing": 0, "non_finite": 0,
             "out_of_range": None, "unseen": None}
            for (w, f) in sorted(wrong_at) if (w, f) not in seen]
        rows = []
        for r in counts.to_dict("records") + only_quarantined:
            f, kind, w = r["feature"], self.features[r["feature"]], int(r[W])
            numeric = is_numeric_type(kind)
            missing, non_finite = int(r["missing"]), int(r["non_finite"])
            values = int(r["rows"]) - missing - non_finite
            row: dict[str, Any] = {W: w, "feature": f, "kind": kind, "rows": int(r["rows"]),
                                   "values": values, "missing": missing,
                                   "non_finite": non_finite if numeric else None,
                                   "out_of_range": _count(r["out_of_range"]),
                                   "unseen": _count(r["unseen"]),
                                   "wrong_type": (wrong_at.get((w, f), 0)
                                                  if wrong is not None and f in checked
                                                  else None)}
            totals = {"missing": row["rows"], "non_finite": row["rows"],
                      "out_of_range": values, "unseen": values,
                      "wrong_type": row["rows"] + (row["wrong_type"] or 0)}
            expected = self.reference_.get(f, {}).get("expected", {})
            for m in MEASURES:
                share = _share(row[m], totals[m])
                base = expected.get(m)
                row[f"{m}_share"] = share
                row[f"reference_{m}_share"] = base
                row[f"{m}_increase"] = (share - base if share is not None and base is not None
                                        else None)
            rows.append(row)
        columns = [W, "feature", "kind", "rows", "values"]
        for m in MEASURES:
            columns += [m, f"{m}_share", f"reference_{m}_share", f"{m}_increase"]
        return pd.DataFrame(rows, columns=columns).sort_values([W, "feature"],
                                                              ignore_index=True)


def _count(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _wrong_type_features(features: Mapping[str, str]) -> set[str]:
    """Features whose values the loader can fail to read (numeric, datetime and boolean
    ones)."""
    return {f for f, kind in features.items() if kind in ("numeric", "datetime", "boolean")}


def windowed_quarantine(quarantine: ir.Table | None, assign: Any) -> ir.Table | None:
    """The quarantined rows that have a timestamp, placed in their windows.

    Parameters
    ----------
    quarantine : ibis Table or None
        A quarantine table (file, line, reason, detail, timestamp).
    assign : callable
        A window spec's ``assign``: ``assign(table) -> table`` with ``window_index``.

    Returns
    -------
    ibis Table or None
        The rows with a timestamp and their ``window_index``; None without a quarantine
        table or without its timestamps.
    """
    if quarantine is None or "timestamp" not in quarantine.columns:
        return None
    q = quarantine.filter(quarantine.timestamp.notnull())
    return assign(q).mutate(**{W: ibis._[W].cast("int64")})


def judged_on_quarantine(window: Mapping[str, Any], min_rows: int) -> bool:
    """Whether a window with too few rows used is judged on its data quality all the same:
    the rows it read (used + quarantined for a value of the wrong type) reach ``min_rows``.

    A day whose every row was quarantined (a producer that logs ``"68.5 mm"`` for a number)
    has no row to compute drift or performance on, but its wrong-type share is the finding:
    it must not read as an empty, unjudged window.

    Parameters
    ----------
    window : mapping
        A window record (``status``, ``rows``, ``data_quality``: feature → counts).
    min_rows : int
        The rows a window needs to be judged.

    Returns
    -------
    bool
        True for a window not ``ok`` whose quarantined rows bring it to ``min_rows``.

    Examples
    --------
    >>> w = {"status": "empty", "rows": 0, "data_quality": {"x": {"wrong_type": 500}}}
    >>> judged_on_quarantine(w, 100), judged_on_quarantine({**w, "status": "ok"}, 100)
    (True, False)
    """
    if window.get("status") == "ok":
        return False
    quarantined = max([int(q.get("wrong_type") or 0)
                       for q in (window.get("data_quality") or {}).values()], default=0)
    return quarantined > 0 and int(window.get("rows") or 0) + quarantined >= min_rows


def data_quality_summary(windows: list[Mapping[str, Any]], features: Mapping[str, str],
                         *, min_rows: int | None = None) -> dict[str, dict[str, Any]]:
    """Each feature's data quality over the windows of a run.

    Parameters
    ----------
    windows : list of mapping
        Window records with ``start``, ``status`` and a ``data_quality`` mapping (feature →
        counts and shares).
    features : mapping of str to str
        Feature → type (``numeric``, ``categorical``, ``boolean``, ``datetime``).
    min_rows : int, optional
        With it, a window with too few rows used but enough quarantined ones
        (:func:`judged_on_quarantine`) is judged too.

    Returns
    -------
    dict of str to dict
        Per feature: ``type``, ``rows``, ``values`` and, per measure that applies,
        ``{count, share, reference_share, max_increase, worst_window}`` (``count`` over every
        window; the largest increase over the reference among the judged windows, and the
        start of that window when it rose at all).

    Examples
    --------
    >>> w = {"start": "2026-01-01T00:00:00Z", "status": "ok", "data_quality": {"x": {
    ...     "rows": 4, "values": 3, "missing": 1, "missing_share": 0.25,
    ...     "reference_missing_share": 0.0, "missing_increase": 0.25}}}
    >>> data_quality_summary([w], {"x": "numeric"})["x"]["missing"]["max_increase"]
    0.25
    """
    out: dict[str, dict[str, Any]] = {}
    for f, kind in features.items():
        records = [(w, q) for w in windows if (q := (w.get("data_quality") or {}).get(f))]
        if not records:
            continue
        rows = sum(q["rows"] for _, q in records)
        values = sum(q["values"] for _, q in records)
        entry: dict[str, Any] = {"type": kind, "rows": rows, "values": values}
        for m in MEASURES:
            present = [(w, q) for w, q in records if m in q]
            if not present:
                continue
            count = sum(q[m] for _, q in present)
            total = {"out_of_range": values, "unseen": values,
                     "wrong_type": rows + count}.get(m, rows)
            judged = [(w, q) for w, q in present if (
                w.get("status") == "ok"
                or (min_rows is not None and judged_on_quarantine(w, min_rows)))
                and q.get(f"{m}_increase") is not None]
            worst = max(judged, key=lambda wq: wq[1][f"{m}_increase"]) if judged else None
            entry[m] = {"count": count, "share": _share(count, total),
                        "reference_share": present[0][1].get(f"reference_{m}_share"),
                        "max_increase": worst[1][f"{m}_increase"] if worst else None,
                        "worst_window": worst[0].get("start")
                        if worst and worst[1][f"{m}_increase"] > 0 else None}
        out[f] = entry
    return out
