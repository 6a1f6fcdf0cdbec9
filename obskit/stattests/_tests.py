"""Two-sample tests: p-values (lower means more evidence of drift), as Evidently 0.7.

Numeric tests take sorted unique ``values`` and their counts in each sample (the samples
are rebuilt with ``np.repeat`` where scipy needs them); categorical tests take aligned
counts per category.
"""

from __future__ import annotations

import math
import warnings

# scipy is imported where used: importing the registry (method names, labels) stays light
import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ks_statistic",
    "ks_pvalue_from_statistic",
    "ks_pvalue",
    "chisquare_pvalue",
    "chisquare_homogeneity_pvalue",
    "z_pvalue",
    "anderson_pvalue",
    "cramer_von_mises_pvalue",
]

#: ``scipy.stats.ks_2samp(method="auto")`` is exact up to this many rows per sample.
KS_EXACT_MAX_N = 10000


def _numeric(values: ArrayLike, reference_counts: ArrayLike, current_counts: ArrayLike
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    v = np.asarray(values, dtype=float)
    keep = np.isfinite(v)
    return (v[keep], np.asarray(reference_counts, dtype=np.int64)[keep],
            np.asarray(current_counts, dtype=np.int64)[keep])


def ks_statistic(values: ArrayLike, reference_counts: ArrayLike, current_counts: ArrayLike,
                 ) -> float:
    """Kolmogorov–Smirnov statistic ``max |F_ref - F_cur|`` from counts over sorted values.

    Parameters
    ----------
    values : array-like of shape (n_values,)
        Every value seen in either sample, ascending (non-finite entries are ignored).
    reference_counts, current_counts : array-like of shape (n_values,)
        How often each value occurs in each sample.

    Returns
    -------
    float
        The two-sample KS statistic, in [0, 1].

    Examples
    --------
    >>> ks_statistic([1.0, 2.0], [2, 0], [1, 1])
    0.5
    """
    _, r, c = _numeric(values, reference_counts, current_counts)
    if r.sum() == 0 or c.sum() == 0:
        return float("nan")
    return float(np.max(np.abs(np.cumsum(r) / r.sum() - np.cumsum(c) / c.sum())))


def ks_pvalue_from_statistic(statistic: float, n_reference: int, n_current: int) -> float:
    """Two-sided KS p-value from the statistic and the sample sizes, as
    ``scipy.stats.ks_2samp(method="auto")``: exact when both samples have at most
    ``KS_EXACT_MAX_N`` rows, else Smirnov's asymptotic distribution (``kstwo``).

    Parameters
    ----------
    statistic : float
        The KS statistic, in [0, 1].
    n_reference, n_current : int
        The samples' sizes.

    Returns
    -------
    float
        The two-sided p-value, in [0, 1].

    Examples
    --------
    >>> ks_pvalue_from_statistic(0.0, 100, 100)
    1.0
    """
    n1, n2 = int(n_reference), int(n_current)
    if n1 == 0 or n2 == 0 or not np.isfinite(statistic):
        return float("nan")
    d = float(statistic)
    if max(n1, n2) <= KS_EXACT_MAX_N:
        try:  # scipy's own exact routine (private; fall back to asymptotic if it moves)
            from scipy.stats._stats_py import _attempt_exact_2kssamp

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ok, _, prob = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), d, "two-sided")
            if ok:
                return float(np.clip(prob, 0, 1))
        except ImportError:  # pragma: no cover - depends on scipy internals
            pass
    m, n = sorted([float(n1), float(n2)], reverse=True)
    from scipy import stats

    return float(np.clip(stats.kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))


def ks_pvalue(values: ArrayLike, reference_counts: ArrayLike, current_counts: ArrayLike, *,
              reference_std: float | None = None) -> float:
    """Two-sided Kolmogorov–Smirnov p-value (Evidently's ``ks``: ``ks_2samp(ref, cur)``).

    ``reference_std`` is accepted for a uniform signature and ignored.

    Parameters
    ----------
    values : array-like of shape (n_values,)
        Every value seen in either sample, ascending (non-finite entries are ignored).
    reference_counts, current_counts : array-like of shape (n_values,)
        How often each value occurs in each sample.
    reference_std : float, optional
        Accepted for a common signature with the distances; unused.

    Returns
    -------
    float
        The p-value, in [0, 1] (lower means more drift).

    Examples
    --------
    >>> ks_pvalue([1.0, 2.0], [5, 5], [5, 5])
    1.0
    """
    _, r, c = _numeric(values, reference_counts, current_counts)
    return ks_pvalue_from_statistic(ks_statistic(values, reference_counts, current_counts),
                                    int(r.sum()), int(c.sum()))


def _samples(values: ArrayLike, reference_counts: ArrayLike, current_counts: ArrayLike
             ) -> tuple[np.ndarray, np.ndarray]:
    v, r, c = _numeric(values, reference_counts, current_counts)
    return np.repeat(v, r), np.repeat(v, c)


