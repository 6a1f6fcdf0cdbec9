"""Performance estimated without labels: CBPE (classification) and DLE (regression).

Pure functions over arrays and small frames; the monitor in
:mod:`obskit.monitors.estimation` runs the per-row work in the engine and calls these on
what comes back.

**CBPE** (confidence-based performance estimation, NannyML's published method). Scores
are calibrated on the labelled reference by isotonic regression of the label on the score
(``IsotonicRegression(out_of_bounds="clip")``, always, as NannyML does by default). With
calibrated probabilities ``p_i`` and predicted labels ``ŷ_i`` the expected confusion
matrix of a window is ``E[TP] = Σ p_i [ŷ_i=1]``, ``E[FP] = Σ (1-p_i) [ŷ_i=1]``,
``E[FN] = Σ p_i [ŷ_i=0]``, ``E[TN] = Σ (1-p_i) [ŷ_i=0]``, and the estimated accuracy,
precision, recall and f1 are those of the expected counts. The estimated ROC AUC is the
area under the expected ROC curve: each row counts as ``p_i`` of a positive and
``1 - p_i`` of a negative at its score (ties counted half, as the trapezoid rule does).
Multiclass CBPE (NannyML's one-vs-rest method) calibrates each class's probability
one-vs-rest (isotonic regression of ``y = c`` on ``p_c``), renormalises each row's calibrated
probabilities to sum to one (uniform when all are 0), and estimates from the expected
per-class counts ``E[TP_c] = Σ p_ic [ŷ_i=c]``, ``E[FP_c] = Σ (1-p_ic) [ŷ_i=c]``,
``E[FN_c] = Σ p_ic [ŷ_i≠c]``: accuracy ``Σ_i p_{i,ŷ_i} / n``, macro f1 (the mean of the
classes' f1), and ROC AUC as the mean over classes of the area under the expected
one-vs-rest ROC curve (rows ranked by ``p_c``, each ``p_ic`` positive and ``1 - p_ic``
negative).

**DLE** (direct loss estimation, NannyML's method for regression). Two gradient-boosting
regressors learn, on the reference, the absolute error and the squared error of the
model from the features and the prediction. A window's estimated MAE is the mean of the
predicted absolute errors; its estimated RMSE the square root of the mean predicted
squared error.

**Sampling error.** Each estimate carries a band ``value ± SAMPLING_ERROR_RANGE · SE(n)``
with ``SAMPLING_ERROR_RANGE = 3`` (NannyML's bands). ``SE(n) = σ / √n`` is the standard
error of the *realized* metric on a window of ``n`` rows, with ``σ`` estimated once on the
labelled reference: the standard deviation of the metric over bootstrap samples of size
``m`` (drawn with replacement), times ``√m``. The band is clipped to the metric's range.

Both methods assume no concept drift: ``P(y | x)`` (and the score's calibration) must be
as on the reference. Under covariate shift the estimates follow the realized metric;
under concept drift they do not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from obskit.metrics import ranking_auc
from obskit.performance import binary_scores, macro_roc_auc

__all__ = [
    "SAMPLING_ERROR_RANGE",
    "fit_calibrator",
    "calibration_segments",
    "expected_confusion",
    "estimate_binary_scores",
    "expected_auc_from_levels",
    "estimate_roc_auc",
    "fit_multiclass_calibrators",
    "calibrate_multiclass",
    "estimate_multiclass_scores",
    "realized_multiclass_scores",
    "realized_binary_scores",
    "realized_regression_errors",
    "sampling_sigma",
    "sampling_band",
    "fit_loss_models",
    "estimate_regression_errors",
]

#: Width of the sampling-error band, in standard errors (NannyML's choice).
SAMPLING_ERROR_RANGE = 3.0
#: Metrics bounded to [0, 1]; the others (errors) are bounded below by 0.
_UNIT_METRICS = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc", "f1_macro"})


# ----------------------------------------------------------------------- calibration


def fit_calibrator(score: np.ndarray, y: np.ndarray) -> Any:
    """Isotonic regression of the binary outcome ``y`` on ``score`` (clipped outside).

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


# ------------------------------------------------------------------------- binary CBPE


