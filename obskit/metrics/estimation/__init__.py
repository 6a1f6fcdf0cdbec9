"""Performance estimated without labels: CBPE (classification) and DLE (regression).

Pure functions over arrays and small frames; the monitor in
:mod:`obskit.monitors.estimation` runs the per-row work in the engine and calls these on
what comes back.

**CBPE** (confidence-based performance estimation, NannyML's published method). Scores
are calibrated on the labelled reference by isotonic regression of the label on the score
(``IsotonicRegression(out_of_bounds="clip")``, always, as NannyML does by default). With
calibrated probabilities ``p_i`` and predicted labels ``ŷ_i`` the expected confusion
matrix of a window is ``E[TP] = Σ p_i [ŷ_i=1]``, ``E[FP] = Σ (1-p_i) [ŷ_i=1]``,
``E[FN] = Σ p_i [ŷ_i=0]``, ``E[TN] = Σ (1-p_i) [ŷ_i=0]``, and the estimated accuracy,
precision, recall and f1 are those of the expected counts. The estimated ROC AUC is the
area under the expected ROC curve: each row counts as ``p_i`` of a positive and
``1 - p_i`` of a negative at its score (ties counted half, as the trapezoid rule does).
Multiclass CBPE (NannyML's one-vs-rest method) calibrates each class's probability
one-vs-rest (isotonic regression of ``y = c`` on ``p_c``), renormalises each row's calibrated
probabilities to sum to one (uniform when all are 0), and estimates from the expected
per-class counts ``E[TP_c] = Σ p_ic [ŷ_i=c]``, ``E[FP_c] = Σ (1-p_ic) [ŷ_i=c]``,
``E[FN_c] = Σ p_ic [ŷ_i≠c]``: accuracy ``Σ_i p_{i,ŷ_i} / n``, macro f1 (the mean of the
classes' f1), and ROC AUC as the mean over classes of the area under the expected
one-vs-rest ROC curve (rows ranked by ``p_c``, each ``p_ic`` positive and ``1 - p_ic``
negative).

**DLE** (direct loss estimation, NannyML's method for regression). Two gradient-boosting
regressors learn, on the reference, the absolute error and the squared error of the
model from the features and the prediction. A window's estimated MAE is the mean of the
predicted absolute errors; its estimated RMSE the square root of the mean predicted
squared error.

**Sampling error.** Each estimate carries a band ``value ± SAMPLING_ERROR_RANGE · SE(n)``
with ``SAMPLING_ERROR_RANGE = 3`` (NannyML's bands). ``SE(n) = σ / √n`` is the standard
error of the *realized* metric on a window of ``n`` rows, with ``σ`` estimated once on the
labelled reference: the standard deviation of the metric over bootstrap samples of size
``m`` (drawn with replacement), times ``√m``. The band is clipped to the metric's range.

Both methods assume no concept drift: ``P(y | x)`` (and the score's calibration) must be
as on the reference. Under covariate shift the estimates follow the realized metric;
under concept drift they do not.
"""

from obskit.metrics.estimation.bands import (
    SAMPLING_ERROR_RANGE,
    realized_binary_scores,
    realized_regression_errors,
    sampling_band,
    sampling_sigma,
)
from obskit.metrics.estimation.cbpe import (
    calibrate_multiclass,
    calibrate_scores,
    calibration_segments,
    estimate_binary_scores,
    estimate_multiclass_scores,
    estimate_roc_auc,
    expected_auc_from_levels,
    expected_confusion,
    fit_calibrator,
    fit_multiclass_calibrators,
    realized_multiclass_scores,
)
from obskit.metrics.estimation.dle import estimate_regression_errors, fit_loss_models

__all__ = [
    "SAMPLING_ERROR_RANGE",
    "fit_calibrator",
    "calibration_segments",
    "calibrate_scores",
    "expected_confusion",
    "estimate_binary_scores",
    "expected_auc_from_levels",
    "estimate_roc_auc",
    "fit_multiclass_calibrators",
    "calibrate_multiclass",
    "estimate_multiclass_scores",
    "realized_multiclass_scores",
    "realized_binary_scores",
    "realized_regression_errors",
    "sampling_sigma",
    "sampling_band",
    "fit_loss_models",
    "estimate_regression_errors",
]
