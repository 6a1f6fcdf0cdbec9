"""Shares of bins or categories, filled and binned exactly as Evidently 0.7 does."""

from __future__ import annotations

# pandas is imported where used: importing the registry (method names, labels) stays light
import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "STD_FLOOR",
    "ZERO_SHARE",
    "BIN_UNIQUE_LIMIT",
    "shares",
    "fill_zero_shares",
    "sturges_edges",
    "counts_from_samples",
    "category_counts_from_samples",
    "evidently_binned_counts",
]

#: Evidently's floor for the reference standard deviation in the normed Wasserstein distance.
STD_FLOOR = 0.001
#: Evidently's replacement for a zero share (PSI, KL) when the smallest share is larger.
ZERO_SHARE = 0.0001
#: Evidently bins a numeric feature when the reference has more unique values than this;
#: otherwise each value is its own category.
BIN_UNIQUE_LIMIT = 20


def shares(counts: ArrayLike) -> np.ndarray:
    """Counts divided by their total (NaN shares when the total is zero)."""
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    return c / total if total > 0 else np.full(c.shape, np.nan)


def fill_zero_shares(p: ArrayLike) -> np.ndarray:
    """Evidently's ``feel_zeroes``: zero shares become ``ZERO_SHARE``, or the smallest
    non-zero share / 1e6 when that is ``<= ZERO_SHARE``.

    Examples
    --------
    >>> fill_zero_shares([0.5, 0.5, 0.0]).tolist()
    [0.5, 0.5, 0.0001]
    """
    p = np.array(p, dtype=float)
    nonzero = p[p != 0]
    if len(nonzero) == 0:
        return p
    smallest = float(nonzero.min())
    p[p == 0] = smallest / 10**6 if smallest <= ZERO_SHARE else ZERO_SHARE
    return p


def sturges_edges(minimum: float, maximum: float, n: int) -> np.ndarray:
    """``np.histogram_bin_edges(x, bins="sturges")`` from the min, max and size of ``x``.

    Examples
    --------
    >>> sturges_edges(0.0, 1.0, 4).tolist()
    [0.0, 0.3333333333333333, 0.6666666666666666, 1.0]
    """
    if minimum == maximum:
        minimum, maximum = minimum - 0.5, maximum + 0.5
    bins = int(np.ceil(np.log2(n) + 1)) if n > 0 else 1
    return np.linspace(minimum, maximum, bins + 1)


def _finite(x: ArrayLike) -> np.ndarray:
    import pandas as pd

    a = pd.to_numeric(pd.Series(np.asarray(x).ravel()), errors="coerce").to_numpy(float)
    return a[np.isfinite(a)]


def counts_from_samples(reference: ArrayLike, current: ArrayLike
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted unique values and their counts in each sample (NaN and infinities dropped).

    Examples
    --------
    >>> [a.tolist() for a in counts_from_samples([1, 2, 2], [2, float("nan")])]
    [[1.0, 2.0], [1, 2], [0, 1]]
    """
    r, c = _finite(reference), _finite(current)
    values = np.union1d(r, c)
    rc = np.searchsorted(values, r)
    cc = np.searchsorted(values, c)
    return (values, np.bincount(rc, minlength=len(values)),
            np.bincount(cc, minlength=len(values)))


def category_counts_from_samples(reference: ArrayLike, current: ArrayLike
                                 ) -> tuple[list, np.ndarray, np.ndarray]:
    """Categories (sorted by their text) and their counts in each sample; missing dropped."""
    import pandas as pd

    r = pd.Series(np.asarray(reference, dtype=object)).dropna()
    c = pd.Series(np.asarray(current, dtype=object)).dropna()
    keys = sorted(set(r) | set(c), key=str)
    return (keys, r.value_counts().reindex(keys, fill_value=0).to_numpy(),
            c.value_counts().reindex(keys, fill_value=0).to_numpy())


def evidently_binned_counts(reference: ArrayLike, current: ArrayLike, *, numeric: bool,
                            hellinger: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Counts per bin as Evidently's ``get_binned_data`` bins the two samples.

    A numeric sample whose reference has more than ``BIN_UNIQUE_LIMIT`` unique values is
    cut at Sturges edges over reference and current together; otherwise every value is a
    category. With ``hellinger=True`` the numeric path is Evidently's Hellinger binning
    (Sturges edges over the unique values, whatever their number). Missing values dropped.
    """
    if numeric:
        r, c = _finite(reference), _finite(current)
        if hellinger:
            edges = np.histogram_bin_edges(np.union1d(r, c), bins="sturges")
            return np.histogram(r, edges)[0], np.histogram(c, edges)[0]
        if len(np.unique(r)) > BIN_UNIQUE_LIMIT:
            edges = np.histogram_bin_edges(np.concatenate([r, c]), bins="sturges")
            return np.histogram(r, edges)[0], np.histogram(c, edges)[0]
        _, rc, cc = counts_from_samples(r, c)
        return rc, cc
    _, rc, cc = category_counts_from_samples(reference, current)
    return rc, cc