def expected_confusion(calibrated: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Expected tp, fp, tn, fn from calibrated probabilities and predicted labels (0/1).

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

    Examples
    --------
    >>> round(estimate_binary_scores(np.array([0.9, 0.2]), np.array([1, 0]))["accuracy"], 12)
    0.85
    """
    return binary_scores(**expected_confusion(calibrated, predicted))


def expected_auc_from_levels(pos: np.ndarray, neg: np.ndarray) -> float | None:
    """AUC from per-distinct-score (ascending) positive and negative weights, ties half.

    ``Σ_s pos_s · (neg_{<s} + ½ neg_s) / (P · N)``; ``None`` when ``P`` or ``N`` is 0.

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


def fit_multiclass_calibrators(probas: pd.DataFrame, labels: Sequence[Any]) -> dict[Any, Any]:
    """One isotonic calibrator per class (column of ``probas``), fit one-vs-rest."""
    y = np.asarray(labels, dtype=object)
    return {cls: fit_calibrator(probas[cls].to_numpy(dtype=float), y == cls)
            for cls in probas.columns}


def calibrate_multiclass(probas: pd.DataFrame, calibrators: Mapping[Any, Any]) -> pd.DataFrame:
    """Calibrated class probabilities, renormalised to sum to one per row.

    A row whose calibrated probabilities are all zero gets a uniform distribution.
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
    """Realized accuracy, macro f1 (over the classes of ``probas``) and one-vs-rest macro
    ROC AUC from arrays: the metrics whose sampling error the bands use."""
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


# -------------------------------------------------------------------- sampling error


def realized_binary_scores(y: np.ndarray, predicted: np.ndarray,
                           score: np.ndarray | None = None) -> dict[str, float | None]:
    """Realized accuracy, precision, recall, f1 (and roc_auc with a score) from arrays."""
    y, yhat = np.asarray(y).astype(bool), np.asarray(predicted).astype(bool)
    out = binary_scores(tp=int((y & yhat).sum()), fp=int((~y & yhat).sum()),
                        tn=int((~y & ~yhat).sum()), fn=int((y & ~yhat).sum()))
    if score is not None:
        out["roc_auc"] = estimate_roc_auc(score, y.astype(float))
    return out


def realized_regression_errors(y: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """Realized MAE and RMSE from arrays."""
    err = np.asarray(prediction, dtype=float) - np.asarray(y, dtype=float)
    return {"mae": float(np.abs(err).mean()), "rmse": float(np.sqrt((err * err).mean()))}


def sampling_sigma(metrics: Callable[[np.ndarray], Mapping[str, float | None]], n_rows: int,
                   *, size: int = 5000, n_boot: int = 200,
                   seed: int = 0) -> dict[str, float]:
    """Per metric, ``σ`` such that the metric's standard error on ``n`` rows is ``σ/√n``.

    ``metrics(index)`` computes the metrics on the reference rows ``index``; the metrics
    are computed on ``n_boot`` bootstrap samples of ``m = min(size, n_rows)`` rows and
    ``σ = std · √m``.
    """
    rng = np.random.default_rng(seed)
    m = min(size, n_rows)
    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        for name, value in metrics(rng.integers(0, n_rows, m)).items():
            if value is not None and np.isfinite(value):
                draws.setdefault(name, []).append(float(value))
    return {name: float(np.std(v, ddof=1) * math.sqrt(m)) if len(v) > 1 else math.nan
            for name, v in draws.items()}


def sampling_band(metric: str, value: float | None, *, sigma: float, n: int,
                  width: float = SAMPLING_ERROR_RANGE) -> tuple[float | None, float | None]:
    """``value ± width · σ/√n``, clipped to the metric's range; ``None`` when undefined.

    Examples
    --------
    >>> sampling_band("accuracy", 0.9, sigma=0.3, n=900)
    (0.87, 0.93)
    >>> sampling_band("accuracy", 0.99, sigma=0.3, n=100)[1]
    1.0
    """
    if value is None or not np.isfinite(value) or n <= 0 or not np.isfinite(sigma):
        return None, None
    half = width * sigma / math.sqrt(n)
    lo, hi = max(value - half, 0.0), value + half
    if metric in _UNIT_METRICS:
        hi = min(hi, 1.0)
    return round(lo, 15), round(hi, 15)


# ------------------------------------------------------------------------------- DLE


def fit_loss_models(features: np.ndarray, abs_error: np.ndarray, *,
                    categorical: Sequence[bool] | None = None, seed: int = 0) -> tuple[Any, Any]:
    """Gradient-boosting models of the absolute and the squared error (DLE).

    ``features`` holds the model's inputs (categoricals ordinal-encoded, missing as NaN)
    and its prediction, one row per labelled reference row.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    def model() -> Any:
        return HistGradientBoostingRegressor(
            categorical_features=None if categorical is None else list(categorical),
            early_stopping=True, validation_fraction=0.2, random_state=seed)

    err = np.asarray(abs_error, dtype=float)
    return model().fit(features, err), model().fit(features, err * err)


def estimate_regression_errors(models: tuple[Any, Any],
                               features: np.ndarray) -> dict[str, float | None]:
    """Estimated MAE (mean predicted absolute error) and RMSE (root of the mean predicted
    squared error), predicted errors clipped at zero."""
    if len(features) == 0:
        return {"mae": None, "rmse": None}
    abs_model, sq_model = models
    mae = np.clip(abs_model.predict(features), 0.0, None).mean()
    mse = np.clip(sq_model.predict(features), 0.0, None).mean()
    return {"mae": float(mae), "rmse": float(math.sqrt(mse))}
