"""Which SHAP explainer fits a model, and the explainers themselves.

Every SHAP value obskit reports is in the space of the log's feature columns (one value
per feature column, whatever the model does inside) and is additive: per row,
``base_value + sum(values) == output`` of the function explained, within 1e-6.

Explainer choice (:func:`choose_explainer`):

``Tree``
    A tree model shap's ``TreeExplainer`` understands (random forests, extra trees,
    (hist) gradient boosting, single trees), alone, or as the last step of a Pipeline
    whose preprocessing is a ColumnTransformer of per-column transformers (scalers,
    imputers, ordinal / one-hot encoders, passthrough) and/or of per-column transformers
    themselves: the values of the transformed columns are summed back onto the input
    column they came from. ``tree_path_dependent``
    (no background), which is exact; it explains the trees' raw output: the probability
    for forests, the log-odds for gradient boosting, the prediction for regressors.
``Linear``
    A linear model (``coef_``), bare on numeric features or as the last step of a Pipeline
    whose preprocessing is a ColumnTransformer of per-column transformers, per-column
    transformers themselves (``StandardScaler``, ``SimpleImputer``, …, one after the
    other), or both (mapped back as for trees): shap's ``LinearExplainer`` with the
    background, exact under feature independence; it explains the margin (log-odds for a
    logistic regression).
``Exact`` / ``Permutation``
    Anything else: model-agnostic SHAP of the prediction function
    (probability of the positive class, or the regression prediction) with an
    independent masker on a background sample of at most 100 reference rows. With at
    most 12 features the exact Shapley values are computed (``Exact``, 2**p coalitions);
    with more, antithetic permutation sampling (``Permutation``, 10 permutations),
    whose values are additive by construction but sampled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from obskit.explain.encoding import FeatureEncoder
from obskit.io.model import prediction_function

EXACT_MAX_FEATURES = 12
MAX_BACKGROUND = 100
_PERMUTATIONS = 10

_PER_COLUMN = {
    "StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler", "OrdinalEncoder",
    "SimpleImputer", "PowerTransformer", "QuantileTransformer",
}



class _TreeExplainer:
    """``shap.TreeExplainer`` on a tree model, optionally behind a per-column transform."""

    name = "Tree"

    def __init__(self, estimator: Any, task: str, transform: Any = None,
                 groups: list[list[int]] | None = None) -> None:
        import shap

        self.explainer = shap.TreeExplainer(estimator, feature_perturbation="tree_path_dependent")
        self.transform, self.groups = transform, groups
        tree_output = self.explainer.model.tree_output
        self.output = ("probability" if tree_output == "probability" else
                       "log-odds" if task == "binary" else "prediction")

    def __call__(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        X = _dense(rows if self.transform is None else self.transform.transform(rows))
        values = self.explainer.shap_values(X, check_additivity=False)
        base = np.ravel(self.explainer.expected_value)
        if isinstance(values, list):  # older shap: one array per class
            values = values[-1]
        if values.ndim == 3:  # (rows, features, classes): the positive class
            values = values[..., -1]
        if self.groups is not None:
            values = _sum_groups(values, self.groups)
        return values, np.full(len(X), base[-1])


def _dense(X: Any) -> np.ndarray:
    return np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=float)


class _LinearExplainer:
    """``shap.LinearExplainer`` on a linear model, optionally behind a per-column transform
    (the values of the transformed columns are summed back onto their input column)."""

    name = "Linear"

    def __init__(self, model: Any, background: pd.DataFrame, task: str, transform: Any = None,
                 groups: list[list[int]] | None = None) -> None:
        import shap

        self.transform, self.groups = transform, groups
        data = self._inputs(background)
        self.explainer = shap.LinearExplainer(model, shap.maskers.Independent(data, len(data)))
        self.output = "log-odds" if task == "binary" else "prediction"

    def _inputs(self, rows: pd.DataFrame) -> np.ndarray:
        return _dense(rows if self.transform is None else self.transform.transform(rows))

    def __call__(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        values = np.asarray(self.explainer.shap_values(self._inputs(rows)))
        values = values.reshape(len(rows), -1)
        if self.groups is not None:
            values = _sum_groups(values, self.groups)
        return values, np.full(len(rows), float(np.ravel(self.explainer.expected_value)[-1]))


def _sum_groups(values: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """Transformed-column values summed onto the input column each came from."""
    return np.column_stack([values[:, g].sum(axis=1) if g else np.zeros(len(values))
                            for g in groups])


class _AgnosticExplainer:
    """Exact or permutation SHAP of the prediction function, on encoded features."""

    def __init__(self, model: Any, background: pd.DataFrame, task: str) -> None:
        self.f = prediction_function(model, task)
        self.background = background
        self.name = "Exact" if background.shape[1] <= EXACT_MAX_FEATURES else "Permutation"
        self.output = "probability" if task == "binary" else "prediction"

    def __call__(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        import shap

        # categories from background and rows together, so a new category keeps its value
        enc = FeatureEncoder([self.background, rows], categorical=())
        bg = enc.encode(self.background)

        def f(arr: np.ndarray) -> np.ndarray:
            return self.f(enc.decode(arr))

        masker = shap.maskers.Independent(bg, max_samples=len(bg))
        X = enc.encode(rows)
        p = X.shape[1]
        if self.name == "Exact":
            exp = shap.explainers.ExactExplainer(f, masker)(X, silent=True)
        else:
            evals = _PERMUTATIONS * (2 * p + 1)
            exp = shap.explainers.PermutationExplainer(f, masker)(X, max_evals=evals,
                                                                  silent=True)
        return np.asarray(exp.values, dtype=float), np.asarray(exp.base_values, dtype=float)


def _is_tree(est: Any) -> bool:
    if type(est).__module__.split(".")[0] in ("xgboost", "lightgbm", "catboost"):
        return True
    name = type(est).__name__
    return name.startswith(("DecisionTree", "ExtraTree", "RandomForest", "GradientBoosting",
                            "HistGradientBoosting", "ExtraTrees", "IsolationForest"))


def _column_groups(ct: Any, features: Sequence[str]) -> list[list[int]] | None:
    """For a fitted ColumnTransformer of per-column steps, the output columns of each input.

    None when some output column cannot be traced to a single input column.
    """
    if type(ct).__name__ != "ColumnTransformer" or not hasattr(ct, "output_indices_"):
        return None
    names_in = [str(c) for c in getattr(ct, "feature_names_in_", features)]
    groups: dict[str, list[int]] = {f: [] for f in features}
    for name, trans, cols in ct.transformers_:
        if trans == "drop":
            continue
        idx = ct.output_indices_[name]
        if isinstance(cols, str):
            cols = [cols]
        if not (isinstance(cols, list) and all(isinstance(c, str) for c in cols)):
            cols = list(np.asarray(names_in, dtype=object)[cols])  # indices, slice or mask
        if trans == "passthrough" or type(trans).__name__ in _PER_COLUMN:
            if getattr(trans, "add_indicator", False):
                return None
            counts = [1] * len(cols)
        elif type(trans).__name__ == "OneHotEncoder":
            if getattr(trans, "_infrequent_enabled", False):
                return None
            drop = getattr(trans, "drop_idx_", None)
            counts = [len(cats) - (0 if drop is None or drop[i] is None else 1)
                      for i, cats in enumerate(trans.categories_)]
        else:
            return None
        if sum(counts) != idx.stop - idx.start or any(c not in groups for c in cols):
            return None
        pos = idx.start
        for c, n in zip(cols, counts, strict=True):
            groups[c].extend(range(pos, pos + n))
            pos += n
    return [groups[f] for f in features]


def _pipeline_groups(steps: list[tuple[str, Any]], features: Sequence[str]
                     ) -> list[list[int]] | None:
    """For a Pipeline's preprocessing (every step but the model), the columns it outputs
    from each input feature; None when some output mixes inputs.

    The first step may be a ColumnTransformer of per-column transformers
    (:func:`_column_groups`); every other step must be one per-column transformer
    (``StandardScaler``, ``SimpleImputer`` without indicator, …) or ``passthrough``, which
    keeps each column where it is.
    """
    groups: list[list[int]] | None = None
    for i, (_, step) in enumerate(steps[:-1]):
        if step is None or step == "passthrough":
            continue
        if i == 0 and type(step).__name__ == "ColumnTransformer":
            groups = _column_groups(step, features)
            if groups is None:
                return None
        elif type(step).__name__ not in _PER_COLUMN or getattr(step, "add_indicator", False):
            return None
        elif groups is None:  # per-column steps first: the model's inputs, in its order
            names_in = [str(c) for c in getattr(step, "feature_names_in_", features)]
            if sorted(names_in) != sorted(features):
                return None
            groups = [[names_in.index(f)] for f in features]
    return groups if groups is not None else [[i] for i in range(len(features))]


def choose_explainer(model: Any, background: pd.DataFrame, *, task: str) -> tuple[Any, str]:
    """Pick the SHAP explainer for ``model`` (see the module docstring for the rules).

    Parameters
    ----------
    model : object
        A fitted model taking a DataFrame of the feature columns.
    background : DataFrame
        Reference rows of the feature columns (at most 100 are used as the background of
        the Linear and model-agnostic explainers).
    task : {"binary", "regression"}

    Returns
    -------
    explainer : callable
        ``explainer(rows) -> (values, base_values)``, values of shape
        ``(len(rows), n_features)`` in the space of ``background.columns``. Its
        ``output`` attribute names the function explained: ``"probability"``,
        ``"log-odds"`` or ``"prediction"``.
    name : str
        ``"Tree"``, ``"Linear"``, ``"Exact"`` or ``"Permutation"``.
    """
    features = [str(c) for c in background.columns]
    if len(background) > MAX_BACKGROUND:
        background = background.sample(MAX_BACKGROUND, random_state=0)
    steps = getattr(model, "steps", None)
    last = steps[-1][1] if steps else model
    explainer: _LinearExplainer | _TreeExplainer | _AgnosticExplainer
    groups, prep = None, None
    if steps and len(steps) >= 2:
        groups = _pipeline_groups(steps, features)
        prep = model[:-1]  # the preprocessing: the pipeline without its model
    if groups is not None and hasattr(last, "coef_") and not _is_tree(last):
        explainer = _LinearExplainer(last, background, task, prep, groups)
        return explainer, explainer.name
    if _is_tree(last):
        if not steps:
            try:
                explainer = _TreeExplainer(model, task)
                return explainer, explainer.name
            except Exception:  # shap.utils.InvalidModelError and friends: fall through
                pass
        elif groups is not None:
            try:
                explainer = _TreeExplainer(last, task, prep, groups)
                return explainer, explainer.name
            except Exception:  # not a tree model shap knows: model-agnostic instead
                pass
    numeric = all(pd.api.types.is_numeric_dtype(background[c]) for c in features)
    if not steps and hasattr(model, "coef_") and numeric:
        explainer = _LinearExplainer(model, background, task)
        return explainer, explainer.name
    explainer = _AgnosticExplainer(model, background, task)
    return explainer, explainer.name
