"""Explain model outputs on logged rows: SHAP, LIME, and cohort views of attributions.

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

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from obskit._text import plural
from obskit.drift import threshold_ratio
from obskit.model import prediction_function

__all__ = [
    "ShapResult",
    "choose_explainer",
    "shap_values",
    "lime_explanations",
    "agreement",
    "cohort_attribution",
    "attribution_drift",
    "drift_importance_ranking",
    "waterfall_figure",
    "lime_figure",
    "EXACT_MAX_FEATURES",
    "MAX_BACKGROUND",
]

EXACT_MAX_FEATURES = 12
MAX_BACKGROUND = 100
_PERMUTATIONS = 10
_DRIFT_RATIO_CAP = 10.0
_MISSING = "(missing)"

_PER_COLUMN = {
    "StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler", "OrdinalEncoder",
    "SimpleImputer", "PowerTransformer", "QuantileTransformer",
}


# --------------------------------------------------------------------------- encoding


class _Encoder:
    """Numeric codes for categorical columns, so maskers and LIME can sample them.

    Categories are the non-missing values seen in ``frames`` (sorted by their text) plus
    a last slot for missing values. Numeric columns pass through as float and are cast
    back to their dtype (when integral and complete) on decoding.
    """

    def __init__(self, frames: Sequence[pd.DataFrame], categorical: Sequence[str]) -> None:
        first = frames[0]
        self.features = [str(c) for c in first.columns]
        self.dtypes = first.dtypes
        self.categories: dict[str, np.ndarray] = {}
        for c in self.features:
            if c in categorical or not pd.api.types.is_numeric_dtype(first[c]):
                values = pd.unique(pd.concat([f[c] for f in frames]).dropna())
                ordered = sorted(values, key=str)
                self.categories[c] = np.array([*ordered, None], dtype=object)

    def encode(self, df: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(df), len(self.features)))
        for j, c in enumerate(self.features):
            if c in self.categories:
                cats = self.categories[c]
                codes = pd.Categorical(df[c], categories=cats[:-1]).codes.astype(float)
                codes[codes < 0] = len(cats) - 1
                out[:, j] = codes
            else:
                out[:, j] = pd.to_numeric(df[c], errors="coerce").astype(float)
        return out

    def decode(self, arr: np.ndarray) -> pd.DataFrame:
        cols: dict[str, Any] = {}
        for j, c in enumerate(self.features):
            col = arr[:, j]
            if c in self.categories:
                cols[c] = self.categories[c][np.rint(col).astype(int)]
            elif self.dtypes[c].kind in "iub" and np.isfinite(col).all():
                cols[c] = col.astype(self.dtypes[c])
            else:
                cols[c] = col
        return pd.DataFrame(cols)


# --------------------------------------------------------------------------- explainers


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
        enc = _Encoder([self.background, rows], categorical=())
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
    if steps and len(steps) == 2 and hasattr(last, "coef_") and not _is_tree(last):
        groups = _column_groups(steps[0][1], features)
        if groups is not None:
            explainer = _LinearExplainer(last, background, task, steps[0][1], groups)
            return explainer, explainer.name
    if _is_tree(last):
        if not steps:
            try:
                explainer: Any = _TreeExplainer(model, task)
                return explainer, explainer.name
            except Exception:  # shap.utils.InvalidModelError and friends: fall through
                pass
        elif len(steps) == 2:
            groups = _column_groups(steps[0][1], features)
            if groups is not None:
                try:
                    explainer = _TreeExplainer(last, task, steps[0][1], groups)
                    return explainer, explainer.name
                except Exception:  # not a tree model shap knows: model-agnostic instead
                    pass
    numeric = all(pd.api.types.is_numeric_dtype(background[c]) for c in features)
    if not steps and hasattr(model, "coef_") and numeric:
        explainer = _LinearExplainer(model, background, task)
        return explainer, explainer.name
    explainer = _AgnosticExplainer(model, background, task)
    return explainer, explainer.name


# --------------------------------------------------------------------------- SHAP


@dataclass(frozen=True)
class ShapResult:
    """SHAP values of explained rows, in the space of the log's feature columns.

    Attributes
    ----------
    values : DataFrame
        One row per explained row (the rows' index), one column per feature.
    base_values : ndarray
        Per row; ``base_values + values.sum(axis=1)`` is the explained output.
    explainer : str
        ``"Tree"``, ``"Linear"``, ``"Exact"`` or ``"Permutation"``.
    output : str
        The function explained: ``"probability"``, ``"log-odds"`` or ``"prediction"``.
    n_rows : int
        Rows explained (at most ``max_rows``).
    """

    values: pd.DataFrame
    base_values: np.ndarray
    explainer: str
    output: str
    n_rows: int

    def mean_abs(self) -> pd.Series:
        """Mean |SHAP| per feature (the global importance over the explained rows)."""
        return self.values.abs().mean()

    def to_df(self) -> pd.DataFrame:
        """The values with a ``base_value`` column."""
        return self.values.assign(base_value=self.base_values)

    def to_dict(self) -> dict[str, Any]:
        return {"explainer": self.explainer, "output": self.output, "n_rows": self.n_rows,
                "mean_abs": {k: float(v) for k, v in self.mean_abs().items()}}


def shap_values(
    model: Any,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    *,
    task: str,
    max_rows: int = 200,
) -> ShapResult:
    """SHAP values of ``model`` on ``rows`` (the first ``max_rows`` of them).

    Parameters
    ----------
    model : object
        Fitted model taking a DataFrame of the feature columns.
    rows : DataFrame
        Rows to explain, exactly the feature columns.
    background : DataFrame
        Reference rows, same columns; a sample of at most 100 is used (seed 0).
    task : {"binary", "regression"}
    max_rows : int, default 200
        Explain at most this many rows (the first ones: order ``rows`` by priority).

    Returns
    -------
    ShapResult
        Additive: per row, base value + sum of the values equals the explained output
        within 1e-6.
    """
    rows = rows.iloc[:max_rows]
    explainer, name = choose_explainer(model, background[list(rows.columns)], task=task)
    values, base = explainer(rows)
    return ShapResult(
        values=pd.DataFrame(values, index=rows.index, columns=list(rows.columns)),
        base_values=np.asarray(base, dtype=float),
        explainer=name,
        output=explainer.output,
        n_rows=len(rows),
    )


# --------------------------------------------------------------------------- LIME


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
    """LIME explanations of the first ``max_rows`` rows, as (feature column, weight) lists.

    A ``LimeTabularExplainer`` is fitted on ``reference_sample``: numeric features are
    discretised at the reference quartiles; categorical and boolean features
    (``feature_types``, or a non-numeric dtype) are label-encoded and passed as
    ``categorical_features`` with their ``categorical_names``. Missing numeric values are
    filled with the reference median (LIME cannot sample them).

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
    enc = _Encoder([reference_sample, rows], categorical)
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
    result = []
    for x in enc.encode(rows.fillna(medians)):
        exp = explainer.explain_instance(x, predict_fn, num_features=num_features)
        local = exp.as_map()
        pairs = local[1] if 1 in local else next(iter(local.values()))
        result.append([(features[j], float(w)) for j, w in pairs])
    return result


def agreement(
    shap_row: pd.Series, lime_row: Sequence[tuple[str, float]], *, k: int = 3
) -> dict[str, Any]:
    """Do SHAP and LIME point at the same features for one row?

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


# --------------------------------------------------------------------------- cohorts


def cohort_attribution(
    shap_anomalous: pd.DataFrame, shap_normal: pd.DataFrame, shap_reference: pd.DataFrame
) -> pd.DataFrame:
    """Which features drive the anomalies: mean |SHAP| per cohort, anomalous vs normal.

    Returns
    -------
    DataFrame
        Columns ``feature``, ``anomalous``, ``normal``, ``reference`` (mean |SHAP|),
        ``ratio`` (anomalous / normal, inf when normal is 0) and ``excess`` (anomalous -
        normal), sorted by ``excess`` descending: a ratio alone puts features the model
        barely uses first whenever their tiny attribution doubles.
    """
    out = pd.DataFrame({
        "anomalous": shap_anomalous.abs().mean(),
        "normal": shap_normal.abs().mean(),
        "reference": shap_reference.abs().mean(),
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ratio"] = out["anomalous"] / out["normal"]
    out["excess"] = out["anomalous"] - out["normal"]
    out = out.rename_axis("feature").reset_index()
    return out.sort_values(["excess", "anomalous"], ascending=False, kind="stable",
                           ignore_index=True)


def _shares(shap_df: pd.DataFrame) -> pd.Series:
    imp = shap_df.abs().mean()
    total = imp.sum()
    return imp / total if total > 0 else imp * np.nan


def attribution_drift(
    shap_by_window: Mapping[Any, pd.DataFrame], shap_reference: pd.DataFrame
) -> pd.DataFrame:
    """How the model's reliance on each feature moves between windows.

    Returns
    -------
    DataFrame
        One row per window and feature: ``window``, ``feature``, ``share`` (the feature's
        share of the summed mean |SHAP| in the window), ``reference_share`` and
        ``tv_distance``: the total-variation distance ``0.5 * sum |share - reference|``
        between the two importance profiles of that window (0 same reliance, 1 disjoint).
    """
    ref = _shares(shap_reference)
    frames = []
    for window, df in shap_by_window.items():
        share = _shares(df).reindex(ref.index)
        frames.append(pd.DataFrame({
            "window": window, "feature": ref.index, "share": share.to_numpy(),
            "reference_share": ref.to_numpy(),
            "tv_distance": 0.5 * float((share - ref).abs().sum(min_count=1)),
        }))
    columns = ["window", "feature", "share", "reference_share", "tv_distance"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def drift_importance_ranking(
    drift_summary: Mapping[str, Mapping[str, Any]], importance: pd.Series
) -> pd.DataFrame:
    """Rank drifted features by how much the model depends on them.

    ``score = min(ratio, 10) * importance share``, ``ratio`` how far the worst value lies
    past the threshold (:func:`obskit.drift.threshold_ratio`: ``worst / threshold``, or
    ``threshold / worst`` for p-values): a feature drifting
    hard that the model ignores ranks below a milder drift in a feature it relies on.

    Parameters
    ----------
    drift_summary : mapping
        ``feature -> {"max_value", "threshold", "drifted_windows"}`` and optionally
        ``"worst_value"`` and ``"method"`` (the drift statistic's largest and most drifted
        values over the windows, its threshold, the drifted windows, the method).
    importance : Series
        Mean |SHAP| per feature on the reference.

    Returns
    -------
    DataFrame
        ``feature``, ``max_value``, ``threshold``, ``drift_ratio`` (capped at 10),
        ``drifted_windows``, ``importance_share``, ``score``; by decreasing ``score``.
    """
    total = float(importance.abs().sum())
    rows = []
    for feature, d in drift_summary.items():
        max_value, threshold = float(d["max_value"]), float(d["threshold"])
        worst = float(d.get("worst_value", max_value))
        ratio = threshold_ratio(worst, threshold, d.get("method"), cap=_DRIFT_RATIO_CAP)
        share = abs(float(importance.get(feature, 0.0))) / total if total > 0 else 0.0
        rows.append({"feature": feature, "max_value": max_value, "threshold": threshold,
                     "drift_ratio": ratio, "drifted_windows": d.get("drifted_windows"),
                     "importance_share": share, "score": ratio * share})
    columns = ["feature", "max_value", "threshold", "drift_ratio", "drifted_windows",
               "importance_share", "score"]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("score", ascending=False, kind="stable", ignore_index=True)


# --------------------------------------------------------------------------- figures


def _text(s: object) -> str:
    """A label for matplotlib: ``$`` escaped so data never turns into mathtext."""
    return str(s).replace("$", r"\$")


def waterfall_figure(
    shap_row: pd.Series,
    base_value: float,
    feature_values: pd.Series | Mapping[str, Any],
    title: str,
    *,
    max_features: int = 8,
) -> Figure:
    """A SHAP waterfall for one row: from the base value to the output, feature by feature.

    The ``max_features`` features with the largest |SHAP| get one bar each (largest at
    the top, labelled ``feature = value``); the rest are summed into one ``other`` bar.
    """
    order = shap_row.abs().sort_values(ascending=False, kind="stable").index
    top = list(order[:max_features])
    labels = [f"{_text(f)} = {_text(_short(feature_values.get(f)))}" for f in top]
    contributions = [float(shap_row[f]) for f in top]
    if len(order) > max_features:
        labels.append(f"other ({plural(len(order) - max_features, 'feature')})")
        contributions.append(float(shap_row[order[max_features:]].sum()))
    labels, contributions = labels[::-1], contributions[::-1]  # draw bottom-up
    # from the base value at the bottom up to the output at the top, as in shap's waterfall
    starts = base_value + np.concatenate([[0.0], np.cumsum(contributions[:-1])])
    fig = Figure(figsize=(7, 0.45 * len(labels) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    colors = ["#d62728" if c > 0 else "#1f77b4" for c in contributions]
    ax.barh(range(len(labels)), contributions, left=starts, color=colors)
    ax.set_yticks(range(len(labels)), labels)
    ax.axvline(base_value, color="grey", lw=0.8, ls="--")
    output = base_value + sum(contributions)
    ax.axvline(output, color="black", lw=0.8)
    ax.set_xlabel(f"model output (base {base_value:.4g} -> {output:.4g})")
    ax.set_ylabel("feature")
    ax.set_title(_text(title))
    return fig


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "..."


def lime_figure(lime_row: Sequence[tuple[str, float]], title: str) -> Figure:
    """Horizontal bars of one row's LIME weights, largest |weight| at the top."""
    pairs = sorted(lime_row, key=lambda fw: abs(fw[1]))
    fig = Figure(figsize=(6, 0.45 * max(len(pairs), 1) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    weights = [w for _, w in pairs]
    ax.barh(range(len(pairs)), weights,
            color=["#d62728" if w > 0 else "#1f77b4" for w in weights])
    ax.set_yticks(range(len(pairs)), [_text(f) for f, _ in pairs])
    ax.axvline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("LIME weight (effect on the model output)")
    ax.set_ylabel("feature")
    ax.set_title(_text(title))
    return fig
