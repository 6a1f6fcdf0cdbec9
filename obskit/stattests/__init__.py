"""Drift statistics as pure functions over aggregates (counts over values, bins, categories).

Registered by name in :mod:`obskit.stattests.registry` (:data:`METHODS`); re-exported by
:mod:`obskit.stattests.drift_rules`.
"""

from obskit.stattests._binning import (
    BIN_UNIQUE_LIMIT,
    STD_FLOOR,
    ZERO_SHARE,
    category_counts_from_samples,
    counts_from_samples,
    evidently_binned_counts,
    fill_zero_shares,
    shares,
    sturges_edges,
)
from obskit.stattests._distances import (
    hellinger_distance,
    jensenshannon_distance,
    kl_divergence,
    linf_distance,
    population_stability_index,
    total_variation_distance,
    wasserstein_distance_norm,
)
from obskit.stattests._ecdf import ReferenceECDF, wasserstein_ks
from obskit.stattests._tests import (
    anderson_pvalue,
    chisquare_homogeneity_pvalue,
    chisquare_pvalue,
    cramer_von_mises_pvalue,
    ks_pvalue,
    ks_pvalue_from_statistic,
    ks_statistic,
    z_pvalue,
)
from obskit.stattests.registry import METHODS, DriftMethod, DriftRule

__all__ = [
    "METHODS", "DriftMethod", "DriftRule",
    "ReferenceECDF",
    "wasserstein_ks",
    "BIN_UNIQUE_LIMIT", "STD_FLOOR", "ZERO_SHARE",
    "shares", "fill_zero_shares", "sturges_edges", "counts_from_samples",
    "category_counts_from_samples", "evidently_binned_counts",
    "wasserstein_distance_norm", "population_stability_index", "jensenshannon_distance",
    "hellinger_distance", "kl_divergence", "total_variation_distance", "linf_distance",
    "ks_statistic", "ks_pvalue_from_statistic", "ks_pvalue", "anderson_pvalue",
    "cramer_von_mises_pvalue", "chisquare_pvalue", "chisquare_homogeneity_pvalue", "z_pvalue",
]
