"""Univariate drift methods, registered by name, and the default choice per feature.

The statistics are pure functions in :mod:`obskit.stattests` (re-exported here), with
Evidently 0.7's formulas, names and default thresholds:

============== =========== ========= ============ =========================================
name           input       threshold drifted when value
============== =========== ========= ============ =========================================
wasserstein    numeric     0.1       value >= t   Wasserstein-1 / reference std (>= 0.001)
ks             numeric     0.05      p <= t       Kolmogorov–Smirnov p-value
anderson       numeric     0.1       p < t        Anderson–Darling k-sample p-value
cramer_von_mises numeric   0.1       p <= t       Cramér–von Mises p-value
psi            binned      0.1       value >= t   population stability index
jensenshannon  binned      0.1       value >= t   Jensen–Shannon distance
hellinger      binned      0.1       value >= t   Hellinger distance
kl_div         binned      0.1       value >= t   KL divergence (reference || current)
chisquare      categories  0.05      p < t        chi-square p-value
chisquare_homogeneity categories 0.05 p < t      chi-square test of homogeneity (obskit)
z              categories  0.05      p < t        Z-test for two proportions, p-value
tvd            categories  0.1       value >= t   total variation distance (obskit)
linf           categories  0.1       value >= t   L-infinity distance (obskit)
============== =========== ========= ============ =========================================

"binned" methods compare shares of categories, or of histogram bins for a numeric feature
with more than ``BIN_UNIQUE_LIMIT`` (20) unique reference values. Evidently's ``TVD`` is
a permutation p-value; obskit's ``tvd`` is the distance itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from obskit.schema import is_numeric_type
from obskit.stattests import (
    BIN_UNIQUE_LIMIT,
    METHODS,
    STD_FLOOR,
    ZERO_SHARE,
    DriftMethod,
    DriftRule,
    anderson_pvalue,
    category_counts_from_samples,
    chisquare_homogeneity_pvalue,
    chisquare_pvalue,
    counts_from_samples,
    cramer_von_mises_pvalue,
    evidently_binned_counts,
    fill_zero_shares,
    hellinger_distance,
    jensenshannon_distance,
    kl_divergence,
    ks_pvalue,
    ks_pvalue_from_statistic,
    ks_statistic,
    linf_distance,
    population_stability_index,
    shares,
    sturges_edges,
    total_variation_distance,
    wasserstein_distance_norm,
    z_pvalue,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike

__all__ = [
    "DriftMethod", "METHODS", "method_label", "default_rule", "SMALL_REFERENCE_ROWS",
    "worst_value", "threshold_ratio", "is_pvalue_method", "cardinality_rule", "NOT_JUDGED",
    "HIGH_CARDINALITY_SHARE", "IDENTIFIER_SHARE", "MIN_ROWS_PER_CATEGORY",
    "STD_FLOOR", "ZERO_SHARE", "BIN_UNIQUE_LIMIT",
    "wasserstein_distance_norm", "population_stability_index", "jensenshannon_distance",
    "hellinger_distance", "kl_divergence", "total_variation_distance", "linf_distance",
    "ks_statistic", "ks_pvalue_from_statistic", "ks_pvalue", "anderson_pvalue",
    "cramer_von_mises_pvalue", "chisquare_pvalue", "chisquare_homogeneity_pvalue", "z_pvalue",
    "shares", "fill_zero_shares", "sturges_edges", "counts_from_samples",
    "category_counts_from_samples", "evidently_binned_counts", "category_shares",
]

#: Evidently's switch between the small-reference tests and the large-reference distances.
SMALL_REFERENCE_ROWS = 1000

#: the method of a feature left out of drift (an identifier): no method registered by it
NOT_JUDGED = "not_judged"
#: distinct reference values per reference row from which a categorical is high-cardinality
HIGH_CARDINALITY_SHARE = 0.05
#: rows per distinct value a window needs for a binned distance to be above its noise
MIN_ROWS_PER_CATEGORY = 10
#: distinct reference values per reference row from which a column is an identifier
IDENTIFIER_SHARE = 0.5

def method_label(name: object) -> str:
    """A method's name for readers (``"Wasserstein (normed)"``).

    Parameters
    ----------
    name : object
        A method name (a key of :data:`~obskit.stattests.METHODS`).

    Returns
    -------
    str
        The label; unknown names as given (as text).
    """
    return METHODS.get(name).label if name in METHODS.names() else str(name)


def is_pvalue_method(method: object) -> bool:
    """Whether a name is a registered p-value method (lower means more drift).

    Parameters
    ----------
    method : object
        A method name.

    Returns
    -------
    bool
        True for a registered p-value method.
    """
    return method in METHODS.names() and METHODS.get(method).is_pvalue


def worst_value(values: Iterable[float | None], method: object) -> float | None:
    """The value of the most drifted window in the method's direction: the smallest
    p-value for p-value methods, the largest distance otherwise (None without a finite
    value).

    Parameters
    ----------
    values : iterable of float or None
        The method's value per window (None and non-finite values are left out).
    method : object
        The method name.

    Returns
    -------
    float or None
        The worst value, in the method's units.

    Examples
    --------
    >>> worst_value([0.756, 0.0, 0.3], "ks")
    0.0
    >>> worst_value([0.05, 0.2], "wasserstein")
    0.2
    """
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not finite:
        return None
    return min(finite) if is_pvalue_method(method) else max(finite)


def threshold_ratio(value: float | None, threshold: float | None, method: object,
                    *, cap: float = math.inf) -> float:
    """How far ``value`` lies beyond ``threshold`` in the drift direction, as a ratio
    (above 1: past the threshold): ``value / threshold`` for distances,
    ``threshold / value`` for p-values; 0 when either is missing, ``cap`` at most.

    Parameters
    ----------
    value, threshold : float or None
        The statistic and its threshold, in the method's units.
    method : object
        The method name.
    cap : float, default inf
        The largest ratio returned.

    Returns
    -------
    float
        The ratio, in ``[0, cap]``.

    Examples
    --------
    >>> threshold_ratio(0.2, 0.1, "wasserstein")
    2.0
    >>> threshold_ratio(0.005, 0.05, "ks")
    10.0
    """
    if value is None or threshold is None or not math.isfinite(float(value)) \
            or not math.isfinite(float(threshold)):
        return 0.0
    value, threshold = float(value), float(threshold)
    num, den = (threshold, value) if is_pvalue_method(method) else (value, threshold)
    if den <= 0:
        return cap if num > 0 else 0.0
    return min(num / den, cap)


def category_shares(reference_counts: ArrayLike,
                    current_counts: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Shares of each category in each sample with Evidently's zero fill (PSI, KL).

    Parameters
    ----------
    reference_counts, current_counts : array-like of shape (n_categories,)
        Counts per category, aligned.

    Returns
    -------
    reference_shares, current_shares : ndarray of shape (n_categories,)
        Each sample's shares, zero shares replaced by Evidently's small fill
        (:func:`~obskit.stattests.fill_zero_shares`).
    """
    return fill_zero_shares(shares(reference_counts)), fill_zero_shares(shares(current_counts))


