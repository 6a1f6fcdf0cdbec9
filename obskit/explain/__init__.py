"""Explain model outputs on logged rows: SHAP, LIME, and cohort views of attributions.

Computing only; the figures of explanations live in :mod:`obskit.render.explanations`.
Modules: ``explainers`` (explainer choice), ``shapley`` (SHAP values), ``lime_weights``
(LIME and SHAP/LIME agreement), ``cohorts`` (anomalous vs normal attribution),
``reliance`` (attribution drift, drift x importance ranking), ``encoding``.

Every SHAP value is in the space of the log's feature columns and additive; which
explainer a model gets, and why, is :mod:`obskit.explain.explainers`'s docstring.
"""

from obskit.explain.cohorts import cohort_attribution
from obskit.explain.explainers import EXACT_MAX_FEATURES, MAX_BACKGROUND, choose_explainer
from obskit.explain.lime_weights import agreement, lime_explanations
from obskit.explain.reliance import attribution_drift, drift_importance_ranking
from obskit.explain.shapley import ShapResult, shap_values, shap_values_of

__all__ = [
    "ShapResult",
    "choose_explainer",
    "shap_values",
    "shap_values_of",
    "lime_explanations",
    "agreement",
    "cohort_attribution",
    "attribution_drift",
    "drift_importance_ranking",
    "EXACT_MAX_FEATURES",
    "MAX_BACKGROUND",
]
