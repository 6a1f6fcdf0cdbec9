"""Metric and confidence-interval functions over window aggregates (pure statistics).

The modules here are private; their public names are exported here (import them from
:mod:`obskit.metrics`), and the metric functions again by :mod:`obskit.metrics.performance`.
"""

from obskit.metrics._classification import (
    binary_intervals,
    binary_scores,
    calibration_error,
    calibration_error_interval,
    macro_roc_auc,
    macro_roc_auc_interval,
    multiclass_intervals,
    multiclass_scores,
    probability_loss_intervals,
    probability_losses,
    ranking_intervals,
)
from obskit.metrics._intervals import (
    NO_INTERVAL,
    Interval,
    hanley_mcneil_interval,
    logit_interval,
    mean_interval,
    multinomial_delta_interval,
    normal_interval,
    wilson_interval,
)
from obskit.metrics._ranking import ranking_auc
from obskit.metrics._regression import regression_errors, regression_intervals

__all__ = [
    "NO_INTERVAL", "Interval", "binary_intervals", "binary_scores", "calibration_error",
    "calibration_error_interval", "hanley_mcneil_interval", "logit_interval",
    "macro_roc_auc", "macro_roc_auc_interval", "mean_interval", "multiclass_intervals",
    "multiclass_scores", "multinomial_delta_interval", "normal_interval",
    "probability_loss_intervals", "probability_losses", "ranking_auc", "ranking_intervals",
    "regression_errors", "regression_intervals", "wilson_interval",
]
