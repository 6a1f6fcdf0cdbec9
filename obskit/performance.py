"""Realized performance metrics from window aggregates, equal to scikit-learn's.

Binary: accuracy, precision, recall, f1 (from confusion counts) and roc_auc (from ranked
score counts). Multiclass: accuracy and f1_macro (from a confusion table). Regression:
mae, rmse, mape and r2 (from sums). Where scikit-learn would divide by zero the metric
follows its ``zero_division=0`` convention, and an undefined AUC is ``None``.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = [
    "METRICS",
    "HIGHER_IS_BETTER",
    "binary_scores",
    "multiclass_scores",
    "regression_errors",
    "primary_metric",
]

METRICS = {
    "binary": ("accuracy", "precision", "recall", "f1", "roc_auc"),
    "multiclass": ("accuracy", "f1_macro"),
    "regression": ("mae", "rmse", "mape", "r2"),
}
HIGHER_IS_BETTER = {"accuracy", "precision", "recall", "f1", "roc_auc", "f1_macro", "r2"}


def primary_metric(task: str, *, has_score: bool = True) -> str:
    """The metric a default alert watches: roc_auc (binary with scores), else accuracy for
    classification, rmse for regression."""
    if task == "binary":
        return "roc_auc" if has_score else "accuracy"
    return "accuracy" if task == "multiclass" else "rmse"


def _div(num: float, den: float) -> float:
    return num / den if den else 0.0


def binary_scores(*, tp: int, fp: int, tn: int, fn: int) -> dict[str, float | None]:
    """Accuracy, precision, recall and f1 from confusion counts.

    Examples
    --------
    >>> binary_scores(tp=3, fp=1, tn=4, fn=2)["f1"]
    0.6666666666666666
    """
    n = tp + fp + tn + fn
    if n == 0:
        return {"accuracy": None, "precision": None, "recall": None, "f1": None}
    precision, recall = _div(tp, tp + fp), _div(tp, tp + fn)
    return {
        "accuracy": (tp + tn) / n,
        "precision": precision,
        "recall": recall,
        "f1": _div(2 * tp, 2 * tp + fp + fn),
    }


def multiclass_scores(confusion: pd.DataFrame) -> dict[str, float | None]:
    """Accuracy and macro f1 from a frame of ``label``, ``prediction``, ``n``.

    The classes are those seen as labels or predictions, as in scikit-learn.
    """
    total = float(confusion.n.sum()) if len(confusion) else 0.0
    if total == 0:
        return {"accuracy": None, "f1_macro": None}
    correct = float(confusion.n[confusion.label == confusion.prediction].sum())
    classes = sorted(set(confusion.label) | set(confusion.prediction))
    f1s = []
    for cls in classes:
        tp = float(confusion.n[(confusion.label == cls) & (confusion.prediction == cls)].sum())
        fp = float(confusion.n[(confusion.label != cls) & (confusion.prediction == cls)].sum())
        fn = float(confusion.n[(confusion.label == cls) & (confusion.prediction != cls)].sum())
        f1s.append(_div(2 * tp, 2 * tp + fp + fn))
    return {"accuracy": correct / total, "f1_macro": sum(f1s) / len(f1s)}


def regression_errors(*, n: int, sum_abs: float, sum_sq: float, sum_ape: float,
                      ss_tot: float) -> dict[str, float | None]:
    """MAE, RMSE, MAPE (a fraction, as scikit-learn) and R² from sums over ``n`` rows.

    Examples
    --------
    >>> regression_errors(n=2, sum_abs=2.0, sum_sq=2.0, sum_ape=0.5, ss_tot=2.0)["r2"]
    0.0
    """
    if n == 0:
        return {"mae": None, "rmse": None, "mape": None, "r2": None}
    if ss_tot > 0:
        r2 = 1.0 - sum_sq / ss_tot
    else:  # scikit-learn's force_finite convention
        r2 = 1.0 if sum_sq == 0 else 0.0
    return {"mae": sum_abs / n, "rmse": math.sqrt(sum_sq / n), "mape": sum_ape / n, "r2": r2}
