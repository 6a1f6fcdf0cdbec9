"""CBPE: binary and multiclass performance estimated from calibrated scores (see
:mod:`obskit.metrics.estimation` for the method)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from obskit.metrics import ranking_auc
from obskit.metrics.performance import binary_scores, macro_roc_auc

__all__ = ["fit_calibrator", "calibration_segments", "calibrate_scores", "expected_confusion",
           "estimate_binary_scores", "expected_auc_from_levels", "estimate_roc_auc",
           "fit_multiclass_calibrators", "calibrate_multiclass", "estimate_multiclass_scores",
           "realized_multiclass_scores"]


# ----------------------------------------------------------------------- calibration


def fit_calibrator(score: np.ndarray, y: np.ndarray) -> Any:
    """Isotonic regression of the binary outcome ``y`` on ``score`` (clipped outside).

    Parameters
    ----------
    score : ndarray of shape (n,)
        Scores of labelled reference rows.
    y : ndarray of shape (n,)
        Their outcomes (0/1).

    Returns
    -------
    IsotonicRegression
        The fitted calibrator (``predict(score) -> probability``).

    Examples
    --------
    >>> cal = fit_calibrator(np.array([0.1, 0.4, 0.6, 0.9]), np.array([0, 1, 0, 1]))
    >>> cal.predict(np.array([0.0, 0.5, 1.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    return model.fit(np.asarray(score, dtype=float), np.asarray(y, dtype=float))


def calibration_segments(calibrator: Any) -> pd.DataFrame:
    """The fitted isotonic map as segments ``lo`` (start), ``y0`` (value at lo), ``slope``.

    For a score ``s`` clipped to ``[lo[0], lo[-1]]`` and the last segment with
    ``lo <= s``, ``slope * (s - lo) + y0`` equals ``calibrator.predict(s)`` bit for bit
    (the arithmetic of :func:`numpy.interp`, which scikit-learn uses).

    Parameters
    ----------
    calibrator : IsotonicRegression
        From :func:`fit_calibrator`.

    Returns
    -------
    DataFrame
        Columns ``lo``, ``y0``, ``slope``, one row per segment, ascending ``lo``.

    Examples
    --------
    >>> cal = fit_calibrator(np.array([0.1, 0.4, 0.6, 0.9]), np.array([0, 1, 0, 1]))
    >>> calibration_segments(cal).round(3).to_dict("list")
    {'lo': [0.1, 0.4, 0.6, 0.9], 'y0': [0.0, 0.5, 0.5, 1.0], 'slope': [1.667, 0.0, 1.667, 0.0]}
    """
    x = np.asarray(calibrator.X_thresholds_, dtype=float)
    y = np.asarray(calibrator.y_thresholds_, dtype=float)
    slope = np.append(np.diff(y) / np.diff(x), 0.0) if len(x) > 1 else np.zeros(1)
    return pd.DataFrame({"lo": x, "y0": y, "slope": slope})


def calibrate_scores(score: np.ndarray, segments: pd.DataFrame) -> np.ndarray:
    """The isotonic map ``segments`` applied to ``score``, as the engine applies it.

    Each score is clipped to ``[lo[0], lo[-1]]``, then mapped by the last segment with
    ``lo <= s``: ``slope * (s - lo) + y0`` (the same operations, in the same order, as the
    engine's range join; equal to ``calibrator.predict``).

    Parameters
    ----------
    score : ndarray of shape (n,)
        Scores (finite or clipped; no NaN).
    segments : DataFrame
        From :func:`calibration_segments`.

    Returns
    -------
    ndarray of shape (n,)
        The calibrated probabilities.

    Examples
    --------
    >>> cal = fit_calibrator(np.array([0.1, 0.4, 0.6, 0.9]), np.array([0, 1, 0, 1]))
    >>> calibrate_scores(np.array([0.0, 0.25, 0.5, 2.0]), calibration_segments(cal)).tolist()
    [0.0, 0.25, 0.5, 1.0]
    """
    lo = segments.lo.to_numpy(dtype=float)
    s = np.clip(np.asarray(score, dtype=float), lo[0], lo[-1])
    i = np.searchsorted(lo, s, side="right") - 1
    return segments.slope.to_numpy(dtype=float)[i] * (s - lo[i]) + segments.y0.to_numpy(
        dtype=float)[i]


# ------------------------------------------------------------------------- binary CBPE


def expected_confusion(calibrated: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Expected tp, fp, tn, fn from calibrated probabilities and predicted labels (0/1).

    Parameters
    ----------
    calibrated : ndarray of shape (n,)
        Calibrated probabilities of the positive class, in [0, 1].
    predicted : ndarray of shape (n,)
        Predicted labels (0/1).

    Returns
    -------
    dict of str to float
        ``tp``, ``fp``, ``tn``, ``fn`` (expected row counts).

    Examples
    --------
    >>> expected_confusion(np.array([0.9, 0.2]), np.array([1, 0]))
    {'tp': 0.9, 'fp': 0.09999999999999998, 'tn': 0.8, 'fn': 0.2}
    """
    p = np.asarray(calibrated, dtype=float)
    yhat = np.asarray(predicted).astype(bool)
    return {
        "tp": float(p[yhat].sum()), "fp": float((1 - p[yhat]).sum()),
        "tn": float((1 - p[~yhat]).sum()), "fn": float(p[~yhat].sum()),
    }


def estimate_binary_scores(calibrated: np.ndarray,
                           predicted: np.ndarray) -> dict[str, float | None]:
    """Estimated accuracy, precision, recall and f1 (of the expected confusion matrix).

    Parameters
    ----------
    calibrated : ndarray of shape (n,)
        Calibrated probabilities of the positive class, in [0, 1].
    predicted : ndarray of shape (n,)
        Predicted labels (0/1).

    Returns
    -------
    dict of str to float or None
        ``accuracy``, ``precision``, ``recall``, ``f1`` in [0, 1] (None when undefined).

    Examples
    --------
    >>> round(estimate_binary_scores(np.array([0.9, 0.2]), np.array([1, 0]))["accuracy"], 12)
    0.85
    """
    return binary_scores(**expected_confusion(calibrated, predicted))


def expected_auc_from_levels(pos: np.ndarray, neg: np.ndarray) -> float | None:
    """AUC from per-distinct-score (ascending) positive and negative weights, ties half.

    ``Σ_s pos_s · (neg_{<s} + ½ neg_s) / (P · N)``; ``None`` when ``P`` or ``N`` is 0.

    Parameters
    ----------
    pos, neg : ndarray of shape (n_levels,)
        Positive and negative weight at each distinct score, ascending.

    Returns
    -------
    float or None
        The AUC in [0, 1].

    Examples
    --------
    >>> expected_auc_from_levels(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    1.0
    """
    pos, neg = np.asarray(pos, dtype=float), np.asarray(neg, dtype=float)
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return None
    below = np.cumsum(neg) - neg
    return float((pos * (below + 0.5 * neg)).sum() / (total_pos * total_neg))


def estimate_roc_auc(score: np.ndarray, calibrated: np.ndarray) -> float | None:
    """Area under the expected ROC curve: row ``i`` is ``p_i`` positive, ``1-p_i`` negative.

    Ranking by the raw score or by the calibrated probability gives the same value (the
    isotonic map is monotone; rows it ties share one ``p``).

    Parameters
    ----------
    score : ndarray of shape (n,)
        Raw scores.
    calibrated : ndarray of shape (n,)
        Their calibrated probabilities.

    Returns
    -------
    float or None
        The expected ROC AUC, None when all rows are certain of one class.

    Examples
    --------
    >>> estimate_roc_auc(np.array([0.1, 0.9]), np.array([0.0, 1.0]))
    1.0
    """
    frame = pd.DataFrame({"s": np.asarray(score, dtype=float),
                          "pos": np.asarray(calibrated, dtype=float)})
    frame["neg"] = 1.0 - frame.pos
    levels = frame.groupby("s", sort=True)[["pos", "neg"]].sum()
    return expected_auc_from_levels(levels.pos.to_numpy(), levels.neg.to_numpy())


# --------------------------------------------------------------------- multiclass CBPE


def fit_multiclass_calibrators(probas: pd.DataFrame,
                               labels: Sequence[Any] | np.ndarray) -> dict[Any, Any]:
    """One isotonic calibrator per class (column of ``probas``), fit one-vs-rest.

    Parameters
    ----------
    probas : DataFrame of shape (n, n_classes)
        Class probabilities of labelled reference rows, one column per class.
    labels : sequence of shape (n,)
        Their labels.

    Returns
    -------
    dict
        Class → its calibrator.
    """
    y = np.asarray(labels, dtype=object)
    return {cls: fit_calibrator(probas[cls].to_numpy(dtype=float), y == cls)
            for cls in probas.columns}


def calibrate_multiclass(probas: pd.DataFrame, calibrators: Mapping[Any, Any]) -> pd.DataFrame:
    """Calibrated class probabilities, renormalised to sum to one per row.

    A row whose calibrated probabilities are all zero gets a uniform distribution.

    Parameters
    ----------
    probas : DataFrame of shape (n, n_classes)
        Class probabilities, one column per class.
    calibrators : mapping
        Class → calibrator (:func:`fit_multiclass_calibrators`).

    Returns
    -------
    DataFrame of shape (n, n_classes)
        The calibrated probabilities.
    """
    out = pd.DataFrame({cls: calibrators[cls].predict(probas[cls].to_numpy(dtype=float))
                        for cls in probas.columns}, index=probas.index)
    total = out.sum(axis=1)
    uniform = 1.0 / out.shape[1]
    return out.div(total.where(total > 0), axis=0).fillna(uniform)


def estimate_multiclass_scores(probas: pd.DataFrame,
                               predicted: Sequence[Any]) -> dict[str, float | None]:
    """Estimated accuracy, macro f1 and macro ROC AUC from calibrated class probabilities.

    The classes are the columns of ``probas``. For class ``c``:
    ``E[TP_c] = Σ p_ic [ŷ_i=c]``, ``E[FP_c] = Σ (1-p_ic) [ŷ_i=c]``,
    ``E[FN_c] = Σ p_ic [ŷ_i≠c]``; f1_c from these, and f1_macro their mean. Accuracy is
    ``Σ_i p_{i,ŷ_i} / n``.

    Parameters
    ----------
    probas : DataFrame of shape (n, n_classes)
        Calibrated class probabilities.
    predicted : sequence of shape (n,)
        Predicted classes.

    Returns
    -------
    dict of str to float or None
        ``accuracy``, ``f1_macro`` and ``roc_auc`` in [0, 1] (None when undefined).

    Examples
    --------
    >>> probas = pd.DataFrame({"a": [0.8, 0.3], "b": [0.2, 0.7]})
    >>> estimate_multiclass_scores(probas, ["a", "b"])["accuracy"]
    0.75
    """
    n = len(probas)
    if n == 0:
        return {"accuracy": None, "f1_macro": None, "roc_auc": None}
    yhat = np.asarray(predicted, dtype=object)
    correct, f1s, aucs = 0.0, [], []
    for cls in probas.columns:
        p = probas[cls].to_numpy(dtype=float)
        chosen = yhat == cls
        tp, fp, fn = p[chosen].sum(), (1 - p[chosen]).sum(), p[~chosen].sum()
        correct += tp
        f1s.append(2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0)
        aucs.append(ranking_auc(p, p, 1.0 - p)[0])
    return {"accuracy": float(correct / n), "f1_macro": float(np.mean(f1s)),
            "roc_auc": macro_roc_auc(aucs)}


def realized_multiclass_scores(y: Sequence[Any], predicted: Sequence[Any],
                               probas: pd.DataFrame) -> dict[str, float | None]:
    """Realized accuracy, macro f1 and one-vs-rest macro ROC AUC from arrays.

    The metrics whose sampling error the bands use.

    Parameters
    ----------
    y : sequence of shape (n,)
        True classes.
    predicted : sequence of shape (n,)
        Predicted classes.
    probas : DataFrame of shape (n, n_classes)
        Class probabilities (its columns are the classes of the macro f1).

    Returns
    -------
    dict of str to float or None
        ``accuracy``, ``f1_macro``, ``roc_auc`` (None when undefined).
    """
    truths, yhat = np.asarray(y, dtype=object), np.asarray(predicted, dtype=object)
    f1s: list[float] = []
    aucs: list[float | None] = []
    for cls in probas.columns:
        truth: np.ndarray = truths == cls
        chosen: np.ndarray = yhat == cls
        tp, fp, fn = (truth & chosen).sum(), (~truth & chosen).sum(), (truth & ~chosen).sum()
        f1s.append(2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0)
        score = probas[cls].to_numpy(dtype=float)
        aucs.append(ranking_auc(score, truth.astype(float), (~truth).astype(float))[0])
    return {"accuracy": float((truths == yhat).mean()) if len(truths) else None,
            "f1_macro": float(np.mean(f1s)), "roc_auc": macro_roc_auc(aucs)}


