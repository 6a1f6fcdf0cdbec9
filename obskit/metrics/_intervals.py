"""Confidence intervals in closed form, from counts and sums.

Every function returns ``(lo, hi)``, or ``(None, None)`` where the interval is undefined
(no rows, fewer than two rows for a sample variance, or a boundary estimate for which the
formula breaks down). ``confidence`` is the two-sided coverage, 0.95 by default.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = [
    "Interval",
    "NO_INTERVAL",
    "z_value",
    "wilson_interval",
    "normal_interval",
    "mean_interval",
    "hanley_mcneil_interval",
    "hanley_mcneil_se",
    "logit_interval",
    "multinomial_delta_interval",
]

Interval = tuple[float | None, float | None]
NO_INTERVAL: Interval = (None, None)


def z_value(confidence: float) -> float:
    """The standard normal quantile of a two-sided ``confidence`` level.

    Parameters
    ----------
    confidence : float
        The two-sided confidence level, in (0, 1).

    Returns
    -------
    float
        ``Φ⁻¹((1 + confidence) / 2)``.

    Examples
    --------
    >>> round(z_value(0.95), 4)
    1.96
    """
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: float, n: float, *, confidence: float = 0.95) -> Interval:
    """Wilson score interval for the proportion ``successes / n``.

    Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical
    inference", *JASA* 22(158), 209–212. Unlike the Wald interval it stays inside [0, 1]
    and keeps its coverage near 0 and 1.

    Parameters
    ----------
    successes, n : float
        Successes and trials.
    confidence : float, default 0.95
        The two-sided confidence level, in (0, 1).

    Returns
    -------
    (float or None, float or None)
        The interval's low and high ends; ``(None, None)`` where it is undefined.

    Examples
    --------
    >>> [round(b, 4) for b in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if n <= 0:
        return NO_INTERVAL
    z = z_value(confidence)
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def normal_interval(estimate: float | None, se: float | None, *, confidence: float = 0.95,
                    lower: float = -math.inf, upper: float = math.inf) -> Interval:
    """``estimate ± z · se``, clipped to the metric's range ``[lower, upper]``.

    Parameters
    ----------
    estimate, se : float or None
        The estimate and its standard error.
    confidence : float, default 0.95
        The two-sided confidence level, in (0, 1).
    lower, upper : float
        The metric's range.

    Returns
    -------
    (float or None, float or None)
        The interval's low and high ends; ``(None, None)`` where it is undefined.

    Examples
    --------
    >>> [round(b, 4) for b in normal_interval(0.5, 0.1, upper=0.6)]
    [0.304, 0.6]
    """
    if estimate is None or se is None or not math.isfinite(se):
        return NO_INTERVAL
    z = z_value(confidence)
    return max(lower, estimate - z * se), min(upper, estimate + z * se)


def mean_interval(n: float, total: float, total_sq: float, *, confidence: float = 0.95,
                  lower: float = -math.inf, upper: float = math.inf) -> Interval:
    """Normal interval for a mean of per-row values from ``n``, ``Σx`` and ``Σx²``.

    The standard error is the sample standard deviation over ``√n`` (central limit theorem).

    Parameters
    ----------
    n, total, total_sq : float
        Rows, ``Σx`` and ``Σx²``.
    confidence : float, default 0.95
        The two-sided confidence level, in (0, 1).
    lower, upper : float
        The metric's range.

    Returns
    -------
    (float or None, float or None)
        The interval's low and high ends; ``(None, None)`` where it is undefined.

    Examples
    --------
    >>> [round(b, 4) for b in mean_interval(4, 10.0, 30.0)]
    [1.2348, 3.7652]
    """
    if n < 2:
        return NO_INTERVAL
    var = max(0.0, (total_sq - total * total / n) / (n - 1))
    return normal_interval(total / n, math.sqrt(var / n), confidence=confidence,
                           lower=lower, upper=upper)


def hanley_mcneil_interval(auc: float | None, n_pos: float, n_neg: float, *,
                           confidence: float = 0.95) -> Interval:
    """Normal interval for ROC AUC with the Hanley–McNeil standard error.

    Hanley, J. A. and McNeil, B. J. (1982), "The meaning and use of the area under a
    receiver operating characteristic (ROC) curve", *Radiology* 143(1), 29–36:
    ``SE² = [A(1−A) + (P−1)(Q1−A²) + (N−1)(Q2−A²)] / (P·N)`` with ``Q1 = A/(2−A)`` and
    ``Q2 = 2A²/(1+A)``.

    Parameters
    ----------
    auc : float or None
        The ROC AUC.
    n_pos, n_neg : float
        Positives and negatives.
    confidence : float, default 0.95
        The two-sided confidence level, in (0, 1).

    Returns
    -------
    (float or None, float or None)
        The interval's low and high ends; ``(None, None)`` where it is undefined.

    Examples
    --------
    >>> [round(b, 4) for b in hanley_mcneil_interval(0.8, 50, 50)]
    [0.7128, 0.8872]
    """
    if auc is None or n_pos <= 0 or n_neg <= 0:
        return NO_INTERVAL
    return normal_interval(auc, hanley_mcneil_se(auc, n_pos, n_neg), confidence=confidence,
                           lower=0.0, upper=1.0)


def hanley_mcneil_se(auc: float, n_pos: float, n_neg: float) -> float:
    """The Hanley–McNeil standard error of a ROC AUC (see :func:`hanley_mcneil_interval`).

    Parameters
    ----------
    auc : float
        The ROC AUC.
    n_pos, n_neg : float
        Positives and negatives.

    Returns
    -------
    float
        The standard error.

    Examples
    --------
    >>> round(hanley_mcneil_se(0.8, 50, 50), 4)
    0.0445
    """
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc)
           + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


