"""Sampling error of the estimates: realized metrics on reference resamples and the
bands around an estimate (see :mod:`obskit.metrics.estimation`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from obskit.metrics._ranking import ranking_auc
from obskit.metrics.performance import binary_scores

__all__ = ["SAMPLING_ERROR_RANGE", "realized_binary_scores", "realized_regression_errors",
           "sampling_sigma", "sampling_band"]

#: Width of the sampling-error band, in standard errors (NannyML's choice).
SAMPLING_ERROR_RANGE = 3.0
#: Metrics bounded to [0, 1]; the others (errors) are bounded below by 0.
_UNIT_METRICS = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc", "f1_macro"})


# -------------------------------------------------------------------- sampling error


def realized_binary_scores(y: np.ndarray, predicted: np.ndarray,
                           score: np.ndarray | None = None) -> dict[str, float | None]:
    """Realized accuracy, precision, recall, f1 (roc_auc with a score) from arrays.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Outcomes (0/1).
    predicted : ndarray of shape (n,)
        Predicted labels (0/1).
    score : ndarray of shape (n,), optional
        Scores, for ``roc_auc``.

    Returns
    -------
    dict of str to float or None
        The metrics in [0, 1] (None when undefined).
    """
    y, yhat = np.asarray(y).astype(bool), np.asarray(predicted).astype(bool)
    out = binary_scores(tp=int((y & yhat).sum()), fp=int((~y & yhat).sum()),
                        tn=int((~y & ~yhat).sum()), fn=int((y & ~yhat).sum()))
    if score is not None:  # 0/1 weights: the sums are exact, as estimate_roc_auc's
        auc = ranking_auc(np.asarray(score, dtype=float), y, ~y)[0]
        out["roc_auc"] = None if np.isnan(auc) else auc
    return out


def realized_regression_errors(y: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """Realized MAE and RMSE from arrays.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Labels.
    prediction : ndarray of shape (n,)
        Predictions.

    Returns
    -------
    dict of str to float
        ``mae`` and ``rmse``, in the label's units.
    """
    err = np.asarray(prediction, dtype=float) - np.asarray(y, dtype=float)
    return {"mae": float(np.abs(err).mean()), "rmse": float(np.sqrt((err * err).mean()))}


def sampling_sigma(metrics: Callable[[np.ndarray], Mapping[str, float | None]], n_rows: int,
                   *, size: int = 5000, n_boot: int = 200,
                   seed: int = 0) -> dict[str, float]:
    """Per metric, ``σ`` such that the metric's standard error on ``n`` rows is ``σ/√n``.

    ``metrics(index)`` computes the metrics on the reference rows ``index``; the metrics
    are computed on ``n_boot`` bootstrap samples of ``m = min(size, n_rows)`` rows and
    ``σ = std · √m``.

    Parameters
    ----------
    metrics : callable
        ``metrics(index) -> {metric: value}`` on the reference rows ``index``.
    n_rows : int
        Reference rows.
    size : int, default 5000
        The most rows per bootstrap sample.
    n_boot : int, default 200
        Bootstrap samples.
    seed : int, default 0
        Seed of the draws.

    Returns
    -------
    dict of str to float
        Metric → ``σ`` (NaN from fewer than two finite samples; metrics never finite are
        left out).
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

    Parameters
    ----------
    metric : str
        The metric (its range: [0, 1] for scores, [0, inf) for errors).
    value : float or None
        The estimate.
    sigma : float
        From :func:`sampling_sigma`.
    n : int
        Rows of the window.
    width : float, default SAMPLING_ERROR_RANGE
        Standard errors on each side.

    Returns
    -------
    (float or None, float or None)
        The band's low and high ends.

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


