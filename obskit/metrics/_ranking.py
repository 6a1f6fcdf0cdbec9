"""ROC AUC and average precision from every (score, weight) pair of a window.

The same formulas as the engine's (:func:`obskit.profiles.binary_auc`), over the distinct
scores ``s`` with positive weight ``pos_s`` and negative weight ``neg_s`` (0/1 labels, or
CBPE's calibrated ``p`` and ``1 − p``):

- ROC AUC (Mann–Whitney, ties count half) ``= Σ_s pos_s · (neg_{<s} + ½ neg_s) / (P · N)``;
- average precision (scikit-learn's step-wise ``average_precision_score``)
  ``= Σ_s (pos_s / P) · pos_{≥s} / (pos_{≥s} + neg_{≥s})``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ranking_auc"]


def ranking_auc(score: np.ndarray, pos: np.ndarray, neg: np.ndarray
                ) -> tuple[float, float, float, float]:
    """``(roc_auc, average_precision, P, N)``; both areas NaN without both classes.

    >>> ranking_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1.]),
    ...             np.array([1, 1, 0, 0.]))[:2]
    (0.75, 0.8333333333333333)
    """
    order = np.argsort(score, kind="stable")
    s, p, n = score[order], np.asarray(pos, float)[order], np.asarray(neg, float)[order]
    starts = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]])) if s.size else \
        np.zeros(0, dtype=np.intp)
    pos_s, neg_s = np.add.reduceat(p, starts), np.add.reduceat(n, starts)
    if s.size == 0:
        pos_s = neg_s = np.zeros(0)
    total_p, total_n = float(pos_s.sum()), float(neg_s.sum())
    if not (total_p > 0 and total_n > 0):
        return float("nan"), float("nan"), total_p, total_n
    neg_below = np.cumsum(neg_s) - neg_s
    pos_above = np.cumsum(pos_s[::-1])[::-1]
    neg_above = np.cumsum(neg_s[::-1])[::-1]
    won = float((pos_s * (neg_below + 0.5 * neg_s)).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        precise = np.where(pos_s > 0, pos_s * pos_above / (pos_above + neg_above), 0.0)
    return won / (total_p * total_n), float(precise.sum()) / total_p, total_p, total_n
