"""Window profiles: the aggregates the engine computes, per window, for the findings.

Everything here is an Ibis expression executed in the engine; only aggregates (one row per
window, per window and category, per histogram bin) come back as small pandas frames.
"""

from obskit.profiles._common import (
    FETCH_VALUES,
    W,
    by_window,
    clean_numeric,
    fetch_by_window,
    group_by_window,
    model_versions_by_window,
    window_groups,
    window_overview,
)
from obskit.profiles.drift import category_counts, numeric_histogram, wasserstein_by_window
from obskit.profiles.health import error_flag, health_by_window
from obskit.profiles.performance import (
    binary_auc,
    binary_counts,
    confusion_by_window,
    regression_sums,
)

__all__ = [
    "W",
    "FETCH_VALUES",
    "by_window",
    "fetch_by_window",
    "group_by_window",
    "window_groups",
    "clean_numeric",
    "window_overview",
    "model_versions_by_window",
    "wasserstein_by_window",
    "category_counts",
    "numeric_histogram",
    "error_flag",
    "health_by_window",
    "binary_counts",
    "binary_auc",
    "confusion_by_window",
    "regression_sums",
]

