"""Per-feature drift of each window against the reference."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.config import DriftRule
from obskit.drift import METHODS
from obskit.monitors._base import check_fitted, with_window
from obskit.profiles import (
    W,
    category_counts,
    numeric_histogram,
    wasserstein_by_window,
)

__all__ = ["DriftMonitor", "HISTOGRAM_BINS"]

HISTOGRAM_BINS = 20


class DriftMonitor:
    """Per-feature drift of each window against the reference.

    Parameters
    ----------
    features : mapping
        Feature name → ``numeric`` / ``categorical`` / ``boolean``.
    rules : mapping
        Feature name → :class:`~obskit.config.DriftRule` (method and threshold).
    """

    def __init__(self, features: Mapping[str, str], rules: Mapping[str, DriftRule]) -> None:
        self.features = dict(features)
        self.rules = dict(rules)

    def fit(self, reference: ir.Table) -> DriftMonitor:
        """Reference standard deviations, category counts and histogram edges, once."""
        self.reference_ = reference
        self.std_: dict[str, float] = {}
        self.categories_: dict[str, pd.Series] = {}
        self.edges_: dict[str, np.ndarray] = {}
        self.reference_hist_: dict[str, dict[str, Any]] = {}
        numeric = [f for f in self.features if self._kind(f) == "numeric"]
        if numeric:
            aggs = {}
            for i, f in enumerate(numeric):
                t = reference[f]
                ok = t.notnull() & ~t.isnan() & ~t.isinf()
                aggs[f"s{i}"] = t.std(how="pop", where=ok)
                aggs[f"lo{i}"] = t.quantile(0.01, where=ok)
                aggs[f"hi{i}"] = t.quantile(0.99, where=ok)
            stats = reference.aggregate(**aggs).execute().iloc[0]
            for i, f in enumerate(numeric):
                self.std_[f] = float(stats[f"s{i}"]) if pd.notna(stats[f"s{i}"]) else 0.0
                lo, hi = stats[f"lo{i}"], stats[f"hi{i}"]
                lo = float(lo) if pd.notna(lo) else 0.0
                hi = float(hi) if pd.notna(hi) and hi > lo else lo + 1.0
                edges = np.linspace(lo, hi, HISTOGRAM_BINS - 1)
                self.edges_[f] = np.concatenate([[-np.inf], edges, [np.inf]])
                self.reference_hist_[f] = {
                    "edges": self.edges_[f], "counts": numeric_histogram(reference, f,
                                                                         self.edges_[f])}
        for f in self.features:
            if self._kind(f) == "categorical":
                counts = category_counts(reference, f, by_window=False)
                self.categories_[f] = counts.set_index("category").n.astype("int64")
        return self

    def _kind(self, feature: str) -> str:
        return METHODS.get(self.rules[feature].method).kind

    def calculate(self, current: ir.Table) -> pd.DataFrame:
        """One row per (window, feature): method, value, threshold, drifted, rows used."""
        check_fitted(self, "std_")
        current = with_window(current)
        rows: list[dict[str, Any]] = []
        for f in self.features:
            rule = self.rules[f]
            if self._kind(f) == "numeric":
                wd = wasserstein_by_window(self.reference_, current, f)
                norm = max(self.std_[f], 0.001)
                for r in wd.itertuples():
                    rows.append(self._row(r.window_index, f, rule, r.wasserstein / norm))
            else:
                ref = self.categories_[f]
                cur = category_counts(current, f)
                for w, grp in cur.groupby(W):
                    counts = grp.set_index("category").n
                    keys = sorted(set(ref.index) | set(counts.index))
                    value = METHODS.get(rule.method).function(
                        ref.reindex(keys, fill_value=0).to_numpy(),
                        counts.reindex(keys, fill_value=0).to_numpy(),
                    )
                    rows.append(self._row(w, f, rule, value))
        return pd.DataFrame(rows, columns=[W, "feature", "method", "value", "threshold",
                                           "drifted"])

    @staticmethod
    def _row(window: Any, feature: str, rule: DriftRule, value: float) -> dict[str, Any]:
        value = float(value)
        return {W: int(window), "feature": feature, "method": rule.method, "value": value,
                "threshold": rule.threshold,
                "drifted": bool(value >= rule.threshold) if np.isfinite(value) else None}

    def distributions(self, current: ir.Table) -> dict[str, dict[str, Any]]:
        """Reference vs whole-current distributions per feature, for figures."""
        check_fitted(self, "std_")
        out: dict[str, dict[str, Any]] = {}
        for f in self.features:
            if f in self.edges_:
                cur = numeric_histogram(current, f, self.edges_[f])
                ref = self.reference_hist_[f]["counts"]
                edges = [None if not np.isfinite(e) else float(e) for e in self.edges_[f]]
                out[f] = {"kind": "numeric", "edges": edges,  # open-ended outer bins: null
                          "reference": ref.tolist(), "current": cur.tolist()}
            elif f in self.categories_:
                cur = category_counts(current, f, by_window=False).set_index("category").n
                ref = self.categories_[f]
                keys = sorted(set(ref.index) | set(cur.index), key=lambda k: -ref.get(k, 0))
                out[f] = {"kind": "categorical", "categories": [str(k) for k in keys],
                          "reference": ref.reindex(keys, fill_value=0).tolist(),
                          "current": cur.reindex(keys, fill_value=0).tolist()}
        return out
