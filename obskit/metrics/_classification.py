"""Classification metrics and their intervals from window aggregates.

Values equal scikit-learn's on the same rows; where scikit-learn divides by zero a value
follows its ``zero_division=0`` convention. Each ``*_scores`` / ``*_losses`` function
gives values, its ``*_intervals`` sibling gives ``metric → (lo, hi)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from obskit.metrics._intervals import (
    NO_INTERVAL,
    Interval,
    hanley_mcneil_interval,
    hanley_mcneil_se,
    logit_interval,
    mean_interval,
    multinomial_delta_interval,
    normal_interval,
    wilson_interval,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "macro_roc_auc",
    "macro_roc_auc_interval",
    "binary_scores",
    "binary_intervals",
    "ranking_intervals",
    "probability_losses",
    "probability_loss_intervals",
    "calibration_error",
    "calibration_error_interval",
    "multiclass_scores",
    "multiclass_intervals",
]


def _div(num: float, den: float) -> float:
    return num / den if den else 0.0


def binary_scores(*, tp: float, fp: float, tn: float, fn: float) -> dict[str, float | None]:
    """Accuracy, precision, recall and f1 from confusion counts (whole or expected counts).

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


def binary_intervals(*, tp: int, fp: int, tn: int, fn: int,
                     confidence: float = 0.95) -> dict[str, Interval]:
    """Intervals for accuracy, precision and recall (Wilson score, each over its own
    denominator) and f1 (multinomial delta method, ``Var = 4·tp·(fp+fn)·(tp+fp+fn) /
    (2tp+fp+fn)⁴``; Takahashi et al. (2022), "Confidence interval for micro-averaged F1
    and macro-averaged F1 scores", *Applied Intelligence* 52, 4961–4972).

    An interval is undefined where its denominator is zero.

    Examples
    --------
    >>> [round(b, 3) for b in binary_intervals(tp=40, fp=10, tn=40, fn=10)["f1"]]
    [0.714, 0.886]
    """
    d = 2 * tp + fp + fn
    f1 = _div(2 * tp, d) if d else None
    grad = (np.array([2 * (fp + fn), -2 * tp, -2 * tp], dtype=float) / d**2 if d
            else np.zeros(3))
    return {
        "accuracy": wilson_interval(tp + tn, tp + fp + tn + fn, confidence=confidence),
        "precision": wilson_interval(tp, tp + fp, confidence=confidence),
        "recall": wilson_interval(tp, tp + fn, confidence=confidence),
        "f1": multinomial_delta_interval(f1, np.array([tp, fp, fn], dtype=float), grad,
                                         confidence=confidence),
    }


def ranking_intervals(*, roc_auc: float | None, pr_auc: float | None, n_pos: int,
                      n_neg: int, confidence: float = 0.95) -> dict[str, Interval]:
    """Intervals for ROC AUC (Hanley–McNeil standard error) and PR AUC (the logit interval
    of Boyd et al., 2013, over the ``n_pos`` positives); see :mod:`obskit.metrics._intervals`.

    Examples
    --------
    >>> [round(b, 4) for b in ranking_intervals(roc_auc=0.8, pr_auc=None, n_pos=50,
    ...                                         n_neg=50)["roc_auc"]]
    [0.7128, 0.8872]
    """
    return {
        "roc_auc": hanley_mcneil_interval(roc_auc, n_pos, n_neg, confidence=confidence),
        "pr_auc": logit_interval(pr_auc, n_pos, confidence=confidence),
    }


def probability_losses(*, n: int, sum_log_loss: float, sum_brier: float
                       ) -> dict[str, float | None]:
    """Log loss and Brier score as means of per-row losses over ``n`` rows.

    The per-row log loss is scikit-learn's (1.5+): the probabilities of both classes,
    ``1 − p`` and ``p``, are clipped to ``[ε, 1 − ε]`` with ``ε`` the float64 machine
    epsilon; the per-row Brier loss is ``(p − y)²``.

    Examples
    --------
    >>> probability_losses(n=2, sum_log_loss=1.0, sum_brier=0.5)
    {'log_loss': 0.5, 'brier': 0.25}
    """
    if n == 0:
        return {"log_loss": None, "brier": None}
    return {"log_loss": sum_log_loss / n, "brier": sum_brier / n}