def logit_interval(value: float | None, n: float, *, confidence: float = 0.95) -> Interval:
    """Logit interval for a precision-like area from ``n`` positives.

    Boyd, K., Eng, K. H. and Page, C. D. (2013), "Area under the precision-recall curve:
    point estimates and confidence intervals", *ECML PKDD*, LNCS 8190, 451–466:
    ``expit(logit(v) ± z / √(n · v · (1−v)))``. Undefined at 0 and 1.

    Parameters
    ----------
    value : float or None
        The area, in (0, 1).
    n : float
        Positives.
    confidence : float, default 0.95
        The two-sided confidence level, in (0, 1).

    Returns
    -------
    (float or None, float or None)
        The interval's low and high ends; ``(None, None)`` where it is undefined.

    Examples
    --------
    >>> [round(b, 4) for b in logit_interval(0.7, 100)]
    [0.6034, 0.7816]
    """
    if value is None or n <= 0 or not 0 < value < 1:
        return NO_INTERVAL
    z = z_value(confidence)
    eta, tau = math.log(value / (1 - value)), 1 / math.sqrt(n * value * (1 - value))
    return 1 / (1 + math.exp(-(eta - z * tau))), 1 / (1 + math.exp(-(eta + z * tau)))


def multinomial_delta_interval(estimate: float | None, counts: np.ndarray,
                               gradient: np.ndarray, *, confidence: float = 0.95,
                               lower: float = 0.0, upper: float = 1.0) -> Interval:
    """Delta-method interval for a ratio statistic of multinomial cell counts.

    For a statistic ``T`` of the counts ``N`` that is unchanged by scaling them (every
    confusion-table metric), the delta method under multinomial sampling gives
    ``Var T ≈ Σ N_ij (∂T/∂N_ij)²`` (the covariance term vanishes by Euler's theorem).
    ``gradient`` holds ``∂T/∂N_ij`` in the layout of ``counts``.

    Parameters
    ----------
    estimate : float or None
        The statistic.
    counts : ndarray
        The cell counts.
    gradient : ndarray, the shape of ``counts``
        ``∂T/∂N`` per cell, in the layout of ``counts``.
    confidence : float, default 0.95
        The two-sided confidence level, in (0, 1).
    lower, upper : float, default 0.0, 1.0
        The metric's range.

    Returns
    -------
    (float or None, float or None)
        The interval's low and high ends; ``(None, None)`` where it is undefined.

    Examples
    --------
    >>> # f1 = 2·tp / (2·tp + fp + fn) at tp=40, fp=10, fn=10, tn=40
    >>> g = np.array([40, -80, -80, 0]) / 100**2
    >>> [round(b, 4) for b in multinomial_delta_interval(0.8, np.array([40, 10, 10, 40]), g)]
    [0.7141, 0.8859]
    """
    if estimate is None or counts.sum() <= 0:
        return NO_INTERVAL
    se = math.sqrt(float(np.sum(counts * gradient * gradient)))
    return normal_interval(estimate, se, confidence=confidence, lower=lower, upper=upper)
