"""LIME explanations of logged rows, and whether SHAP and LIME agree on a row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from obskit.explain.encoding import FeatureEncoder
from obskit.io.model import prediction_function

_MISSING = "(missing)"


def lime_explanations(
    model: Any,
    rows: pd.DataFrame,
    reference_sample: pd.DataFrame,
    *,
    feature_types: Mapping[str, str],
    task: str,
    num_features: int = 5,
    max_rows: int = 5,
    random_state: int = 0,
) -> list[list[tuple[str, float]]]:
    """LIME explanations of the first ``max_rows`` rows, as (feature, weight) lists.

    A ``LimeTabularExplainer`` is fitted on ``reference_sample``: numeric features are
    discretised at the reference quartiles; categorical and boolean features
    (``feature_types``, or a non-numeric dtype) are label-encoded and passed as
    ``categorical_features`` with their ``categorical_names``. Missing numeric values are
    filled with the reference median (LIME cannot sample them).

    Parameters
    ----------
    model : object
        A fitted model taking a DataFrame of the feature columns.
    rows : DataFrame of shape (n_rows, n_features)
        The rows to explain.
    reference_sample : DataFrame of shape (n_reference, n_features)
        Reference rows the explainer samples around.
    feature_types : mapping of str to str
        Feature → type.
    task : {"binary", "regression"}
        What the model predicts.
    num_features : int, default 5
        Features per explanation.
    max_rows : int, default 5
        Rows explained.
    random_state : int, default 0
        Seed of LIME's sampling.

    Returns
    -------
    list of list of (str, float)
        Per row, up to ``num_features`` (feature, weight) pairs by decreasing |weight|;
        weights are in units of the explained output (probability of the positive class
        for ``"binary"``, the prediction for ``"regression"``).
    """
    from lime.lime_tabular import LimeTabularExplainer

    features = [str(c) for c in rows.columns]
    rows = rows.iloc[:max_rows]
    reference_sample = reference_sample[features]
    categorical = [c for c in features if feature_types.get(c) in ("categorical", "boolean")]
    enc = FeatureEncoder([reference_sample, rows], categorical)
    medians = {c: reference_sample[c].median() for c in features if c not in enc.categories}
    training = enc.encode(reference_sample.fillna(medians))
    cat_idx = [j for j, c in enumerate(features) if c in enc.categories]
    cat_names = {j: [_MISSING if v is None else str(v) for v in enc.categories[features[j]]]
                 for j in cat_idx}
    f = prediction_function(model, task)
    mode = "classification" if task == "binary" else "regression"

    def predict_fn(arr: np.ndarray) -> np.ndarray:
        out = f(enc.decode(arr))
        return np.column_stack([1.0 - out, out]) if mode == "classification" else out

    explainer = LimeTabularExplainer(
        training, mode=mode, feature_names=features, categorical_features=cat_idx,
        categorical_names=cat_names, discretize_continuous=True, discretizer="quartile",
        random_state=random_state,
    )
    explainer.base = _selection_base(explainer.base)
    result = []
    for x in enc.encode(rows.fillna(medians)):
        exp = explainer.explain_instance(x, predict_fn, num_features=num_features)
        local = exp.as_map()
        pairs = local[1] if 1 in local else next(iter(local.values()))
        result.append([(features[j], float(w)) for j, w in pairs])
    return result


#: forward selection in numpy stops (and LIME's own runs) when two candidates' R² are
#: closer than this, or a candidate set's Gram matrix is worse conditioned than COND_MAX
TIE_MARGIN = 1e-7
COND_MAX = 1e4


def _selection_base(base: Any) -> Any:
    """``base`` (a ``lime.lime_base.LimeBase``) as an equal one whose forward selection
    is :func:`forward_selection` (LIME's own where that declines)."""
    from lime.lime_base import LimeBase

    class _Base(LimeBase):
        def forward_selection(self, data: np.ndarray, labels: np.ndarray,
                              weights: np.ndarray, num_features: int) -> np.ndarray:
            picked = forward_selection(data, labels, weights, num_features)
            if picked is None:
                return super().forward_selection(data, labels, weights, num_features)
            return picked

    return _Base(base.kernel_fn, base.verbose, random_state=base.random_state)


def forward_selection(data: np.ndarray, labels: np.ndarray, weights: np.ndarray,
                      num_features: int) -> np.ndarray | None:
    """LIME's forward feature selection (``LimeBase.forward_selection``) in numpy.

    LIME fits a weighted least-squares model (``Ridge(alpha=0)`` with an intercept) for
    every candidate feature at every step and keeps the one of highest weighted R²:
    hundreds of scikit-learn fits per explained row. The same R² come here from the
    weighted Gram matrix of the centred data, solved per candidate set. The features
    picked are LIME's: where two candidates' R² are within :data:`TIE_MARGIN` or a
    candidate set is ill-conditioned (Gram condition number above :data:`COND_MAX`),
    or the labels do not vary, this declines (None) and the caller runs LIME's own.

    Parameters
    ----------
    data : ndarray of shape (n_samples, n_features)
        LIME's neighbourhood data.
    labels : ndarray of shape (n_samples,)
        The explained output on it.
    weights : ndarray of shape (n_samples,)
        The samples' kernel weights.
    num_features : int
        Features to pick.

    Returns
    -------
    ndarray of int or None
        The picked feature indices in the order picked; None: run LIME's own.
    """
    w = np.asarray(weights, dtype=float)
    root = np.sqrt(w)
    x = (data - np.average(data, axis=0, weights=w)) * root[:, None]
    y = (labels - np.average(labels, weights=w)) * root
    total = float(y @ y)
    if not total > 0:
        return None
    gram, cross = x.T @ x, x.T @ y
    used: list[int] = []
    for _ in range(min(num_features, data.shape[1])):
        scores = np.full(data.shape[1], -np.inf)
        for f in range(data.shape[1]):
            if f in used:
                continue
            s = [*used, f]
            g = gram[np.ix_(s, s)]
            if not np.linalg.cond(g) <= COND_MAX:
                return None
            scores[f] = float(cross[s] @ np.linalg.solve(g, cross[s])) / total
        best = int(np.argmax(scores))
        others = np.delete(scores, best)
        if others.size and np.max(others) > scores[best] - TIE_MARGIN:
            return None
        used.append(best)
    return np.array(used)


def agreement(
    shap_row: pd.Series, lime_row: Sequence[tuple[str, float]], *, k: int = 3
) -> dict[str, Any]:
    """Do SHAP and LIME point at the same features for one row?

    Parameters
    ----------
    shap_row : Series
        One row's SHAP values, indexed by feature.
    lime_row : sequence of (str, float)
        The same row's LIME (feature, weight) pairs.
    k : int, default 3
        The top features compared.

    Returns
    -------
    dict
        ``shap_top`` and ``lime_top`` (top-``k`` features by |value|), ``overlap``
        (count), ``jaccard`` (overlap / union) and ``agree`` (the top-1 features match,
        or at least 2 of the top-``k`` overlap).

    Examples
    --------
    >>> s = pd.Series({"a": 0.5, "b": -0.2, "c": 0.1, "d": 0.0})
    >>> agreement(s, [("a", 0.3), ("d", 0.1), ("c", -0.05)])["overlap"]
    2
    """
    shap_top = list(shap_row.abs().sort_values(ascending=False, kind="stable").index[:k])
    lime_top = [f for f, _ in sorted(lime_row, key=lambda fw: -abs(fw[1]))[:k]]
    overlap = len(set(shap_top) & set(lime_top))
    union = len(set(shap_top) | set(lime_top))
    top1 = bool(shap_top and lime_top and shap_top[0] == lime_top[0])
    return {"shap_top": shap_top, "lime_top": lime_top, "overlap": overlap,
            "jaccard": overlap / union if union else float("nan"),
            "agree": top1 or overlap >= 2}
