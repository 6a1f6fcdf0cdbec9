"""Realized performance metrics from window aggregates, equal to scikit-learn's, each with
a confidence interval.

Binary: accuracy, precision, recall, f1 (confusion counts); roc_auc and pr_auc (counts per
distinct score, exact with ties); log_loss and brier (sums of per-row losses); ece (sums
per score bin). Multiclass: accuracy, f1_macro, f1_weighted (a confusion table) and one
``recall[<class>]`` per class, named by the class's canonical label text — those names
depend on the data, so :data:`METRICS` lists only the fixed ones; with one probability
column per class also roc_auc (one-vs-rest, macro: scikit-learn's
``roc_auc_score(multi_class="ovr", average="macro")``) and log_loss. Regression: mae, rmse,
mape, r2 and mean_error (sums).

Where scikit-learn would divide by zero a value follows its ``zero_division=0``
convention; an AUC of a window with one class only is ``None``.

The intervals (95% by default) are closed forms, named in each ``*_intervals`` function:
Wilson for proportions (accuracy, precision, recall, per-class recall), Hanley–McNeil for
ROC AUC, the logit interval of Boyd et al. for PR AUC, the multinomial delta method for
f1 / f1_macro / f1_weighted, ``sd / √n`` for means of per-row losses (log_loss, brier,
mae, mape, mean_error), and the delta method for ece, rmse and r2.

Direction: :data:`HIGHER_IS_BETTER` and :data:`LOWER_IS_BETTER` list the fixed names;
``mean_error`` is in neither (0 is best, so a drop rule does not apply to it);
:func:`metric_direction` also knows the per-class recalls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from obskit.metrics import (
    binary_intervals,
    binary_scores,
    calibration_error,
    calibration_error_interval,
    hanley_mcneil_interval,
    logit_interval,
    macro_roc_auc,
    macro_roc_auc_interval,
    mean_interval,
    multiclass_intervals,
    multiclass_scores,
    multinomial_delta_interval,
    probability_loss_intervals,
    probability_losses,
    ranking_intervals,
    regression_errors,
    regression_intervals,
    wilson_interval,
)

__all__ = [
    "METRICS",
    "HIGHER_IS_BETTER",
    "LOWER_IS_BETTER",
    "metric_direction",
    "primary_metric",
    "summary_primary_metric",
    "binary_scores",
    "binary_intervals",
    "ranking_intervals",
    "probability_losses",
    "probability_loss_intervals",
    "calibration_error",
    "calibration_error_interval",
    "multiclass_scores",
    "multiclass_intervals",
    "macro_roc_auc",
    "macro_roc_auc_interval",
    "regression_errors",
    "regression_intervals",
    "wilson_interval",
    "hanley_mcneil_interval",
    "logit_interval",
    "mean_interval",
    "multinomial_delta_interval",
]

#: Task → the fixed metric names. Multiclass windows also carry ``recall[<class>]``.
METRICS = {
    "binary": ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss",
               "brier", "ece"),
    "multiclass": ("accuracy", "f1_macro", "f1_weighted", "roc_auc", "log_loss"),
    "regression": ("mae", "rmse", "mape", "r2", "mean_error"),
}
HIGHER_IS_BETTER = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc",
                              "f1_macro", "f1_weighted", "r2"})
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "mae", "rmse", "mape"})


def metric_direction(name: str) -> Literal["higher", "lower"] | None:
    """Which way a metric is better: ``"higher"``, ``"lower"``, or ``None`` (mean_error,
    best at 0, and unknown names).

    Parameters
    ----------
    name : str
        A metric name, per class as ``recall[cat]``.

    Returns
    -------
    {"higher", "lower"} or None
        The better direction.

    Examples
    --------
    >>> metric_direction("recall[cat]"), metric_direction("rmse"), metric_direction("mean_error")
    ('higher', 'lower', None)
    """
    if name in HIGHER_IS_BETTER or (name.startswith("recall[") and name.endswith("]")):
        return "higher"
    return "lower" if name in LOWER_IS_BETTER else None


def primary_metric(task: str, *, has_score: bool = True) -> str:
    """The metric a default alert watches.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
        The task.
    has_score : bool, default True
        The log has scores (binary).

    Returns
    -------
    str
        ``roc_auc`` (binary with scores), else ``accuracy`` for classification, ``rmse``
        for regression.
    """
    if task == "binary":
        return "roc_auc" if has_score else "accuracy"
    return "accuracy" if task == "multiclass" else "rmse"


def summary_primary_metric(summary: Mapping[str, Any]) -> str:
    """The primary metric of a run, read from its ``summary.json`` document.

    Parameters
    ----------
    summary : Mapping
        The run's summary: its ``task`` and the ``roles`` its log has.

    Returns
    -------
    str
        :func:`primary_metric` of the task (``rmse`` when the task is missing); scores
        count as logged when the summary lists no ``roles`` (older summaries).

    Examples
    --------
    >>> summary_primary_metric({"task": "binary", "roles": ["prediction", "label"]})
    'accuracy'
    >>> summary_primary_metric({"task": "binary"})
    'roc_auc'
    """
    roles = summary.get("roles")
    has_score = not isinstance(roles, list) or "score" in roles
    return primary_metric(str(summary.get("task") or ""), has_score=has_score)