def default_rule(kind: str, reference_rows: int, n_unique: int) -> DriftRule:
    """Evidently 0.7's default method for a feature (``_get_default_stattest``).

    Parameters
    ----------
    kind : str
        ``numeric``, ``categorical`` or ``boolean`` (treated as categorical).
    reference_rows : int
        Non-missing, finite reference rows of the feature.
    n_unique : int
        Distinct non-missing values in reference and current together.

    Reference of at most 1000 rows: numeric with more than 5 unique values → ``ks``
    (p <= 0.05); otherwise more than 2 unique values → ``chisquare``, else ``z``
    (p < 0.05). Larger reference: numeric with more than 5 unique values →
    ``wasserstein`` (0.1); otherwise ``jensenshannon`` (0.1).

    Returns
    -------
    DriftRule
        The method and its threshold.

    Examples
    --------
    >>> default_rule("numeric", 5000, 100).method
    'wasserstein'
    >>> default_rule("categorical", 200, 2).method
    'z'
    """
    numeric = is_numeric_type(kind)
    if reference_rows <= SMALL_REFERENCE_ROWS:
        name = "ks" if numeric and n_unique > 5 else ("chisquare" if n_unique > 2 else "z")
    else:
        name = "wasserstein" if numeric and n_unique > 5 else "jensenshannon"
    return DriftRule(name, METHODS.get(name).default_threshold)


def cardinality_rule(feature: str, *, reference_rows: int, reference_unique: int,
                     window_rows: float) -> DriftRule | None:
    """The rule for a categorical feature with too many categories for a binned distance,
    or None when it has few enough.

    A binned distance (Jensen–Shannon, PSI, ...) between two samples of the same
    distribution grows with the number of categories per row: 400 merchant ids over
    400-row windows give Jensen–Shannon 0.45 from sampling noise alone. So a categorical
    with more than ``BIN_UNIQUE_LIMIT`` (20) distinct reference values and either at least
    ``HIGH_CARDINALITY_SHARE`` (5%) distinct values per reference row or fewer than
    ``MIN_ROWS_PER_CATEGORY`` (10) window rows per distinct value is judged by the
    chi-square test of homogeneity (``chisquare_homogeneity``, p < 0.05), whose threshold
    accounts for both sample sizes; a new dominant value or a shifted mix still shows.
    One with at least ``IDENTIFIER_SHARE`` (50%) distinct values per reference row is an
    identifier and is not judged (method :data:`NOT_JUDGED`). Both carry a ``note``.

    Parameters
    ----------
    feature : str
        The feature's name (for the note).
    reference_rows : int
        Non-missing reference rows.
    reference_unique : int
        Distinct non-missing reference values.
    window_rows : float
        Typical (median) rows of a current window.

    Returns
    -------
    DriftRule or None
        The chi-square or not-judged rule with its note; None for a feature with few enough
        categories.

    Examples
    --------
    >>> cardinality_rule("merchant", reference_rows=1500, reference_unique=400,
    ...                  window_rows=400).method
    'chisquare_homogeneity'
    >>> cardinality_rule("region", reference_rows=1500, reference_unique=4,
    ...                  window_rows=400) is None
    True
    """
    if reference_rows <= 0 or reference_unique <= BIN_UNIQUE_LIMIT:
        return None
    share = reference_unique / reference_rows
    described = (f"{feature} has {reference_unique:,} distinct values in {reference_rows:,} "
                 f"reference rows ({share:.0%})")
    if share >= IDENTIFIER_SHARE:
        return DriftRule(NOT_JUDGED, float("nan"), note=(
            f"{described}: an identifier, not judged for drift (configure "
            f"drift.features.{feature} to judge it)."))
    if share >= HIGH_CARDINALITY_SHARE or window_rows < MIN_ROWS_PER_CATEGORY * reference_unique:
        return DriftRule("chisquare_homogeneity", 0.05, note=(
            f"{described}, about {window_rows / reference_unique:.1f} window rows per value: "
            "too many categories for a binned distance, judged by a chi-square test of "
            "homogeneity instead."))
    return None
