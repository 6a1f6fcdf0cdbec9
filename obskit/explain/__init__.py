"""Explain model outputs on logged rows: SHAP, LIME, and cohort views of attributions.

Computing only; the figures of explanations live in :mod:`obskit.render.explanations`.
Modules: ``explainers`` (explainer choice), ``shapley`` (SHAP values), ``lime_weights``
(LIME and SHAP/LIME agreement), ``cohorts`` (anomalous vs normal attribution),
``reliance`` (attribution drift, drift x importance ranking), ``encoding``.

Every SHAP value obskit reports is in the space of the log's feature columns (one value
per feature column, whatever the model does inside) and is additive: per row,
``base_value + sum(values) == output`` of the function explained, within 1e-6.

Explainer choice (:func:`choose_explainer`):

``Tree``
    A tree model shap's ``TreeExplainer`` understands (random forests, extra trees,
    (hist) gradient boosting, single trees), alone, or as the last step of a Pipeline
    whose preprocessing is a ColumnTransformer of per-column transformers (scalers,
    imputers, ordinal / one-hot encoders, passthrough): the values of the transformed
    columns are summed back onto the input column they came from. ``tree_path_dependent``
    (no background), which is exact; it explains the trees' raw output: the probability
    for forests, the log-odds for gradient boosting, the prediction for regressors.
``Linear``
    A linear model (``coef_``), bare on numeric features or as the last step of a Pipeline
    whose preprocessing is a ColumnTransformer of per-column transformers (mapped back as
    for trees): shap's ``LinearExplainer`` with the background, exact under feature
    independence; it explains the margin (log-odds for a logistic regression).
``Exact`` / ``Permutation``
    Anything else: model-agnostic SHAP of the prediction function
    (probability of the positive class, or the regression prediction) with an
    independent masker on a background sample of at most 100 reference rows. With at
    most 12 features the exact Shapley values are computed (``Exact``, 2**p coalitions);
    with more, antithetic permutation sampling (``Permutation``, 10 permutations),
    whose values are additive by construction but sampled.
"""

from obskit.explain.cohorts import cohort_attribution
from obskit.explain.explainers import EXACT_MAX_FEATURES, MAX_BACKGROUND, choose_explainer
from obskit.explain.lime_weights import agreement, lime_explanations
from obskit.explain.reliance import attribution_drift, drift_importance_ranking
from obskit.explain.shapley import ShapResult, shap_values

__all__ = [
    "ShapResult",
    "choose_explainer",
    "shap_values",
    "lime_explanations",
    "agreement",
    "cohort_attribution",
    "attribution_drift",
    "drift_importance_ranking",
    "EXACT_MAX_FEATURES",
    "MAX_BACKGROUND",
]