def probability_loss_intervals(*, n: int, sum_log_loss: float, sum_log_loss_sq: float,
                               sum_brier: float, sum_brier_sq: float,
                               confidence: float = 0.95) -> dict[str, Interval]:
    """Normal intervals for the mean losses: ``SE = sd / √n`` from ``Σloss`` and ``Σloss²``.

    Examples
    --------
    >>> probability_loss_intervals(n=1, sum_log_loss=1.0, sum_log_loss_sq=1.0,
    ...                            sum_brier=0.2, sum_brier_sq=0.04)["brier"]
    (None, None)
    """
    return {
        "log_loss": mean_interval(n, sum_log_loss, sum_log_loss_sq, confidence=confidence,
                                  lower=0.0),
        "brier": mean_interval(n, sum_brier, sum_brier_sq, confidence=confidence,
                               lower=0.0, upper=1.0),
    }


def calibration_error(*, n_bin: np.ndarray, sum_score: np.ndarray,
                      sum_label: np.ndarray) -> float | None:
    """Expected calibration error from per-bin counts and sums of scores and labels.

    ``ECE = Σ_b (n_b / n) · |mean score_b − positive rate_b|`` over equal-width score bins
    (Naeini, Cooper and Hauskrecht (2015), "Obtaining well calibrated probabilities using
    Bayesian binning", *AAAI*; Guo et al. (2017), "On calibration of modern neural
    networks", *ICML*, eq. 3). obskit uses 10 bins ``[0, 0.1), …, [0.9, 1]``.

    Examples
    --------
    >>> calibration_error(n_bin=np.array([2, 2]), sum_score=np.array([0.5, 1.5]),
    ...                   sum_label=np.array([0, 2]))
    0.25
    """
    n = float(np.sum(n_bin))
    if n == 0:
        return None
    return float(np.sum(np.abs(np.asarray(sum_score) - np.asarray(sum_label)))) / n


def calibration_error_interval(*, n_bin: np.ndarray, sum_score: np.ndarray,
                               sum_label: np.ndarray, sum_sq_gap: np.ndarray,
                               confidence: float = 0.95) -> Interval:
    """Delta-method interval for the ECE (bins fixed, ``sum_sq_gap`` = ``Σ (score − y)²``).

    With ``g_i = score_i − y_i`` and ``s_b`` the sign of bin ``b``'s summed gap, the ECE is
    the mean of ``s_b · g_i``, so ``Var ≈ (mean of g_i² over bins with s_b ≠ 0 − ECE²) / n``.
    The ECE is biased upwards at small n and near perfect calibration (where the absolute
    value is not smooth); the interval describes sampling spread, not that bias.

    Examples
    --------
    >>> [round(b, 4) for b in calibration_error_interval(
    ...     n_bin=np.array([100]), sum_score=np.array([50.0]), sum_label=np.array([40]),
    ...     sum_sq_gap=np.array([26.0]))]
    [0.002, 0.198]
    """
    n_bin, gap = np.asarray(n_bin, dtype=float), np.asarray(sum_score) - np.asarray(sum_label)
    n = float(n_bin.sum())
    if n < 2:
        return NO_INTERVAL
    ece = float(np.abs(gap).sum()) / n
    second = float(np.asarray(sum_sq_gap, dtype=float)[gap != 0].sum()) / n
    se = math.sqrt(max(second - ece * ece, 0.0) / n)
    return normal_interval(ece, se, confidence=confidence, lower=0.0, upper=1.0)


def _matrix(confusion: pd.DataFrame) -> tuple[list, np.ndarray]:
    """Classes (labels or predictions seen, sorted as scikit-learn) and the count matrix
    with true labels as rows and predictions as columns."""
    classes = sorted(set(confusion.label) | set(confusion.prediction))
    at = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((len(classes), len(classes)))
    np.add.at(counts, (confusion.label.map(at).to_numpy(int),
                       confusion.prediction.map(at).to_numpy(int)), confusion.n.to_numpy(float))
    return classes, counts


