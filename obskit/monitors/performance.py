"""Realized performance per window."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir
import pandas as pd

from obskit.io.casting import normalise_label
from obskit.monitors._base import check_fitted, with_window
from obskit.performance import binary_scores, multiclass_scores, regression_errors
from obskit.profiles import (
    W,
    binary_auc,
    binary_counts,
    confusion_by_window,
    regression_sums,
)

__all__ = ["PerformanceMonitor"]


class PerformanceMonitor:
    """Realized performance per window, on the labelled rows that have a prediction."""

    def __init__(self, task: str, *, positive_label: Any = 1, threshold: float = 0.5) -> None:
        self.task = task
        self.positive = normalise_label(positive_label)
        self.threshold = threshold

    def fit(self, reference: ir.Table | None) -> PerformanceMonitor:
        """Reference performance (the baseline for drops), when the reference has labels."""
        self.reference_: dict[str, float | None] = {}
        if reference is not None and "label" in reference.columns:
            frame = self._metrics(with_window(reference.mutate(window_index=0)))
            if len(frame):
                self.reference_ = {k: v for k, v in frame.iloc[0].items() if k != W}
        return self

    def calculate(self, current: ir.Table) -> pd.DataFrame:
        """Metric columns per window (``None`` where undefined)."""
        check_fitted(self, "reference_")
        if "label" not in current.columns:
            return pd.DataFrame({W: []})
        return self._metrics(current)

    def _metrics(self, t: ir.Table) -> pd.DataFrame:
        if self.task == "binary":
            counts = binary_counts(t, positive=self.positive, threshold=self.threshold)
            rows = {int(r.window_index): binary_scores(tp=r.tp, fp=r.fp, tn=r.tn, fn=r.fn)
                    for r in counts.itertuples()}
            if "score" in t.columns:
                for r in binary_auc(t, positive=self.positive).itertuples():
                    auc = None if pd.isna(r.roc_auc) else float(r.roc_auc)
                    rows.setdefault(int(r.window_index), {})["roc_auc"] = auc
        elif self.task == "multiclass":
            conf = confusion_by_window(t)
            rows = {int(w): multiclass_scores(g) for w, g in conf.groupby(W)}
        else:
            sums = regression_sums(t)
            rows = {int(r.window_index): regression_errors(
                n=int(r.n), sum_abs=r.sum_abs, sum_sq=r.sum_sq, sum_ape=r.sum_ape,
                ss_tot=r.ss_tot) for r in sums.itertuples()}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = W
        return frame.reset_index()