def anderson_pvalue(values: ArrayLike, reference_counts: ArrayLike, current_counts: ArrayLike,
                    *, reference_std: float | None = None) -> float:
    """Anderson–Darling k-sample p-value (``scipy.stats.anderson_ksamp``, as Evidently's
    ``anderson``). scipy caps it to [0.001, 0.25]. Both samples constant and equal: 1.0.

    Parameters
    ----------
    values : array-like of shape (n_values,)
        Every value seen in either sample, ascending (non-finite entries are ignored).
    reference_counts, current_counts : array-like of shape (n_values,)
        How often each value occurs in each sample.
    reference_std : float, optional
        Accepted for a common signature with the distances; unused.

    Returns
    -------
    float
        The p-value, in [0, 1] (lower means more drift).

    Examples
    --------
    >>> anderson_pvalue([1.0], [5], [5])
    1.0
    """
    ref, cur = _samples(values, reference_counts, current_counts)
    if len(ref) < 1 or len(cur) < 1:
        return float("nan")
    if len(np.unique(np.concatenate([ref, cur]))) < 2:
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from scipy import stats

        return float(stats.anderson_ksamp([ref, cur])[2])


def cramer_von_mises_pvalue(values: ArrayLike, reference_counts: ArrayLike,
                            current_counts: ArrayLike, *, reference_std: float | None = None
                            ) -> float:
    """Cramér–von Mises two-sample p-value (``scipy.stats.cramervonmises_2samp``, method
    ``auto``, as Evidently's ``cramer_von_mises``). Needs two rows per sample.

    Parameters
    ----------
    values : array-like of shape (n_values,)
        Every value seen in either sample, ascending (non-finite entries are ignored).
    reference_counts, current_counts : array-like of shape (n_values,)
        How often each value occurs in each sample.
    reference_std : float, optional
        Accepted for a common signature with the distances; unused.

    Returns
    -------
    float
        The p-value, in [0, 1] (lower means more drift).

    Examples
    --------
    >>> cramer_von_mises_pvalue([1.0], [5], [5])
    1.0
    """
    ref, cur = _samples(values, reference_counts, current_counts)
    if len(ref) < 2 or len(cur) < 2:
        return float("nan")
    from scipy import stats

    return float(stats.cramervonmises_2samp(ref, cur).pvalue)


def chisquare_pvalue(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Chi-square goodness-of-fit p-value of the current counts against the reference
    counts scaled to the current total (Evidently's ``chisquare``). A category unseen in
    the reference gives p = 0.

    Parameters
    ----------
    reference_counts, current_counts : array-like of shape (n_categories,)
        Counts per category (or bin) of each sample, aligned.

    Returns
    -------
    float
        The p-value, in [0, 1] (lower means more drift).

    Examples
    --------
    >>> chisquare_pvalue([50, 50], [50, 50])
    1.0
    """
    r = np.asarray(reference_counts, dtype=float)
    c = np.asarray(current_counts, dtype=float)
    if r.sum() == 0 or c.sum() == 0:
        return float("nan")
    f_exp = r * (c.sum() / r.sum())
    if np.any((f_exp == 0) & (c > 0)):
        return 0.0
    keep = f_exp > 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        from scipy import stats

        return float(stats.chisquare(c[keep], f_exp[keep])[1])


def chisquare_homogeneity_pvalue(reference_counts: ArrayLike,
                                 current_counts: ArrayLike) -> float:
    """Pearson chi-square test of homogeneity of the 2 × k table of reference and current
    counts per category (``scipy.stats.chi2_contingency`` without continuity correction).

    Unlike :func:`chisquare_pvalue` it treats the reference as a sample too, and a category
    unseen in the reference only adds its share of the statistic, so its false alarm rate
    stays near the level on many sparse categories (id-like columns).

    Parameters
    ----------
    reference_counts, current_counts : array-like of shape (n_categories,)
        Counts per category (or bin) of each sample, aligned.

    Returns
    -------
    float
        The p-value, in [0, 1] (lower means more drift).

    Examples
    --------
    >>> round(chisquare_homogeneity_pvalue([30, 20], [20, 30]), 4)
    0.0455
    """
    r = np.asarray(reference_counts, dtype=float)
    c = np.asarray(current_counts, dtype=float)
    if r.sum() == 0 or c.sum() == 0:
        return float("nan")
    keep = (r + c) > 0
    if keep.sum() < 2:
        return 1.0
    table = np.vstack([r[keep], c[keep]])
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    from scipy import stats

    return float(stats.chi2.sf(statistic, keep.sum() - 1))


def z_pvalue(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Two-sided Z-test for the difference of two proportions (Evidently's ``z``).

    The first category is "0" and every other category "1" (a binary feature has two);
    1.0 when both samples hold the same single category.

    Parameters
    ----------
    reference_counts, current_counts : array-like of shape (n_categories,)
        Counts per category (or bin) of each sample, aligned.

    Returns
    -------
    float
        The p-value, in [0, 1] (lower means more drift).

    Examples
    --------
    >>> z_pvalue([50, 50], [50, 50])
    1.0
    """
    r = np.asarray(reference_counts, dtype=float)
    c = np.asarray(current_counts, dtype=float)
    n1, n2 = r.sum(), c.sum()
    if n1 == 0 or n2 == 0:
        return float("nan")
    if np.count_nonzero(r) == 1 and np.array_equal(r > 0, c > 0):
        return 1.0
    p1, p2 = (n1 - r[0]) / n1, (n2 - c[0]) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    with np.errstate(all="ignore"):
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    from scipy import stats

    return float(2 * (1 - stats.norm.cdf(np.abs(z))))
