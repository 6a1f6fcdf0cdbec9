"""Realized performance per window, with confidence intervals."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir
import pandas as pd

from obskit.exceptions import ConfigError
from obskit.io.casting import normalise_label
from obskit.metrics.performance import (
    METRICS,
    binary_intervals,
    binary_scores,
    calibration_error,
    calibration_error_interval,
    macro_roc_auc,
    macro_roc_auc_interval,
    mean_interval,
    multiclass_intervals,
    multiclass_scores,
    probability_loss_intervals,
    probability_losses,
    ranking_intervals,
    regression_errors,
    regression_intervals,
)
from obskit.monitors._base import check_fitted, with_window
from obskit.profiles import W
from obskit.profiles.performance import (
    binary_auc,
    binary_counts,
    calibration_bins,
    class_auc,
    class_log_loss_sums,
    confusion_by_window,
    most_probable_class,
    probability_sums,
    regression_sums,
)
from obskit.profiles.performance_local import BinaryFrames, binary_frames
from obskit.schema import measures_performance

__all__ = ["PerformanceMonitor"]

_SCORED = ("roc_auc", "pr_auc", "log_loss", "brier", "ece")
_ONE_CLASS = "only one class is labelled in the window"


class PerformanceMonitor:
    """Realized performance per window, on the labelled rows that have a prediction.

    Parameters
    ----------
    task
        ``"binary"``, ``"multiclass"`` or ``"regression"``.
    positive_label
        The positive class of a binary task (compared as canonical label text).
    threshold
        Score at or above which a binary row without a prediction counts as positive.
    confidence
        Two-sided level of the intervals (see :mod:`obskit.metrics.performance` for the methods).
    class_scores
        Multiclass: class label → the column of its predicted probability. With them the
        multiclass metrics add roc_auc (one-vs-rest, macro) and log_loss.

    ``calculate`` returns one row per window with ``window_index``, ``n_labelled`` (the
    labelled rows with a prediction — with a score when the log has no prediction), and
    per metric its value and ``<metric>_lo`` / ``<metric>_hi`` (NaN where undefined).
    Binary tasks with a score add ``roc_auc_reason`` / ``pr_auc_reason`` (why an AUC is
    undefined); multiclass tasks add ``recall[<class>]`` per class.
    """

    def __init__(self, task: str, *, positive_label: Any = 1, threshold: float = 0.5,
                 confidence: float = 0.95, class_scores: dict[str, str] | None = None
                 ) -> None:
        if task not in METRICS:
            raise ConfigError(f"task: expected one of {', '.join(METRICS)}, got {task!r}",
                              key="task")
        if not 0 < confidence < 1:
            raise ConfigError(f"confidence: expected a number in (0, 1), got {confidence!r}",
                              key="confidence")
        self.task = task
        self.positive = normalise_label(positive_label)
        self.threshold = threshold
        self.confidence = confidence
        self.class_scores = {normalise_label(k): v for k, v in (class_scores or {}).items()}

    def fit(self, reference: ir.Table | None) -> PerformanceMonitor:
        """Compute the reference performance, the baseline for drops, when the reference has labels.

        Parameters
        ----------
        reference : ibis Table or None
            The typed reference log (None, or without labels: no baseline).

        Returns
        -------
        PerformanceMonitor
            ``self``: ``reference_`` maps each metric to its value over the whole reference,
            ``reference_ci_`` to its ``[lo, hi]`` interval where it has one.
        """
        self.reference_: dict[str, float | None] = {}
        self.reference_ci_: dict[str, list[float | None]] = {}
        if reference is not None and "label" in reference.columns:
            frame = self._metrics(with_window(reference.mutate(window_index=0)))
            if len(frame):
                row = frame.iloc[0]
                self.reference_ = {k: (None if pd.isna(row[k]) else float(row[k]))
                                   for k in frame.columns if _is_metric(k)}
                self.reference_ci_ = {
                    k: [None if pd.isna(row[f"{k}_{b}"]) else float(row[f"{k}_{b}"])
                        for b in ("lo", "hi")]
                    for k in self.reference_ if f"{k}_lo" in frame.columns}
        return self

    def calculate(self, current: ir.Table) -> pd.DataFrame:
        """Compute the realized metrics of each window with their confidence intervals.

        Parameters
        ----------
        current : ibis Table
            The typed current log with labels, with ``window_index``.

        Returns
        -------
        DataFrame
            One row per window with labelled rows: ``window_index``, each metric of the task,
            ``<metric>_lo`` / ``<metric>_hi`` (the interval at ``confidence``), ``n_labelled``,
            and ``<metric>_reason`` where a metric could not be computed.
        """
        check_fitted(self, "reference_")
        if "label" not in current.columns:
            return pd.DataFrame({W: []})
        return self._metrics(current)

    def _metrics(self, t: ir.Table) -> pd.DataFrame:
        rows: dict[int, dict[str, Any]] = {}
        names = list(METRICS[self.task])
        scored = bool(self.class_scores) and all(c in t.columns
                                                 for c in self.class_scores.values())
        if not measures_performance(self.task, t.columns, class_scores=scored):
            return _frame(rows, names)  # labels and nothing to compare them with
        if self.task == "binary":
            if "score" not in t.columns:
                names = [m for m in names if m not in _SCORED]
            self._binary(t, rows)
        elif self.task == "multiclass":
            if "prediction" not in t.columns:  # the most probable class is the prediction
                t = t.mutate(prediction=most_probable_class(t, self.class_scores))
            for w, g in confusion_by_window(t).groupby(W):
                self._put(rows, w, multiclass_scores(g),
                          multiclass_intervals(g, confidence=self.confidence),
                          n_labelled=int(g.n.sum()))
            if scored:
                self._class_scored(t, rows)  # else roc_auc and log_loss stay NaN
        else:
            for r in regression_sums(t).to_dict("records"):
                sums = {str(k): v for k, v in r.items() if k not in (W, "n")}
                n = int(r["n"])
                self._put(rows, r[W], regression_errors(
                    n=n, sum_abs=r["sum_abs"], sum_sq=r["sum_sq"], sum_ape=r["sum_ape"],
                    ss_tot=r["ss_tot"], sum_err=r["sum_err"]),
                    regression_intervals(n=n, confidence=self.confidence, **sums),
                    n_labelled=n)
        return _frame(rows, names)

    def _binary(self, t: ir.Table, rows: dict[int, dict[str, Any]]) -> None:
        conf = self.confidence
        pos = self.positive
        # one fetch of the labelled rows when they fit, else four engine aggregates
        got = binary_frames(t, positive=pos, threshold=self.threshold) or BinaryFrames(
            binary_counts(t, positive=pos, threshold=self.threshold),
            *((binary_auc(t, positive=pos), probability_sums(t, positive=pos),
               calibration_bins(t, positive=pos)) if "score" in t.columns
              else (None, None, None)))
        for r in got.counts.to_dict("records"):
            counts = {k: int(r[k]) for k in ("tp", "fp", "tn", "fn")}
            self._put(rows, r[W], binary_scores(**counts),
                      binary_intervals(**counts, confidence=conf),
                      n_labelled=sum(counts.values()))
        if got.auc is None or got.probability is None or got.calibration is None:
            return
        for r in got.auc.to_dict("records"):
            auc, ap = (None if pd.isna(r[m]) else float(r[m]) for m in ("roc_auc", "pr_auc"))
            reason = None if auc is not None else _ONE_CLASS
            self._put(rows, r[W], {"roc_auc": auc, "pr_auc": ap},
                      ranking_intervals(roc_auc=auc, pr_auc=ap, n_pos=int(r["P"]),
                                        n_neg=int(r["N"]), confidence=conf),
                      roc_auc_reason=reason, pr_auc_reason=reason)
        for r in got.probability.to_dict("records"):
            sums = {str(k): v for k, v in r.items() if k not in (W, "n")}
            self._put(rows, r[W], probability_losses(
                n=int(r["n"]), sum_log_loss=r["sum_log_loss"], sum_brier=r["sum_brier"]),
                probability_loss_intervals(n=int(r["n"]), confidence=conf, **sums))
        for w, g in got.calibration.groupby(W):
            bins = {"n_bin": g.n.to_numpy(), "sum_score": g.sum_score.to_numpy(),
                    "sum_label": g.sum_label.to_numpy()}
            self._put(rows, w, {"ece": calibration_error(**bins)},
                      {"ece": calibration_error_interval(
                          **bins, sum_sq_gap=g.sum_sq_gap.to_numpy(), confidence=conf)})

    def _class_scored(self, t: ir.Table, rows: dict[int, dict[str, Any]]) -> None:
        """Multiclass roc_auc (one-vs-rest, macro) and log_loss from the class columns."""
        conf = self.confidence
        for w, g in class_auc(t, self.class_scores).groupby(W):
            aucs = [None if pd.isna(a) else float(a) for a in g.roc_auc]
            value = macro_roc_auc(aucs)
            self._put(rows, w, {"roc_auc": value},
                      {"roc_auc": macro_roc_auc_interval(aucs, g.P.tolist(), g.N.tolist(),
                                                         confidence=conf)},
                      roc_auc_reason=None if value is not None else _ONE_CLASS)
        for r in class_log_loss_sums(t, self.class_scores).to_dict("records"):
            n = int(r["n"])
            self._put(rows, r[W], {"log_loss": r["sum_log_loss"] / n if n else None},
                      {"log_loss": mean_interval(n, r["sum_log_loss"], r["sum_log_loss_sq"],
                                                 confidence=conf, lower=0.0)})

    @staticmethod
    def _put(rows: dict[int, dict[str, Any]], window: Any, values: dict[str, Any],
             intervals: dict[str, tuple[Any, Any]], **extra: Any) -> None:
        row = rows.setdefault(int(window), {})
        for m, v in values.items():
            row[m] = v
            row[f"{m}_lo"], row[f"{m}_hi"] = intervals.get(m, (None, None))
        row.update(extra)


def _is_metric(column: str) -> bool:
    return column not in (W, "n_labelled") and not column.endswith(("_lo", "_hi", "_reason"))


def _frame(rows: dict[int, dict[str, Any]], names: list[str]) -> pd.DataFrame:
    """Rows per window → a frame: ``window_index``, ``n_labelled``, then each metric with
    its bounds (the fixed ones first), then the reasons."""
    seen = dict.fromkeys(k for row in rows.values() for k in row)
    dynamic = sorted(k for k in seen if _is_metric(k) and k not in names)
    columns = [W, "n_labelled"]
    for m in names + dynamic:
        columns += [m, f"{m}_lo", f"{m}_hi"]
    columns += [k for k in seen if k.endswith("_reason")]
    frame = pd.DataFrame([{W: w, **row} for w, row in sorted(rows.items())], columns=columns)
    frame["n_labelled"] = frame["n_labelled"].fillna(0).astype("int64")
    metric_cols = [c for c in columns if c != W and c != "n_labelled"
                   and not c.endswith("_reason")]
    frame[metric_cols] = frame[metric_cols].astype("float64")
    return frame
