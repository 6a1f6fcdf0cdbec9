"""Distances between two distributions (lower is closer; zero on identical inputs).

Numeric methods take sorted unique ``values`` and the counts of each in the reference and
current samples; binned methods take aligned counts per bin or category. Formulas are
Evidently 0.7's (``evidently.legacy.calculations.stattests``).
"""

from __future__ import annotations

# scipy is imported where used: importing the registry (method names, labels) stays light
import numpy as np
from numpy.typing import ArrayLike

from obskit.stattests._binning import STD_FLOOR, fill_zero_shares, shares

__all__ = [
    "wasserstein_distance_norm",
    "population_stability_index",
    "jensenshannon_distance",
    "hellinger_distance",
    "kl_divergence",
    "total_variation_distance",
    "linf_distance",
]


def _numeric(values: ArrayLike, reference_counts: ArrayLike, current_counts: ArrayLike
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    v = np.asarray(values, dtype=float)
    keep = np.isfinite(v)
    return (v[keep], np.asarray(reference_counts, dtype=float)[keep],
            np.asarray(current_counts, dtype=float)[keep])


def wasserstein_distance_norm(
    values: ArrayLike, reference_counts: ArrayLike, current_counts: ArrayLike, *,
    reference_std: float | None = None,
) -> float:
    """Wasserstein-1 distance between two empirical distributions, divided by the reference
    standard deviation (floored at ``STD_FLOOR``), from counts over shared sorted values.

    Parameters
    ----------
    values : array of float, sorted ascending, unique
        Every value seen in either sample (non-finite entries are ignored).
    reference_counts, current_counts : arrays of int
        How often each value occurs in each sample.
    reference_std : float, optional
        Population standard deviation of the reference sample; computed from the counts
        when not given.

    Returns
    -------
    float
        The distance in reference standard deviations (0: same distribution).

    Examples
    --------
    >>> wasserstein_distance_norm([0.0, 1.0], [1, 1], [0, 2], reference_std=0.5)
    1.0
    """
    v, r, c = _numeric(values, reference_counts, current_counts)
    if r.sum() == 0 or c.sum() == 0:
        return float("nan")
    if reference_std is None:
        mean = np.sum(v * r) / r.sum()
        reference_std = float(np.sqrt(np.sum(r * (v - mean) ** 2) / r.sum()))
    gap = np.abs(np.cumsum(r) / r.sum() - np.cumsum(c) / c.sum())[:-1]
    return float(np.sum(gap * np.diff(v)) / max(reference_std, STD_FLOOR))


def _pair(reference_counts: ArrayLike, current_counts: ArrayLike
          ) -> tuple[np.ndarray, np.ndarray] | None:
    r, c = shares(reference_counts), shares(current_counts)
    if np.isnan(r).any() or np.isnan(c).any() or len(r) == 0:
        return None
    return r, c


def population_stability_index(reference_counts: ArrayLike, current_counts: ArrayLike
                               ) -> float:
    """PSI: ``sum((r - c) * ln(r / c))`` over shares with Evidently's zero fill.

    Parameters
    ----------
    reference_counts, current_counts : array-like of shape (n_categories,)
        Counts per category (or bin) of each sample, aligned.

    Returns
    -------
    float
        PSI, >= 0 (0: same shares). NaN when a sample has no counts.

    Examples
    --------
    >>> round(population_stability_index([50, 50], [50, 50]), 6)
    0.0
    """
    pair = _pair(reference_counts, current_counts)
    if pair is None:
        return float("nan")
    r, c = fill_zero_shares(pair[0]), fill_zero_shares(pair[1])
    return float(np.sum((r - c) * np.log(r / c)))


def jensenshannon_distance(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Jensen–Shannon distance (natural log) between shares, as Evidently 0.7 (no zero fill).

    Parameters
    ----------
    reference_counts, current_counts : array-like of shape (n_categories,)
        Counts per category (or bin) of each sample, aligned.

    Returns
    -------
    float
        The distance, in [0, sqrt(ln 2)] (0: same shares). NaN when a sample has no counts.

    Examples
    --------
    >>> round(jensenshannon_distance([50, 50], [50, 50]), 6)
    0.0
    """
    pair = _pair(reference_counts, current_counts)
    if pair is None:
        return float("nan")
    from scipy.spatial import distance

    return float(distance.jensenshannon(*pair))


def hellinger_distance(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Hellinger distance ``sqrt(1 - sum(sqrt(r * c)))`` between shares (no zero fill).

    Parameters
    ----------
    reference_counts, current_counts : array-like of shape (n_categories,)
        Counts per category (or bin) of each sample, aligned.

    Returns
    -------
    float
        The distance, in [0, 1]. NaN when a sample has no counts.

    Examples
    --------
    >>> hellinger_distance([1, 0], [0, 1])
    1.0
    """
    pair = _pair(reference_counts, current_counts)
    if pair is None:
        return float("nan")
    bc = float(np.clip(np.sum(np.sqrt(pair[0] * pair[1])), 0, 1))
    return float(np.sqrt(1 - bc))


def kl_divergence(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Kullback–Leibler divergence KL(reference || current), natural log, zero-filled shares.

    Not symmetric.

    Parameters
    ----------
    reference_counts, current_counts : array-like of shape (n_categories,)
        Counts per category (or bin) of each sample, aligned.

    Returns
    -------
    float
        The divergence, >= 0 (nats). NaN when a sample has no counts.

    Examples
    --------
    >>> round(kl_divergence([50, 50], [50, 50]), 6)
    0.0
    """
    pair = _pair(reference_counts, current_counts)
    if pair is None:
        return float("nan")
    from scipy import stats

    return float(stats.entropy(fill_zero_shares(pair[0]), fill_zero_shares(pair[1])))


def total_variation_distance(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Total variation distance ``0.5 * sum(|r - c|)`` between shares.

    This is the statistic of Evidently's ``TVD`` test (whose value is a permutation
    p-value); obskit reports the distance itself.

    Parameters
    ----------
    reference_counts, current_counts : array-like of shape (n_categories,)
        Counts per category (or bin) of each sample, aligned.

    Returns
    -------
    float
        The distance, in [0, 1]. NaN when a sample has no counts.

    Examples
    --------
    >>> total_variation_distance([1, 0], [0, 1])
    1.0
    """
    pair = _pair(reference_counts, current_counts)
    if pair is None:
        return float("nan")
    return float(0.5 * np.sum(np.abs(pair[0] - pair[1])))


def linf_distance(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """L-infinity distance ``max(|r - c|)`` between shares (NannyML's categorical method).

    Parameters
    ----------
    reference_counts, current_counts : array-like of shape (n_categories,)
        Counts per category (or bin) of each sample, aligned.

    Returns
    -------
    float
        The largest share difference, in [0, 1]. NaN when a sample has no counts.

    Examples
    --------
    >>> linf_distance([3, 1], [1, 3])
    0.5
    """
    pair = _pair(reference_counts, current_counts)
    if pair is None:
        return float("nan")
    return float(np.max(np.abs(pair[0] - pair[1])))