def _f1_per_class(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class f1 and its gradient ``∂f1_k/∂N_ij`` (shape ``K × K × K``)."""
    k = len(counts)
    diag, support = np.diag(counts), counts.sum(axis=1)
    den = support + counts.sum(axis=0)
    safe = np.where(den > 0, den, 1.0)
    f1 = np.where(den > 0, 2 * diag / safe, 0.0)
    grad = np.zeros((k, k, k))
    for c in range(k):
        if den[c] > 0:
            grad[c, c, :] -= 2 * diag[c] / safe[c] ** 2
            grad[c, :, c] -= 2 * diag[c] / safe[c] ** 2
            grad[c, c, c] += 2 / safe[c]
    return f1, grad


def multiclass_scores(confusion: pd.DataFrame) -> dict[str, float | None]:
    """Accuracy, macro and weighted f1, and per-class recall (``recall[<class>]``) from a
    frame of ``label``, ``prediction``, ``n``.

    The classes are those seen as labels or predictions, as in scikit-learn; a class seen
    only as a prediction has recall 0 (``zero_division=0``).

    Examples
    --------
    >>> import pandas as pd
    >>> conf = pd.DataFrame({"label": ["a", "a", "b"], "prediction": ["a", "b", "b"],
    ...                      "n": [3, 1, 4]})
    >>> multiclass_scores(conf)["recall[a]"]
    0.75
    """
    total = float(confusion.n.sum()) if len(confusion) else 0.0
    if total == 0:
        return {"accuracy": None, "f1_macro": None, "f1_weighted": None}
    classes, counts = _matrix(confusion)
    support = counts.sum(axis=1)
    f1, _ = _f1_per_class(counts)
    out: dict[str, float | None] = {
        "accuracy": float(np.trace(counts)) / total,
        "f1_macro": float(f1.mean()),
        "f1_weighted": float(np.sum(support * f1)) / total,
    }
    for c, cls in enumerate(classes):
        out[f"recall[{cls}]"] = _div(float(counts[c, c]), float(support[c]))
    return out


def multiclass_intervals(confusion: pd.DataFrame, *, confidence: float = 0.95
                         ) -> dict[str, Interval]:
    """Intervals for :func:`multiclass_scores`: Wilson for accuracy and each class's recall
    (over that class's labelled rows); the multinomial delta method (Takahashi et al.,
    2022) for macro and weighted f1.

    Examples
    --------
    >>> import pandas as pd
    >>> conf = pd.DataFrame({"label": ["a", "b"], "prediction": ["a", "a"], "n": [5, 0]})
    >>> multiclass_intervals(conf)["recall[b]"]
    (None, None)
    """
    total = float(confusion.n.sum()) if len(confusion) else 0.0
    if total == 0:
        return {m: NO_INTERVAL for m in ("accuracy", "f1_macro", "f1_weighted")}
    classes, counts = _matrix(confusion)
    support = counts.sum(axis=1)
    f1, grad = _f1_per_class(counts)
    weighted = float(np.sum(support * f1)) / total
    grad_weighted = (np.einsum("k,kij->ij", support, grad) + f1[:, None] - weighted) / total
    out = {
        "accuracy": wilson_interval(float(np.trace(counts)), total, confidence=confidence),
        "f1_macro": multinomial_delta_interval(float(f1.mean()), counts, grad.mean(axis=0),
                                               confidence=confidence),
        "f1_weighted": multinomial_delta_interval(weighted, counts, grad_weighted,
                                                  confidence=confidence),
    }
    for c, cls in enumerate(classes):
        out[f"recall[{cls}]"] = wilson_interval(float(counts[c, c]), float(support[c]),
                                                confidence=confidence)
    return out



def macro_roc_auc(aucs: Sequence[float | None]) -> float | None:
    """One-vs-rest macro ROC AUC: the mean of the classes' AUCs.

    Equal to scikit-learn's ``roc_auc_score(y, P, multi_class="ovr", average="macro")``
    when every class is labelled in the window; a class whose AUC is undefined (no row of
    it, or only rows of it) is left out of the mean; ``None`` when none is defined.

    >>> macro_roc_auc([0.9, 0.7, None])
    0.8
    """
    defined = [float(a) for a in aucs if a is not None and np.isfinite(a)]
    return float(np.mean(defined)) if defined else None


def macro_roc_auc_interval(aucs: Sequence[float | None], n_pos: Sequence[float],
                           n_neg: Sequence[float],
                           *, confidence: float = 0.95) -> Interval:
    """Normal interval for :func:`macro_roc_auc`: ``SE = √(Σ SE_c²) / K`` over the ``K``
    defined classes, ``SE_c`` Hanley–McNeil's. The classes' AUCs are treated as
    independent, an approximation (they share rows).

    >>> [round(b, 4) for b in macro_roc_auc_interval([0.8, 0.8], [50, 50], [50, 50])]
    [0.7383, 0.8617]
    """
    ses = [hanley_mcneil_se(float(a), p, n) for a, p, n in zip(aucs, n_pos, n_neg, strict=True)
           if a is not None and np.isfinite(a) and p > 0 and n > 0]
    value = macro_roc_auc(aucs)
    if value is None or not ses:
        return NO_INTERVAL
    se = math.sqrt(sum(x * x for x in ses)) / len(ses)
    return normal_interval(value, se, confidence=confidence, lower=0.0, upper=1.0)
